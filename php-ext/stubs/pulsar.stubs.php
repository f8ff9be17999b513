<?php
/**
 * IDE stubs for the pulsar extension (pulsar.so): every class it provides, in the original library's names.
 *
 * Never include this file where the extension is loaded: the classes already exist there. The DTO classes below
 * are the extension's own embedded PHP sources (php-ext/php/); the three behaviour classes are implemented in
 * Rust and shown here by signature. tests/phpunit/StubsTest.php checks this file against the loaded extension.
 *
 * @noinspection PhpUnused
 */

namespace React\PublisherPulsar {

    use React\PublisherPulsar\Inventory\ActionResultingPushDto;
    use React\PublisherPulsar\Inventory\PerformerDto;
    use React\PublisherPulsar\Inventory\PerformerSocketsParamsDto;
    use React\PublisherPulsar\Inventory\PublisherPulsarDto;
    use React\PublisherPulsar\Inventory\PublisherToSubscribersDto;

    /**
     * The daemon. Runs inside the calling PHP process: `setPublisherPulsarDto($dto)`, then `manage()`, which
     * blocks until SIGTERM/SIGINT or the DTO's timerIterationsLimit, as the original did.
     */
    class Pulsar
    {
        public function __construct() {}

        /**
         * Sets the daemon's settings (read when manage() starts).
         *
         * @param PublisherPulsarDto $publisherPulsarDto
         * @throws Inventory\Exceptions\PublisherPulsarException INVALID_SETTING for anything else
         */
        public function setPublisherPulsarDto($publisherPulsarDto): void {}

        /** @return PublisherPulsarDto|null the settings given to setPublisherPulsarDto() */
        public function getPublisherPulsarDto(): mixed {}

        /**
         * Binds the sockets and runs the daemon until SIGTERM/SIGINT (then returns normally) or until
         * timerIterationsLimit iterations. Log records go to the DTO's logger (PSR-3 style), or to STDOUT.
         * A logger's exception stops the daemon and is rethrown from here.
         *
         * @throws Inventory\Exceptions\PublisherPulsarException INVALID_SETTING (the message names the setter),
         *         SOCKET_ERROR (e.g. an address in use)
         */
        public function manage(): void {}
    }

    /**
     * A worker's link to the Pulsar: wait for permission, act, report once.
     */
    class Performer
    {
        /**
         * `new Performer()` or, as in the article, `new Performer($performerDto)`.
         *
         * @param PerformerDto|null $performerDto
         */
        public function __construct($performerDto = null) {}

        /**
         * Sets the settings; they count from the next connectToPulsarAndWaitPermissionToAct().
         *
         * @param PerformerDto $performerDto
         */
        public function setPerformerDto($performerDto): void {}

        /** @return PerformerDto|null */
        public function getPerformerDto(): mixed {}

        /** Puts the default addresses (tcp://127.0.0.1:6273, :6274, :6275) into the PerformerDto (created if none). */
        public function initDefaultPerformerSocketsParams(): void {}

        /**
         * Sets the three Pulsar addresses (into the PerformerDto, created if none).
         *
         * @param PerformerSocketsParamsDto $socketsParams
         */
        public function setSocketsParams($socketsParams): void {}

        /**
         * Asks for admission and waits for the pulse that allows acting now. Each permission must be reported
         * once: pushActionResultInfo(), pushActionResultInfoWithoutPulsarCorrectionBehavior() or
         * pushPerformerEarlyTerminated().
         *
         * @throws Inventory\Exceptions\PublisherPulsarException DAEMON_UNREACHABLE after the PerformerDto's
         *         timeouts, ADMISSION_REFUSED, ACTION_NOT_ALLOWED (allowAction false), PULSE_CLASS_NOT_ALLOWED
         *         (the pulse's class is not declared here or is not a PublisherToSubscribersDto), INVALID_SETTING
         */
        public function connectToPulsarAndWaitPermissionToAct(): void {}

        /**
         * @return PublisherToSubscribersDto|null the object of the last pulse: the daemon's
         *         publisherToSubscribersDto (your subclass, with its properties) or the default one
         */
        public function getPublisherToSubscribersDto(): mixed {}

        /**
         * Reports the result of the permitted action; an error in it may make the Pulsar slow down or pause.
         *
         * @param ActionResultingPushDto $actionResultingPushDto
         * @throws Inventory\Exceptions\PublisherPulsarException OUT_OF_ORDER without a permission held
         */
        public function pushActionResultInfo($actionResultingPushDto): void {}

