<?php

declare(strict_types=1);

namespace PulsarTest;

use PulsarTest\Support\Ports;
use PulsarTest\Support\PulsarTestCase;
use React\PublisherPulsar\Inventory\ActionResultingPushDto;
use React\PublisherPulsar\Inventory\Exceptions\PublisherPulsarException;
use React\PublisherPulsar\Inventory\PerformerDto;
use React\PublisherPulsar\Inventory\PerformerSocketsParamsDto;
use React\PublisherPulsar\Inventory\PublisherPulsarDto;
use React\PublisherPulsar\Inventory\PulsarSocketsParamsDto;
use React\PublisherPulsar\Performer;
use React\PublisherPulsar\Pulsar;

/**
 * Bad configuration and misuse give the original exception class, PublisherPulsarException, with the matching
 * code and a message that names what to fix. manage() fails before it blocks, so these run in-process.
 */
final class ConfigurationErrorsTest extends PulsarTestCase
{
    private function assertFails(int $code, string $mentions, callable $call): PublisherPulsarException
    {
        try {
            $call();
        } catch (PublisherPulsarException $e) {
            $this->assertSame($code, $e->getCode(), $e->getMessage());
            $constant = array_search($code, (new \ReflectionClass(PublisherPulsarException::class))->getConstants(), true);
            $prefix = constant(PublisherPulsarException::class . '::' . substr((string) $constant, 0, -strlen('_CODE')));
            $this->assertStringStartsWith($prefix . ': ', $e->getMessage());
            $this->assertStringContainsString($mentions, $e->getMessage());
            return $e;
        }
        $this->fail("no PublisherPulsarException (expected one mentioning '$mentions')");
    }

    /** A valid daemon configuration on free ports. */
    private static function pulsarDto(): PublisherPulsarDto
    {
        $dto = new PublisherPulsarDto();
        $dto->setModuleName('errors');
        $params = new PulsarSocketsParamsDto();
        foreach (Ports::pulsarAddresses() as $setting => $address) {
            $params->{'set' . ucfirst($setting)}($address);
        }
        $dto->setPulsarSocketsParams($params);
        return $dto;
    }

    private function assertManageFails(PublisherPulsarDto $dto, int $code, string $mentions): void
    {
        $pulsar = new Pulsar();
        $pulsar->setPublisherPulsarDto($dto);
        $this->assertFails($code, $mentions, $pulsar->manage(...));
    }

    public function testManageWithoutSettingsSaysWhatIsMissing(): void
    {
        $this->assertFails(PublisherPulsarException::INVALID_SETTING_CODE, 'setPublisherPulsarDto()',
            static fn() => (new Pulsar())->manage());
    }

    public function testOnlyAPublisherPulsarDtoIsAccepted(): void
    {
        foreach (['a string', new \stdClass(), new PerformerDto()] as $wrong) {
            $this->assertFails(PublisherPulsarException::INVALID_SETTING_CODE, 'PublisherPulsarDto',
                static fn() => (new Pulsar())->setPublisherPulsarDto($wrong));
        }
        $pulsar = new Pulsar();
        $this->assertNull($pulsar->getPublisherPulsarDto());
        $dto = new PublisherPulsarDto();
        $pulsar->setPublisherPulsarDto($dto);
        $this->assertSame($dto, $pulsar->getPublisherPulsarDto());
    }

    public function testOutOfRangeSettingsNameTheirSetter(): void
    {
        $cases = [
            ['setSubscribersPerIteration', 0],
            ['setSubscribersPerIteration', -1],
            ['setSubscribersPerIteration', 'ten'],
            ['setPulsationIterationPeriod', 0],
            ['setPulsationIterationPeriod', 'often'],
            ['setMaxWaitReplyStackResult', -1],
            ['setTimerIterationsLimit', -1],
            ['setTimerIterationsLimit', 1.5],
            ['setMaxAdmissionQueue', 0],
        ];
        foreach ($cases as [$setter, $bad]) {
            $dto = self::pulsarDto();
            $dto->$setter($bad);
            $this->assertManageFails($dto, PublisherPulsarException::INVALID_SETTING_CODE, "$setter()");
        }
    }

    public function testMalformedAddressesNameTheirSetter(): void
    {
        foreach (['setPublishSocketAddress', 'setReplyToReplyStackSocketAddress'] as $setter) {
            foreach (['127.0.0.1:6273', 'http://127.0.0.1:6273', 'tcp://127.0.0.1'] as $bad) {
                $dto = self::pulsarDto();
                $dto->getPulsarSocketsParams()->$setter($bad);
                $this->assertManageFails($dto, PublisherPulsarException::INVALID_SETTING_CODE,
                    "PulsarSocketsParamsDto::$setter()");
            }
        }
    }

