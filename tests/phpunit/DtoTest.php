<?php

declare(strict_types=1);

namespace PulsarTest;

use PulsarHarness\CustomPublisherToSubscribersDto;
use PulsarTest\Fixtures\Mine;
use PulsarTest\Support\PulsarTestCase;
use React\PublisherPulsar\Abstracts\PushDto;
use React\PublisherPulsar\Inventory\ActionResultingPushDto;
use React\PublisherPulsar\Inventory\BecomeTheSubscriberReplyDto;
use React\PublisherPulsar\Inventory\ErrorSleepForPeriod;
use React\PublisherPulsar\Inventory\Exceptions\PublisherPulsarException;
use React\PublisherPulsar\Inventory\PerformerDto;
use React\PublisherPulsar\Inventory\PerformerEarlyTerminated;
use React\PublisherPulsar\Inventory\PerformerSocketsParamsDto;
use React\PublisherPulsar\Inventory\PreparingRequestDto;
use React\PublisherPulsar\Inventory\PublisherPulsarDto;
use React\PublisherPulsar\Inventory\PublisherToSubscribersDto;
use React\PublisherPulsar\Inventory\PulsarSocketsParamsDto;
use React\PublisherPulsar\Inventory\ReadyToGetSubscriptionMsg;

require_once __DIR__ . '/fixtures/pulse_classes.php';

/**
 * The DTO classes: the original's bytes (golden vectors captured from the original library), its defaults,
 * getters and setters, user subclasses, and the exception's constants.
 */
final class DtoTest extends PulsarTestCase
{
    /** The repository's copy of the golden vectors (PULSAR_VECTORS_DIR may name another, e.g. the spec's). */
    private const VECTORS = __DIR__ . '/../../rust/wire/tests/vectors';

    private static function vector(string $file): string
    {
        $dir = getenv('PULSAR_VECTORS_DIR') ?: self::VECTORS;
        $bytes = @file_get_contents("$dir/$file");
        if ($bytes === false) {
            self::markTestSkipped("golden vector $dir/$file not found (set PULSAR_VECTORS_DIR)");
        }
        return $bytes;
    }

    public function testProtocolMessagesSerializeToTheOriginalBytes(): void
    {
        $this->assertSame(self::vector('01_PreparingRequestDto.bin'), serialize(new PreparingRequestDto()));
        $this->assertSame(self::vector('02_BecomeTheSubscriberReplyDto.bin'), serialize(new BecomeTheSubscriberReplyDto()));
        $this->assertSame(self::vector('03_PublisherToSubscribersDto.bin'), serialize(new PublisherToSubscribersDto()));
        $this->assertSame(self::vector('05_ReadyToGetSubscriptionMsg.bin'), serialize(new ReadyToGetSubscriptionMsg()));
        $terminated = new PerformerEarlyTerminated();
        $this->assertSame(self::vector('07_PerformerEarlyTerminated_standOnSubscription_false.bin'), serialize($terminated));
        $terminated->setStandOnSubscription(true);
        $this->assertSame(self::vector('06_PerformerEarlyTerminated_standOnSubscription_true.bin'), serialize($terminated));
    }

    public function testActionResultsSerializeToTheOriginalBytes(): void
    {
        $success = new ActionResultingPushDto();
        $success->setActionCompleteCorrectly(true);
        $this->assertSame(self::vector('08_ActionResultingPushDto_success.bin'), serialize($success));

        $slowDown = new ActionResultingPushDto();
        $slowDown->setActionCompleteCorrectly(false);
        $slowDown->setSlowDown(true);
        $slowDown->setErrorMessage('User Rate Limit Exceeded');
        $slowDown->setErrorReason('userRateLimitExceeded');
        $this->assertSame(self::vector('09_ActionResultingPushDto_slowDown_ascii.bin'), serialize($slowDown));

        $ukrainian = self::vector('10_ActionResultingPushDto_slowDown_ukrainian.bin');
        $original = unserialize($ukrainian, ['allowed_classes' => [ActionResultingPushDto::class]]);
        $this->assertInstanceOf(ActionResultingPushDto::class, $original);
        $slowDown->setErrorMessage($original->getErrorMessage());
        $this->assertSame(104, strlen($original->getErrorMessage()));
        $this->assertSame($ukrainian, serialize($slowDown));

        $pause = new ActionResultingPushDto();
        $pause->setActionCompleteCorrectly(false);
        $sleep = new ErrorSleepForPeriod();
        $sleep->setSleepPeriod(60 * 60 * 1_000_000);
        $pause->setSleepForPeriod($sleep);
        $pause->setErrorMessage('Daily Limit Exceeded');
        $pause->setErrorReason('dailyLimitExceeded');
        $this->assertSame(self::vector('11_ActionResultingPushDto_sleepForPeriod_3600000000.bin'), serialize($pause));
    }

