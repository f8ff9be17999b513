<?php

namespace React\PublisherPulsar\Inventory;

/**
 * Pulsar → every released Performer (PUB): the pulse, i.e. the permission to act (golden vector 03).
 *
 * Extend it to send commands to your workers: `PublisherPulsarDto::setPublisherToSubscribersDto()` takes an
 * instance of your subclass, the daemon publishes its serialize() bytes with every pulse, and each Performer gets
 * an equal instance from `Performer::getPublisherToSubscribersDto()`. Your subclass must be declared (or
 * autoloadable) in the worker too; only this class and its subclasses are ever built from network bytes.
 */
class PublisherToSubscribersDto
{
    /** @var bool */
    protected $allowAction = true;

    /** @return bool */
    public function isAllowAction()
    {
        return $this->allowAction;
    }

    /** @param bool $allowAction */
    public function setAllowAction($allowAction)
    {
        $this->allowAction = $allowAction;
    }
}