    public function testAnAddressInUseIsASocketError(): void
    {
        $server = stream_socket_server('tcp://127.0.0.1:0');
        $this->assertNotFalse($server);
        $taken = 'tcp://' . stream_socket_get_name($server, false);
        $dto = self::pulsarDto();
        $dto->getPulsarSocketsParams()->setPublishSocketAddress($taken);
        $this->assertManageFails($dto, PublisherPulsarException::SOCKET_ERROR_CODE, $taken);
        fclose($server);
    }

    public function testALoggerMustHaveThePsr3Methods(): void
    {
        $dto = self::pulsarDto();
        $dto->setLogger(new \stdClass());
        $this->assertManageFails($dto, PublisherPulsarException::INVALID_SETTING_CODE, 'setLogger()');
        $dto->setLogger('syslog');
        $this->assertManageFails($dto, PublisherPulsarException::INVALID_SETTING_CODE, 'setLogger()');
    }

    public function testAPulseObjectMustSerializeAsAnObject(): void
    {
        $dto = self::pulsarDto();
        $dto->setPublisherToSubscribersDto(new class extends \React\PublisherPulsar\Inventory\PublisherToSubscribersDto {
            public function __serialize(): array
            {
                throw new \DomainException('not serializable on purpose');
            }
        });
        $pulsar = new Pulsar();
        $pulsar->setPublisherPulsarDto($dto);
        try {
            $pulsar->manage();
            $this->fail('manage() ran with an object that cannot be serialized');
        } catch (\Exception $e) {
            // The user's own exception reaches the caller unchanged (class anonymous classes cannot be serialized
            // at all: PHP's own Exception says so).
            $this->assertNotInstanceOf(PublisherPulsarException::class, $e);
        }
    }

    public function testPerformerSettingsAreChecked(): void
    {
        foreach (['a string', new \stdClass(), new PublisherPulsarDto()] as $wrong) {
            $this->assertFails(PublisherPulsarException::INVALID_SETTING_CODE, 'PerformerDto',
                static fn() => new Performer($wrong));
            $this->assertFails(PublisherPulsarException::INVALID_SETTING_CODE, 'PerformerDto',
                static fn() => (new Performer())->setPerformerDto($wrong));
        }
        $this->assertFails(PublisherPulsarException::INVALID_SETTING_CODE, 'PerformerSocketsParamsDto',
            static fn() => (new Performer())->setSocketsParams(new PulsarSocketsParamsDto()));

        $badAddress = new PerformerDto();
        $params = new PerformerSocketsParamsDto();
        $params->setPublisherPulsarSocketAddress('');
        $badAddress->setSocketsParams($params);
        $this->assertFails(PublisherPulsarException::INVALID_SETTING_CODE,
            'PerformerSocketsParamsDto::setPublisherPulsarSocketAddress()',
            static fn() => (new Performer($badAddress))->connectToPulsarAndWaitPermissionToAct());

        foreach (['setAdmissionTimeout' => 0, 'setPulseTimeout' => -1, 'setSendTimeout' => 'soon'] as $setter => $bad) {
            $dto = new PerformerDto();
            $dto->$setter($bad);
            $this->assertFails(PublisherPulsarException::INVALID_SETTING_CODE, "$setter()",
                static fn() => (new Performer($dto))->connectToPulsarAndWaitPermissionToAct());
        }
    }

    public function testReportingWithoutAPermissionIsOutOfOrder(): void
    {
        $performer = new Performer();
        $this->assertFails(PublisherPulsarException::OUT_OF_ORDER_CODE, 'connectToPulsarAndWaitPermissionToAct()',
            $performer->pushActionResultInfoWithoutPulsarCorrectionBehavior(...));
        $this->assertFails(PublisherPulsarException::OUT_OF_ORDER_CODE, 'connectToPulsarAndWaitPermissionToAct()',
            static fn() => $performer->pushActionResultInfo(new ActionResultingPushDto()));
        $this->assertFails(PublisherPulsarException::INVALID_SETTING_CODE, 'ActionResultingPushDto',
            static fn() => $performer->pushActionResultInfo(new \stdClass()));
        $this->assertNull($performer->getPublisherToSubscribersDto());
    }

    public function testANonexistentDaemonIsReportedAfterTheTimeout(): void
    {
        $sockets = Ports::pulsarAddresses(); // nothing listens there
        $performer = $this->newPerformer($sockets, 0.3);
        $started = microtime(true);
        $this->assertFails(PublisherPulsarException::DAEMON_UNREACHABLE_CODE, 'admission',
            $performer->connectToPulsarAndWaitPermissionToAct(...));
        $this->assertLessThan(10.0, microtime(true) - $started, 'the wait is bounded');
        // The Performer stays usable: the same failure again, not a hang or a broken socket.
        $this->assertFails(PublisherPulsarException::DAEMON_UNREACHABLE_CODE, 'admission',
            $performer->connectToPulsarAndWaitPermissionToAct(...));
        $this->assertFails(PublisherPulsarException::OUT_OF_ORDER_CODE, 'no permission',
            $performer->pushActionResultInfoWithoutPulsarCorrectionBehavior(...));
    }
}
