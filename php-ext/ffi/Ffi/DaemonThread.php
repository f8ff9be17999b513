<?php

declare(strict_types=1);

namespace React\PublisherPulsar\Ffi;

/**
 * Runs libpulsar's daemon (`pulsar_daemon_run`, which blocks until `pulsar_daemon_stop`) so that SIGTERM and
 * SIGINT still end it cleanly, although PHP cannot run a signal handler while an FFI call blocks.
 *
 * How: SIGTERM and SIGINT are blocked in the PHP thread before the daemon is created, so that every thread made
 * from then on inherits the block; `pulsar_daemon_run` runs on a thread of its own (made with the C library's
 * pthread_create, called through FFI); the PHP thread waits for the two signals with sigtimedwait() and, when one
 * comes, calls `pulsar_daemon_stop` (documented as safe from another thread while run blocks), then joins the
 * daemon's thread. Afterwards the signal mask is put back exactly as it was, so the process's own handling of the
 * signals (PHP's default, or a framework's pcntl handlers) applies again. No PHP code ever runs on the daemon's
 * thread, and no handler runs inside a signal.
 *
 * pthread_create wants a `void *(*)(void *)`; `PulsarStatus pulsar_daemon_run(PulsarDaemon *)` has one pointer
 * argument and returns a 32-bit status in the return register, which is the same call on the 64-bit Linux ABIs
 * this package supports (x86-64, aarch64): the status is the low 32 bits of the thread's result.
 *
 * Where the C library lacks what this needs (not glibc or musl), `isAvailable()` is false and the daemon runs on
 * the PHP thread instead: then SIGTERM and SIGINT end the process the operating system's way, without a clean
 * stop.
 *
 * @internal
 */
final class DaemonThread
{
    /** Linux's numbers (the same on x86-64 and aarch64); pcntl's constants are used when pcntl is loaded. */
    private const SIGINT = 2;
    private const SIGTERM = 15;
    private const SIG_BLOCK = 0;
    private const SIG_SETMASK = 2;
    private const EBUSY = 16;

    /**
     * How long one wait for a signal lasts before the daemon's thread is checked again and its log records are
     * forwarded, in nanoseconds: short enough that records reach the logger about as soon as the extension
     * delivers them, long enough to cost nothing measurable.
     */
    private const WAIT_NS = 25_000_000;

    private const LIBC = <<<'C'
typedef unsigned long pthread_t;
typedef struct { unsigned long bits[16]; } sigset_t;
struct timespec { long tv_sec; long tv_nsec; };
int pthread_create(pthread_t *thread, const void *attr, void *start_routine, void *arg);
int pthread_join(pthread_t thread, uintptr_t *retval);
int pthread_tryjoin_np(pthread_t thread, uintptr_t *retval);
int pthread_sigmask(int how, const sigset_t *set, sigset_t *oldset);
int sigemptyset(sigset_t *set);
int sigaddset(sigset_t *set, int signum);
int sigtimedwait(const sigset_t *set, void *info, const struct timespec *timeout);
C;

    private static ?\FFI $libc = null;
    private static ?bool $available = null;

    private \FFI $ffi;
    /** @var \FFI\CData sigset_t with SIGTERM and SIGINT */
    private $signals;
    /** @var \FFI\CData|null the mask before block() */
    private $previousMask = null;
    private ?int $received = null;

    /** Whether the C library offers what a daemon thread needs (glibc and musl do). */
    public static function isAvailable(): bool
    {
        if (self::$available === null) {
            try {
                self::$libc = \FFI::cdef(self::LIBC);
                // Resolving a symbol that does not exist throws here rather than at the first call.
                foreach (['pthread_create', 'pthread_join', 'pthread_tryjoin_np', 'pthread_sigmask', 'sigemptyset',
                             'sigaddset', 'sigtimedwait'] as $function) {
                    self::$libc->$function;
                }
                self::$available = true;
            } catch (\FFI\Exception $e) {
                self::$available = false;
            }
        }
        return self::$available;
    }

    public function __construct()
    {
        $this->ffi = Library::ffi();
        $libc = self::$libc;
        $this->signals = $libc->new('sigset_t');
        $libc->sigemptyset(\FFI::addr($this->signals));
        $libc->sigaddset(\FFI::addr($this->signals), self::sigterm());
        $libc->sigaddset(\FFI::addr($this->signals), self::sigint());
    }

