<?php

declare(strict_types=1);

namespace App\Console\Commands;

use App\Jobs\RecordedJob;
use Illuminate\Console\Command;

/** Queues {count} RecordedJob jobs; those whose id is in --slow-down throw SlowDown on their first attempt. */
class DispatchRecordedJobs extends Command
{
    protected $signature = 'test:dispatch {count} {record-file} {--slow-down= : comma-separated job ids}';

    protected $description = 'Queue the queue test\'s RecordedJob jobs';

    public function handle(): int
    {
        $slow = array_filter(array_map('intval', explode(',', (string) $this->option('slow-down'))));
        for ($id = 1; $id <= (int) $this->argument('count'); $id++) {
            RecordedJob::dispatch($id, in_array($id, $slow, true), (string) $this->argument('record-file'));
        }
        $this->info(sprintf('queued %d jobs', (int) $this->argument('count')));

        return 0;
    }
}
