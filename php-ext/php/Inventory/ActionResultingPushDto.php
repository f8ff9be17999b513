<?php

namespace React\PublisherPulsar\Inventory;

use React\PublisherPulsar\Abstracts\PushDto;

/**
 * Performer → Pulsar (PUSH): how the permitted action went (golden vectors 08–11).
 *
 * The daemon acts on the first result of an iteration with a non-empty `errorMessage`: `slowDown` set (even
 * false) makes it release fewer workers per pulse or pause longer before each pulse; else `sleepForPeriod`
 * stops the pulses for that long; else the error is only logged.
 */
class ActionResultingPushDto extends PushDto
{
    /** @var bool */
    protected $actionCompleteCorrectly;

    /** @var string */
    protected $errorMessage;

    /** @var string */
    protected $errorReason;

    /** @var ErrorSleepForPeriod|null */
    protected $sleepForPeriod;

    /** @var bool */
    protected $slowDown;

    /** @return bool */
    public function isActionCompleteCorrectly()
    {
        return $this->actionCompleteCorrectly;
    }

    /** @param bool $actionCompleteCorrectly */
    public function setActionCompleteCorrectly($actionCompleteCorrectly)
    {
        $this->actionCompleteCorrectly = $actionCompleteCorrectly;
    }

    /** @return string */
    public function getErrorMessage()
    {
        return $this->errorMessage;
    }

    /** @param string $errorMessage must not be empty for the daemon to act on the error */
    public function setErrorMessage($errorMessage)
    {
        $this->errorMessage = $errorMessage;
    }

    /** @return string */
    public function getErrorReason()
    {
        return $this->errorReason;
    }

    /** @param string $errorReason */
    public function setErrorReason($errorReason)
    {
        $this->errorReason = $errorReason;
    }

    /** @return ErrorSleepForPeriod|null */
    public function getSleepForPeriod()
    {
        return $this->sleepForPeriod;
    }

    public function setSleepForPeriod(ErrorSleepForPeriod $sleepForPeriod)
    {
        $this->sleepForPeriod = $sleepForPeriod;
    }

    /** @return bool */
    public function isSlowDown()
    {
        return $this->slowDown;
    }

    /** @param bool $slowDown */
    public function setSlowDown($slowDown)
    {
        $this->slowDown = $slowDown;
    }
}
