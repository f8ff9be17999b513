<?php

namespace React\PublisherPulsar\Inventory;

/**
 * The "stop pulsing for this long" instruction inside an error result (e.g. a daily quota is used up).
 */
class ErrorSleepForPeriod
{
    /** @var int microseconds */
    protected $sleepPeriod;

    /** @return int microseconds */
    public function getSleepPeriod()
    {
        return $this->sleepPeriod;
    }

    /** @param int $sleepPeriod microseconds, e.g. 60 * 60 * 1000000 for one hour */
    public function setSleepPeriod($sleepPeriod)
    {
        $this->sleepPeriod = $sleepPeriod;
    }
}
