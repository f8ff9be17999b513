<?php

declare(strict_types=1);

namespace React\PublisherPulsar\Ffi;

/**
 * The records the FFI classes log themselves ("Pulsar started", "Pulsar stopped by SIGTERM", the ReplyStack
 * notice): to the user's PSR-3 logger, with `module` and the record's fields as context, or as Monolog-style lines
 * on STDOUT/STDERR, exactly as the pulsar extension writes them (php-ext/src/logging.rs).
 *
 * libpulsar's own records (one per pulse iteration, warnings) cannot reach a PHP logger through the C ABI, which
 * has no log callback: Library::logToStderr() sends them to STDERR instead.
 *
 * @internal
 */
final class Log
{
    public const TO_STDOUT = 'stdout';
    public const TO_STDERR = 'stderr';

    private ?object $logger;
    private string $fallback;
    private string $channel;

    /** Records go to $logger (already checked by Convert::logger()) if there is one, else to $fallback. */
    public function __construct(?object $logger, string $fallback, string $channel)
    {
        $this->logger = $logger;
        $this->fallback = $fallback;
        $this->channel = $channel;
    }

    /**
     * Delivers one info record. A logger's exception propagates to the caller, as the extension rethrows it.
     *
     * @param array<string,int|float|bool|string> $fields
     */
    public function info(string $message, array $fields = []): void
    {
        if ($this->logger !== null) {
            $this->logger->info($message, ['module' => $this->channel] + $fields);
            return;
        }
        $context = $fields === []
            ? '[]'
            : json_encode($fields, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_PRESERVE_ZERO_FRACTION
                | JSON_INVALID_UTF8_SUBSTITUTE);
        $line = sprintf("[%s] %s.INFO: %s %s []\n", self::timestamp(), $this->channel, $message, $context);
        // A closed stream must not stop the daemon: the line is lost, as Monolog would lose it.
        $stream = @fopen($this->fallback === self::TO_STDOUT ? 'php://stdout' : 'php://stderr', 'w');
        if ($stream !== false) {
            @fwrite($stream, $line);
            @fclose($stream);
        }
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
