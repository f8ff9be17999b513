<?php

declare(strict_types=1);

namespace React\PublisherPulsar\Ffi;

use React\PublisherPulsar\Inventory\ActionResultingPushDto;
use React\PublisherPulsar\Inventory\ErrorSleepForPeriod;
use React\PublisherPulsar\Inventory\PerformerDto;
use React\PublisherPulsar\Inventory\PerformerSocketsParamsDto;
use React\PublisherPulsar\Inventory\PublisherToSubscribersDto;

/**
 * What a `React\PublisherPulsar\Performer` of the FFI route holds and does: its PerformerDto, libpulsar's
 * performer (three ZeroMQ sockets, a `struct PulsarPerformer *`), the settings it was made with and the last pulse.
 *
 * The public class keeps no properties of its own (so that reflection, var_dump() and the IDE stubs show the same
 * API as the extension's class): each Performer's client lives in a WeakMap and goes, with its native performer,
 * when the Performer goes.
 *
 * The PerformerDto is read at the first wait for permission and again after each setter, as the extension reads
 * it; libpulsar's performer is kept between calls and replaced only when the settings changed. The received pulse
 * becomes a PHP object only through PulseObject's class checks.
 *
 * @internal
 */
final class PerformerClient
{
    /** The original's default addresses (initDefaultPerformerSocketsParams). */
    private const DEFAULT_PUBLISH = 'tcp://127.0.0.1:6273';
    private const DEFAULT_PUSH = 'tcp://127.0.0.1:6274';
    private const DEFAULT_ADMISSION = 'tcp://127.0.0.1:6275';

    /** @var \WeakMap<object, self>|null */
    private static ?\WeakMap $clients = null;

    private ?PerformerDto $performerDto = null;
    /** @var \FFI\CData|null a `struct PulsarPerformer *` */
    private $handle = null;
    /** The JSON settings $handle was made with. */
    private ?string $handleConfig = null;
    /** The JSON settings last read from the PerformerDto; null until first needed and after a setter. */
    private ?string $prepared = null;
    /** Where libpulsar's records of this performer's calls go, read with $prepared. */
    private ?Log $log = null;
    private ?PublisherToSubscribersDto $received = null;
    /** True while a received pulse becomes a PHP object (the user's __wakeup may end the request). */
    private bool $instantiating = false;

    /** The client of $performer (made on first use). */
    public static function of(object $performer): self
    {
        self::$clients ??= new \WeakMap();
        return self::$clients[$performer] ??= new self();
    }

    public function setPerformerDto($performerDto): void
    {
        $this->performerDto = Convert::expectInstance($performerDto, PerformerDto::class, 'The PerformerDto');
        $this->prepared = null;
        $this->log = null;
    }

    public function performerDto(): ?PerformerDto
    {
        return $this->performerDto;
    }

    public function initDefaultPerformerSocketsParams(): void
    {
        $params = new PerformerSocketsParamsDto();
        $params->setPublisherPulsarSocketAddress(self::DEFAULT_PUBLISH);
        $params->setPushPulsarSocketAddress(self::DEFAULT_PUSH);
        $params->setRequestPulsarRsSocketAddress(self::DEFAULT_ADMISSION);
        $this->putSocketsParams($params);
    }

    public function setSocketsParams($socketsParams): void
    {
        Convert::expectInstance($socketsParams, PerformerSocketsParamsDto::class, 'setSocketsParams()');
        $this->putSocketsParams($socketsParams);
    }

    public function waitPermission(): void
    {
        $this->received = null;
        $this->connect();
        $ffi = Library::ffi();
        $pulse = $ffi->new('struct PulsarPulse *');
        $this->checked($ffi->pulsar_performer_wait_permission($this->handle, \FFI::addr($pulse)));
        // A fatal error in the user's code run by instantiate() (__wakeup, __unserialize) skips the catch below:
        // the shutdown function gives the permission back then, as the extension does before the request ends.
        $this->instantiating = true;
        self::giveBackAtShutdown();
        try {
            $object = PulseObject::instantiate($pulse);
        } catch (\Throwable $e) {
            // We hold a permission we cannot use: give it back so the daemon does not wait for us.
            $ffi->pulsar_performer_report_early_termination($this->handle, true);
            throw $e;
        } finally {
            $this->instantiating = false;
            $ffi->pulsar_pulse_free($pulse);
        }
        $this->received = $object;
    }

    /** Registers, once per request, the shutdown function that gives back a permission held by a failed pulse. */
    private static function giveBackAtShutdown(): void
    {
        static $registered = false;
        if ($registered) {
            return;
        }
        $registered = true;
        register_shutdown_function(static function (): void {
            foreach (self::$clients ?? [] as $client) {
                if ($client->instantiating && $client->handle !== null) {
                    $client->instantiating = false;
                    Library::ffi()->pulsar_performer_report_early_termination($client->handle, true);
                    // After a fatal error PHP runs no destructor, and a process that exits with the message still
                    // queued in ZeroMQ's I/O thread loses it: the next worker would wait for the result timeout.
                    // Freeing closes the sockets with their linger (at most 100 ms), so the message is delivered.
                    $client->release();
                }
            }
        });
    }

