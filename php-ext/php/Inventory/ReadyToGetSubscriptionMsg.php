<?php

namespace React\PublisherPulsar\Inventory;

use React\PublisherPulsar\Abstracts\PushDto;

/** Performer → Pulsar (PUSH): "I am subscribed, release me with the next pulse" (golden vector 05). */
class ReadyToGetSubscriptionMsg extends PushDto
{
}
