<?php

declare(strict_types=1);

namespace PulsarTest;

use PulsarTest\Fixtures\Mine;
use PulsarTest\Support\PulsarTestCase;
use React\PublisherPulsar\Inventory\ActionResultingPushDto;
use React\PublisherPulsar\Inventory\Exceptions\PublisherPulsarException;
use React\PublisherPulsar\Inventory\PerformerSocketsParamsDto;

require_once __DIR__ . '/fixtures/pulse_classes.php';

/**
 * The Performer's cycle in this process against a daemon child on free ports: reporting, giving a permission
 * back, and settings changed after the first cycle.
 */
final class PerformerTest extends PulsarTestCase
{
    public function testEveryReportKindIsAcceptedOncePerPermission(): void
    {
        $log = $this->tempFile();
        [$daemon, $sockets] = $this->startDaemon([
            'pulsationIterationPeriod' => 0.2, 'subscribersPerIteration' => 1, 'maxWaitReplyStackResult' => 0.1,
            'logFile' => $log,
        ]);
        $performer = $this->newPerformer($sockets);

        // The article's casings: PHP method names are case-insensitive.
        $performer->connectToPulsarAndWaitPermissiontoact();
        $performer->pushActionResultInfoWithoutPulsarcorrectionbehavior();

        $performer->connectToPulsarAndWaitPermissionToAct();
        $result = new ActionResultingPushDto();
        $result->setActionCompleteCorrectly(false);
        $result->setErrorMessage('Quota Error: exceeded, Перевищено');
        $result->setErrorReason('quotaExceeded');
        $performer->pushActionResultInfo($result);
        try {
            $performer->pushActionResultInfo($result);
            $this->fail('a second report for one permission was accepted');
        } catch (PublisherPulsarException $e) {
            $this->assertSame(PublisherPulsarException::OUT_OF_ORDER_CODE, $e->getCode());
        }
        // An error without slowDown or sleepForPeriod is logged and ignored by the daemon.
        $deadline = microtime(true) + 10;
        do {
            $ignored = array_filter(self::records($log), static fn($r) => ($r['context']['error_reason'] ?? null) === 'quotaExceeded');
            usleep(20_000);
        } while ($ignored === [] && microtime(true) < $deadline);
        $this->assertNotEmpty($ignored, 'the daemon saw the error result');
        $record = array_values($ignored)[0];
        $this->assertSame('Ignored', $record['context']['adaptation']);
        $this->assertSame('Quota Error: exceeded, Перевищено', $record['context']['error_message']);
        $this->stopDaemon($daemon);
    }

    public function testEarlyTerminationGivesThePermissionBackSoTheDaemonNeedNotWait(): void
    {
        // With a 60 s action time the daemon would wait 30 s for a result that never comes; the Performers below
        // give up after 10 s. Only a given-back permission lets the second one through in time.
        [$daemon, $sockets] = $this->startDaemon([
            'pulsationIterationPeriod' => 0.2, 'subscribersPerIteration' => 1, 'maxWaitReplyStackResult' => 0.1,
            'performerContainerActionMaxExecutionTime' => 60,
        ]);
        $first = $this->newPerformer($sockets, 10.0);
        $first->connectToPulsarAndWaitPermissionToAct();
        $first->pushPerformerEarlyTerminated();
        try {
            $first->pushActionResultInfoWithoutPulsarCorrectionBehavior();
            $this->fail('a given-back permission was reported');
        } catch (PublisherPulsarException $e) {
            $this->assertSame(PublisherPulsarException::OUT_OF_ORDER_CODE, $e->getCode());
        }
        // Without a permission, the early termination only informs; it is allowed at any time.
        $first->pushPerformerEarlyTerminated(false);

        $second = $this->newPerformer($sockets, 10.0);
        $second->connectToPulsarAndWaitPermissionToAct();
        $second->pushActionResultInfoWithoutPulsarCorrectionBehavior();
        $this->stopDaemon($daemon);
    }

    public function testSettingsChangedThroughTheSettersCountFromTheNextCycle(): void
    {
        $fast = ['pulsationIterationPeriod' => 0.2, 'subscribersPerIteration' => 1, 'maxWaitReplyStackResult' => 0.1];
        [$a, $socketsA] = $this->startDaemon($fast + ['publish' => ['class' => Mine::class, 'command' => 'from A']]);
        [$b, $socketsB] = $this->startDaemon($fast + ['publish' => ['class' => Mine::class, 'command' => 'from B']]);

        $performer = $this->newPerformer($socketsA);
        $performer->connectToPulsarAndWaitPermissionToAct();
        $this->assertSame('from A', $performer->getPublisherToSubscribersDto()->command);
        $performer->pushActionResultInfoWithoutPulsarCorrectionBehavior();

        $params = new PerformerSocketsParamsDto();
        $params->setPublisherPulsarSocketAddress($socketsB['publishSocketAddress']);
        $params->setPushPulsarSocketAddress($socketsB['pullSocketAddress']);
        $params->setRequestPulsarRsSocketAddress($socketsB['replyStackSocketAddress']);
        $performer->setSocketsParams($params);
        $performer->connectToPulsarAndWaitPermissionToAct();
        $this->assertSame('from B', $performer->getPublisherToSubscribersDto()->command);
        $performer->pushActionResultInfoWithoutPulsarCorrectionBehavior();

        $dto = $performer->getPerformerDto();
        $params = new PerformerSocketsParamsDto();
        $params->setPublisherPulsarSocketAddress($socketsA['publishSocketAddress']);
        $params->setPushPulsarSocketAddress($socketsA['pullSocketAddress']);
        $params->setRequestPulsarRsSocketAddress($socketsA['replyStackSocketAddress']);
        $dto->setSocketsParams($params);
        $performer->setPerformerDto($dto);
        $performer->connectToPulsarAndWaitPermissionToAct();
        $this->assertSame('from A', $performer->getPublisherToSubscribersDto()->command);
        $performer->pushActionResultInfoWithoutPulsarCorrectionBehavior();

        $this->stopDaemon($a);
        $this->stopDaemon($b);
    }
}
