<?php

declare(strict_types=1);

namespace React\PublisherPulsar\Ffi;

use React\PublisherPulsar\Inventory\PublisherPulsarDto;
use React\PublisherPulsar\Inventory\PublisherToSubscribersDto;
use React\PublisherPulsar\Inventory\PulsarSocketsParamsDto;

/**
 * What a `React\PublisherPulsar\Pulsar` of the FFI route holds and does: its PublisherPulsarDto, and `manage()`,
 * which runs libpulsar's daemon in this process.
 *
 * The public class keeps no properties of its own (so that reflection, var_dump() and the IDE stubs show the same
 * API as the extension's class): each Pulsar's runner lives in a WeakMap.
 *
 * `manage()` reads the DTO through its getters exactly as the extension does (php-ext/src/settings.rs), hands the
 * settings to libpulsar as JSON (`pulsar_daemon_new` checks them all and binds the sockets) and runs the daemon on
 * a thread of its own (DaemonThread) until SIGTERM/SIGINT or `timerIterationsLimit`. While it runs, the PHP thread
 * forwards the daemon's log records from libpulsar's queue to the DTO's logger (or STDOUT) every few
 * milliseconds. It must never run PHP code on the daemon's thread.
 *
 * @internal
 */
final class PulsarRunner
{
    /** @var \WeakMap<object, self>|null */
    private static ?\WeakMap $runners = null;

    private ?PublisherPulsarDto $publisherPulsarDto = null;

    /** @var list<array{key: string, nested: bool, type: string, phpGetter: ?string, phpSetter: ?string}>|null */
    private static ?array $table = null;

    /** The runner of $pulsar (made on first use). */
    public static function of(object $pulsar): self
    {
        self::$runners ??= new \WeakMap();
        return self::$runners[$pulsar] ??= new self();
    }

    public function setPublisherPulsarDto($publisherPulsarDto): void
    {
        $this->publisherPulsarDto = Convert::expectInstance(
            $publisherPulsarDto,
            PublisherPulsarDto::class,
            'setPublisherPulsarDto()'
        );
    }

    public function publisherPulsarDto(): ?PublisherPulsarDto
    {
        return $this->publisherPulsarDto;
    }

    /**
     * Runs the daemon in this process until SIGTERM/SIGINT (or `timerIterationsLimit` iterations), then returns.
     * Throws PublisherPulsarException when a setting is invalid or an address cannot be bound.
     */
    public function manage(): void
    {
        $dto = $this->publisherPulsarDto;
        if ($dto === null) {
            throw Failure::setting('call setPublisherPulsarDto() before manage()');
        }
        [$config, $logger] = self::settings($dto);
        $log = new Log(
            Convert::logger($logger, 'PublisherPulsarDto::setLogger()'),
            Log::TO_STDOUT,
            $config['moduleName'] ?? 'pulsar'
        );
        $json = json_encode($config, JSON_THROW_ON_ERROR | JSON_UNESCAPED_SLASHES | JSON_PRESERVE_ZERO_FRACTION);

        $ffi = Library::ffi();
        Library::logToQueue();
        // Records of an earlier run that were never taken (its logger failed) belong to no one now.
        while (Library::nextLogRecord() !== null) {
        }
        $thread = DaemonThread::isAvailable() ? new DaemonThread() : null;
        $daemon = $ffi->new('struct PulsarDaemon *');
        $thread?->block();
        try {
            $status = $ffi->pulsar_daemon_new($json, \FFI::addr($daemon));
            // The message of a failure is read before anything else calls libpulsar on this thread.
            $failure = $status === Library::STATUS_OK ? null : Library::failure($status);
            // What binding logged (e.g. a published object that forbids acting) comes first, as in the extension.
            $log->forwardLibraryRecords();
            if ($failure !== null) {
                throw $failure;
            }
            try {
                $log->info('Pulsar started', [
                    'publish' => self::endpoint($daemon, Library::ENDPOINT_PUBLISH),
                    'pull' => self::endpoint($daemon, Library::ENDPOINT_PULL),
                    'admission' => self::endpoint($daemon, Library::ENDPOINT_REPLY_STACK),
                    'subscribers_per_iteration' => $config['subscribersPerIteration'] ?? 10,
                    'pulsation_iteration_period' => (float) ($config['pulsationIterationPeriod'] ?? 1.0),
                ]);
                // Without a daemon thread, pulsar_daemon_run blocks this thread and PHP cannot see signals; its
                // records are forwarded once it returns.
                $status = $thread !== null
                    ? $thread->run($daemon, [$log, 'forwardLibraryRecords'])
                    : $ffi->pulsar_daemon_run($daemon);
                $failure = $status === Library::STATUS_OK ? null : Library::failure($status);
                $log->forwardLibraryRecords();
            } finally {
                $ffi->pulsar_daemon_free($daemon);
            }
        } finally {
            $thread?->unblock();
        }
        $signal = $thread?->received();
        $log->info($signal === null ? 'Pulsar stopped' : 'Pulsar stopped by ' . DaemonThread::name($signal));
        if ($failure !== null) {
            throw $failure;
        }
    }

