<?php

namespace React\PublisherPulsar\Interfaces;

/** Marker of the control messages the admission desk (the original ReplyStack) receives. */
interface ReplyStackControlDto
{
}