    public function received(): ?PublisherToSubscribersDto
    {
        return $this->received;
    }

    /**
     * Sends the DTO exactly as it holds its values (null stays null, false stays false, texts keep every byte), so
     * the daemon applies its own rule to it as to the extension's bytes: an error asking for neither slow-down nor
     * pause is logged and ignored.
     */
    public function reportResult($actionResultingPushDto): void
    {
        $dto = self::actionResult($actionResultingPushDto);
        $handle = $this->handleOrOutOfOrder();
        $ffi = Library::ffi();
        $result = $ffi->new('struct PulsarActionResult');
        $result->action_complete_correctly = self::optionalBool($dto['actionCompleteCorrectly']);
        $result->slow_down = self::optionalBool($dto['slowDown']);
        // The buffers must live until the call returns.
        $message = self::bytes($dto['errorMessage']);
        $reason = self::bytes($dto['errorReason']);
        if ($message !== null) {
            $result->error_message = $ffi->cast('const uint8_t *', $message);
            $result->error_message_len = strlen($dto['errorMessage']);
        }
        if ($reason !== null) {
            $result->error_reason = $ffi->cast('const uint8_t *', $reason);
            $result->error_reason_len = strlen($dto['errorReason']);
        }
        if ($dto['sleepForPeriod'] !== null) {
            $result->has_sleep_for_period = 1;
            $result->sleep_for_period_us = $dto['sleepForPeriod'];
        }
        $this->checked($ffi->pulsar_performer_report($handle, \FFI::addr($result)));
    }

    public function reportSuccess(): void
    {
        $this->checked(Library::ffi()->pulsar_performer_report_success($this->handleOrOutOfOrder()));
    }

    public function reportEarlyTermination(bool $standOnSubscription): void
    {
        $handle = $this->handleOrOutOfOrder();
        $this->checked(Library::ffi()->pulsar_performer_report_early_termination($handle, $standOnSubscription));
    }

    /** Closes the sockets; a permission still held is given back to the daemon first. */
    public function __destruct()
    {
        $this->release();
    }

    /**
     * Frees libpulsar's performer, if any: a permission still held is given back, and closing the sockets waits
     * at most their linger (100 ms) for what they still have to send.
     */
    private function release(): void
    {
        if ($this->handle !== null) {
            Library::ffi()->pulsar_performer_free($this->handle);
            $this->handle = null;
            $this->handleConfig = null;
        }
    }

    /** Makes sure a libpulsar performer with the current settings exists. */
    private function connect(): void
    {
        $this->prepared ??= self::settings($this->performerDto);
        $config = $this->prepared;
        if ($this->handle !== null && $this->handleConfig === $config) {
            return;
        }
        $ffi = Library::ffi();
        if ($this->handle !== null) {
            // Freeing gives back a permission it may hold.
            $this->release();
            $this->log()->forwardLibraryRecords();
        }
        Library::logToQueue();
        $handle = $ffi->new('struct PulsarPerformer *');
        $this->checked($ffi->pulsar_performer_new($config, \FFI::addr($handle)));
        $this->handle = $handle;
        $this->handleConfig = $config;
    }

    /**
     * Forwards the records libpulsar logged during the call that returned $status to this performer's logger (or
     * warnings to STDERR), then throws the call's failure, if any; a logger's exception wins, as in the extension.
     */
    private function checked(int $status): void
    {
        // The message of a failure is read first: it is valid until the next libpulsar call on this thread.
        $failure = $status === Library::STATUS_OK ? null : Library::failure($status);
        $log = $this->log();
        $log->resume();
        $log->forwardLibraryRecords();
        if ($failure !== null) {
            throw $failure;
        }
    }

    /**
     * Where this performer's records go: the PerformerDto's logger from info up, or else warnings and errors as
     * lines on STDERR (a worker's STDOUT is its own), on the channel of its moduleName, as in the extension.
     */
    private function log(): Log
    {
        if ($this->log === null) {
            $logger = null;
            $channel = 'performer';
            if ($this->performerDto !== null) {
                $logger = Convert::logger($this->performerDto->getLogger(), 'PerformerDto::setLogger()');
                $name = Convert::text($this->performerDto->getModuleName(), 'setModuleName()');
                $channel = $name ?? $channel;
            }
            $this->log = new Log($logger, Log::TO_STDERR, $channel, $logger === null ? Log::WARN : Log::INFO);
        }
        return $this->log;
    }

    /** A PulsarOptionalBool value. */
    private static function optionalBool(?bool $value): int
    {
        return match ($value) {
            null => Library::OPTIONAL_BOOL_UNSET,
            false => Library::OPTIONAL_BOOL_FALSE,
            true => Library::OPTIONAL_BOOL_TRUE,
        };
    }

    /**
     * A C copy of $text (any bytes), or null for null. One byte more than the text, so that an empty text still has
     * an address (a non-NULL pointer with a length of 0 is the empty string, NULL is null).
     */
    private static function bytes(?string $text): ?\FFI\CData
    {
        if ($text === null) {
            return null;
        }
        $buffer = Library::ffi()->new('uint8_t[' . (strlen($text) + 1) . ']');
        \FFI::memcpy($buffer, $text, strlen($text));
        return $buffer;
    }