    public function testAUserSubclassSerializesLikeTheOriginal(): void
    {
        $dto = new CustomPublisherToSubscribersDto();
        $dto->command = 'slow-down-please';
        $dto->setSecretToken('t0ken');
        $this->assertSame(self::vector('04_CustomPublisherToSubscribersDto.bin'), serialize($dto));
    }

    public function testUserSubclassesKeepEveryPropertyThroughSerialize(): void
    {
        $mine = new Mine();
        $mine->command = 'go';
        $mine->setSecretToken("bytes\0with\xffnul");
        $mine->setPrivateNote('private');
        $mine->options = ['a' => 1, 'b' => [2.5, null]];
        $mine->setAllowAction(false);
        $copy = unserialize(serialize($mine), ['allowed_classes' => [Mine::class]]);
        $this->assertEquals($mine, $copy);
        $this->assertSame("bytes\0with\xffnul", $copy->getSecretToken());
        $this->assertSame('private', $copy->getPrivateNote());
        $this->assertFalse($copy->isAllowAction());
        $this->assertInstanceOf(PublisherToSubscribersDto::class, $copy);
    }

    public function testEveryClassOfTheOriginalApiIsThere(): void
    {
        foreach ([
            'React\PublisherPulsar\Pulsar', 'React\PublisherPulsar\Performer', 'React\PublisherPulsar\ReplyStack',
            'React\PublisherPulsar\Abstracts\PushDto', 'React\PublisherPulsar\Inventory\PreparingRequestDto',
            'React\PublisherPulsar\Inventory\BecomeTheSubscriberReplyDto',
            'React\PublisherPulsar\Inventory\PublisherToSubscribersDto',
            'React\PublisherPulsar\Inventory\ReadyToGetSubscriptionMsg',
            'React\PublisherPulsar\Inventory\ErrorSleepForPeriod',
            'React\PublisherPulsar\Inventory\ActionResultingPushDto',
            'React\PublisherPulsar\Inventory\PerformerEarlyTerminated',
            'React\PublisherPulsar\Inventory\PulsarSocketsParamsDto',
            'React\PublisherPulsar\Inventory\PublisherPulsarDto',
            'React\PublisherPulsar\Inventory\PerformerSocketsParamsDto',
            'React\PublisherPulsar\Inventory\PerformerDto',
            'React\PublisherPulsar\Inventory\Exceptions\PublisherPulsarException',
        ] as $class) {
            $this->assertTrue(class_exists($class), "class $class");
        }
        foreach (['React\PublisherPulsar\Interfaces\PulsarControlDto', 'React\PublisherPulsar\Interfaces\ReplyStackControlDto'] as $interface) {
            $this->assertTrue(interface_exists($interface), "interface $interface");
        }
        $this->assertFalse(class_exists('React\PublisherPulsar\Inventory\NoSuchDto'));
    }

    public function testTheClassHierarchyIsTheOriginals(): void
    {
        $this->assertInstanceOf(PushDto::class, new ReadyToGetSubscriptionMsg());
        $this->assertInstanceOf(PushDto::class, new ActionResultingPushDto());
        $this->assertInstanceOf(PushDto::class, new PerformerEarlyTerminated());
        $this->assertTrue((new \ReflectionClass(PushDto::class))->isAbstract());
        $this->assertInstanceOf(\Exception::class, new PublisherPulsarException('x'));
    }

    public function testPublisherPulsarDtoHasTheOriginalDefaultsAndAccessors(): void
    {
        $dto = new PublisherPulsarDto();
        $this->assertSame(1, $dto->getPulsationIterationPeriod());
        $this->assertSame(10, $dto->getSubscribersPerIteration());
        $this->assertSame(7, $dto->getPerformerContainerActionMaxExecutionTime());
        $this->assertSame(5, $dto->getMaxWaitReplyStackResult());
        $this->assertSame(0, $dto->getTimerIterationsLimit());
        $this->assertNull($dto->getLogger());
        $this->assertNull($dto->getPulsarSocketsParams());
        $this->assertNull($dto->getPublisherToSubscribersDto());

        $dto->setModuleName('react:pulsar');
        $dto->setReplyStackCommandName('php artisan react:pulsar-reply-stack');
        $dto->setPulsationIterationPeriod(0.5);
        $dto->setSubscribersPerIteration(3);
        $dto->setPerformerContainerActionMaxExecutiontime(9); // the article's casing
        $dto->setMaxWaitReplyStackResult(2);
        $dto->setTimerIterationsLimit(4);
        $logger = new \PulsarTest\Fixtures\RecordingLogger(null);
        $dto->setLogger($logger);
        $published = new Mine();
        $dto->setPublisherToSubscribersDto($published);
        $this->assertSame('react:pulsar', $dto->getModuleName());
        $this->assertSame('php artisan react:pulsar-reply-stack', $dto->getReplyStackCommandName());
        $this->assertSame(0.5, $dto->getPulsationIterationPeriod());
        $this->assertSame(3, $dto->getSubscribersPerIteration());
        $this->assertSame(9, $dto->getPerformerContainerActionMaxExecutionTime());
        $this->assertSame(2, $dto->getMaxWaitReplyStackResult());
        $this->assertSame(4, $dto->getTimerIterationsLimit());
        $this->assertSame($logger, $dto->getLogger());
        $this->assertSame($published, $dto->getPublisherToSubscribersDto());

        $dto->initDefaultPulsarSocketsParams();
        $params = $dto->getPulsarSocketsParams();
        $this->assertInstanceOf(PulsarSocketsParamsDto::class, $params);
        $this->assertSame('tcp://127.0.0.1:6271', $params->getReplyToReplyStackSocketAddress());
        $this->assertSame('tcp://127.0.0.1:6272', $params->getPushToReplyStackSocketAddress());
        $this->assertSame('tcp://127.0.0.1:6273', $params->getPublishSocketAddress());
        $this->assertSame('tcp://127.0.0.1:6274', $params->getPullSocketAddress());
        $this->assertSame('tcp://127.0.0.1:6275', $params->getReplyStackSocketAddress());
    }

