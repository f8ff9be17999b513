<?php

declare(strict_types=1);

namespace React\PublisherPulsar\Ffi;

/**
 * The class table (php-ext/classes.json), the one the pulsar extension embeds at build time: the classes of the
 * original API and the PHP rules about them (the pulse's base class, what a valid class name is).
 *
 * This class must never hold a class name or a rule of its own: it only reads the table.
 *
 * @internal
 */
final class Classes
{
    /** @var array{namespace:string,classes:list<array{const:string,name:string,kind:string,about:string}>,rules:array<string,mixed>}|null */
    private static ?array $table = null;

    /**
     * The whole table, read once per request.
     *
     * @return array{namespace:string,classes:list<array{const:string,name:string,kind:string,about:string}>,rules:array<string,mixed>}
     */
    public static function table(): array
    {
        if (self::$table === null) {
            $file = dirname(__DIR__, 2) . '/classes.json';
            $text = file_get_contents($file);
            if ($text === false) {
                throw new \RuntimeException("cannot read the class table $file");
            }
            /** @var array{namespace:string,classes:list<array{const:string,name:string,kind:string,about:string}>,rules:array<string,mixed>} $table */
            $table = json_decode($text, true, 32, JSON_THROW_ON_ERROR);
            self::$table = $table;
        }
        return self::$table;
    }

    /** The class the table names $constant (e.g. PUBLISHER_TO_SUBSCRIBERS_DTO). */
    public static function named(string $constant): string
    {
        foreach (self::table()['classes'] as $class) {
            if ($class['const'] === $constant) {
                return $class['name'];
            }
        }
        throw new \LogicException("the class table has no class $constant");
    }

    /** The base class of every object a pulse may carry. */
    public static function pulseClass(): string
    {
        return self::named((string) self::table()['rules']['pulseClass']);
    }

    /** The exception every failure is thrown as. */
    public static function exceptionClass(): string
    {
        return self::named((string) self::table()['rules']['exceptionClass']);
    }

    /** Whether $name is a valid, fully qualified class name (no leading `\`) by the table's rule. */
    public static function isValidClassName(string $name): bool
    {
        $pattern = (string) self::table()['rules']['classNamePattern'];
        return preg_match('/' . $pattern . '/', $name) === 1;
    }
}
