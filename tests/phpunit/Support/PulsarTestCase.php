<?php

declare(strict_types=1);

namespace PulsarTest\Support;

use PHPUnit\Framework\TestCase;
use PulsarTest\Fixtures\RecordingLogger;
use React\PublisherPulsar\Inventory\PerformerDto;
use React\PublisherPulsar\Inventory\PerformerSocketsParamsDto;
use React\PublisherPulsar\Performer;

/**
 * What the tests share: daemons in child processes on free ports, Performers wired to them, temporary files,
 * and the private network namespace for the seeds' fixed ports.
 */
abstract class PulsarTestCase extends TestCase
{
    /** @var list<string> */
    private array $tempFiles = [];

    protected const FIXTURES = __DIR__ . '/../fixtures';

    /**
     * A CURVE key pair made for the tests only (`cargo run -p publisher-pulsar --example curve_keypair`; the same
     * pair as tests/python/test_curve.py and tests/laravel/run.sh): never use it anywhere else.
     */
    protected const TEST_CURVE_SECRET = 'EJ}9:vfjcknUX4s418qCs0*j>FMM%}01TRn*W%Ei';
    protected const TEST_CURVE_PUBLIC = ':q7[Pq1NA>M!Y(sgdm{l=9m+N&]=Hdme]JI<yth)';

    protected function tearDown(): void
    {
        foreach ($this->tempFiles as $file) {
            @unlink($file);
        }
        $this->tempFiles = [];
    }

    protected function tempFile(string $prefix = 'pulsar-test-'): string
    {
        $file = (string) tempnam(sys_get_temp_dir(), $prefix);
        $this->tempFiles[] = $file;
        return $file;
    }

    /**
     * Starts fixtures/daemon.php on free ports and waits until it is bound.
     *
     * @param array<string,mixed> $config daemon.php's JSON (sockets are added)
     * @param array<string,string> $env
     * @return array{0:Child,1:array<string,string>} the child and its five addresses
     */
    protected function startDaemon(array $config, array $env = []): array
    {
        $sockets = Ports::pulsarAddresses();
        $config['sockets'] = $sockets;
        $daemon = Child::start(Implementation::php(self::FIXTURES . '/daemon.php', [json_encode($config)]), $env);
        $logFile = $config['logFile'] ?? null;
        $deadline = microtime(true) + 20;
        while (microtime(true) < $deadline) {
            if (str_contains($daemon->stdout(), 'Pulsar started')
                || ($logFile !== null && str_contains((string) @file_get_contents($logFile), 'Pulsar started'))) {
                return [$daemon, $sockets];
            }
            if (!$daemon->isRunning()) {
                break;
            }
            usleep(20_000);
        }
        $this->fail("the daemon did not start:\n" . $daemon->describe());
    }

    /**
     * Starts the project's `pulsard` binary (PULSARD, built by run.sh) on free ports, for daemons the PHP API
     * cannot configure (e.g. publishing an object that is not a PublisherToSubscribersDto).
     *
     * @param array<string,mixed> $config pulsard's JSON configuration (addresses are added)
     * @return array{0:Child,1:array<string,string>}
     */
    protected function startPulsard(array $config): array
    {
        $pulsard = getenv('PULSARD');
        if ($pulsard === false || !is_executable($pulsard)) {
            $this->markTestSkipped('PULSARD must name the pulsard binary (tests/phpunit/run.sh builds it)');
        }
        $sockets = Ports::pulsarAddresses();
        $file = $this->tempFile('pulsard-config-');
        file_put_contents($file, json_encode($config + ['pulsarSocketsParams' => $sockets], JSON_THROW_ON_ERROR));
        $daemon = Child::start([$pulsard, '--config', $file]);
        $this->assertTrue($daemon->waitForError('pulsard listening', 20), "pulsard did not start:\n" . $daemon->describe());
        return [$daemon, $sockets];
    }

    /**
     * performer.php's address keys for a daemon's sockets.
     *
     * @param array<string,string> $sockets
     * @return array{publish:string,push:string,admission:string}
     */
    protected static function performerAddresses(array $sockets): array
    {
        return [
            'publish' => $sockets['publishSocketAddress'],
            'push' => $sockets['pullSocketAddress'],
            'admission' => $sockets['replyStackSocketAddress'],
        ];
    }

    /** A Performer of the implementation under test, in this process, with every wait bounded. */
    protected function newPerformer(array $sockets, float $timeout = 15.0, ?object $logger = null): Performer
    {
        $dto = new PerformerDto();
        $dto->setModuleName('phpunit');
        $params = new PerformerSocketsParamsDto();
        $params->setPublisherPulsarSocketAddress($sockets['publishSocketAddress']);
        $params->setPushPulsarSocketAddress($sockets['pullSocketAddress']);
        $params->setRequestPulsarRsSocketAddress($sockets['replyStackSocketAddress']);
        $dto->setSocketsParams($params);
        $dto->setAdmissionTimeout($timeout);
        $dto->setPulseTimeout($timeout);
        $dto->setSendTimeout($timeout);
        if ($logger !== null) {
            $dto->setLogger($logger);
        }
        return new Performer($dto);
    }

    /** Stops a daemon with SIGTERM and checks that manage() returned cleanly. */
    protected function stopDaemon(Child $daemon): void
    {
        $daemon->terminate();
        $exit = $daemon->wait(15);
        $this->assertNotNull($exit, "the daemon ignored SIGTERM:\n" . $daemon->describe());
        $this->assertSame(0, $exit['code'], "the daemon did not end cleanly:\n" . $daemon->describe());
        $this->assertStringContainsString('MANAGE RETURNED', $daemon->stdout());
    }

    /** @return list<array{level:string,message:string,context:array}> */
    protected static function records(string $logFile): array
    {
        return is_file($logFile) ? RecordingLogger::read($logFile) : [];
    }

    /** Waits until the logger file holds a record with $message; the record, or a failed test. */
    protected function waitForRecord(string $logFile, string $message, float $timeoutSeconds = 15.0): array
    {
        $deadline = microtime(true) + $timeoutSeconds;
        do {
            foreach (self::records($logFile) as $record) {
                if ($record['message'] === $message) {
                    return $record;
                }
            }
            usleep(20_000);
        } while (microtime(true) < $deadline);
        $this->fail("no '$message' record within {$timeoutSeconds} s in:\n" . (string) @file_get_contents($logFile));
    }

    /** The lines of a child's output that start with $word, split on spaces. @return list<list<string>> */
    protected static function lines(string $output, string $word): array
    {
        $found = [];
        foreach (explode("\n", $output) as $line) {
            if (str_starts_with($line, $word . ' ')) {
                $found[] = explode(' ', $line);
            }
        }
        return $found;
    }

    /**
     * The command prefix that runs a program in a private network namespace with its own loopback, where the
     * seeds' fixed ports cannot collide with anything; the test is skipped where that is not possible.
     *
     * @return list<string>
     */
    protected function privateNetwork(): array
    {
        static $available = null;
        $prefix = ['unshare', '-rn', 'sh', '-c', 'ip link set lo up && exec "$@"', 'sh'];
        if ($available === null) {
            $probe = Child::start(array_merge($prefix, ['true']));
            $exit = $probe->wait(10);
            $available = $exit !== null && $exit['code'] === 0;
        }
        if (!$available) {
            $this->markTestSkipped('needs a private network namespace (unshare -rn and ip) for the seeds\' fixed ports');
        }
        return $prefix;
    }
}