    public function testAnActionTimeBelowSevenSecondsIsRefusedAtOnceInBothCasings(): void
    {
        $dto = new PublisherPulsarDto();
        foreach (['setPerformerContainerActionMaxExecutionTime', 'setPerformerContainerActionMaxExecutiontime'] as $setter) {
            foreach ([6, 6.99, 0, -7, 'seven'] as $bad) {
                try {
                    $dto->$setter($bad);
                    $this->fail("$setter(" . var_export($bad, true) . ') was accepted');
                } catch (PublisherPulsarException $e) {
                    $this->assertSame(PublisherPulsarException::INVALID_SETTING_CODE, $e->getCode());
                    $this->assertStringStartsWith(PublisherPulsarException::INVALID_SETTING . ':', $e->getMessage());
                    $this->assertStringContainsString('setPerformerContainerActionMaxExecutionTime()', $e->getMessage());
                }
            }
        }
        $this->assertSame(7, $dto->getPerformerContainerActionMaxExecutionTime());
    }

    public function testPerformerDtosHaveAccessors(): void
    {
        $params = new PerformerSocketsParamsDto();
        $params->setPublisherPulsarSocketAddress('tcp://127.0.0.1:1');
        $params->setPushPulsarSocketAddress('tcp://127.0.0.1:2');
        $params->setRequestPulsarRsSocketAddress('tcp://127.0.0.1:3');
        $this->assertSame('tcp://127.0.0.1:1', $params->getPublisherPulsarSocketAddress());
        $this->assertSame('tcp://127.0.0.1:2', $params->getPushPulsarSocketAddress());
        $this->assertSame('tcp://127.0.0.1:3', $params->getRequestPulsarRsSocketAddress());
        // New in the drop-in: no CURVE key unless one is set (an original worker never sets it).
        $this->assertNull($params->getCurveServerKey());
        $params->setCurveServerKey(':q7[Pq1NA>M!Y(sgdm{l=9m+N&]=Hdme]JI<yth)');
        $this->assertSame(':q7[Pq1NA>M!Y(sgdm{l=9m+N&]=Hdme]JI<yth)', $params->getCurveServerKey());
        $params->setCurveServerKey(null);
        $this->assertNull($params->getCurveServerKey());

        $dto = new PerformerDto();
        $dto->setModuleName('YourServiceNameContainingPerformer');
        $dto->setSocketsParams($params);
        $logger = new \PulsarTest\Fixtures\RecordingLogger(null);
        $dto->setLogger($logger);
        $dto->setAdmissionTimeout(3);
        $this->assertSame('YourServiceNameContainingPerformer', $dto->getModuleName());
        $this->assertSame($params, $dto->getSocketsParams());
        $this->assertSame($logger, $dto->getLogger());
        $this->assertSame(3, $dto->getAdmissionTimeout());
        $this->assertNull($dto->getPulseTimeout());
    }

    public function testTheExceptionHasOneMessageConstantAndOneCodePerFailure(): void
    {
        $constants = (new \ReflectionClass(PublisherPulsarException::class))->getConstants();
        $kinds = ['INVALID_SETTING', 'DAEMON_UNREACHABLE', 'ADMISSION_REFUSED', 'ACTION_NOT_ALLOWED', 'OUT_OF_ORDER',
            'SOCKET_ERROR', 'PROTOCOL_ERROR', 'PULSE_CLASS_NOT_ALLOWED', 'INTERNAL_ERROR'];
        $codes = [];
        foreach ($kinds as $kind) {
            $this->assertIsString($constants[$kind] ?? null, "message constant $kind");
            $this->assertNotSame('', $constants[$kind]);
            $this->assertIsInt($constants[$kind . '_CODE'] ?? null, "code constant {$kind}_CODE");
            $codes[] = $constants[$kind . '_CODE'];
        }
        $this->assertSame($codes, array_values(array_unique($codes)), 'codes are distinct');
    }
}
