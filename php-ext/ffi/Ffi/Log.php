<?php

declare(strict_types=1);

namespace React\PublisherPulsar\Ffi;

/**
 * Where the records of one Pulsar or Performer go, exactly as the pulsar extension delivers them
 * (php-ext/src/logging.rs): to the user's PSR-3 logger (`error`, `warning`, `info` or `debug` with the message and
 * a context of `module` followed by the record's fields), or as Monolog-style lines on STDOUT/STDERR. Records less
 * severe than the Log's least level are not delivered.
 *
 * Two kinds of records: the ones the FFI classes log themselves ("Pulsar started", "Pulsar stopped by SIGTERM",
 * the ReplyStack notice), and libpulsar's own (one per pulse iteration, warnings), which libpulsar keeps in its
 * queue (Library::logToQueue()) until forwardLibraryRecords() takes them. libpulsar flattens its records with the
 * same code as the extension, so the message and fields are the same.
 *
 * A logger that throws is not called again by this Log until resume(): the exception reaches the caller, as the
 * extension rethrows it. This class must never run on a thread other than PHP's.
 *
 * @internal
 */
final class Log
{
    public const TO_STDOUT = 'stdout';
    public const TO_STDERR = 'stderr';

    /** Severity ranks of the levels (libpulsar's names and PSR-3's), most severe first. */
    private const RANKS = ['ERROR' => 1, 'WARN' => 2, 'INFO' => 3, 'DEBUG' => 4, 'TRACE' => 5];
    public const ERROR = 'ERROR';
    public const WARN = 'WARN';
    public const INFO = 'INFO';

    private ?object $logger;
    private string $fallback;
    private string $channel;
    private int $leastRank;
    private bool $failed = false;

    /**
     * Records go to $logger (already checked by Convert::logger()) if there is one, else to $fallback; records
     * less severe than $leastLevel (ERROR, WARN, INFO) are not delivered.
     */
    public function __construct(?object $logger, string $fallback, string $channel, string $leastLevel = self::INFO)
    {
        $this->logger = $logger;
        $this->fallback = $fallback;
        $this->channel = $channel;
        $this->leastRank = self::RANKS[$leastLevel];
    }

    /**
     * Delivers one info record of the FFI classes themselves. A logger's exception propagates to the caller.
     *
     * @param array<string,int|float|bool|string> $fields
     */
    public function info(string $message, array $fields = []): void
    {
        $this->deliver(self::INFO, $message, $fields);
    }

    /**
     * Delivers every record libpulsar has queued, oldest first. If the logger throws, the rest are taken and
     * dropped (as the extension stops calling a failed logger) and the first exception is thrown at the end.
     */
    public function forwardLibraryRecords(): void
    {
        $thrown = null;
        while (($record = Library::nextLogRecord()) !== null) {
            try {
                $this->deliver($record['level'], $record['message'], $record['fields']);
            } catch (\Throwable $e) {
                $thrown ??= $e;
            }
        }
        if ($thrown !== null) {
            throw $thrown;
        }
    }

    /** Calls the logger again after it failed (the next Performer call, as the extension does). */
    public function resume(): void
    {
        $this->failed = false;
    }

    /** @param array<string,mixed> $fields */
    private function deliver(string $level, string $message, array $fields): void
    {
        $rank = self::RANKS[$level] ?? self::RANKS['DEBUG'];
        if ($rank > $this->leastRank || $this->failed) {
            return;
        }
        if ($this->logger !== null) {
            // The record's own `module` field, if it has one, replaces the channel (the extension's array insert).
            $context = ['module' => $this->channel];
            foreach ($fields as $name => $value) {
                $context[$name] = $value;
            }
            $method = [1 => 'error', 2 => 'warning', 3 => 'info'][$rank] ?? 'debug';
            try {
                // The message is a human line (control characters escaped); the context keeps exact values.
                $this->logger->$method(self::escapeControls($message), $context);
            } catch (\Throwable $e) {
                $this->failed = true;
                throw $e;
            }
            return;
        }
        // The extension renders the context with serde_json's map: keys sorted bytewise.
        ksort($fields, SORT_STRING);
        $context = $fields === []
            ? '[]'
            : json_encode($fields, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_PRESERVE_ZERO_FRACTION
                | JSON_INVALID_UTF8_SUBSTITUTE);
        $name = [1 => 'ERROR', 2 => 'WARNING', 3 => 'INFO'][$rank] ?? 'DEBUG';
        // One record, one line: moduleName and the message with their control characters escaped (the context is
        // JSON, which escapes its own).
        $line = sprintf(
            "[%s] %s.%s: %s %s []\n",
            self::timestamp(),
            self::escapeControls($this->channel),
            $name,
            self::escapeControls($message),
            $context
        );
        // A closed stream must not stop the daemon: the line is lost, as Monolog would lose it.
        $stream = @fopen($this->fallback === self::TO_STDOUT ? 'php://stdout' : 'php://stderr', 'w');
        if ($stream !== false) {
            @fwrite($stream, $line);
            @fclose($stream);
        }
    }

    /**
     * $text with its control characters as visible escapes, as the extension writes them (publisher_pulsar's
     * human_log::escape_controls): `\n`, `\r`, `\t`, `\x1b` for the other ASCII controls and DEL, `\u{85}` for
     * the C1 controls, the line and paragraph separators and the bidirectional overrides and isolates. Text that
     * is not UTF-8 has its ASCII controls escaped.
     */
    public static function escapeControls(string $text): string
    {
        /** @param array<int|string, string> $m */
        $escape = static function (array $m): string {
            $c = (string) $m[0];
            $named = ["\n" => '\n', "\r" => '\r', "\t" => '\t'];
            if (isset($named[$c])) {
                return $named[$c];
            }
            if (strlen($c) === 1) {
                return sprintf('\x%02x', ord($c));
            }
            $bytes = array_values(unpack('C*', $c) ?: []);
            $code = count($bytes) === 2
                ? (($bytes[0] & 0x1f) << 6) | ($bytes[1] & 0x3f)
                : (($bytes[0] & 0x0f) << 12) | (($bytes[1] & 0x3f) << 6) | ($bytes[2] & 0x3f);
            return sprintf('\u{%x}', $code);
        };
        $escaped = preg_replace_callback(
            '/[\x{0}-\x{1f}\x{7f}-\x{9f}\x{2028}\x{2029}\x{202a}-\x{202e}\x{2066}-\x{2069}]/u',
            $escape,
            $text
        );
        return $escaped ?? (string) preg_replace_callback('/[\x00-\x1f\x7f]/', $escape, $text);
    }

    /** `2024-05-01T12:00:00.123456+00:00`, now, in UTC. */
    private static function timestamp(): string
    {
        $now = \DateTimeImmutable::createFromFormat('U.u', sprintf('%.6F', microtime(true)));
        if ($now === false) {
            $now = new \DateTimeImmutable('now', new \DateTimeZone('UTC'));
        }
        return $now->setTimezone(new \DateTimeZone('UTC'))->format('Y-m-d\TH:i:s.uP');
    }
}