        /**
         * Reports that the permitted action went fine.
         *
         * @throws Inventory\Exceptions\PublisherPulsarException OUT_OF_ORDER without a permission held
         */
        public function pushActionResultInfoWithoutPulsarCorrectionBehavior(): void {}

        /**
         * Tells the Pulsar this worker ends early. With true (the default) it gives back a permission received
         * but not used, so that the Pulsar does not wait for its result; with false it only informs.
         */
        public function pushPerformerEarlyTerminated(bool $standOnSubscription = true): void {}
    }

    /**
     * The original's admission process. The admission desk now runs inside Pulsar::manage(), so
     * startCommunication() only keeps an existing command (artisan, supervisor) alive: it logs once and blocks
     * until SIGTERM or SIGINT.
     */
    class ReplyStack
    {
        public function __construct() {}

        public function startCommunication(): void {}
    }
}

namespace React\PublisherPulsar\Internal {

    /**
     * @internal the extension's autoloader for its embedded PHP classes, registered at every request start-up.
     */
    function autoload(string $class): void {}
}

namespace React\PublisherPulsar\Interfaces {

    /**
     * Marker of the control messages the Pulsar receives. Interfaces never appear in serialize() output, so this only
     * keeps the original class hierarchy (`instanceof` checks in users' code keep working).
     */
    interface PulsarControlDto
    {
    }
}

namespace React\PublisherPulsar\Interfaces {

    /** Marker of the control messages the admission desk (the original ReplyStack) receives. */
    interface ReplyStackControlDto
    {
    }
}

namespace React\PublisherPulsar\Abstracts {

    /**
     * Parent of everything a Performer PUSHes to the Pulsar. It has no properties, so nothing of it shows in the
     * bytes; it exists so that the class hierarchy is the original's.
     */
    abstract class PushDto
    {
    }
}

namespace React\PublisherPulsar\Inventory\Exceptions {

    /**
     * Every failure of Publisher Pulsar reaches PHP as this exception.
     *
     * The message starts with one of the message constants below, then ": " and the details (which setting, which
     * address, how long was waited); `getCode()` is the matching `*_CODE` constant. Test with
     * `$e->getCode() === PublisherPulsarException::DAEMON_UNREACHABLE_CODE` rather than by parsing the message.
     */
    class PublisherPulsarException extends \Exception
    {
        /** A DTO setting cannot be used (the details name the setter), or a DTO is missing or of the wrong class. */
        const INVALID_SETTING = 'Invalid Publisher Pulsar setting';
        /** The Pulsar did not answer within the Performer's timeout: it is down, unreachable or overloaded. */
        const DAEMON_UNREACHABLE = 'The Pulsar did not answer in time';
        /** The Pulsar answered the admission request with a refusal (its queue is full, or it is stopping). */
        const ADMISSION_REFUSED = 'The Pulsar refused the admission';
        /** The pulse arrived with allowAction = false: the Performer must not act. */
        const ACTION_NOT_ALLOWED = 'The Pulsar does not allow the action';
        /** A Performer method was called at the wrong step, e.g. a result pushed without a permission. */
        const OUT_OF_ORDER = 'Publisher Pulsar method called out of order';
        /** ZeroMQ failed: an address is in use or malformed, or a socket broke. */
        const SOCKET_ERROR = 'Publisher Pulsar socket error';
        /** A peer sent bytes that are not the expected protocol message. */
        const PROTOCOL_ERROR = 'Unexpected message from the peer';
        /** The pulse names a class that is not PublisherToSubscribersDto or a declared subclass of it. */
        const PULSE_CLASS_NOT_ALLOWED = 'The pulse carries a class that may not be instantiated';
        /** A bug in the extension (a Rust panic caught at the boundary); please report it. */
        const INTERNAL_ERROR = 'Publisher Pulsar internal error';

