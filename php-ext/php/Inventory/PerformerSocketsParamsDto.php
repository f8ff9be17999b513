<?php

namespace React\PublisherPulsar\Inventory;

/**
 * The three Pulsar addresses a Performer connects to; each is the same as the Pulsar's matching setting in
 * `PulsarSocketsParamsDto` (publish ⇄ publisherPulsar, pull ⇄ pushPulsar, replyStack ⇄ requestPulsarRs).
 *
 * The daemon's CURVE public key is new in the drop-in (the original had only the NULL mechanism): null, the
 * default, keeps the three sockets as the original's.
 */
class PerformerSocketsParamsDto
{
    /** @var string */
    protected $publisherPulsarSocketAddress;

    /** @var string */
    protected $pushPulsarSocketAddress;

    /** @var string */
    protected $requestPulsarRsSocketAddress;

    /** @var string|null the daemon's CURVE public key (Z85); null: no CURVE, as the original */
    protected $curveServerKey;

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

    /** @return string|null */
    public function getCurveServerKey()
    {
        return $this->curveServerKey;
    }

    /**
     * @param string|null $curveServerKey the daemon's CURVE public key (40 Z85 characters, logged by a daemon
     *        started with `curveSecretKey`): the three sockets then use CURVE (encrypted, and only the daemon that
     *        holds the matching secret key can answer). Null (the default): the NULL mechanism, as the original;
     *        a daemon with `curveSecretKey` does not serve such a Performer.
     */
    public function setCurveServerKey($curveServerKey)
    {
        $this->curveServerKey = $curveServerKey;
    }
}
