<?php

declare(strict_types=1);

namespace PublisherPulsar\Laravel;

/**
 * The logger pulsar:serve gives the daemon: it passes every record on to the Laravel logger unchanged and, for
 * each "pulse iteration finished" record (one per pulse, with the pulse's fields as context), rewrites the status
 * file that pulsar:status reads: the settings, the latest N / pause / queue, and the most recent pulses.
 *
 * PSR-3 style (the methods the extension and the FFI package call), without declaring Psr\Log\LoggerInterface, whose
 * signatures differ between psr/log versions.
 */
final class StatusRecorder
{
    private const PULSE_MESSAGE = 'pulse iteration finished';

    /** @var list<array<string,mixed>> */
    private array $recent = [];

    /** @var array<string,mixed> */
    private array $status;

    /**
     * @param object $logger the Laravel (Monolog) logger the records go to
     * @param array<string,mixed> $settings what pulsar:status shows as the configuration
     */
    public function __construct(private object $logger, private string $file, private int $history, array $settings)
    {
        $this->status = [
            'state' => 'starting',
            'pid' => getmypid(),
            'started_at' => microtime(true),
            'updated_at' => microtime(true),
            'settings' => $settings,
            'last' => null,
            'recent' => [],
        ];
        $dir = dirname($file);
        if (!is_dir($dir) && !@mkdir($dir, 0o777, true) && !is_dir($dir)) {
            throw new \RuntimeException("pulsar: cannot create the status file's directory $dir");
        }
        $this->write();
    }

    /** Marks the daemon running/stopped in the status file. */
    public function state(string $state): void
    {
        $this->status['state'] = $state;
        $this->write();
    }

    /** @param array<string,mixed> $context */
    public function log($level, $message, array $context = []): void
    {
        $this->logger->log($level, $message, $context);
        if ((string) $message === self::PULSE_MESSAGE) {
            $this->pulse($context);
        }
    }

    /** @param array<string,mixed> $context */
    public function emergency($message, array $context = []): void { $this->log('emergency', $message, $context); }
    /** @param array<string,mixed> $context */
    public function alert($message, array $context = []): void { $this->log('alert', $message, $context); }
    /** @param array<string,mixed> $context */
    public function critical($message, array $context = []): void { $this->log('critical', $message, $context); }
    /** @param array<string,mixed> $context */
    public function error($message, array $context = []): void { $this->log('error', $message, $context); }
    /** @param array<string,mixed> $context */
    public function warning($message, array $context = []): void { $this->log('warning', $message, $context); }
    /** @param array<string,mixed> $context */
    public function notice($message, array $context = []): void { $this->log('notice', $message, $context); }
    /** @param array<string,mixed> $context */
    public function info($message, array $context = []): void { $this->log('info', $message, $context); }
    /** @param array<string,mixed> $context */
    public function debug($message, array $context = []): void { $this->log('debug', $message, $context); }

    /** @param array<string,mixed> $context */
    private function pulse(array $context): void
    {
        $entry = ['time' => microtime(true)];
        foreach (['iteration', 'n', 'receivers', 'results', 'errors', 'late', 'adaptation', 'next_n', 'pause',
                     'queued', 'admitted', 'subscribed', 'acting', 'error_reason'] as $key) {
            if (array_key_exists($key, $context)) {
                $entry[$key] = is_scalar($context[$key]) ? $context[$key] : (string) json_encode($context[$key]);
            }
        }
        $this->recent[] = $entry;
        if (count($this->recent) > $this->history) {
            array_shift($this->recent);
        }
        $this->status['state'] = 'running';
        $this->status['last'] = $entry;
        $this->status['recent'] = $this->recent;
        $this->write();
    }

    private function write(): void
    {
        $this->status['updated_at'] = microtime(true);
        $tmp = $this->file . '.' . getmypid() . '.tmp';
        $json = json_encode($this->status, JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES | JSON_PARTIAL_OUTPUT_ON_ERROR);
        if (@file_put_contents($tmp, $json . "\n") === false || !@rename($tmp, $this->file)) {
            // Never stop the daemon for its status file; say so in the log instead.
            $this->logger->warning('pulsar: cannot write the status file', ['file' => $this->file]);
        }
    }
}