        /** Code of INVALID_SETTING. */
        const INVALID_SETTING_CODE = 1;
        /** Code of DAEMON_UNREACHABLE. */
        const DAEMON_UNREACHABLE_CODE = 2;
        /** Code of ADMISSION_REFUSED. */
        const ADMISSION_REFUSED_CODE = 3;
        /** Code of ACTION_NOT_ALLOWED. */
        const ACTION_NOT_ALLOWED_CODE = 4;
        /** Code of OUT_OF_ORDER. */
        const OUT_OF_ORDER_CODE = 5;
        /** Code of SOCKET_ERROR. */
        const SOCKET_ERROR_CODE = 6;
        /** Code of PROTOCOL_ERROR. */
        const PROTOCOL_ERROR_CODE = 7;
        /** Code of PULSE_CLASS_NOT_ALLOWED. */
        const PULSE_CLASS_NOT_ALLOWED_CODE = 8;
        /** Code of INTERNAL_ERROR. */
        const INTERNAL_ERROR_CODE = 9;
    }
}

namespace React\PublisherPulsar\Inventory {

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
}

namespace React\PublisherPulsar\Inventory {

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
}

namespace React\PublisherPulsar\Inventory {

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
}

namespace React\PublisherPulsar\Inventory {

    use React\PublisherPulsar\Abstracts\PushDto;

    /** Performer → Pulsar (PUSH): "I am subscribed, release me with the next pulse" (golden vector 05). */
    class ReadyToGetSubscriptionMsg extends PushDto
    {
    }
}

namespace React\PublisherPulsar\Inventory {

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
}

namespace React\PublisherPulsar\Inventory {

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
}

namespace React\PublisherPulsar\Inventory {

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
}

namespace React\PublisherPulsar\Inventory {

    /**
     * The Pulsar's five socket addresses (`PublisherPulsarDto::setPulsarSocketsParams()`), ZeroMQ endpoints such as
     * `tcp://127.0.0.1:6273`. Performers connect to the publish, pull and reply-stack addresses. The two reply-stack
     * link addresses belonged to the original's separate ReplyStack process: they are still checked, never bound.
     */
    class PulsarSocketsParamsDto
    {
        /** @var string */
        protected $replyToReplyStackSocketAddress;

        /** @var string */
        protected $pushToReplyStackSocketAddress;

        /** @var string */
        protected $publishSocketAddress;

        /** @var string */
        protected $pullSocketAddress;

        /** @var string */
        protected $replyStackSocketAddress;

        /** @return string */
        public function getReplyToReplyStackSocketAddress()
        {
            return $this->replyToReplyStackSocketAddress;
        }

        /** @param string $replyToReplyStackSocketAddress default tcp://127.0.0.1:6271 (not bound any more) */
        public function setReplyToReplyStackSocketAddress($replyToReplyStackSocketAddress)
        {
            $this->replyToReplyStackSocketAddress = $replyToReplyStackSocketAddress;
        }

        /** @return string */
        public function getPushToReplyStackSocketAddress()
        {
            return $this->pushToReplyStackSocketAddress;
        }

        /** @param string $pushToReplyStackSocketAddress default tcp://127.0.0.1:6272 (never used, as in the original) */
        public function setPushToReplyStackSocketAddress($pushToReplyStackSocketAddress)
        {
            $this->pushToReplyStackSocketAddress = $pushToReplyStackSocketAddress;
        }

        /** @return string */
        public function getPublishSocketAddress()
        {
            return $this->publishSocketAddress;
        }

        /** @param string $publishSocketAddress default tcp://127.0.0.1:6273: pulses are published here */
        public function setPublishSocketAddress($publishSocketAddress)
        {
            $this->publishSocketAddress = $publishSocketAddress;
        }

        /** @return string */
        public function getPullSocketAddress()
        {
            return $this->pullSocketAddress;
        }

        /** @param string $pullSocketAddress default tcp://127.0.0.1:6274: Performers push readiness and results here */
        public function setPullSocketAddress($pullSocketAddress)
        {
            $this->pullSocketAddress = $pullSocketAddress;
        }

        /** @return string */
        public function getReplyStackSocketAddress()
        {
            return $this->replyStackSocketAddress;
        }

        /** @param string $replyStackSocketAddress default tcp://127.0.0.1:6275: Performers ask for admission here */
        public function setReplyStackSocketAddress($replyStackSocketAddress)
        {
            $this->replyStackSocketAddress = $replyStackSocketAddress;
        }
    }
}

namespace React\PublisherPulsar\Inventory {

    use React\PublisherPulsar\Inventory\Exceptions\PublisherPulsarException;

