<?php

declare(strict_types=1);

namespace App\Jobs;

use Illuminate\Bus\Queueable;
use Illuminate\Contracts\Queue\ShouldQueue;
use Illuminate\Foundation\Bus\Dispatchable;
use Illuminate\Queue\InteractsWithQueue;
use PublisherPulsar\Laravel\Exceptions\SlowDown;
use PublisherPulsar\Laravel\Middleware\WaitForPermission;

/**
 * The queue test's job: appends "START <id> <attempt> <microtime> <pid>" to the record file when it runs (after
 * WaitForPermission let it), then either throws SlowDown (on the first attempt of a job dispatched with
 * $slowDownFirst) or appends "DONE <id> <attempt> <microtime>".
 */
class RecordedJob implements ShouldQueue
{
    use Dispatchable, InteractsWithQueue, Queueable;

    public int $tries = 5;

    public function __construct(public int $id, public bool $slowDownFirst, public string $recordFile)
    {
    }

    /** @return array<int,object> */
    public function middleware(): array
    {
        return [new WaitForPermission()];
    }

    public function handle(): void
    {
        $attempt = $this->attempts();
        $this->record(sprintf('START %d %d %.6f %d', $this->id, $attempt, microtime(true), getmypid()));
        usleep(20_000);
        if ($this->slowDownFirst && $attempt === 1) {
            $this->record(sprintf('SLOWDOWN %d %d %.6f', $this->id, $attempt, microtime(true)));
            throw new SlowDown("job {$this->id}: the remote service said 429", 'TEST_RATE_LIMIT');
        }
        $this->record(sprintf('DONE %d %d %.6f', $this->id, $attempt, microtime(true)));
    }

    private function record(string $line): void
    {
        if (file_put_contents($this->recordFile, $line . "\n", FILE_APPEND | LOCK_EX) === false) {
            throw new \RuntimeException("cannot append to {$this->recordFile}");
        }
    }
}
