<?php

declare(strict_types=1);

namespace PublisherPulsar\Laravel\Console;

use Illuminate\Console\Command;
use Illuminate\Support\Arr;
use Illuminate\Support\Facades\Log;
use PublisherPulsar\Laravel\StatusRecorder;
use React\PublisherPulsar\Inventory\PublisherPulsarDto;
use React\PublisherPulsar\Inventory\PulsarSocketsParamsDto;
use React\PublisherPulsar\Pulsar;

/**
 * Runs the Pulsar daemon in the foreground with config/pulsar.php (run it under supervisor/systemd). SIGTERM or
 * SIGINT stop it cleanly: exit status 0. Its log records go to Laravel's logger; after every pulse it rewrites
 * the status file that pulsar:status reads.
 */
class ServeCommand extends Command
{
    protected $signature = 'pulsar:serve';

    protected $description = 'Run the Publisher Pulsar daemon in the foreground (config/pulsar.php)';

    /** The optional daemon settings of config/pulsar.php and their PublisherPulsarDto setters. */
    private const OPTIONAL_SETTINGS = [
        'max_wait_reply_stack_result' => 'setMaxWaitReplyStackResult',
        'max_wait_all_subscribers_ready_before_publish' => 'setMaxWaitAllSubscribersReadyBeforePublish',
        'max_admission_queue' => 'setMaxAdmissionQueue',
        'max_acting_performers' => 'setMaxActingPerformers',
        'pulse_guard_interval' => 'setPulseGuardInterval',
        'max_pause_for_period' => 'setMaxPauseForPeriod',
        'allow_from' => 'setAllowFrom',
        'max_connections' => 'setMaxConnections',
        'curve_secret_key' => 'setCurveSecretKey',
        'state_file' => 'setStateFile',
    ];

    public function handle(): int
    {
        $config = (array) $this->laravel['config']->get('pulsar', []);
        $channel = $config['log_channel'] ?? null;
        $logger = ($channel === null || $channel === '') ? Log::getLogger() : Log::channel($channel)->getLogger();

        $settings = [
            'module_name' => (string) $config['module_name'],
            'subscribers_per_iteration' => $config['subscribers_per_iteration'],
            'pulsation_iteration_period' => $config['pulsation_iteration_period'],
            'performer_container_action_max_execution_time' => $config['performer_container_action_max_execution_time'],
            'publish_address' => $config['publish_address'],
            'pull_address' => $config['pull_address'],
            'reply_stack_address' => $config['reply_stack_address'],
        ];
        $recorder = new StatusRecorder($logger, (string) $config['status_file'], max(1, (int) $config['status_history']), $settings);

        $dto = new PublisherPulsarDto();
        $dto->setModuleName($settings['module_name']);
        $dto->setSubscribersPerIteration($settings['subscribers_per_iteration']);
        $dto->setPulsationIterationPeriod($settings['pulsation_iteration_period']);
        $dto->setPerformerContainerActionMaxExecutionTime($settings['performer_container_action_max_execution_time']);
        // The optional ones: null or empty keeps the library's default.
        foreach (self::OPTIONAL_SETTINGS as $key => $setter) {
            // A value of the application's config file, of any type: the core checks it and names the setter.
            // @mago-expect analysis:mixed-assignment
            $value = Arr::get($config, $key);
            if ($value !== null && $value !== '') {
                // Each setter takes what the config file holds, whatever its type, and the core checks it.
                // @mago-expect analysis:less-specific-nested-argument-type
                call_user_func([$dto, $setter], $value);
            }
        }
        $dto->setLogger($recorder);

        $sockets = new PulsarSocketsParamsDto();
        $sockets->setPublishSocketAddress($settings['publish_address']);
        $sockets->setPullSocketAddress($settings['pull_address']);
        $sockets->setReplyStackSocketAddress($settings['reply_stack_address']);
        $dto->setPulsarSocketsParams($sockets);

        $pulsar = new Pulsar();
        $pulsar->setPublisherPulsarDto($dto);
        $this->info(sprintf(
            'pulsar:serve: N=%s per %s s, publish %s, pull %s, admission %s (SIGTERM to stop)',
            $settings['subscribers_per_iteration'],
            $settings['pulsation_iteration_period'],
            $settings['publish_address'],
            $settings['pull_address'],
            $settings['reply_stack_address']
        ));
        $recorder->state('running');
        try {
            $pulsar->manage();
        } finally {
            $recorder->state('stopped');
        }
        $this->info('pulsar:serve: stopped');

        return 0;
    }
}
