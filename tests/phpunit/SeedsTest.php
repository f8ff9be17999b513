<?php

declare(strict_types=1);

namespace PulsarTest;

use PulsarTest\Support\Child;
use PulsarTest\Support\Implementation;
use PulsarTest\Support\PulsarTestCase;

/**
 * Each PHP snippet of the seeds (the original README and the article), run unchanged inside the Laravel-style
 * command and service classes of fixtures/laravel.php.
 *
 * The snippets use fixed ports (6271-6275, 6261-6265). They run in a private network namespace with its own
 * loopback (`unshare -rn`), where those ports cannot collide with anything on the machine; where that is not
 * possible the tests are skipped, never run on the machine's real ports.
 */
final class SeedsTest extends PulsarTestCase
{
    /**
     * Runs fixtures/seeds_scenario.php in a private network namespace.
     *
     * @param array<string,mixed> $service service.php's JSON
     * @return array<string,mixed> the scenario's report
     */
    private function scenario(string $daemonCommand, array $service): array
    {
        $prefix = $this->privateNetwork();
        $logFile = $this->tempFile('pulsar-seeds-log-');
        $config = ['daemon' => $daemonCommand, 'service' => $service, 'logFile' => $logFile];
        $run = Child::start(array_merge(
            $prefix,
            Implementation::php(self::FIXTURES . '/seeds_scenario.php', [json_encode($config)])
        ));
        $this->assertNotNull($run->wait(150), "the scenario did not finish:\n" . $run->describe());
        $report = json_decode($run->stdout(), true);
        $this->assertIsArray($report, "no report:\n" . $run->describe());
        $this->assertTrue($report['daemonStarted'], "the daemon did not start:\n" . print_r($report, true));
        return $report;
    }

    /** @param array<string,mixed> $report */
    private function assertServiceGranted(array $report, int $grants, string $class): void
    {
        $service = $report['service'];
        $this->assertSame(['code' => 0, 'signal' => null], $service['exit'], print_r($report, true));
        $found = self::lines($service['stdout'], 'GRANT');
        $this->assertCount($grants, $found, $service['stdout']);
        foreach ($found as $grant) {
            $this->assertSame($class, $grant[2]);
        }
        $this->assertStringContainsString("DONE\n", $service['stdout']);
    }

    /** @param array<string,mixed> $report */
    private function assertDaemonStoppedCleanly(array $report): void
    {
        $this->assertSame(['code' => 0, 'signal' => null], $report['daemon']['exit'], print_r($report, true));
        $this->assertStringContainsString('FIRE RETURNED', $report['daemon']['stdout']);
    }

    public function testReadmeOutOfTheBoxDaemonAndPerformer(): void
    {
        $report = $this->scenario('react:pulsar', ['setUp' => 'setUpOutOfTheBox', 'outcomes' => ['success', 'success']]);
        $this->assertServiceGranted($report, 2, 'React\PublisherPulsar\Inventory\PublisherToSubscribersDto');
        $this->assertDaemonStoppedCleanly($report);
        // No logger set: the daemon logs to STDOUT, as the original's default Logger did.
        $stdout = $report['daemon']['stdout'];
        $this->assertMatchesRegularExpression('/^\[[0-9T:.+-]+\] react:pulsar\.INFO: Pulsar started /m', $stdout);
        $this->assertMatchesRegularExpression('/react:pulsar\.INFO: pulse iteration finished .*"receivers":1/', $stdout);
        $this->assertStringContainsString('react:pulsar.INFO: Pulsar stopped by SIGTERM', $stdout);
    }

    public function testReadmeDaemonWithOptionsAndPerformerWithOptions(): void
    {
        $report = $this->scenario('react:pulsar-with-options', ['setUp' => 'setUpWithOptions', 'outcomes' => ['success', 'success']]);
        $this->assertServiceGranted($report, 2, 'YourNameExtendedByPublisherToSubscribersDto');
        $this->assertDaemonStoppedCleanly($report);
        // The published subclass arrives with its property.
        $grant = self::lines($report['service']['stdout'], 'GRANT')[0];
        $this->assertStringContainsString('any property that can influence performer logic', base64_decode($grant[3], true));
        // With setLogger(\Log::getMonolog()) the records go to the logger, not to STDOUT.
        $this->assertStringNotContainsString('Pulsar started', $report['daemon']['stdout']);
        $messages = array_column($report['log'], 'message');
        $this->assertContains('Pulsar started', $messages);
        $this->assertContains('pulse iteration finished', $messages);
        $this->assertContains('Pulsar stopped by SIGTERM', $messages);
        foreach ($report['log'] as $record) {
            $this->assertContains($record['level'], ['debug', 'info', 'warning', 'error']);
            $this->assertIsArray($record['context']);
        }
    }

