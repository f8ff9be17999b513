<?php

declare(strict_types=1);

namespace PulsarTest;

use PulsarTest\Support\Child;
use PulsarTest\Support\Implementation;
use PulsarTest\Support\PulsarTestCase;

/**
 * Pulsar::manage() in a child process on free ports: it blocks, honours its settings, ends cleanly on
 * timerIterationsLimit, SIGTERM and SIGINT, gives the signal handling back afterwards, and delivers its log
 * records to the PSR-3 logger, whose failure stops it.
 */
final class DaemonLifecycleTest extends PulsarTestCase
{
    private const FAST = [
        'moduleName' => 'lifecycle',
        'pulsationIterationPeriod' => 0.2,
        'subscribersPerIteration' => 2,
        'maxWaitReplyStackResult' => 0.1,
    ];

    public function testTimerIterationsLimitEndsManage(): void
    {
        $log = $this->tempFile();
        [$daemon, $sockets] = $this->startDaemon(self::FAST + ['timerIterationsLimit' => 3, 'logFile' => $log]);
        $worker = Child::start(Implementation::php(self::FIXTURES . '/performer.php', [json_encode(
            self::performerAddresses($sockets) + ['id' => 'w', 'iterations' => 10, 'timeout' => 5]
        )]));
        $exit = $daemon->wait(30);
        $this->assertSame(['code' => 0, 'signal' => null], $exit, $daemon->describe());
        $this->assertStringContainsString('MANAGE RETURNED', $daemon->stdout());
        $iterations = array_filter(self::records($log), static fn($r) => $r['message'] === 'pulse iteration finished');
        $this->assertCount(3, $iterations);
        $this->assertNotNull($worker->wait(30), $worker->describe());
        $this->assertCount(3, self::lines($worker->stdout(), 'GRANT'), $worker->describe());
    }

    public function testSigtermEndsManageAndTheDefaultHandlingComesBack(): void
    {
        [$daemon] = $this->startDaemon(self::FAST, ['PULSAR_TEST_LINGER' => '30']);
        $daemon->terminate();
        $this->assertTrue($daemon->waitForOutput('MANAGE RETURNED', 15), $daemon->describe());
        $this->assertStringContainsString('Pulsar stopped by SIGTERM', $daemon->stdout());
        // manage() has returned: its handler must be gone, so SIGTERM kills the lingering script as PHP's default.
        usleep(100_000);
        $daemon->terminate();
        $this->assertSame(['code' => null, 'signal' => 15], $daemon->wait(10), $daemon->describe());
        $this->assertStringNotContainsString('LINGER OVER', $daemon->stdout());
    }

    public function testSigintEndsManage(): void
    {
        [$daemon] = $this->startDaemon(self::FAST);
        $daemon->signal(2);
        $this->assertSame(['code' => 0, 'signal' => null], $daemon->wait(15), $daemon->describe());
        $this->assertStringContainsString('Pulsar stopped by SIGINT', $daemon->stdout());
        $this->assertStringContainsString('MANAGE RETURNED', $daemon->stdout());
    }

    public function testTheLoggerGetsTheRecordsWithTheirContext(): void
    {
        $log = $this->tempFile();
        [$daemon, $sockets] = $this->startDaemon(self::FAST + ['logFile' => $log]);
        $performer = $this->newPerformer($sockets);
        $performer->connectToPulsarAndWaitPermissionToAct();
        $performer->pushActionResultInfoWithoutPulsarCorrectionBehavior();
        $iteration = $this->waitForRecord($log, 'pulse iteration finished');
        $this->stopDaemon($daemon);
        $this->assertStringNotContainsString('lifecycle.INFO', $daemon->stdout(), 'nothing on STDOUT with a logger');
        $records = self::records($log);
        $started = array_values(array_filter($records, static fn($r) => $r['message'] === 'Pulsar started'))[0];
        $this->assertSame('info', $started['level']);
        $this->assertSame('lifecycle', $started['context']['module']);
        $this->assertSame($sockets['publishSocketAddress'], $started['context']['publish']);
        $this->assertSame(2, $started['context']['subscribers_per_iteration']);
        $this->assertSame(1, $iteration['context']['receivers']);
        $this->assertSame(1, $iteration['context']['results']);
    }

    public function testAFailingLoggerStopsTheDaemonAndItsExceptionReachesTheCaller(): void
    {
        $log = $this->tempFile();
        [$daemon] = $this->startDaemon(self::FAST + ['logFile' => $log], ['PULSAR_TEST_LOGGER_THROWS' => '1']);
        $exit = $daemon->wait(15);
        $this->assertNotNull($exit, "the daemon kept running with a broken logger:\n" . $daemon->describe());
        $this->assertSame(255, $exit['code'], $daemon->describe());
        $this->assertStringContainsString('Uncaught RuntimeException: the logger failed on purpose', $daemon->stderr());
        $this->assertStringNotContainsString('MANAGE RETURNED', $daemon->stdout());
        $this->assertCount(1, self::records($log), 'no record is delivered after the logger failed');
    }

    public function testTheDaemonPublishesAtMostNPerPeriod(): void
    {
        [$daemon, $sockets] = $this->startDaemon(
            ['moduleName' => 'rate', 'pulsationIterationPeriod' => 0.5, 'subscribersPerIteration' => 2, 'maxWaitReplyStackResult' => 0.2]
        );
        $workers = [];
        for ($i = 0; $i < 4; $i++) {
            $workers[] = Child::start(Implementation::php(self::FIXTURES . '/performer.php', [json_encode(
                self::performerAddresses($sockets) + ['id' => "w$i", 'iterations' => 3, 'timeout' => 20]
            )]));
        }
        $times = [];
        foreach ($workers as $worker) {
            $this->assertSame(['code' => 0, 'signal' => null], $worker->wait(60), $worker->describe());
            foreach (self::lines($worker->stdout(), 'GRANT') as $grant) {
                $times[] = (float) $grant[2];
            }
        }
        $this->stopDaemon($daemon);
        $this->assertCount(12, $times);
        self::assertAtMostPerWindow($times, 2, 0.8 * 0.5);
    }

    /** @param list<float> $times */
    public static function assertAtMostPerWindow(array $times, int $limit, float $window): void
    {
        sort($times);
        foreach ($times as $i => $start) {
            $inWindow = 0;
            for ($j = $i; $j < count($times) && $times[$j] < $start + $window; $j++) {
                $inWindow++;
            }
            self::assertLessThanOrEqual($limit, $inWindow, sprintf(
                '%d grants within %.3f s from %.6f (limit %d); all: %s', $inWindow, $window, $start, $limit,
                implode(' ', array_map(static fn($t) => sprintf('%.3f', $t - $times[0]), $times))
            ));
        }
    }
}