    /**
     * Every setting of the Pulsar daemon (`Pulsar::setPublisherPulsarDto()`), with the original's defaults.
     *
     * `Pulsar::manage()` reads it through these getters and checks every value before it binds a socket; a bad value
     * throws PublisherPulsarException (INVALID_SETTING) naming the setter. Durations are seconds; fractions work.
     */
    class PublisherPulsarDto
    {
        /** Smallest accepted performerContainerActionMaxExecutionTime, in seconds, as in the original. */
        const MIN_PERFORMER_CONTAINER_ACTION_MAX_EXECUTION_TIME = 7;

        /** @var string shown in every log line; default "pulsar" */
        protected $moduleName;

        /** @var string accepted and ignored: the admission desk now runs inside the daemon */
        protected $replyStackCommandName;

        /** @var int|float seconds between pulses, at least */
        protected $pulsationIterationPeriod = 1;

        /** @var int the most Performers released by one pulse */
        protected $subscribersPerIteration = 10;

        /** @var int|float seconds released Performers get to report their result */
        protected $performerContainerActionMaxExecutionTime = 7;

        /** @var object|null PSR-3 style logger (info/warning/error/debug); null: log lines go to STDOUT */
        protected $logger;

        /** @var int|float seconds an iteration waits for all subscribersPerIteration before pulsing with fewer */
        protected $maxWaitReplyStackResult = 5;

        /** @var int|float seconds admitted Performers get to subscribe before the pulse goes out anyway */
        protected $maxWaitAllSubscribersReadyBeforePublish = 7;

        /** @var PublisherToSubscribersDto|null the object published with every pulse; null: the default one */
        protected $publisherToSubscribersDto;

        /** @var PulsarSocketsParamsDto|null null: the default addresses (ports 6271-6275 on 127.0.0.1) */
        protected $pulsarSocketsParams;

        /** @var int stop after this many iterations; 0: never */
        protected $timerIterationsLimit = 0;

        /** @var int|null the most Performers waiting for admission before requests are refused; null: 65536 */
        protected $maxAdmissionQueue;

        /** @return string|null */
        public function getModuleName()
        {
            return $this->moduleName;
        }

        /** @param string $moduleName arbitrary name, shown in the log lines */
        public function setModuleName($moduleName)
        {
            $this->moduleName = $moduleName;
        }

        /** @return string|null */
        public function getReplyStackCommandName()
        {
            return $this->replyStackCommandName;
        }

        /**
         * The original started this command as its admission process. Kept so that existing code runs; the admission
         * desk now runs inside `Pulsar::manage()`, so the command is not started.
         *
         * @param string $replyStackCommandName e.g. 'php artisan react:pulsar-reply-stack'
         */
        public function setReplyStackCommandName($replyStackCommandName)
        {
            $this->replyStackCommandName = $replyStackCommandName;
        }

        /** Sets the five default addresses, tcp://127.0.0.1:6271 to :6275. */
        public function initDefaultPulsarSocketsParams()
        {
            $params = new PulsarSocketsParamsDto();
            $params->setReplyToReplyStackSocketAddress('tcp://127.0.0.1:6271');
            $params->setPushToReplyStackSocketAddress('tcp://127.0.0.1:6272');
            $params->setPublishSocketAddress('tcp://127.0.0.1:6273');
            $params->setPullSocketAddress('tcp://127.0.0.1:6274');
            $params->setReplyStackSocketAddress('tcp://127.0.0.1:6275');
            $this->pulsarSocketsParams = $params;
        }

        /** @return int|float */
        public function getPulsationIterationPeriod()
        {
            return $this->pulsationIterationPeriod;
        }

        /** @param int|float $pulsationIterationPeriod seconds; pulses are at least this far apart (default 1) */
        public function setPulsationIterationPeriod($pulsationIterationPeriod)
        {
            $this->pulsationIterationPeriod = $pulsationIterationPeriod;
        }

        /** @return int */
        public function getSubscribersPerIteration()
        {
            return $this->subscribersPerIteration;
        }

        /** @param int $subscribersPerIteration the most Performers released per pulse (default 10) */
        public function setSubscribersPerIteration($subscribersPerIteration)
        {
            $this->subscribersPerIteration = $subscribersPerIteration;
        }

        /** @return int|float */
        public function getPerformerContainerActionMaxExecutionTime()
        {
            return $this->performerContainerActionMaxExecutionTime;
        }

