<?php
/**
 * The original Publisher Pulsar protocol classes, re-typed for the cross-language tests.
 *
 * What this file is for: an UNCHANGED worker of the original PHP library talks to the daemon with nothing but
 * `serialize()` of these classes. Their fully qualified names, their property names, the property order, the
 * `protected` visibility and the defaults are what puts bytes on the wire, so they are kept exactly as the
 * original has them (see docs/protocol.md and rust/wire/tests/vectors/); `check_vectors.php`
 * proves it byte for byte against the golden vectors captured from the original.
 *
 * What it must never do: add a property, reorder one, change a default or a visibility, or load anything from
 * the Rust side. Only plain getters/setters (the original user API of the seeds) live here; no logic.
 */

declare(strict_types=1);

namespace React\PublisherPulsar\Interfaces {

    /**
     * Marker of control messages that the Pulsar receives. Interfaces never appear in serialized bytes, so which
     * DTO carries which marker cannot change a byte; here they follow the direction of the message.
     */
    interface PulsarControlDto
    {
    }

    /** Marker of control messages that the ReplyStack receives. */
    interface ReplyStackControlDto
    {
    }
}

namespace React\PublisherPulsar\Abstracts {

    /**
     * The parent of everything a Performer PUSHes to the Pulsar. It has no properties, so nothing of it shows
     * in the bytes; it exists so that the class hierarchy is the original's.
     */
    abstract class PushDto
    {
    }
}

namespace React\PublisherPulsar\Inventory {

    use React\PublisherPulsar\Abstracts\PushDto;
    use React\PublisherPulsar\Interfaces\PulsarControlDto;
    use React\PublisherPulsar\Interfaces\ReplyStackControlDto;

    /** Performer → admission desk (REQ): "admit me to the next pulse". */
    class PreparingRequestDto
    {
        /** @var bool */
        protected $readyToAct = true;

        /** @var mixed */
        protected $preparingErrorOccurred;

        public function isReadyToAct()
        {
            return $this->readyToAct;
        }

        public function setReadyToAct($readyToAct)
        {
            $this->readyToAct = $readyToAct;
        }

        public function getPreparingErrorOccurred()
        {
            return $this->preparingErrorOccurred;
        }

        public function setPreparingErrorOccurred($preparingErrorOccurred)
        {
            $this->preparingErrorOccurred = $preparingErrorOccurred;
        }
    }

    /** Admission desk → Performer (REP): "you are admitted: subscribe". */
    class BecomeTheSubscriberReplyDto
    {
        /** @var bool */
        protected $allowToStartSubscription = true;

        public function isAllowToStartSubscription()
        {
            return $this->allowToStartSubscription;
        }

        public function setAllowToStartSubscription($allowToStartSubscription)
        {
            $this->allowToStartSubscription = $allowToStartSubscription;
        }
    }

    /** Pulsar → every subscriber (PUB): the pulse, i.e. the permission to act. Users may extend it. */
    class PublisherToSubscribersDto
    {
        /** @var bool */
        protected $allowAction = true;

        public function isAllowAction()
        {
            return $this->allowAction;
        }

        public function setAllowAction($allowAction)
        {
            $this->allowAction = $allowAction;
        }
    }

    /** Performer → Pulsar (PUSH): "I am subscribed". */
    class ReadyToGetSubscriptionMsg extends PushDto
    {
    }

    /** The nested "stop everything for this long" instruction of an error result. */
    class ErrorSleepForPeriod
    {
        /** @var int microseconds */
        protected $sleepPeriod;

        public function getSleepPeriod()
        {
            return $this->sleepPeriod;
        }

        public function setSleepPeriod($sleepPeriod)
        {
            $this->sleepPeriod = $sleepPeriod;
        }
    }

    /** Performer → Pulsar (PUSH): how the permitted action went. */
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

        public function isActionCompleteCorrectly()
        {
            return $this->actionCompleteCorrectly;
        }

        public function setActionCompleteCorrectly($actionCompleteCorrectly)
        {
            $this->actionCompleteCorrectly = $actionCompleteCorrectly;
        }

        public function getErrorMessage()
        {
            return $this->errorMessage;
        }

        public function setErrorMessage($errorMessage)
        {
            $this->errorMessage = $errorMessage;
        }

        public function getErrorReason()
        {
            return $this->errorReason;
        }

        public function setErrorReason($errorReason)
        {
            $this->errorReason = $errorReason;
        }

        public function getSleepForPeriod()
        {
            return $this->sleepForPeriod;
        }

        public function setSleepForPeriod(ErrorSleepForPeriod $sleepForPeriod)
        {
            $this->sleepForPeriod = $sleepForPeriod;
        }

        public function isSlowDown()
        {
            return $this->slowDown;
        }

        public function setSlowDown($slowDown)
        {
            $this->slowDown = $slowDown;
        }
    }

    /** Performer → Pulsar (PUSH): a worker ending early, while subscribed (true) or not (false). */
    class PerformerEarlyTerminated extends PushDto
    {
        /** @var bool */
        protected $standOnSubscription = false;

        public function isStandOnSubscription()
        {
            return $this->standOnSubscription;
        }

        public function setStandOnSubscription($standOnSubscription)
        {
            $this->standOnSubscription = $standOnSubscription;
        }
    }

    /**
     * ReplyStack → Pulsar (REQ, base+1): "next iteration?". The Pulsar ⇄ ReplyStack DTOs below never reach a
     * worker; they are here so that every golden vector is checked from PHP.
     */
    class ReplyStackToPulsarGetTaskRequestDto implements PulsarControlDto
    {
    }

    /** ReplyStack → Pulsar (REQ, base+1): "I admitted this many". */
    class ReplyStackToPulsarReturnResultRequestDto implements PulsarControlDto
    {
        /** @var int */
        protected $considerMeAsSubscriber = 0;

        public function getConsiderMeAsSubscriber()
        {
            return $this->considerMeAsSubscriber;
        }

        public function setConsiderMeAsSubscriber($considerMeAsSubscriber)
        {
            $this->considerMeAsSubscriber = $considerMeAsSubscriber;
        }
    }

    /** Pulsar → ReplyStack (reply, base+1): "admit this many, handing out this reply". */
    class PulsarToReplyStackReplyDto implements ReplyStackControlDto
    {
        /** @var int */
        protected $subscribersNumber;

        /** @var BecomeTheSubscriberReplyDto */
        protected $dtoToTransfer;

        public function getSubscribersNumber()
        {
            return $this->subscribersNumber;
        }

        public function setSubscribersNumber($subscribersNumber)
        {
            $this->subscribersNumber = $subscribersNumber;
        }

        public function getDtoToTransfer()
        {
            return $this->dtoToTransfer;
        }

        public function setDtoToTransfer(BecomeTheSubscriberReplyDto $dtoToTransfer)
        {
            $this->dtoToTransfer = $dtoToTransfer;
        }
    }

    /** Pulsar → ReplyStack (reply, base+1): "iteration over". */
    class PulsarIterationFinish implements ReplyStackControlDto
    {
    }
}
