<?php

declare(strict_types=1);

namespace PulsarTest;

use PulsarTest\Support\Child;
use PulsarTest\Support\Implementation;
use PulsarTest\Support\PulsarTestCase;

/**
 * One daemon (Pulsar::manage() of the implementation under test), two kinds of workers: Performers of the
 * implementation under test and unchanged original-protocol workers (ext-zmq + serialize(), tests/php/worker.php,
 * run without the implementation). Everyone is served, and the limit is never exceeded: no window of 0.8 periods
 * holds more than N grants.
 */
final class MixedFleetTest extends PulsarTestCase
{
    private const PERIOD = 1.0;
    private const N = 3;
    private const ITERATIONS = 3;

    public function testExtensionAndOriginalWorkersShareOneLimit(): void
    {
        $original = dirname(__DIR__) . '/php/worker.php';
        if (!is_file($original) || !extension_loaded('zmq') && !self::originalWorldHasZmq()) {
            $this->markTestSkipped('needs tests/php/worker.php and ext-zmq for the original-protocol workers');
        }
        $log = $this->tempFile();
        [$daemon, $sockets] = $this->startDaemon([
            'moduleName' => 'fleet',
            'pulsationIterationPeriod' => self::PERIOD,
            'subscribersPerIteration' => self::N,
            'maxWaitReplyStackResult' => 0.3,
            'logFile' => $log,
        ]);
        $addresses = self::performerAddresses($sockets);
        $workers = [];
        for ($i = 0; $i < 3; $i++) {
            $workers["ext$i"] = Child::start(Implementation::php(self::FIXTURES . '/performer.php', [json_encode(
                $addresses + ['id' => "ext$i", 'iterations' => self::ITERATIONS, 'timeout' => 60]
            )]));
            $workers["orig$i"] = Child::start(Implementation::originalPhp($original, [
                '--admission', $addresses['admission'], '--publish', $addresses['publish'], '--push', $addresses['push'],
                '--id', "orig$i", '--iterations', (string) self::ITERATIONS, '--timeout-ms', '60000',
            ]));
        }
        $times = [];
        foreach ($workers as $id => $worker) {
            $this->assertSame(['code' => 0, 'signal' => null], $worker->wait(120), $worker->describe());
            $grants = self::lines($worker->stdout(), 'GRANT');
            $this->assertCount(self::ITERATIONS, $grants, "$id was not served every time:\n" . $worker->describe());
            foreach ($grants as $grant) {
                $times[] = (float) $grant[2];
            }
        }
        $this->stopDaemon($daemon);
        $this->assertCount(6 * self::ITERATIONS, $times);
        DaemonLifecycleTest::assertAtMostPerWindow($times, self::N, 0.8 * self::PERIOD);
        foreach (self::records($log) as $record) {
            if ($record['message'] === 'pulse iteration finished') {
                $this->assertLessThanOrEqual(self::N, $record['context']['receivers']);
            }
        }
    }

    /**
     * Every kind of worker against one daemon of the implementation under test: extension Performers, FFI
     * Performers (the composer classes over libpulsar), unchanged original-protocol workers and a Python worker
     * (ctypes over libpulsar). All are served; no 0.8-period window holds more than N grants.
     */
    public function testEveryKindOfWorkerSharesOneLimit(): void
    {
        $root = dirname(__DIR__, 2);
        $original = $root . '/tests/php/worker.php';
        $extension = getenv('PULSAR_PHP_EXTENSION') ?: '';
        $library = getenv('PULSAR_LIB') ?: '';
        $autoload = getenv('PULSAR_FFI_AUTOLOAD') ?: '';
        foreach (['PULSAR_PHP_EXTENSION' => $extension, 'PULSAR_LIB' => $library, 'PULSAR_FFI_AUTOLOAD' => $autoload] as $name => $path) {
            $this->assertFileExists($path, "$name must name a built file: run tests/phpunit/run.sh");
        }
        $log = $this->tempFile();
        [$daemon, $sockets] = $this->startDaemon([
            'moduleName' => 'fleet',
            'pulsationIterationPeriod' => self::PERIOD,
            'subscribersPerIteration' => self::N,
            'maxWaitReplyStackResult' => 0.3,
            'logFile' => $log,
        ]);
        $addresses = self::performerAddresses($sockets);
        $performer = self::FIXTURES . '/performer.php';
        $env = getenv();
        $workers = [];
        for ($i = 0; $i < 2; $i++) {
            $args = static fn (string $id): array => [json_encode(
                $addresses + ['id' => $id, 'iterations' => self::ITERATIONS, 'timeout' => 60],
                JSON_THROW_ON_ERROR
            )];
            $workers["ext$i"] = Child::start(
                [PHP_BINARY, '-d', 'extension=' . $extension, $performer, ...$args("ext$i")],
                ['PULSAR_PHP_IMPL' => 'ext'] + $env
            );
            $workers["ffi$i"] = Child::start(
                [PHP_BINARY, '-d', 'ffi.enable=1', $performer, ...$args("ffi$i")],
                ['PULSAR_PHP_IMPL' => 'ffi', 'PULSAR_LIB' => $library, 'PULSAR_FFI_AUTOLOAD' => $autoload] + $env
            );
            $workers["orig$i"] = Child::start(Implementation::originalPhp($original, [
                '--admission', $addresses['admission'], '--publish', $addresses['publish'], '--push', $addresses['push'],
                '--id', "orig$i", '--iterations', (string) self::ITERATIONS, '--timeout-ms', '60000',
            ]));
        }
        $pythonConfig = json_encode([
            'publisherPulsarSocketAddress' => $addresses['publish'],
            'pushPulsarSocketAddress' => $addresses['push'],
            'requestPulsarRsSocketAddress' => $addresses['admission'],
            'admissionTimeout' => 60,
            'pulseTimeout' => 60,
        ]);
        $python = Child::start(
            ['python3', $root . '/tests/python/worker.py', $pythonConfig, (string) self::ITERATIONS],
            ['PULSAR_WORKER_CLOCK' => 'wall', 'PULSAR_LIB' => $library] + $env
        );
        $times = [];
        foreach ($workers as $id => $worker) {
            $this->assertSame(['code' => 0, 'signal' => null], $worker->wait(120), $worker->describe());
            $grants = self::lines($worker->stdout(), 'GRANT');
            $this->assertCount(self::ITERATIONS, $grants, "$id was not served every time:\n" . $worker->describe());
            foreach ($grants as $grant) {
                $times[] = (float) $grant[2];
            }
        }
        $this->assertSame(['code' => 0, 'signal' => null], $python->wait(120), $python->describe());
        $pythonGrants = array_values(array_filter(array_map('trim', explode("\n", $python->stdout()))));
        $this->assertCount(self::ITERATIONS, $pythonGrants, "the Python worker was not served every time:\n" . $python->describe());
        foreach ($pythonGrants as $at) {
            $times[] = (float) $at;
        }
        $this->stopDaemon($daemon);
        $this->assertCount(7 * self::ITERATIONS, $times);
        DaemonLifecycleTest::assertAtMostPerWindow($times, self::N, 0.8 * self::PERIOD);
        foreach (self::records($log) as $record) {
            if ($record['message'] === 'pulse iteration finished') {
                $this->assertLessThanOrEqual(self::N, $record['context']['receivers']);
            }
        }
    }

    private static function originalWorldHasZmq(): bool
    {
        $probe = Child::start(Implementation::originalPhp('-r', ['exit(class_exists("ZMQContext") ? 0 : 1);']));
        return $probe->wait(10) === ['code' => 0, 'signal' => null];
    }
}
