<?php

declare(strict_types=1);

namespace PulsarTest;

use PulsarTest\Support\Implementation;
use PulsarTest\Support\PulsarTestCase;
use React\PublisherPulsar\Inventory\Exceptions\PublisherPulsarException;
use React\PublisherPulsar\Inventory\PublisherPulsarDto;
use React\PublisherPulsar\Inventory\PulsarSocketsParamsDto;

/**
 * The PublisherPulsarDto mapping of the route under test (the extension, or the FFI classes over libpulsar) agrees
 * with the core's settings table: every row with a PHP getter, set to its example through the DTO's setter,
 * reaches the configuration the core would run with; and every getter of the original DTOs is a row.
 */
final class SettingsTableTest extends PulsarTestCase
{
    /**
     * The core's settings table as the route under test reads it: from the extension, or from libpulsar.
     *
     * @return list<array{key: string, nested: bool, type: string, phpGetter: ?string, phpSetter: ?string,
     *     default: mixed, example: mixed}>
     */
    private static function table(): array
    {
        return array_values(array_map(self::row(...), self::decode(self::tableJson())));
    }

    /**
     * One row of the settings table, with the fields these tests read.
     *
     * @return array{key: string, nested: bool, type: string, phpGetter: ?string, phpSetter: ?string,
     *     default: mixed, example: mixed}
     */
    private static function row(mixed $row): array
    {
        if (!is_array($row) || !is_string($row['key'] ?? null) || !is_string($row['type'] ?? null)) {
            self::fail('a row of the settings table without a key or a type');
        }
        return [
            'key' => $row['key'],
            'nested' => ($row['nested'] ?? null) === true,
            'type' => $row['type'],
            'phpGetter' => is_string($row['phpGetter'] ?? null) ? $row['phpGetter'] : null,
            'phpSetter' => is_string($row['phpSetter'] ?? null) ? $row['phpSetter'] : null,
            'default' => $row['default'] ?? null,
            'example' => $row['example'] ?? null,
        ];
    }

    private static function tableJson(): string
    {
        if (Implementation::name() === 'ext') {
            // The extension's function (the analyser sees the FFI classes, not the extension).
            // @mago-expect analysis:non-existent-function
            return self::text(\React\PublisherPulsar\Internal\settings());
        }
        // libpulsar's functions are declared at run time (Library::DECLARATIONS), where the analyser cannot see them.
        // @mago-expect analysis:non-existent-method
        return self::text(\React\PublisherPulsar\Ffi\Library::ffi()->pulsar_settings_json());
    }

    private static function text(mixed $value): string
    {
        if (!is_string($value)) {
            self::fail('expected a string');
        }
        return $value;
    }

    /** The configuration the core would run $dto with, as JSON. */
    private static function effectiveJson(PublisherPulsarDto $dto): string
    {
        if (Implementation::name() === 'ext') {
            // @mago-expect analysis:non-existent-function
            return self::text(\React\PublisherPulsar\Internal\checkSettings($dto));
        }
        return \React\PublisherPulsar\Ffi\PulsarRunner::checkSettings($dto);
    }

    /** @return array<array-key, mixed> */
    private static function decode(string $json): array
    {
        return self::asArray(json_decode($json, true, 16, JSON_THROW_ON_ERROR));
    }

    /** @return array<array-key, mixed> */
    private static function asArray(mixed $value): array
    {
        if (!is_array($value)) {
            self::fail('expected a JSON object or array');
        }
        return $value;
    }

    /**
     * A setting's value in an effective configuration.
     *
     * @param array<array-key, mixed> $effective
     */
    private static function valueOf(array $effective, string $key, bool $nested): mixed
    {
        $owner = $nested ? self::asArray($effective['pulsarSocketsParams'] ?? null) : $effective;
        self::assertArrayHasKey($key, $owner);
        return $owner[$key];
    }

    /** A row's example as a PHP setter takes it (a PHP object is given as its serialize() text). */
    private static function example(string $type, mixed $example): mixed
    {
        return $type === 'php-serialized' ? unserialize(self::text($example)) : $example;
    }

    /** Calls a setter named as the table names it: `setFoo()` or `PulsarSocketsParamsDto::setFoo()`. */
    private static function set(object $owner, string $setter, mixed $value): void
    {
        $method = preg_replace('/^.*::|\(\)$/', '', $setter) ?? '';
        (new \ReflectionMethod($owner, $method))->invoke($owner, $value);
    }

    public function testEverySettingWithAPhpSetterReachesTheCore(): void
    {
        $dto = new PublisherPulsarDto();
        $sockets = new PulsarSocketsParamsDto();
        $dto->setPulsarSocketsParams($sockets);
        $rows = array_values(array_filter(self::table(), static fn(array $row): bool => $row['phpSetter'] !== null));
        $this->assertNotEmpty($rows);
        foreach ($rows as $row) {
            $owner = $row['nested'] ? $sockets : $dto;
            self::set($owner, (string) $row['phpSetter'], self::example($row['type'], $row['example']));
        }
        $effective = self::decode(self::effectiveJson($dto));
        foreach ($rows as $row) {
            $message = "{$row['key']} is set by {$row['phpSetter']}";
            $this->assertEquals($row['example'], self::valueOf($effective, $row['key'], $row['nested']), $message);
            $this->assertNotEquals($row['default'], self::valueOf($effective, $row['key'], $row['nested']), "$message, not its default");
        }
    }

    public function testAnUntouchedDtoGivesTheTablesDefaults(): void
    {
        $effective = self::decode(self::effectiveJson(new PublisherPulsarDto()));
        foreach (self::table() as $row) {
            $this->assertEquals($row['default'], self::valueOf($effective, $row['key'], $row['nested']), $row['key']);
        }
    }

    public function testEveryGetterOfTheOriginalDtosIsARowOfTheTable(): void
    {
        $getters = [];
        foreach (self::table() as $row) {
            if ($row['phpGetter'] !== null) {
                $getters[] = ($row['nested'] ? 'PulsarSocketsParamsDto::' : 'PublisherPulsarDto::') . $row['phpGetter'];
            }
        }
        $original = [];
        foreach ([PublisherPulsarDto::class, PulsarSocketsParamsDto::class] as $class) {
            $reflection = new \ReflectionClass($class);
            foreach ($reflection->getMethods(\ReflectionMethod::IS_PUBLIC) as $method) {
                $name = $method->getName();
                // The logger is the host's, and the sockets object is the nested rows' owner, not settings.
                if (str_starts_with($name, 'get') && !in_array($name, ['getLogger', 'getPulsarSocketsParams'], true)) {
                    $original[] = $reflection->getShortName() . '::' . $name;
                }
            }
        }
        sort($getters);
        sort($original);
        $this->assertSame($original, $getters);
    }

    public function testTheCoreChecksWhatTheDtoCarries(): void
    {
        $dto = new PublisherPulsarDto();
        $dto->setSubscribersPerIteration(0);
        try {
            self::effectiveJson($dto);
            $this->fail('subscribersPerIteration 0 was accepted');
        } catch (PublisherPulsarException $e) {
            $this->assertSame(PublisherPulsarException::INVALID_SETTING_CODE, $e->getCode());
            $this->assertStringContainsString('setSubscribersPerIteration()', $e->getMessage());
        }
    }
}
