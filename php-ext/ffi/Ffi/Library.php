<?php

declare(strict_types=1);

namespace React\PublisherPulsar\Ffi;

use React\PublisherPulsar\Inventory\Exceptions\PublisherPulsarException;

/**
 * Loads libpulsar (the C ABI, include/pulsar.h) through PHP's FFI, once per process.
 *
 * This is the FFI route's only contact with the native library: the declarations below are copied from
 * include/pulsar.h (tests/phpunit-ffi checks that every one of them is there, word for word), because PHP's C
 * parser rejects the header as cbindgen writes it (#include, #if around the enum's underlying type). Where the
 * library is: PULSAR_LIB (a path to libpulsar.so), else the usual install directories, else a build in this
 * repository (target/release, then target/debug).
 *
 * It also declares the few C library functions the daemon needs to run libpulsar on a thread of its own
 * (see DaemonThread). It must never decide anything about the protocol: it loads, and words load failures.
 *
 * @internal not part of the public API; used by the FFI classes Pulsar, Performer and ReplyStack
 */
final class Library
{
    /** Statuses of include/pulsar.h (`enum PulsarStatus`); checked against the header by tests/phpunit-ffi. */
    public const STATUS_OK = 0;
    public const STATUS_NULL_POINTER = 100;
    public const STATUS_INVALID_UTF8 = 101;
    public const STATUS_INVALID_ARGUMENT = 102;
    public const STATUS_INVALID_JSON = 103;
    public const STATUS_TIMEOUT = 200;
    public const STATUS_ADMISSION_REFUSED = 201;
    public const STATUS_ACTION_NOT_ALLOWED = 202;
    public const STATUS_OUT_OF_ORDER = 203;
    public const STATUS_PROTOCOL_ERROR = 204;
    public const STATUS_ZMQ_ERROR = 205;
    public const STATUS_BIND_ERROR = 206;
    public const STATUS_CONNECT_ERROR = 207;
    public const STATUS_IO_ERROR = 208;
    public const STATUS_PANIC = 900;

    /** `enum PulsarEndpoint` of include/pulsar.h. */
    public const ENDPOINT_REPLY_STACK = 0;
    public const ENDPOINT_PUBLISH = 1;
    public const ENDPOINT_PULL = 2;

    /** `enum PulsarOptionalBool` of include/pulsar.h (PulsarActionResult's null / false / true). */
    public const OPTIONAL_BOOL_UNSET = 0;
    public const OPTIONAL_BOOL_FALSE = 1;
    public const OPTIONAL_BOOL_TRUE = 2;

    /** How many of libpulsar's log records wait for PHP at most (the oldest are dropped, and counted, beyond). */
    public const LOG_QUEUE_CAPACITY = 4096;

