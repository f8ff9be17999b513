<?php

namespace React\PublisherPulsar\Inventory;

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

    /** @var int|null the most released Performers acting at once; null: the core's default (0, meaning N) */
    protected $maxActingPerformers;

    /** @var int|float|null seconds added between pulses against receipt jitter; null: 0.005 */
    protected $pulseGuardInterval;

    /** @var int|float|null the longest one pause-for-period lasts, in seconds; null: 86400 */
    protected $maxPauseForPeriod;

    /** @var list<string>|string|null networks or addresses peers may connect from; null: any */
    protected $allowFrom;

    /** @var int|null the most connections open at once on the three sockets; null: 1024 */
    protected $maxConnections;

    /** @var string|null the daemon's CURVE secret key (Z85); null: no CURVE */
    protected $curveSecretKey;

    /** @var string|null the file the daemon keeps for its successor; null: one in the temporary folder */
    protected $stateFile;

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

    /** @return int|null */
    public function getMaxActingPerformers()
    {
        return $this->maxActingPerformers;
    }

    /**
     * New in the drop-in: the most released Performers acting at once, each holding its slot until its result,
     * its early termination or the result timeout; 0 (the default) means subscribersPerIteration, the original's
     * bound. A larger value lets the next pulse go out while slow actions of the last one are still running.
     *
     * @param int $maxActingPerformers
     */
    public function setMaxActingPerformers($maxActingPerformers)
    {
        $this->maxActingPerformers = $maxActingPerformers;
    }

    /** @return int|float|null */
    public function getPulseGuardInterval()
    {
        return $this->pulseGuardInterval;
    }

    /**
     * New in the drop-in: seconds added to the period between pulses (at most 2 % of the period), so that the
     * Performers' own clocks see at most subscribersPerIteration per exact period window (default 0.005; 0 turns
     * the guard off).
     *
     * @param int|float $pulseGuardInterval
     */
    public function setPulseGuardInterval($pulseGuardInterval)
    {
        $this->pulseGuardInterval = $pulseGuardInterval;
    }

    /** @return int|float|null */
    public function getMaxPauseForPeriod()
    {
        return $this->maxPauseForPeriod;
    }

    /**
     * New in the drop-in: the longest one pause-for-period lasts, in seconds, whatever sleepPeriod a result asks
     * for (default 86400, the longest quota day); each pause is logged with the requested and applied length.
     *
     * @param int|float $maxPauseForPeriod
     */
    public function setMaxPauseForPeriod($maxPauseForPeriod)
    {
        $this->maxPauseForPeriod = $maxPauseForPeriod;
    }

    /** @return list<string>|string|null */
    public function getAllowFrom()
    {
        return $this->allowFrom;
    }

    /**
     * New in the drop-in: the networks (`10.0.0.0/8`) or addresses Performers may connect from, checked for each
     * new connection; default: any address that reaches the bound sockets (loopback only with the default
     * addresses).
     *
     * @param list<string>|string $allowFrom a list, or one string with commas between the entries
     */
    public function setAllowFrom($allowFrom)
    {
        $this->allowFrom = $allowFrom;
    }

    /** @return int|null */
    public function getMaxConnections()
    {
        return $this->maxConnections;
    }

    /**
     * New in the drop-in: the most connections open at once on the three sockets; beyond it new ones are refused
     * and logged (default 1024, lowered at start to fit the process's descriptor limit).
     *
     * @param int $maxConnections
     */
    public function setMaxConnections($maxConnections)
    {
        $this->maxConnections = $maxConnections;
    }

    /** @return string|null */
    public function getCurveSecretKey()
    {
        return $this->curveSecretKey;
    }

    /**
     * New in the drop-in: the daemon's CURVE secret key (40 Z85 characters): every socket becomes a CURVE server
     * and only Performers that know its public key (PerformerSocketsParamsDto::setCurveServerKey()) are served;
     * the original workers cannot use CURVE. The public key is logged at start. Read it from a secret store or
     * the environment rather than writing it in the code.
     *
     * @param string $curveSecretKey
     */
    public function setCurveSecretKey($curveSecretKey)
    {
        $this->curveSecretKey = $curveSecretKey;
    }

    /** @return string|null */
    public function getStateFile()
    {
        return $this->stateFile;
    }

    /**
     * New in the drop-in: the file where the daemon records whether it runs and when it last pulsed, so that the
     * next daemon on the same addresses waits only what the limit needs (default: pulsard-ENDPOINT.state in the
     * temporary folder). One file per daemon; its directory must be writable.
     *
     * @param string $stateFile
     */
    public function setStateFile($stateFile)
    {
        $this->stateFile = $stateFile;
    }
}
