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
    /** @return list<array<string,mixed>> the core's settings table, as the route under test reads it */
    private static function table(): array
    {
        if (Implementation::name() === 'ext') {
            return json_decode(\React\PublisherPulsar\Internal\settings(), true, 16, JSON_THROW_ON_ERROR);
        }
        return \React\PublisherPulsar\Ffi\PulsarRunner::table();
    }

    /** @return array<string,mixed> the configuration the core would run $dto with */
    private static function effective(PublisherPulsarDto $dto): array
    {
        $json = Implementation::name() === 'ext'
            ? \React\PublisherPulsar\Internal\checkSettings($dto)
            : \React\PublisherPulsar\Ffi\PulsarRunner::checkSettings($dto);
        return json_decode($json, true, 16, JSON_THROW_ON_ERROR);
    }

    /** `setFoo()` or `PulsarSocketsParamsDto::setFoo()` → `setFoo`. */
    private static function method(string $setter): string
    {
        $name = str_contains($setter, '::') ? substr($setter, strpos($setter, '::') + 2) : $setter;
        return substr($name, 0, -2);
    }

    public function testEverySettingWithAPhpSetterReachesTheCore(): void
    {
        $dto = new PublisherPulsarDto();
        $sockets = new PulsarSocketsParamsDto();
        $dto->setPulsarSocketsParams($sockets);
        $rows = array_values(array_filter(self::table(), fn(array $row) => $row['phpSetter'] !== null));
        $this->assertNotEmpty($rows);
        foreach ($rows as $row) {
            $value = $row['type'] === 'php-serialized' ? unserialize($row['example']) : $row['example'];
            ($row['nested'] ? $sockets : $dto)->{self::method($row['phpSetter'])}($value);
        }
        $effective = self::effective($dto);
        foreach ($rows as $row) {
            $actual = $row['nested'] ? $effective['pulsarSocketsParams'][$row['key']] : $effective[$row['key']];
            $this->assertEquals($row['example'], $actual, "{$row['phpSetter']} reaches {$row['key']}");
            $this->assertNotEquals($row['default'], $actual, "{$row['key']}'s example is not its default");
        }
    }

    public function testAnUntouchedDtoGivesTheTablesDefaults(): void
    {
        $effective = self::effective(new PublisherPulsarDto());
        foreach (self::table() as $row) {
            $actual = $row['nested'] ? $effective['pulsarSocketsParams'][$row['key']] : $effective[$row['key']];
            $this->assertEquals($row['default'], $actual, $row['key']);
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
            foreach ((new \ReflectionClass($class))->getMethods(\ReflectionMethod::IS_PUBLIC) as $method) {
                $name = $method->getName();
                // The logger is the host's, and the sockets object is the nested rows' owner, not settings.
                if (str_starts_with($name, 'get') && !in_array($name, ['getLogger', 'getPulsarSocketsParams'], true)) {
                    $original[] = substr($class, strrpos($class, '\\') + 1) . '::' . $name;
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
            self::effective($dto);
            $this->fail('subscribersPerIteration 0 was accepted');
        } catch (PublisherPulsarException $e) {
            $this->assertSame(PublisherPulsarException::INVALID_SETTING_CODE, $e->getCode());
            $this->assertStringContainsString('setSubscribersPerIteration()', $e->getMessage());
        }
    }
}
