<?php

namespace React\PublisherPulsar\Inventory;

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
