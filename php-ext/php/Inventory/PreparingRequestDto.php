<?php

namespace React\PublisherPulsar\Inventory;

use React\PublisherPulsar\Interfaces\ReplyStackControlDto;

/**
 * Performer → admission desk (REQ): "admit me to the next pulse".
 *
 * Wire format: the property names, their order, `protected` and the defaults are the bytes on the wire
 * (golden vector 01); never add, reorder or retype a property.
 */
class PreparingRequestDto implements ReplyStackControlDto
{
    /** @var bool */
    protected $readyToAct = true;

    /** @var mixed */
    protected $preparingErrorOccurred;

    /** @return bool */
    public function isReadyToAct()
    {
        return $this->readyToAct;
    }

    /** @param bool $readyToAct */
    public function setReadyToAct($readyToAct)
    {
        $this->readyToAct = $readyToAct;
    }

    /** @return mixed */
    public function getPreparingErrorOccurred()
    {
        return $this->preparingErrorOccurred;
    }

    /** @param mixed $preparingErrorOccurred */
    public function setPreparingErrorOccurred($preparingErrorOccurred)
    {
        $this->preparingErrorOccurred = $preparingErrorOccurred;
    }
}
