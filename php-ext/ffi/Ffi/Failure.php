<?php

declare(strict_types=1);

namespace React\PublisherPulsar\Ffi;

use React\PublisherPulsar\Inventory\Exceptions\PublisherPulsarException;

/**
 * Every failure of the FFI classes becomes one PublisherPulsarException, worded exactly as the pulsar extension
 * words it (php-ext/src/failure.rs): the message constant, ": ", the details; the code is the `*_CODE` constant.
 *
 * libpulsar's statuses are mapped here, once. A setting the library names in camelCase is renamed after the PHP
 * setter that sets it, as the extension does. This class must never decide anything about the protocol; it only
 * words failures.
 *
 * @internal
 */
final class Failure
{
    /** The kinds, by the name of their message constant in PublisherPulsarException. */
    public const INVALID_SETTING = 'INVALID_SETTING';
    public const DAEMON_UNREACHABLE = 'DAEMON_UNREACHABLE';
    public const ADMISSION_REFUSED = 'ADMISSION_REFUSED';
    public const ACTION_NOT_ALLOWED = 'ACTION_NOT_ALLOWED';
    public const OUT_OF_ORDER = 'OUT_OF_ORDER';
    public const SOCKET_ERROR = 'SOCKET_ERROR';
    public const PROTOCOL_ERROR = 'PROTOCOL_ERROR';
    public const PULSE_CLASS_NOT_ALLOWED = 'PULSE_CLASS_NOT_ALLOWED';
    public const INTERNAL_ERROR = 'INTERNAL_ERROR';

    /** The exception of $kind: "<constant's text>: $detail", code `<kind>_CODE`. */
    public static function exception(string $kind, string $detail): PublisherPulsarException
    {
        $class = PublisherPulsarException::class;
        return new PublisherPulsarException(
            constant("$class::$kind") . ': ' . $detail,
            constant("$class::{$kind}_CODE")
        );
    }

    /** An INVALID_SETTING exception. */
    public static function setting(string $detail): PublisherPulsarException
    {
        return self::exception(self::INVALID_SETTING, $detail);
    }

    /** The exception for a libpulsar status and its last error message. */
    public static function fromStatus(int $status, string $message): PublisherPulsarException
    {
        switch ($status) {
            case Library::STATUS_INVALID_ARGUMENT:
                // The library says "invalid setting <camelCase name>: <what>"; the extension names the setter.
                if (preg_match('/^invalid setting ([^:]+): (.*)$/s', $message, $m) === 1) {
                    return self::setting(self::setterOf($m[1]) . ' ' . $m[2]);
                }
                return self::setting($message);
            case Library::STATUS_INVALID_UTF8:
            case Library::STATUS_INVALID_JSON:
                return self::setting($message);
            case Library::STATUS_TIMEOUT:
                return self::exception(self::DAEMON_UNREACHABLE, $message);
            case Library::STATUS_ADMISSION_REFUSED:
                return self::exception(self::ADMISSION_REFUSED, $message);
            case Library::STATUS_ACTION_NOT_ALLOWED:
                return self::exception(self::ACTION_NOT_ALLOWED, $message);
            case Library::STATUS_OUT_OF_ORDER:
                return self::exception(self::OUT_OF_ORDER, $message);
            case Library::STATUS_PROTOCOL_ERROR:
                return self::exception(self::PROTOCOL_ERROR, $message);
            case Library::STATUS_ZMQ_ERROR:
            case Library::STATUS_BIND_ERROR:
            case Library::STATUS_CONNECT_ERROR:
                return self::exception(self::SOCKET_ERROR, $message);
            default:
                // NULL_POINTER (a bug here), IO_ERROR, PANIC (a bug in libpulsar), or a status added later.
                return self::exception(
                    self::INTERNAL_ERROR,
                    ($message === '' ? "libpulsar returned status $status" : $message)
                    . ' (this is a bug in the Publisher Pulsar FFI package or libpulsar; please report it)'
                );
        }
    }

    /**
     * The PHP setter that sets a setting the library names in camelCase (a daemon setting's from the settings
     * table): `subscribersPerIteration` →
     * `setSubscribersPerIteration()`, `publishSocketAddress` (also `pulsarSocketsParams.publishSocketAddress`) →
     * `PulsarSocketsParamsDto::setPublishSocketAddress()`; a name that is not one word is quoted as it is.
     */
    public static function setterOf(string $setting): string
    {
        $dot = strrpos($setting, '.');
        $name = $dot === false ? $setting : substr($setting, $dot + 1);
        // The daemon's settings name their setter in libpulsar's settings table; the Performer's are named here.
        foreach (PulsarRunner::table() as $row) {
            if ($row['key'] === $name && $row['phpSetter'] !== null) {
                return $row['phpSetter'];
            }
        }
        switch ($name) {
            case 'publisherPulsarSocketAddress':
            case 'pushPulsarSocketAddress':
            case 'requestPulsarRsSocketAddress':
            case 'curveServerKey':
                $class = 'PerformerSocketsParamsDto::';
                break;
            case 'admissionTimeout':
            case 'pulseTimeout':
            case 'sendTimeout':
                $class = 'PerformerDto::';
                break;
            default:
                $class = '';
        }
        if (preg_match('/^[a-z][A-Za-z0-9]*$/', $name) === 1) {
            return $class . 'set' . ucfirst($name) . '()';
        }
        return "'$setting'";
    }
}