    /** The libpulsar performer, or the extension's OUT_OF_ORDER failure before any connect. */
    private function handleOrOutOfOrder()
    {
        if ($this->handle === null) {
            throw Failure::exception(
                Failure::OUT_OF_ORDER,
                'no permission is held: call connectToPulsarAndWaitPermissionToAct() first'
            );
        }
        return $this->handle;
    }

    /**
     * The libpulsar JSON settings of a PerformerDto (or the defaults without one), with the daemon's CURVE public key
     * of its PerformerSocketsParamsDto, converted as the extension converts them (php-ext/src/settings.rs). Ranges
     * and the key's form are checked by libpulsar.
     */
    private static function settings(?PerformerDto $dto): string
    {
        $c = [];
        if ($dto !== null) {
            $name = Convert::text($dto->getModuleName(), 'setModuleName()');
            if ($name !== null) {
                $c['moduleName'] = $name;
            }
            $sockets = $dto->getSocketsParams();
            if ($sockets !== null) {
                Convert::expectInstance($sockets, PerformerSocketsParamsDto::class, 'PerformerDto::setSocketsParams()');
                foreach (['publisherPulsarSocketAddress', 'pushPulsarSocketAddress', 'requestPulsarRsSocketAddress']
                         as $setting) {
                    $name = ucfirst($setting);
                    $address = Convert::text($sockets->{"get$name"}(), "PerformerSocketsParamsDto::set$name()");
                    if ($address !== null) {
                        $c[$setting] = $address;
                    }
                }
                // New in the drop-in; null keeps the NULL mechanism. The key's form is libpulsar's to check.
                $key = Convert::text($sockets->getCurveServerKey(), 'PerformerSocketsParamsDto::setCurveServerKey()');
                if ($key !== null) {
                    $c['curveServerKey'] = $key;
                }
            }
            foreach (['admissionTimeout', 'pulseTimeout', 'sendTimeout'] as $setting) {
                $name = ucfirst($setting);
                $setter = "PerformerDto::set$name()";
                $seconds = Convert::seconds($dto->{"get$name"}(), $setter);
                if ($seconds !== null) {
                    // What Rust's Duration can hold; zero and the upper bound are libpulsar's to judge.
                    if (!is_finite($seconds) || $seconds < 0 || $seconds >= 18_446_744_073_709_551_616.0) {
                        throw Failure::setting("$setter needs a positive number of seconds, got " . self::number($seconds));
                    }
                    $c[$setting] = $seconds;
                }
            }
            Convert::logger($dto->getLogger(), 'PerformerDto::setLogger()');
        }
        return $c === [] ? '' : json_encode($c, JSON_THROW_ON_ERROR | JSON_UNESCAPED_SLASHES | JSON_PRESERVE_ZERO_FRACTION);
    }

    /**
     * An ActionResultingPushDto read through its getters, converted as the extension converts it.
     *
     * @return array{actionCompleteCorrectly: ?bool, errorMessage: ?string, errorReason: ?string,
     *     sleepForPeriod: ?int, slowDown: ?bool}
     */
    private static function actionResult($dto): array
    {
        Convert::expectInstance($dto, ActionResultingPushDto::class, 'pushActionResultInfo()');
        $sleep = $dto->getSleepForPeriod();
        $sleepForPeriod = null;
        if ($sleep !== null) {
            Convert::expectInstance($sleep, ErrorSleepForPeriod::class, 'ActionResultingPushDto::setSleepForPeriod()');
            $setter = 'ErrorSleepForPeriod::setSleepPeriod()';
            $micros = Convert::integer($sleep->getSleepPeriod(), $setter);
            if ($micros !== null && $micros < 0) {
                throw Failure::setting("$setter needs a non-negative number of microseconds, got $micros");
            }
            $sleepForPeriod = $micros;
        }
        return [
            'actionCompleteCorrectly' => Convert::flag($dto->isActionCompleteCorrectly()),
            'errorMessage' => Convert::bytes($dto->getErrorMessage(), 'ActionResultingPushDto::setErrorMessage()'),
            'errorReason' => Convert::bytes($dto->getErrorReason(), 'ActionResultingPushDto::setErrorReason()'),
            'sleepForPeriod' => $sleepForPeriod,
            'slowDown' => Convert::flag($dto->isSlowDown()),
        ];
    }

    /** Rust's `{}` of an f64 for the few values that reach a message: integral values without ".0". */
    private static function number(float $value): string
    {
        if (is_nan($value)) {
            return 'NaN';
        }
        if (is_infinite($value)) {
            return $value > 0 ? 'inf' : '-inf';
        }
        return floor($value) === $value ? sprintf('%.0f', $value) : (string) $value;
    }

    private function putSocketsParams(PerformerSocketsParamsDto $params): void
    {
        if ($this->performerDto === null) {
            $this->performerDto = new PerformerDto();
        }
        $this->performerDto->setSocketsParams($params);
        $this->prepared = null;
        $this->log = null;
    }
}
