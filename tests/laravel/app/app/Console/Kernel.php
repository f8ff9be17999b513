<?php

declare(strict_types=1);

namespace App\Console;

use Illuminate\Foundation\Console\Kernel as ConsoleKernel;

class Kernel extends ConsoleKernel
{
    /**
     * The seeds' commands ("both of them have to be named in App\Console\Kernel file"), a worker command built
     * from the seeds' Performer code, and the queue test's dispatcher. pulsar:serve and pulsar:status come from
     * PublisherPulsar\Laravel\PulsarServiceProvider.
     *
     * @var array<int,class-string>
     */
    protected $commands = [
        Commands\PulsarCommand::class,
        Commands\PulsarReplyStackCommand::class,
        Commands\PerformerCommand::class,
        Commands\DispatchRecordedJobs::class,
    ];
}