    /** Blocks SIGTERM and SIGINT in this thread (and so in every thread made from now on). */
    public function block(): void
    {
        $this->previousMask = self::$libc->new('sigset_t');
        self::$libc->pthread_sigmask(self::SIG_BLOCK, \FFI::addr($this->signals), \FFI::addr($this->previousMask));
    }

    /**
     * Puts back the mask block() found. A SIGTERM/SIGINT still pending (the daemon never ran, e.g. a setting was
     * refused) is then delivered as it would have been without manage().
     */
    public function unblock(): void
    {
        if ($this->previousMask === null) {
            return;
        }
        self::$libc->pthread_sigmask(self::SIG_SETMASK, \FFI::addr($this->previousMask), null);
        $this->previousMask = null;
    }

    /**
     * Runs the daemon on its own thread until it ends (timerIterationsLimit, or stopped on SIGTERM/SIGINT); returns
     * its status. Call between block() and unblock(). Between two waits for a signal, $meanwhile runs on this
     * (PHP's) thread (it forwards the daemon's log records); if it throws, the daemon is stopped, not called again,
     * and its exception is thrown once the daemon's thread has ended.
     *
     * @param \FFI\CData $daemon a `struct PulsarDaemon *` from pulsar_daemon_new
     * @param callable(): void $meanwhile
     */
    public function run($daemon, callable $meanwhile): int
    {
        $libc = self::$libc;
        $thread = $libc->new('pthread_t');
        $start = \FFI::cast('void *', $this->ffi->pulsar_daemon_run);
        $argument = \FFI::cast('void *', $daemon);
        $error = $libc->pthread_create(\FFI::addr($thread), null, $start, $argument);
        if ($error !== 0) {
            throw Failure::exception(Failure::INTERNAL_ERROR, "cannot start the daemon's thread (pthread_create: error $error)");
        }
        // The thread's `void *` result, read as the integer it holds (a `void **` and a `uintptr_t *` are passed
        // alike), so that a status of 0 is not taken for a pointer to follow.
        $result = $libc->new('uintptr_t');
        $stopping = false;
        $thrown = null;
        while (true) {
            $signal = $this->waitForSignal(self::WAIT_NS);
            if ($signal !== null) {
                $this->received ??= $signal;
            }
            if ($thrown === null) {
                try {
                    $meanwhile();
                } catch (\Throwable $e) {
                    $thrown = $e;
                }
            }
            if (($signal !== null || $thrown !== null) && !$stopping) {
                $this->ffi->pulsar_daemon_stop($daemon);
                $stopping = true;
            }
            $joined = $libc->pthread_tryjoin_np($thread->cdata, \FFI::addr($result));
            if ($joined === 0) {
                break;
            }
            if ($joined !== self::EBUSY) {
                // Cannot happen for a joinable thread of ours; wait for it the plain way rather than lose it.
                $libc->pthread_join($thread->cdata, \FFI::addr($result));
                break;
            }
        }
        // A signal sent while the daemon was ending asked for what happened anyway: take it, so that it does not
        // end the process once the mask is put back.
        while (($signal = $this->waitForSignal(0)) !== null) {
            $this->received ??= $signal;
        }
        if ($thrown !== null) {
            throw $thrown;
        }
        return $result->cdata & 0xFFFF_FFFF;
    }

    /** The first SIGTERM/SIGINT taken while the daemon ran, or null. */
    public function received(): ?int
    {
        return $this->received;
    }

    /** "SIGTERM" / "SIGINT", for the log line. */
    public static function name(int $signal): string
    {
        return match ($signal) {
            self::sigterm() => 'SIGTERM',
            self::sigint() => 'SIGINT',
            default => 'a signal',
        };
    }

    /** A pending SIGTERM/SIGINT, waiting at most $nanoseconds for one; null if none came. */
    private function waitForSignal(int $nanoseconds): ?int
    {
        $timeout = self::$libc->new('struct timespec');
        $timeout->tv_sec = intdiv($nanoseconds, 1_000_000_000);
        $timeout->tv_nsec = $nanoseconds % 1_000_000_000;
        $signal = self::$libc->sigtimedwait(\FFI::addr($this->signals), null, \FFI::addr($timeout));
        // -1: the time ran out (EAGAIN) or another signal interrupted the wait (EINTR); the caller waits again.
        return $signal > 0 ? $signal : null;
    }

    private static function sigterm(): int
    {
        return defined('SIGTERM') ? SIGTERM : self::SIGTERM;
    }

    private static function sigint(): int
    {
        return defined('SIGINT') ? SIGINT : self::SIGINT;
    }
}
