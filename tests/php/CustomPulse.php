<?php
/**
 * A user subclass of the pulse, as the original README invites (`setPublisherToSubscribersDto()`): the object
 * of golden vector 04. A worker can only accept such a pulse if it can load the class, which is why it lives in
 * its own file that both the vector check and the test worker load.
 *
 * It must never change: its bytes are vector 04 (inherited protected allowAction first, then a public
 * `command`, then a protected `secretToken`).
 */

declare(strict_types=1);

namespace PulsarHarness;

require_once __DIR__ . '/OriginalProtocol.php';

use React\PublisherPulsar\Inventory\PublisherToSubscribersDto;

/** A pulse that carries a command for the workers beside the permission. */
class CustomPublisherToSubscribersDto extends PublisherToSubscribersDto
{
    /** @var string */
    public $command = 'slow-down-please';

    /** @var string */
    protected $secretToken = 't0ken';

    public function getSecretToken()
    {
        return $this->secretToken;
    }
}
