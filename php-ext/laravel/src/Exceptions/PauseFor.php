<?php

declare(strict_types=1);

namespace PublisherPulsar\Laravel\Exceptions;

/**
 * Thrown by a job run through WaitForPermission when the remote service wants no requests for a while (a daily
 * quota, a Retry-After): the daemon pauses every worker for $seconds and the job is released back to the queue,
 * available again after those seconds.
 */
class PauseFor extends \RuntimeException
{
    public function __construct(public float $seconds, string $message = '', string $reason = 'PAUSE', ?\Throwable $previous = null)
    {
        if (!is_finite($seconds) || $seconds <= 0) {
            throw new \InvalidArgumentException("PauseFor needs a positive number of seconds (got $seconds)");
        }
        parent::__construct($message !== '' ? $message : sprintf('pause for %g s', $seconds), 0, $previous);
        $this->reason = $reason;
    }

    /** @var string the error reason reported to the daemon */
    public string $reason;
}
