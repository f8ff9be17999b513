<?php

declare(strict_types=1);

namespace PublisherPulsar\Laravel;

use Illuminate\Support\ServiceProvider;
use PublisherPulsar\Laravel\Console\ServeCommand;
use PublisherPulsar\Laravel\Console\StatusCommand;

/**
 * Registers config/pulsar.php (merged, and publishable with `vendor:publish --tag=pulsar-config`) and the
 * pulsar:serve and pulsar:status commands. Discovered through composer.json's extra.laravel.providers.
 */
class PulsarServiceProvider extends ServiceProvider
{
    public function register(): void
    {
        $this->mergeConfigFrom(__DIR__ . '/../config/pulsar.php', 'pulsar');
    }

    public function boot(): void
    {
        $this->publishes([__DIR__ . '/../config/pulsar.php' => $this->app->configPath('pulsar.php')], 'pulsar-config');
        if ($this->app->runningInConsole()) {
            $this->commands([ServeCommand::class, StatusCommand::class]);
        }
    }
}