        /**
         * @param int|float $performerContainerActionMaxExecutionTime seconds the Pulsar waits for the results of the
         *        released Performers (default 7, the smallest accepted value)
         * @throws PublisherPulsarException below 7 seconds, as the original
         */
        public function setPerformerContainerActionMaxExecutionTime($performerContainerActionMaxExecutionTime)
        {
            if (!is_numeric($performerContainerActionMaxExecutionTime)
                || $performerContainerActionMaxExecutionTime < self::MIN_PERFORMER_CONTAINER_ACTION_MAX_EXECUTION_TIME) {
                throw new PublisherPulsarException(
                    PublisherPulsarException::INVALID_SETTING . ': setPerformerContainerActionMaxExecutionTime() needs at'
                    . ' least ' . self::MIN_PERFORMER_CONTAINER_ACTION_MAX_EXECUTION_TIME . ' seconds, got '
                    . var_export($performerContainerActionMaxExecutionTime, true),
                    PublisherPulsarException::INVALID_SETTING_CODE
                );
            }
            $this->performerContainerActionMaxExecutionTime = $performerContainerActionMaxExecutionTime;
        }

        /** @return object|null */
        public function getLogger()
        {
            return $this->logger;
        }

        /**
         * @param object $logger any PSR-3 style logger with info(), warning(), error() and debug() methods, e.g.
         *        `\Log::getMonolog()` in Laravel; it receives the daemon's log records while `manage()` runs
         */
        public function setLogger($logger)
        {
            $this->logger = $logger;
        }

        /** @return int|float */
        public function getMaxWaitReplyStackResult()
        {
            return $this->maxWaitReplyStackResult;
        }

        /**
         * @param int|float $maxWaitReplyStackResult seconds an iteration waits for subscribersPerIteration Performers;
         *        after that it pulses for those who came (the original's "imitation"; default 5)
         */
        public function setMaxWaitReplyStackResult($maxWaitReplyStackResult)
        {
            $this->maxWaitReplyStackResult = $maxWaitReplyStackResult;
        }

        /** @return int|float */
        public function getMaxWaitAllSubscribersReadyBeforePublish()
        {
            return $this->maxWaitAllSubscribersReadyBeforePublish;
        }

        /** @param int|float $maxWaitAllSubscribersReadyBeforePublish seconds admitted Performers get to subscribe (default 7) */
        public function setMaxWaitAllSubscribersReadyBeforePublish($maxWaitAllSubscribersReadyBeforePublish)
        {
            $this->maxWaitAllSubscribersReadyBeforePublish = $maxWaitAllSubscribersReadyBeforePublish;
        }

        /** @return PublisherToSubscribersDto|null */
        public function getPublisherToSubscribersDto()
        {
            return $this->publisherToSubscribersDto;
        }

        /**
         * The object every pulse carries: your subclass with your commands. It is serialize()d once when `manage()`
         * starts; Performers get an equal instance (the class must be loadable there too).
         */
        public function setPublisherToSubscribersDto(PublisherToSubscribersDto $publisherToSubscribersDto)
        {
            $this->publisherToSubscribersDto = $publisherToSubscribersDto;
        }

        /** @return PulsarSocketsParamsDto|null */
        public function getPulsarSocketsParams()
        {
            return $this->pulsarSocketsParams;
        }

        public function setPulsarSocketsParams(PulsarSocketsParamsDto $pulsarSocketsParams)
        {
            $this->pulsarSocketsParams = $pulsarSocketsParams;
        }

        /** @return int */
        public function getTimerIterationsLimit()
        {
            return $this->timerIterationsLimit;
        }

        /** @param int $timerIterationsLimit `manage()` returns after this many iterations; 0: never (default) */
        public function setTimerIterationsLimit($timerIterationsLimit)
        {
            $this->timerIterationsLimit = $timerIterationsLimit;
        }

        /** @return int|null */
        public function getMaxAdmissionQueue()
        {
            return $this->maxAdmissionQueue;
        }

        /**
         * New in the drop-in: the most Performers that may wait for admission; beyond it requests are refused at once
         * (default 65536).
         *
         * @param int $maxAdmissionQueue
         */
        public function setMaxAdmissionQueue($maxAdmissionQueue)
        {
            $this->maxAdmissionQueue = $maxAdmissionQueue;
        }
    }
}

namespace React\PublisherPulsar\Inventory {

    /**
     * The three Pulsar addresses a Performer connects to; each is the same as the Pulsar's matching setting in
     * `PulsarSocketsParamsDto` (publish ⇄ publisherPulsar, pull ⇄ pushPulsar, replyStack ⇄ requestPulsarRs).
     */
    class PerformerSocketsParamsDto
    {
        /** @var string */
        protected $publisherPulsarSocketAddress;

