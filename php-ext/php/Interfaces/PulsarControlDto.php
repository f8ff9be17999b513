<?php

namespace React\PublisherPulsar\Interfaces;

/**
 * Marker of the control messages the Pulsar receives. Interfaces never appear in serialize() output, so this only
 * keeps the original class hierarchy (`instanceof` checks in users' code keep working).
 */
interface PulsarControlDto
{
}