    /**
     * The libpulsar JSON settings (keys as in `pulsard --config`) and the logger of a PublisherPulsarDto. The
     * getters come from libpulsar's settings table (`pulsar_settings_json()`, the core's one definition, which the
     * extension iterates too): every row with a PHP getter is read, null keeps the default, and values are
     * converted to the row's type as the extension converts them (php-ext/src/settings.rs). Ranges and addresses
     * are checked by libpulsar, never here.
     *
     * @return array{0: array<string,mixed>, 1: mixed}
     */
    public static function settings(PublisherPulsarDto $dto): array
    {
        $c = [];
        $addresses = [];
        $sockets = $dto->getPulsarSocketsParams();
        if ($sockets !== null) {
            Convert::expectInstance($sockets, PulsarSocketsParamsDto::class, 'setPulsarSocketsParams()');
        }
        foreach (self::table() as $setting) {
            $getter = $setting['phpGetter'];
            $setter = $setting['phpSetter'];
            $owner = $setting['nested'] ? $sockets : $dto;
            if ($getter === null || $setter === null || $owner === null) {
                continue;
            }
            $converted = self::convert(Convert::get($owner, $getter), $setting['type'], $setter);
            if ($converted === null) {
                continue;
            }
            if ($setting['nested']) {
                $addresses[$setting['key']] = $converted;
            } else {
                $c[$setting['key']] = $converted;
            }
        }
        if ($addresses !== []) {
            $c['pulsarSocketsParams'] = $addresses;
        }
        return [$c, $dto->getLogger()];
    }

    /**
     * The configuration manage() would run with, as JSON, after libpulsar's checks (`pulsar_config_check`); the
     * FFI route's counterpart of the extension's `React\PublisherPulsar\Internal\checkSettings()`.
     */
    public static function checkSettings(PublisherPulsarDto $dto): string
    {
        [$config] = self::settings($dto);
        $json = json_encode($config, JSON_THROW_ON_ERROR | JSON_UNESCAPED_SLASHES | JSON_PRESERVE_ZERO_FRACTION);
        $ffi = Library::ffi();
        $out = $ffi->new('const char *');
        if ($out === null) {
            throw Failure::setting('FFI cannot allocate a string pointer');
        }
        // libpulsar's functions are declared at run time (Library::DECLARATIONS), where the analyser cannot see them.
        // @mago-expect analysis:non-existent-method,mixed-argument
        Library::check($ffi->pulsar_config_check($json, \FFI::addr($out)));
        return \FFI::string($out);
    }

    /**
     * libpulsar's settings table (`pulsar_settings_json()`), decoded once.
     *
     * @return list<array{key: string, nested: bool, type: string, phpGetter: ?string, phpSetter: ?string}>
     */
    public static function table(): array
    {
        // PHP's FFI returns a `const char *` result as a PHP string; libpulsar's functions are declared at run time
        // (Library::DECLARATIONS), where the analyser cannot see them.
        // @mago-expect analysis:non-existent-method,mixed-argument
        return self::$table ??= self::rows(
            json_decode(Library::ffi()->pulsar_settings_json(), true, 16, JSON_THROW_ON_ERROR)
        );
    }

    /**
     * The decoded settings table, checked row by row.
     *
     * @return list<array{key: string, nested: bool, type: string, phpGetter: ?string, phpSetter: ?string}>
     */
    private static function rows(mixed $rows): array
    {
        if (!is_array($rows)) {
            throw Failure::setting("libpulsar's settings table is not a JSON array");
        }
        return array_values(array_map(self::row(...), $rows));
    }

    /**
     * One row of the settings table, with the fields the mapping reads.
     *
     * @return array{key: string, nested: bool, type: string, phpGetter: ?string, phpSetter: ?string}
     */
    private static function row(mixed $row): array
    {
        if (!is_array($row) || !is_string($row['key'] ?? null) || !is_string($row['type'] ?? null)) {
            throw Failure::setting("libpulsar's settings table has a row without a key or a type");
        }
        return [
            'key' => $row['key'],
            'nested' => ($row['nested'] ?? null) === true,
            'type' => $row['type'],
            'phpGetter' => is_string($row['phpGetter'] ?? null) ? $row['phpGetter'] : null,
            'phpSetter' => is_string($row['phpSetter'] ?? null) ? $row['phpSetter'] : null,
        ];
    }

    /**
     * A DTO value as the JSON libpulsar reads for a setting of $type (a type name of the settings table); null for
     * null (the default).
     *
     * @return int|float|string|list<string>|null
     */
    private static function convert($value, string $type, string $setter)
    {
        switch ($type) {
            case 'integer':
                return Convert::integer($value, $setter);
            case 'seconds':
                $seconds = Convert::seconds($value, $setter);
                if ($seconds !== null && !is_finite($seconds)) {
                    throw Failure::setting("$setter needs a finite number of seconds, got $seconds");
                }
                return $seconds;
            case 'string-list':
                if ($value === null) {
                    return null;
                }
                if (!is_array($value)) {
                    // One string holds the entries between commas, as the flag and the environment variable do.
                    $text = Convert::text($value, $setter) ?? '';
                    return array_values(array_filter(array_map('trim', explode(',', $text)), static fn(string $item): bool => $item !== ''));
                }
                return array_map(static fn($item): string => Convert::text($item, $setter) ?? '', array_values($value));
            case 'php-serialized':
                if ($value === null) {
                    return null;
                }
                $object = Convert::expectInstance($value, PublisherToSubscribersDto::class, $setter);
                // The user's own exception (e.g. from __serialize) reaches the caller unchanged.
                $bytes = serialize($object);
                if (preg_match('//u', $bytes) !== 1) {
                    throw Failure::setting(
                        "$setter: the serialize() bytes of " . get_class($object)
                        . ' are not UTF-8, and libpulsar takes them in its JSON settings (use the pulsar extension for'
                        . ' binary properties, or encode them, e.g. with base64)'
                    );
                }
                return $bytes;
            default:
                return Convert::text($value, $setter);
        }
    }

    /** The address one of the daemon's sockets is bound to. */
    private static function endpoint($daemon, int $which): string
    {
        $ffi = Library::ffi();
        $out = $ffi->new('const char *');
        Library::check($ffi->pulsar_daemon_endpoint($daemon, $which, \FFI::addr($out)));
        return \FFI::string($out);
    }
}
