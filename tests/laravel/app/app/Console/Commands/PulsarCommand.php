<?php

declare(strict_types=1);

namespace App\Console\Commands;

use Illuminate\Console\Command;

/**
 * The original README's daemon command "with additional options", as users wrote it for Laravel 5, with only
 * Laravel's own renames: fire() is handle(), \Log::getMonolog() is \Log::getLogger(). The one other change: the
 * README's fixed ports 6271..6275 come from the environment, so that the test can use free ones.
 */
class PulsarCommand extends Command
{
    protected $signature = 'react:pulsar';

    protected $description = 'Runs the Publisher Pulsar daemon (the original README\'s command)';

    /**
     * Execute the console command.
     *
     * @return null
     */
    public function handle()
    {
        $pulsar = new \React\PublisherPulsar\Pulsar();

        $publisherPulsarDto = new \React\PublisherPulsar\Inventory\PublisherPulsarDto();
        $publisherPulsarDto->setModuleName('react:pulsar'); //arbitrary name
        $publisherPulsarDto->setReplyStackCommandName('php artisan react:pulsar-reply-stack');
        $publisherPulsarDto->initDefaultPulsarSocketsParams();

        $publisherPulsarDto->setPulsationIterationPeriod(1);
        $publisherPulsarDto->setSubscribersPerIteration(10);
        $publisherPulsarDto->setPerformerContainerActionMaxExecutionTime(7);
        $publisherPulsarDto->setLogger(\Log::getLogger());
        $publisherPulsarDto->setMaxWaitReplyStackResult(7);

        $pulsarSocketsParams = new \React\PublisherPulsar\Inventory\PulsarSocketsParamsDto();

        $pulsarSocketsParams->setReplyToReplyStackSocketAddress(env('SEED_REPLY_TO_REPLY_STACK', 'tcp://127.0.0.1:6271'));
        $pulsarSocketsParams->setPushToReplyStackSocketAddress(env('SEED_PUSH_TO_REPLY_STACK', 'tcp://127.0.0.1:6272'));
        $pulsarSocketsParams->setPublishSocketAddress(env('SEED_PUBLISH', 'tcp://127.0.0.1:6273'));
        $pulsarSocketsParams->setPullSocketAddress(env('SEED_PULL', 'tcp://127.0.0.1:6274'));
        $pulsarSocketsParams->setReplyStackSocketAddress(env('SEED_REPLY_STACK', 'tcp://127.0.0.1:6275'));

        $publisherPulsarDto->setPulsarSocketsParams($pulsarSocketsParams);

        $pulsar->setPublisherPulsarDto($publisherPulsarDto);

        $pulsar->manage();

        return null;
    }
}
