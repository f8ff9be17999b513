<?php

namespace React\PublisherPulsar\Inventory;

use React\PublisherPulsar\Abstracts\PushDto;

/**
 * Performer → Pulsar (PUSH): a worker ends early (golden vectors 06/07). With `standOnSubscription` true it
 * gives back a permission it received but will not use, so the daemon does not wait for its result.
 */
class PerformerEarlyTerminated extends PushDto
{
    /** @var bool */
    protected $standOnSubscription = false;

    /** @return bool */
    public function isStandOnSubscription()
    {
        return $this->standOnSubscription;
    }

    /** @param bool $standOnSubscription */
    public function setStandOnSubscription($standOnSubscription)
    {
        $this->standOnSubscription = $standOnSubscription;
    }
}