    /**
     * The declarations of include/pulsar.h that PHP uses, in the header's own words (the enums become their
     * C11 typedefs, as the header itself declares them for C before C23).
     */
    public const DECLARATIONS = <<<'C'
typedef uint32_t PulsarStatus;
typedef uint32_t PulsarEndpoint;
typedef uint32_t PulsarOptionalBool;
typedef struct PulsarDaemon PulsarDaemon;
typedef struct PulsarPerformer PulsarPerformer;
typedef struct PulsarPulse PulsarPulse;
typedef struct PulsarDaemonStats {
    uint32_t n;
    uint32_t max_receivers;
    uint64_t pause_us;
    uint64_t pulses;
    uint64_t grants;
    uint64_t errors;
    uint64_t results;
    uint64_t late_results;
    uint64_t iterations;
    uint64_t queued;
    uint64_t refused;
    uint64_t admitted;
    uint64_t lost_admissions;
    uint64_t dropped_messages;
    uint32_t configured_n;
    uint64_t successes;
    uint64_t slow_down_results;
    uint64_t sleep_for_period_results;
    uint64_t ignored_errors;
    uint64_t paused_until_unix_us;
    uint64_t connected_peers;
    uint64_t admission_waits;
    uint64_t admission_wait_sum_us;
    uint64_t admission_wait_p50_us;
    uint64_t admission_wait_p99_us;
    bool running;
    uint64_t lost_receivers;
    uint64_t open_connections;
    uint64_t max_connections;
    uint64_t refused_not_allowed;
    uint64_t refused_connection_limit;
} PulsarDaemonStats;
typedef struct PulsarActionResult {
    uint32_t action_complete_correctly;
    uint32_t slow_down;
    const uint8_t *error_message;
    size_t error_message_len;
    const uint8_t *error_reason;
    size_t error_reason_len;
    uint32_t has_sleep_for_period;
    uint64_t sleep_for_period_us;
} PulsarActionResult;
const char *pulsar_version(void);
PulsarStatus pulsar_last_error_code(void);
const char *pulsar_last_error_message(void);
PulsarStatus pulsar_log_to_stderr(const char *filter);
PulsarStatus pulsar_log_to_queue(const char *filter, size_t capacity);
PulsarStatus pulsar_log_next(const char **out);
PulsarStatus pulsar_daemon_new(const char *config_json, struct PulsarDaemon **out);
PulsarStatus pulsar_daemon_run(struct PulsarDaemon *daemon);
PulsarStatus pulsar_daemon_stop(const struct PulsarDaemon *daemon);
PulsarStatus pulsar_daemon_stats(const struct PulsarDaemon *daemon, struct PulsarDaemonStats *out);
PulsarStatus pulsar_daemon_endpoint(const struct PulsarDaemon *daemon, uint32_t which, const char **out);
PulsarStatus pulsar_daemon_performer_config(const struct PulsarDaemon *daemon, const char **out);
void pulsar_daemon_free(struct PulsarDaemon *daemon);
PulsarStatus pulsar_performer_new(const char *config_json, struct PulsarPerformer **out);
void pulsar_performer_free(struct PulsarPerformer *performer);
PulsarStatus pulsar_performer_wait_permission(struct PulsarPerformer *performer, struct PulsarPulse **out);
PulsarStatus pulsar_performer_report(struct PulsarPerformer *performer, const struct PulsarActionResult *result);
PulsarStatus pulsar_performer_report_success(struct PulsarPerformer *performer);
PulsarStatus pulsar_performer_report_slow_down(struct PulsarPerformer *performer, const char *message, const char *reason);
PulsarStatus pulsar_performer_report_pause_for(struct PulsarPerformer *performer, uint64_t micros, const char *message, const char *reason);
PulsarStatus pulsar_performer_report_early_termination(struct PulsarPerformer *performer, bool stand_on_subscription);
PulsarStatus pulsar_performer_holds_permission(const struct PulsarPerformer *performer, bool *out);
PulsarStatus pulsar_pulse_class_name(const struct PulsarPulse *pulse, const char **out);
PulsarStatus pulsar_pulse_properties_json(const struct PulsarPulse *pulse, const char **out);
PulsarStatus pulsar_pulse_bytes(const struct PulsarPulse *pulse, const uint8_t **out_data, size_t *out_len);
void pulsar_pulse_free(struct PulsarPulse *pulse);
const char *pulsar_status_name(uint32_t status);
const char *pulsar_abi_description(void);
const char *pulsar_settings_json(void);
PulsarStatus pulsar_config_check(const char *config_json, const char **out);
C;

    /** Where libpulsar is looked for when PULSAR_LIB is not set, in this order (the repository's builds last). */
    private const INSTALL_DIRECTORIES = ['/usr/local/lib', '/usr/lib', '/usr/local/lib64', '/usr/lib64'];

    /** The FFI scope of preloadHeader(), for PHPs that allow FFI only in preloaded code (FPM's default). */
    public const SCOPE = 'PUBLISHER_PULSAR';

