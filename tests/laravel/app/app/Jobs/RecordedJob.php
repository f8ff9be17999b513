<?php

declare(strict_types=1);

namespace App\Jobs;

use Illuminate\Bus\Queueable;
use Illuminate\Contracts\Queue\ShouldQueue;
use Illuminate\Foundation\Bus\Dispatchable;
use Illuminate\Http\Client\RequestException;
use Illuminate\Http\Client\Response;
use Illuminate\Queue\InteractsWithQueue;
use PublisherPulsar\Laravel\Exceptions\PauseFor;
use PublisherPulsar\Laravel\Exceptions\SlowDown;
use PublisherPulsar\Laravel\Middleware\WaitForPermission;

/**
 * The queue test's job: appends "START <id> <attempt> <microtime> <pid>" to the record file when it runs (after
 * WaitForPermission let it). On its first attempt, as $firstAttempt says, it throws SlowDown ('slowdown'), or the
 * RequestException of Laravel's HTTP client for a 429 response without ('http429') or with a `Retry-After: 1`
 * header ('retry-after'), or PauseFor(1) ('pausefor'); otherwise ('ok', or any later attempt) it appends "DONE <id> <attempt> <microtime>".
 */
class RecordedJob implements ShouldQueue
{
    use Dispatchable, InteractsWithQueue, Queueable;

    public int $tries = 5;

    public function __construct(public int $id, public string $firstAttempt, public string $recordFile)
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
        if ($attempt === 1 && $this->firstAttempt !== 'ok') {
            $this->record(sprintf('THROW %d %d %.6f %s', $this->id, $attempt, microtime(true), $this->firstAttempt));
            switch ($this->firstAttempt) {
                case 'slowdown':
                    throw new SlowDown("job {$this->id}: the remote service said 429", 'TEST_RATE_LIMIT');
                case 'http429':
                    throw new RequestException(new Response(new \GuzzleHttp\Psr7\Response(429, [], 'slow down')));
                case 'retry-after':
                    throw new RequestException(new Response(new \GuzzleHttp\Psr7\Response(429, ['Retry-After' => '1'], 'wait')));
                case 'pausefor':
                    throw new PauseFor(1, "job {$this->id}: the remote service wants a second's rest", 'TEST_PAUSE');
                default:
                    throw new \LogicException("unknown first-attempt mode {$this->firstAttempt}");
            }
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
