<?php

declare(strict_types=1);

namespace PublisherPulsar\Laravel\Exceptions;

/**
 * Thrown by a job run through WaitForPermission when the remote service said "too fast": the daemon is told to
 * slow down (fewer permissions per pulse) and the job is released back to the queue.
 */
class SlowDown extends \RuntimeException
{
    public function __construct(string $message = 'rate limit exceeded', string $reason = 'SLOW_DOWN', ?\Throwable $previous = null)
    {
        parent::__construct($message, 0, $previous);
        $this->reason = $reason;
    }

    /** @var string the error reason reported to the daemon */
    public string $reason;
}