    private static ?\FFI $ffi = null;
    private static ?string $source = null;

    /**
     * The loaded library; the first call loads it (a PublisherPulsarException says why it cannot be): from the
     * scope of an ffi.preload header (preloadHeader()), if php.ini names one, else with FFI::cdef().
     */
    public static function ffi(): \FFI
    {
        if (self::$ffi === null) {
            $scoped = self::preloaded();
            if ($scoped !== null) {
                self::$ffi = $scoped;
                self::$source = 'scope ' . self::SCOPE;
            } else {
                $path = self::locate();
                self::$ffi = self::open($path);
                self::$source = $path;
            }
        }
        return self::$ffi;
    }

    /** What was loaded: the library's path, or "scope PUBLISHER_PULSAR"; null before the first use. */
    public static function source(): ?string
    {
        return self::$source;
    }

    /**
     * The text of a header for PHP's `ffi.preload` setting, which declares libpulsar under the scope Library::SCOPE
     * when PHP starts: the way to use this package where ffi.enable=preload (PHP's default) forbids FFI::cdef(),
     * i.e. outside the command line (PHP-FPM). Write it once and name it in php.ini:
     *
     *     php -r 'require "vendor/autoload.php";
     *             file_put_contents("/etc/php/pulsar-ffi.h", React\PublisherPulsar\Ffi\Library::preloadHeader());'
     *     ffi.preload=/etc/php/pulsar-ffi.h
     *
     * @param string|null $library libpulsar's path; default: where locate() finds it now
     */
    public static function preloadHeader(?string $library = null): string
    {
        $library ??= self::locate();
        return '#define FFI_SCOPE "' . self::SCOPE . "\"\n"
            . '#define FFI_LIB "' . addcslashes($library, "\"\\") . "\"\n"
            . self::DECLARATIONS . "\n";
    }

    /** The scope an ffi.preload header declared, or null where there is none. */
    private static function preloaded(): ?\FFI
    {
        if (!extension_loaded('ffi') || (string) ini_get('ffi.preload') === '') {
            return null;
        }
        try {
            return \FFI::scope(self::SCOPE);
        } catch (\FFI\Exception $e) {
            return null;
        }
    }

    /**
     * The library file to load: PULSAR_LIB, else the first libpulsar.so found in the install directories (with
     * the multiarch one, e.g. /usr/lib/x86_64-linux-gnu), else this repository's target/release or target/debug.
     */
    public static function locate(): string
    {
        $explicit = getenv('PULSAR_LIB');
        if ($explicit !== false && $explicit !== '') {
            if (!is_file($explicit)) {
                throw Failure::exception(
                    Failure::INVALID_SETTING,
                    "PULSAR_LIB names $explicit, which is not a file; point it at libpulsar.so"
                );
            }
            return $explicit;
        }
        $candidates = [];
        foreach (self::INSTALL_DIRECTORIES as $directory) {
            $candidates[] = "$directory/libpulsar.so";
        }
        $machine = php_uname('m');
        $multiarch = ['x86_64' => 'x86_64-linux-gnu', 'aarch64' => 'aarch64-linux-gnu'][$machine] ?? null;
        if ($multiarch !== null) {
            $candidates[] = "/usr/lib/$multiarch/libpulsar.so";
            $candidates[] = "/usr/local/lib/$multiarch/libpulsar.so";
        }
        // php-ext/ffi/Ffi/ -> the repository (or the composer package) root.
        $root = dirname(__DIR__, 3);
        $candidates[] = "$root/target/release/libpulsar.so";
        $candidates[] = "$root/target/debug/libpulsar.so";
        foreach ($candidates as $candidate) {
            if (is_file($candidate)) {
                return $candidate;
            }
        }
        throw Failure::exception(
            Failure::INVALID_SETTING,
            'libpulsar.so was not found (looked in ' . implode(', ', $candidates) . '); build it with '
            . '`cargo build --release -p pulsar-capi` and set PULSAR_LIB to its path, or install it in /usr/local/lib'
        );
    }

