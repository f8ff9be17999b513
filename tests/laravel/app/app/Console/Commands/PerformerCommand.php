<?php

declare(strict_types=1);

namespace App\Console\Commands;

use Illuminate\Console\Command;
use React\PublisherPulsar\Inventory\ActionResultingPushDto;

/**
 * A worker command built from the original README's "Including in process" code (with options), with
 * \Log::getMonolog() renamed \Log::getLogger() and the addresses taken from the environment. Each iteration waits
 * for permission, prints "GRANT <microtime>", and reports as --mode says (the README's slow-down branch or its
 * "no correction" branch).
 */
class PerformerCommand extends Command
{
    protected $signature = 'react:performer {iterations=3} {--mode=success : success or slowdown}';

    protected $description = 'A Performer from the original README, acting {iterations} times';

    private \React\PublisherPulsar\Performer $zmqPerformer;

    public function handle(): int
    {
        $performerDto = new \React\PublisherPulsar\Inventory\PerformerDto();
        $performerDto->setModuleName("PerformerCommand");
        $performerDto->setLogger(\Log::getLogger());

        $performer = new \React\PublisherPulsar\Performer($performerDto);

        $performerSocketParams = new \React\PublisherPulsar\Inventory\PerformerSocketsParamsDto();
        $performerSocketParams->setPublisherPulsarSocketAddress(env('SEED_PUBLISH', 'tcp://127.0.0.1:6273'));
        $performerSocketParams->setPushPulsarSocketAddress(env('SEED_PULL', 'tcp://127.0.0.1:6274'));
        $performerSocketParams->setRequestPulsarRsSocketAddress(env('SEED_REPLY_STACK', 'tcp://127.0.0.1:6275'));

        $performerDto->setSocketsParams($performerSocketParams);

        $performer->setPerformerDto($performerDto);

        $this->zmqPerformer = $performer;

        for ($i = 0; $i < (int) $this->argument('iterations'); $i++) {
            $this->zmqPerformer->connectToPulsarAndWaitPermissionToAct();
            $this->line(sprintf('GRANT %.6f', microtime(true)));

            if ($this->option('mode') === 'slowdown') {
                $errorResult = new ActionResultingPushDto();
                $errorResult->setActionCompleteCorrectly(false);
                $errorResult->setSlowDown(true);
                $errorResult->setErrorMessage('rate limit exceeded (test)');
                $errorResult->setErrorReason('USER_RATE_LIMIT_EXCEEDED');

                $this->zmqPerformer->pushActionResultInfo($errorResult);
            } else {
                $this->zmqPerformer->pushActionResultInfoWithoutPulsarCorrectionBehavior();
            }
        }

        return 0;
    }
}
