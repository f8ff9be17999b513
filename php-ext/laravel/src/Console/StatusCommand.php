<?php

declare(strict_types=1);

namespace PublisherPulsar\Laravel\Console;

use Illuminate\Console\Command;

/**
 * Shows what pulsar:serve last wrote to its status file: the state, N, the pause, the queue and the most recent
 * pulses (how many permissions each granted). Exit status 1 when there is no status file.
 */
class StatusCommand extends Command
{
    protected $signature = 'pulsar:status {--json : print the status file as it is}';

    protected $description = 'Show the Publisher Pulsar daemon\'s N, pause, queue and recent grants';

    public function handle(): int
    {
        $file = (string) $this->laravel['config']->get('pulsar.status_file');
        $json = is_file($file) ? @file_get_contents($file) : false;
        $status = $json === false ? null : json_decode($json, true);
        if (!is_array($status)) {
            $this->error("pulsar:status: no status at $file (is pulsar:serve running with the same config?)");
            return 1;
        }
        if ($this->option('json')) {
            $this->line(rtrim((string) $json));
            return 0;
        }

        $age = microtime(true) - (float) ($status['updated_at'] ?? 0);
        $settings = $status['settings'] ?? [];
        $last = $status['last'] ?? null;
        $this->line(sprintf('state: %s (pid %s, updated %.1f s ago)', $status['state'] ?? '?', $status['pid'] ?? '?', $age));
        $this->line(sprintf(
            'configured: N=%s per %s s; publish %s, pull %s, admission %s',
            $settings['subscribers_per_iteration'] ?? '?',
            $settings['pulsation_iteration_period'] ?? '?',
            $settings['publish_address'] ?? '?',
            $settings['pull_address'] ?? '?',
            $settings['reply_stack_address'] ?? '?'
        ));
        if (!is_array($last)) {
            $this->line('no pulse yet');
            return 0;
        }
        $this->line(sprintf('N: %s (next %s)', $last['n'] ?? '?', $last['next_n'] ?? '?'));
        $this->line(sprintf('pause: %s', $last['pause'] ?? '?'));
        $this->line(sprintf(
            'queue: %s queued, %s admitted, %s subscribed, %s acting',
            $last['queued'] ?? '?',
            $last['admitted'] ?? '?',
            $last['subscribed'] ?? '?',
            $last['acting'] ?? '?'
        ));
        $rows = [];
        foreach (array_reverse($status['recent'] ?? []) as $pulse) {
            $rows[] = [
                $pulse['iteration'] ?? '',
                sprintf('%s.%03d', gmdate('H:i:s', (int) ($pulse['time'] ?? 0)), (int) (fmod((float) ($pulse['time'] ?? 0), 1) * 1000)),
                $pulse['n'] ?? '',
                $pulse['receivers'] ?? '',
                $pulse['results'] ?? '',
                $pulse['errors'] ?? '',
                $pulse['adaptation'] ?? '',
                $pulse['next_n'] ?? '',
            ];
        }
        $this->table(['iteration', 'time (UTC)', 'N', 'granted', 'results', 'errors', 'adaptation', 'next N'], $rows);

        return 0;
    }
}