    private static function open(string $path): \FFI
    {
        if (!extension_loaded('ffi')) {
            throw Failure::exception(
                Failure::INVALID_SETTING,
                "PHP's FFI extension (ext-ffi) is not loaded: install and enable it, or use the pulsar extension"
            );
        }
        $enable = strtolower((string) ini_get('ffi.enable'));
        $allowed = in_array($enable, ['1', 'on', 'true', 'yes'], true)
            || ($enable === 'preload' && in_array(PHP_SAPI, ['cli', 'phpdbg', 'embed'], true));
        if (!$allowed) {
            throw Failure::exception(
                Failure::INVALID_SETTING,
                "ffi.enable is '$enable', which forbids FFI::cdef() under the " . PHP_SAPI . ' SAPI: set ffi.enable=1,'
                . ' or keep ffi.enable=preload and name the header of React\\PublisherPulsar\\Ffi\\Library::preloadHeader()'
                . ' in ffi.preload, or use the pulsar extension'
            );
        }
        try {
            return \FFI::cdef(self::DECLARATIONS, $path);
        } catch (\FFI\Exception $e) {
            throw Failure::exception(
                Failure::INVALID_SETTING,
                "cannot load $path through FFI: " . $e->getMessage()
                . ' (is it libpulsar.so, built for this machine, with its libzmq installed?)'
            );
        }
    }

    /**
     * The exception for the failed call that returned $status, with the library's message for it (read at once:
     * it is valid until the next call on this thread).
     */
    public static function failure(int $status): PublisherPulsarException
    {
        $message = (string) self::ffi()->pulsar_last_error_message();
        return Failure::fromStatus($status, $message);
    }

    /** Throws the failure of $status unless it is PULSAR_STATUS_OK. */
    public static function check(int $status): void
    {
        if ($status !== self::STATUS_OK) {
            throw self::failure($status);
        }
    }

    /**
     * Keeps libpulsar's own log records (the daemon's iterations, warnings) in its in-process queue, once per
     * process, for Log::forwardLibraryRecords() to hand to the PSR-3 logger or STDOUT/STDERR as the extension
     * does. Everything from `info` up is kept, whatever RUST_LOG says, as the extension delivers it; each Log
     * then applies its own least level. If something else in this process chose libpulsar's logging already
     * (`pulsar_log_to_stderr`), that choice is kept and no record reaches PHP.
     */
    public static function logToQueue(): void
    {
        static $done = false;
        if ($done) {
            return;
        }
        $done = true;
        // OUT_OF_ORDER means libpulsar's logging was set up already in this process: keep that one.
        self::ffi()->pulsar_log_to_queue('info', self::LOG_QUEUE_CAPACITY);
    }

    /**
     * Takes the oldest queued log record of libpulsar (see logToQueue()), without waiting: `level` (ERROR, WARN,
     * INFO, DEBUG, TRACE), `message` and `fields` (in the record's order); null when there is none.
     *
     * @return array{level: string, message: string, fields: array<string, int|float|bool|string|null>}|null
     */
    public static function nextLogRecord(): ?array
    {
        $ffi = self::ffi();
        $out = $ffi->new('const char *');
        while (true) {
            if ($ffi->pulsar_log_next(\FFI::addr($out)) !== self::STATUS_OK || \FFI::isNull($out)) {
                return null;
            }
            $record = json_decode(\FFI::string($out), true);
            if (is_array($record) && is_string($record['level'] ?? null) && is_string($record['message'] ?? null)) {
                $fields = is_array($record['fields'] ?? null) ? $record['fields'] : [];
                return ['level' => $record['level'], 'message' => $record['message'], 'fields' => $fields];
            }
            // Not a record (cannot happen with a matching libpulsar): skip it rather than stop the daemon.
        }
    }
}