        /** @var string */
        protected $pushPulsarSocketAddress;

        /** @var string */
        protected $requestPulsarRsSocketAddress;

        /** @return string */
        public function getPublisherPulsarSocketAddress()
        {
            return $this->publisherPulsarSocketAddress;
        }

        /** @param string $publisherPulsarSocketAddress default tcp://127.0.0.1:6273 */
        public function setPublisherPulsarSocketAddress($publisherPulsarSocketAddress)
        {
            $this->publisherPulsarSocketAddress = $publisherPulsarSocketAddress;
        }

        /** @return string */
        public function getPushPulsarSocketAddress()
        {
            return $this->pushPulsarSocketAddress;
        }

        /** @param string $pushPulsarSocketAddress default tcp://127.0.0.1:6274 */
        public function setPushPulsarSocketAddress($pushPulsarSocketAddress)
        {
            $this->pushPulsarSocketAddress = $pushPulsarSocketAddress;
        }

        /** @return string */
        public function getRequestPulsarRsSocketAddress()
        {
            return $this->requestPulsarRsSocketAddress;
        }

        /** @param string $requestPulsarRsSocketAddress default tcp://127.0.0.1:6275 */
        public function setRequestPulsarRsSocketAddress($requestPulsarRsSocketAddress)
        {
            $this->requestPulsarRsSocketAddress = $requestPulsarRsSocketAddress;
        }
    }
}

namespace React\PublisherPulsar\Inventory {

    /**
     * A Performer's settings (`new Performer($performerDto)` or `Performer::setPerformerDto()`).
     *
     * The three timeouts are new in the drop-in: the original waited forever when the Pulsar was down; here each wait
     * ends with a PublisherPulsarException (DAEMON_UNREACHABLE). Null means the default.
     */
    class PerformerDto
    {
        /** @var string for the log lines: which kind of Performer acts */
        protected $moduleName;

        /** @var object|null PSR-3 style logger; null: warnings go to STDERR */
        protected $logger;

        /** @var PerformerSocketsParamsDto|null null: the default addresses (6273, 6274, 6275 on 127.0.0.1) */
        protected $socketsParams;

        /** @var int|float|null seconds to wait for admission (default 60) */
        protected $admissionTimeout;

        /** @var int|float|null seconds to wait for the pulse once admitted (default 30) */
        protected $pulseTimeout;

        /** @var int|float|null seconds to wait for a message to be handed over (default 5) */
        protected $sendTimeout;

        /** @return string|null */
        public function getModuleName()
        {
            return $this->moduleName;
        }

        /** @param string $moduleName e.g. "YourServiceNameContainingPerformer" */
        public function setModuleName($moduleName)
        {
            $this->moduleName = $moduleName;
        }

        /** @return object|null */
        public function getLogger()
        {
            return $this->logger;
        }

        /** @param object $logger any PSR-3 style logger (info/warning/error/debug), e.g. `\Log::getMonolog()` */
        public function setLogger($logger)
        {
            $this->logger = $logger;
        }

        /** @return PerformerSocketsParamsDto|null */
        public function getSocketsParams()
        {
            return $this->socketsParams;
        }

        public function setSocketsParams(PerformerSocketsParamsDto $socketsParams)
        {
            $this->socketsParams = $socketsParams;
        }

        /** @return int|float|null */
        public function getAdmissionTimeout()
        {
            return $this->admissionTimeout;
        }

        /**
         * @param int|float $admissionTimeout seconds; with W Performers queued ahead and N per period, admission takes
         *        about W / N periods, so raise it for long queues
         */
        public function setAdmissionTimeout($admissionTimeout)
        {
            $this->admissionTimeout = $admissionTimeout;
        }

        /** @return int|float|null */
        public function getPulseTimeout()
        {
            return $this->pulseTimeout;
        }

        /** @param int|float $pulseTimeout seconds; raise it if the Pulsar may slow down (pauses up to 300 s) */
        public function setPulseTimeout($pulseTimeout)
        {
            $this->pulseTimeout = $pulseTimeout;
        }

        /** @return int|float|null */
        public function getSendTimeout()
        {
            return $this->sendTimeout;
        }

        /** @param int|float $sendTimeout seconds */
        public function setSendTimeout($sendTimeout)
        {
            $this->sendTimeout = $sendTimeout;
        }
    }
}