    public function testArticleDaemonAndArticlePerformerWithTheArticlesCasing(): void
    {
        // The article's daemon listens on 6261-6265 and its performer dials 6273-6275 (a slip in the article), so
        // each is paired with the README counterpart that uses the same ports.
        $report = $this->scenario('react:pulsar-with-options', [
            'setUp' => 'setUpArticle', 'outcomes' => ['success'], 'articleCasing' => true,
        ]);
        $this->assertServiceGranted($report, 1, 'YourNameExtendedByPublisherToSubscribersDto');
        $this->assertDaemonStoppedCleanly($report);

        $report = $this->scenario('react:pulsar-ga', ['setUp' => 'setUpOutOfTheBox', 'outcomes' => []]);
        $this->assertDaemonStoppedCleanly($report);
        $started = array_values(array_filter($report['log'], static fn($r) => $r['message'] === 'Pulsar started'));
        $this->assertCount(1, $started, print_r($report, true));
        $this->assertSame('tcp://127.0.0.1:6263', $started[0]['context']['publish']);
        $this->assertSame('tcp://127.0.0.1:6265', $started[0]['context']['admission']);
        $this->assertSame('react:pulsar-ga', $started[0]['context']['module']);
    }

    public function testReadmeErrorReportingBlockSlowsDownAndPausesTheDaemon(): void
    {
        // One worker: a rate-limit error at N = 1 makes the pause before each pulse grow; a success shrinks it;
        // the daily-limit error stops the pulses for an hour.
        $report = $this->scenario('react:pulsar-with-options', [
            'setUp' => 'setUpWithOptions', 'outcomes' => ['rate', 'success', 'daily'],
        ]);
        $this->assertServiceGranted($report, 3, 'YourNameExtendedByPublisherToSubscribersDto');
        $iterations = array_values(array_filter($report['log'], static fn($r) => $r['message'] === 'pulse iteration finished'));
        $this->assertGreaterThanOrEqual(3, count($iterations), print_r($report['log'], true));
        [$rate, $success, $daily] = array_slice($iterations, 0, 3);
        $this->assertSame('userRateLimitExceeded', $rate['context']['error_reason']);
        $this->assertSame('User Rate Limit Exceeded', $rate['context']['error_message']);
        $this->assertContains($rate['context']['adaptation'], ['Narrowed', 'PauseGrown']);
        $this->assertSame(0, $success['context']['errors']);
        $this->assertSame('dailyLimitExceeded', $daily['context']['error_reason']);
        $this->assertStringStartsWith('PauseForPeriod', $daily['context']['adaptation']);
        $this->assertStringContainsString('3600', $daily['context']['adaptation']);
    }

    public function testReplyStackCommandKeepsRunningQuietlyUntilSigterm(): void
    {
        $command = Child::start(Implementation::php(self::FIXTURES . '/artisan.php', ['react:pulsar-reply-stack']));
        $this->assertTrue($command->waitForOutput('ReplyStack is not needed', 10), $command->describe());
        usleep(300_000);
        $this->assertTrue($command->isRunning(), "startCommunication() returned on its own:\n" . $command->describe());
        $command->terminate();
        $this->assertSame(['code' => 0, 'signal' => null], $command->wait(10), $command->describe());
        $this->assertStringContainsString('FIRE RETURNED', $command->stdout());
        $this->assertSame(1, substr_count($command->stdout(), 'ReplyStack is not needed'), 'logged once');
    }

    public function testSigintEndsTheReplyStackToo(): void
    {
        $command = Child::start(Implementation::php(self::FIXTURES . '/artisan.php', ['react:pulsar-reply-stack']));
        $this->assertTrue($command->waitForOutput('ReplyStack is not needed', 10), $command->describe());
        $command->signal(2);
        $this->assertSame(['code' => 0, 'signal' => null], $command->wait(10), $command->describe());
    }
}
