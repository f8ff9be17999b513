<?php

namespace React\PublisherPulsar\Abstracts;

/**
 * Parent of everything a Performer PUSHes to the Pulsar. It has no properties, so nothing of it shows in the
 * bytes; it exists so that the class hierarchy is the original's.
 */
abstract class PushDto
{
}
