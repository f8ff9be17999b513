<?php

namespace React\PublisherPulsar\Inventory;

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
