<?php

declare(strict_types=1);

namespace React\PublisherPulsar;

use React\PublisherPulsar\Ffi\PulsarRunner;

/**
 * The daemon, FFI route: `setPublisherPulsarDto($dto)`, then `manage()`. Used when the pulsar extension is not
 * loaded (the extension's class of the same name wins when it is); same API, settings and exceptions. The work is
 * done by Ffi\PulsarRunner over libpulsar.
 *
 * The daemon's log records reach the DTO's logger (or STDOUT) as with the extension, forwarded from libpulsar's
 * queue while manage() waits. Difference, due to the C ABI: a pulse object whose serialize() bytes are not UTF-8 is
 * refused (the C ABI takes the settings as JSON).
 */
class Pulsar
{
    public function __construct()
    {
    }

    /**
     * Sets the daemon's settings (read when manage() starts).
     *
     * @param Inventory\PublisherPulsarDto $publisherPulsarDto
     */
    public function setPublisherPulsarDto($publisherPulsarDto): void
    {
        PulsarRunner::of($this)->setPublisherPulsarDto($publisherPulsarDto);
    }

    /** @return Inventory\PublisherPulsarDto|null the settings given to setPublisherPulsarDto() */
    public function getPublisherPulsarDto(): mixed
    {
        return PulsarRunner::of($this)->publisherPulsarDto();
    }

    /**
     * Runs the daemon in this process until SIGTERM/SIGINT (or timerIterationsLimit iterations), then returns.
     *
     * @throws Inventory\Exceptions\PublisherPulsarException INVALID_SETTING (the message names the setter),
     *         SOCKET_ERROR (an address cannot be bound)
     */
    public function manage(): void
    {
        PulsarRunner::of($this)->manage();
    }

    /** Like the extension's Pulsar, it cannot be cloned. */
    private function __clone()
    {
    }
}
