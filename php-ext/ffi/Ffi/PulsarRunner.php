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
     * The libpulsar JSON settings (keys as in `pulsard --config`) and the logger of a PublisherPulsarDto: every
     * getter is read, null keeps the default, values are converted as the extension converts them
     * (php-ext/src/settings.rs). Ranges and addresses are checked by libpulsar.
     *
     * @return array{0: array<string,mixed>, 1: mixed}
     */
    private static function settings(PublisherPulsarDto $dto): array
    {
        $c = [];
        $name = Convert::text($dto->getModuleName(), 'setModuleName()');
        if ($name !== null) {
            $c['moduleName'] = $name;
        }
        $command = Convert::text($dto->getReplyStackCommandName(), 'setReplyStackCommandName()');
        if ($command !== null) {
            $c['replyStackCommandName'] = $command;
        }
        foreach ([
            'pulsationIterationPeriod',
            'performerContainerActionMaxExecutionTime',
            'maxWaitReplyStackResult',
            'maxWaitAllSubscribersReadyBeforePublish',
        ] as $setting) {
            $seconds = Convert::seconds($dto->{'get' . ucfirst($setting)}(), 'set' . ucfirst($setting) . '()');
            if ($seconds !== null) {
                $c[$setting] = $seconds;
            }
        }
        $setter = 'setSubscribersPerIteration()';
        $n = Convert::integer($dto->getSubscribersPerIteration(), $setter);
        if ($n !== null) {
            if ($n < 0 || $n > 4_294_967_295) {
                throw Failure::setting("$setter needs a whole number from 1 to 4294967295, got $n");
            }
            $c['subscribersPerIteration'] = $n;
        }
        $setter = 'setTimerIterationsLimit()';
        $n = Convert::integer($dto->getTimerIterationsLimit(), $setter);
        if ($n !== null) {
            if ($n < 0) {
                throw Failure::setting("$setter needs 0 (no limit) or a positive number, got $n");
            }
            $c['timerIterationsLimit'] = $n;
        }
        $setter = 'setMaxAdmissionQueue()';
        $n = Convert::integer($dto->getMaxAdmissionQueue(), $setter);
        if ($n !== null) {
            if ($n < 0) {
                throw Failure::setting("$setter needs a positive number, got $n");
            }
            $c['maxAdmissionQueue'] = $n;
        }
        $published = $dto->getPublisherToSubscribersDto();
        if ($published !== null) {
            Convert::expectInstance($published, PublisherToSubscribersDto::class, 'setPublisherToSubscribersDto()');
            // The user's own exception (e.g. from __serialize) reaches the caller unchanged.
            $bytes = serialize($published);
            if (preg_match('//u', $bytes) !== 1) {
                throw Failure::setting(
                    'setPublisherToSubscribersDto(): the serialize() bytes of ' . get_class($published)
                    . ' are not UTF-8, and libpulsar takes them in its JSON settings (use the pulsar extension for'
                    . ' binary properties, or encode them, e.g. with base64)'
                );
            }
            $c['publisherToSubscribersDto'] = $bytes;
        }
        $sockets = $dto->getPulsarSocketsParams();
        if ($sockets !== null) {
            Convert::expectInstance($sockets, PulsarSocketsParamsDto::class, 'setPulsarSocketsParams()');
            $addresses = [];
            foreach ([
                'replyToReplyStackSocketAddress',
                'pushToReplyStackSocketAddress',
                'publishSocketAddress',
                'pullSocketAddress',
                'replyStackSocketAddress',
            ] as $setting) {
                $name = ucfirst($setting);
                $address = Convert::text($sockets->{"get$name"}(), "PulsarSocketsParamsDto::set$name()");
                if ($address !== null) {
                    $addresses[$setting] = $address;
                }
            }
            if ($addresses !== []) {
                $c['pulsarSocketsParams'] = $addresses;
            }
        }
        return [$c, $dto->getLogger()];
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
