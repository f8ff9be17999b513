<?php

declare(strict_types=1);

namespace React\PublisherPulsar\Ffi;



/**
 * Reading the user's DTO values into settings, leniently where PHP is lenient (`'10'` is a number, `7.0` an
 * integer) and refused otherwise with an INVALID_SETTING exception naming the setter: the same rules and words as
 * the pulsar extension (php-ext/src/convert.rs), so that both routes accept and refuse the same DTOs.
 *
 * This class must never keep a value beyond the call that converts it.
 *
 * @internal
 */
final class Convert
{
    /** A float within i64 whose fractional part is zero; `9.2e18` is the extension's bound too. */
    private const WHOLE_LIMIT = 9.2e18;

    /** A short description of a value's type for messages: "an int", "a string", "an object of class Foo". */
    public static function describe($value): string
    {
        if (is_object($value)) {
            return 'an object of class ' . get_class($value);
        }
        if ($value === null) {
            return 'null';
        }
        if (is_bool($value)) {
            return 'a bool';
        }
        if (is_int($value)) {
            return 'an int';
        }
        if (is_float($value)) {
            return 'a float';
        }
        if (is_string($value)) {
            return 'a string';
        }
        if (is_array($value)) {
            return 'an array';
        }
        return 'an unsupported value';
    }

    /** $value if it is an instance of $class (or a subclass); else an INVALID_SETTING exception about $what. */
    public static function expectInstance($value, string $class, string $what): object
    {
        if (is_object($value) && $value instanceof $class) {
            return $value;
        }
        throw Failure::setting("$what must be a \\$class, got " . self::describe($value));
    }

    /** A number of seconds (int, float or numeric string); null for null. */
    public static function seconds($value, string $setter): ?float
    {
        if ($value === null) {
            return null;
        }
        if (is_int($value) || is_float($value)) {
            return (float) $value;
        }
        if (is_string($value)) {
            $number = self::parseNumber($value);
            if ($number !== null) {
                return $number;
            }
        }
        throw Failure::setting("$setter needs a number of seconds, got " . self::describe($value));
    }

    /** A whole number (int, integral float or integral numeric string); null for null. */
    public static function integer($value, string $setter): ?int
    {
        if ($value === null) {
            return null;
        }
        $number = null;
        if (is_int($value)) {
            $number = $value;
        } elseif (is_float($value)) {
            $number = self::whole($value);
        } elseif (is_string($value)) {
            $number = self::parseInt(self::trim($value));
            if ($number === null) {
                $parsed = self::parseNumber($value);
                $number = $parsed === null ? null : self::whole($parsed);
            }
        }
        if ($number === null) {
            throw Failure::setting("$setter needs a whole number, got " . self::describe($value));
        }
        return $number;
    }

    /** A text setting (addresses, names); null for null. Numbers are accepted as PHP prints them. */
    public static function text($value, string $setter): ?string
    {
        if ($value === null) {
            return null;
        }
        if (is_string($value)) {
            if (preg_match('//u', $value) !== 1) {
                throw Failure::setting("$setter needs UTF-8 text");
            }
            return $value;
        }
        if (is_int($value) || is_float($value)) {
            return (string) $value;
        }
        throw Failure::setting("$setter needs a string, got " . self::describe($value));
    }

    /** The bytes of a string value (messages may hold any bytes); null for null; scalars as `(string)` gives. */
    public static function bytes($value, string $setter): ?string
    {
        if ($value === null) {
            return null;
        }
        if (is_string($value) || is_int($value) || is_float($value) || is_bool($value)) {
            return (string) $value;
        }
        throw Failure::setting("$setter needs a string, got " . self::describe($value));
    }

    /** A yes/no value: null for null, PHP truthiness otherwise. */
    public static function flag($value): ?bool
    {
        return $value === null ? null : (bool) $value;
    }

    /**
     * Checks a logger setting: null is "no logger"; otherwise a PSR-3 style object with public error(), warning(),
     * info() and debug() methods (the ones records are delivered to).
     */
    public static function logger($logger, string $setter): ?object
    {
        if ($logger === null) {
            return null;
        }
        if (!is_object($logger)) {
            throw Failure::setting("$setter needs a PSR-3 style logger object, got " . self::describe($logger));
        }
        foreach (['error', 'warning', 'info', 'debug'] as $method) {
            if (!is_callable([$logger, $method])) {
                throw Failure::setting(
                    "$setter needs a PSR-3 style logger with a public $method() method; "
                    . self::describe($logger) . ' has none'
                );
            }
        }
        return $logger;
    }

    /** Calls `$object->$getter()` (getters, not properties: a user's subclass may override them). */
    public static function get(object $object, string $getter)
    {
        return $object->$getter();
    }

    /** The plain decimal forms the extension reads as numbers: " 1.5", "7", "1e3"; never NAN or INF. */
    private static function parseNumber(string $text): ?float
    {
        $t = self::trim($text);
        if ($t === '' || stripos($t, 'nan') !== false || stripos($t, 'inf') !== false) {
            return null;
        }
        if (preg_match('/^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/', $t) !== 1) {
            return null;
        }
        return (float) $t;
    }

    private static function whole(float $f): ?int
    {
        if (is_finite($f) && floor($f) === $f && abs($f) < self::WHOLE_LIMIT) {
            return (int) $f;
        }
        return null;
    }

    /** Rust's `str::parse::<i64>`: an optional sign and digits, within PHP's integer range. */
    private static function parseInt(string $text): ?int
    {
        if (preg_match('/^([+-]?)0*([0-9]+)$/', $text, $m) !== 1) {
            return null;
        }
        $canonical = ($m[1] === '-' && $m[2] !== '0' ? '-' : '') . $m[2];
        $number = (int) $canonical;
        // (int) saturates out of range; the round trip tells.
        return (string) $number === $canonical ? $number : null;
    }

    /** Rust's `str::trim`: Unicode white space at both ends (ASCII covers what PHP settings carry). */
    private static function trim(string $text): string
    {
        return trim($text, " \t\n\r\x0B\x0C");
    }
}
