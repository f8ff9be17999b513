<?php

declare(strict_types=1);

namespace App\Console\Commands;

use App\Jobs\RecordedJob;
use Illuminate\Console\Command;

/**
 * Queues {count} RecordedJob jobs. On their first attempt, those in --slow-down throw SlowDown, those in --http429
 * a 429 RequestException, those in --retry-after a 429 RequestException with Retry-After: 1, those in
 * --pause-for PauseFor(1).
 */
class DispatchRecordedJobs extends Command
{
    protected $signature = 'test:dispatch {count} {record-file} {--slow-down= : comma-separated job ids} {--http429=} {--retry-after=} {--pause-for=}';

    protected $description = 'Queue the queue test\'s RecordedJob jobs';

    public function handle(): int
    {
        $modes = [];
        foreach (['slow-down' => 'slowdown', 'http429' => 'http429', 'retry-after' => 'retry-after', 'pause-for' => 'pausefor'] as $option => $mode) {
            foreach (array_filter(array_map('intval', explode(',', (string) $this->option($option)))) as $id) {
                $modes[$id] = $mode;
            }
        }
        for ($id = 1; $id <= (int) $this->argument('count'); $id++) {
            RecordedJob::dispatch($id, $modes[$id] ?? 'ok', (string) $this->argument('record-file'));
        }
        $this->info(sprintf('queued %d jobs', (int) $this->argument('count')));

        return 0;
    }
}
