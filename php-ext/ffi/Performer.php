<?php

declare(strict_types=1);

namespace React\PublisherPulsar;

use React\PublisherPulsar\Ffi\PerformerClient;

/**
 * A worker's link to the Pulsar, FFI route: wait for permission, act, report. Used when the pulsar extension is
 * not loaded (the extension's class of the same name wins when it is); same API, settings and exceptions. The
 * work is done by Ffi\PerformerClient over libpulsar.
 *
 * libpulsar's records of each call (warnings) reach the DTO's logger, or STDERR, as with the extension.
 */
class Performer
{
    /**
     * `new Performer()` or, as in the article, `new Performer($performerDto)`.
     *
     * @param Inventory\PerformerDto|null $performerDto
     */
    public function __construct($performerDto = null)
    {
        $client = PerformerClient::of($this);
        if ($performerDto !== null) {
            $client->setPerformerDto($performerDto);
        }
    }

    /**
     * Sets the settings; they count from the next connectToPulsarAndWaitPermissionToAct().
     *
     * @param Inventory\PerformerDto $performerDto
     */
    public function setPerformerDto($performerDto): void
    {
        PerformerClient::of($this)->setPerformerDto($performerDto);
    }

    /** @return Inventory\PerformerDto|null */
    public function getPerformerDto(): mixed
    {
        return PerformerClient::of($this)->performerDto();
    }

    /** Puts the default addresses (tcp://127.0.0.1:6273, :6274, :6275) into the PerformerDto (created if none). */
    public function initDefaultPerformerSocketsParams(): void
    {
        PerformerClient::of($this)->initDefaultPerformerSocketsParams();
    }

    /**
     * Sets the three Pulsar addresses (into the PerformerDto, created if none).
     *
     * @param Inventory\PerformerSocketsParamsDto $socketsParams
     */
    public function setSocketsParams($socketsParams): void
    {
        PerformerClient::of($this)->setSocketsParams($socketsParams);
    }

    /**
     * Asks for admission and waits for the pulse that allows acting now. Each permission must be reported once:
     * pushActionResultInfo(), pushActionResultInfoWithoutPulsarCorrectionBehavior() or
     * pushPerformerEarlyTerminated().
     */
    public function connectToPulsarAndWaitPermissionToAct(): void
    {
        PerformerClient::of($this)->waitPermission();
    }

    /** @return Inventory\PublisherToSubscribersDto|null the object of the last pulse (or the daemon's subclass) */
    public function getPublisherToSubscribersDto(): mixed
    {
        return PerformerClient::of($this)->received();
    }

    /**
     * Reports the result of the permitted action, sent exactly as the DTO holds it; an error in it may make the
     * Pulsar slow down or pause.
     *
     * @param Inventory\ActionResultingPushDto $actionResultingPushDto
     */
    public function pushActionResultInfo($actionResultingPushDto): void
    {
        PerformerClient::of($this)->reportResult($actionResultingPushDto);
    }

    /** Reports that the permitted action went fine. */
    public function pushActionResultInfoWithoutPulsarCorrectionBehavior(): void
    {
        PerformerClient::of($this)->reportSuccess();
    }

    /**
     * Tells the Pulsar this worker ends early. With $standOnSubscription true (the default) it gives back a
     * permission received but not used, so the Pulsar does not wait for its result.
     */
    public function pushPerformerEarlyTerminated(bool $standOnSubscription = true): void
    {
        PerformerClient::of($this)->reportEarlyTermination($standOnSubscription);
    }

    /** A Performer holds native sockets: like the extension's, it cannot be cloned. */
    private function __clone()
    {
    }
}
