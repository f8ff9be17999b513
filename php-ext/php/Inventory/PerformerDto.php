<?php

namespace React\PublisherPulsar\Inventory;

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
