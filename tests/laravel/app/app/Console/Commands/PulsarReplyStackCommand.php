<?php

declare(strict_types=1);

namespace App\Console\Commands;

use Illuminate\Console\Command;

/** The original README's subsidiary ReplyStack command; fire() renamed handle(). */
class PulsarReplyStackCommand extends Command
{
    protected $signature = 'react:pulsar-reply-stack';

    protected $description = 'The original ReplyStack process (now a no-op that waits for SIGTERM)';

    /**
     * Execute the console command.
     *
     * @return null
     */
    public function handle()
    {
        $replyStack = new  \React\PublisherPulsar\ReplyStack();
        $replyStack->startCommunication();

        return null;
    }
}
