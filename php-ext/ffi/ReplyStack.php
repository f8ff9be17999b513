<?php

declare(strict_types=1);

namespace React\PublisherPulsar;

use React\PublisherPulsar\Ffi\Log;

/**
 * The original's admission process, FFI route. The admission desk now runs inside `Pulsar::manage()`, so
 * `startCommunication()` only keeps an existing command (artisan, supervisor) alive and quiet until SIGTERM or
 * SIGINT, exactly as the pulsar extension's class of the same name does. Pure PHP: it needs neither libpulsar nor
 * FFI, only ext-pcntl to wait for the signals (without it the signals end the process the operating system's way).
 */
class ReplyStack
{
    public function __construct()
    {
    }

    /**
     * Logs once that it is not needed any more, then blocks until SIGTERM or SIGINT, like the original process
     * did, so that supervisors and artisan commands that start it keep working unchanged.
     */
    public function startCommunication(): void
    {
        (new Log(null, Log::TO_STDOUT, 'react:pulsar-reply-stack'))->info(
            'ReplyStack is not needed any more: the admission desk runs inside Pulsar::manage(). '
            . 'Waiting for SIGTERM or SIGINT.'
        );
        if (!function_exists('pcntl_sigprocmask') || !function_exists('pcntl_sigtimedwait')) {
            // Nothing to do but wait; the signal ends the process.
            while (true) {
                sleep(3600);
            }
        }
        // The signals are blocked and taken with sigtimedwait(), so no handler runs and whatever handling the
        // process had (PHP's default, a framework's handlers) is back untouched afterwards.
        $signals = [SIGTERM, SIGINT];
        pcntl_sigprocmask(SIG_BLOCK, $signals, $previous);
        try {
            do {
                $signal = pcntl_sigtimedwait($signals, $info, 3600);
            } while (!in_array($signal, $signals, true));
            // A second signal sent meanwhile asked for the same thing.
            while (in_array(pcntl_sigtimedwait($signals, $info, 0, 0), $signals, true)) {
            }
        } finally {
            pcntl_sigprocmask(SIG_SETMASK, $previous);
        }
    }

    /** Like the extension's ReplyStack, it cannot be cloned. */
    private function __clone()
    {
    }
}
