<?php

namespace React\PublisherPulsar\Inventory;

use React\PublisherPulsar\Interfaces\PulsarControlDto;

/**
 * Admission desk → Performer (REP): "you are admitted: subscribe" (golden vector 02). `false` means refused.
 */
class BecomeTheSubscriberReplyDto implements PulsarControlDto
{
    /** @var bool */
    protected $allowToStartSubscription = true;

    /** @return bool */
    public function isAllowToStartSubscription()
    {
        return $this->allowToStartSubscription;
    }

    /** @param bool $allowToStartSubscription */
    public function setAllowToStartSubscription($allowToStartSubscription)
    {
        $this->allowToStartSubscription = $allowToStartSubscription;
    }
}
