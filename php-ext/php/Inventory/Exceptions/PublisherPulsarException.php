<?php

namespace React\PublisherPulsar\Inventory\Exceptions;

/**
 * Every failure of Publisher Pulsar reaches PHP as this exception.
 *
 * The message starts with one of the message constants below, then ": " and the details (which setting, which
 * address, how long was waited); `getCode()` is the matching `*_CODE` constant. Test with
 * `$e->getCode() === PublisherPulsarException::DAEMON_UNREACHABLE_CODE` rather than by parsing the message.
 */
class PublisherPulsarException extends \Exception
{
    /** A DTO setting cannot be used (the details name the setter), or a DTO is missing or of the wrong class. */
    const INVALID_SETTING = 'Invalid Publisher Pulsar setting';
    /** The Pulsar did not answer within the Performer's timeout: it is down, unreachable or overloaded. */
    const DAEMON_UNREACHABLE = 'The Pulsar did not answer in time';
    /** The Pulsar answered the admission request with a refusal (its queue is full, or it is stopping). */
    const ADMISSION_REFUSED = 'The Pulsar refused the admission';
    /** The pulse arrived with allowAction = false: the Performer must not act. */
    const ACTION_NOT_ALLOWED = 'The Pulsar does not allow the action';
    /** A Performer method was called at the wrong step, e.g. a result pushed without a permission. */
    const OUT_OF_ORDER = 'Publisher Pulsar method called out of order';
    /** ZeroMQ failed: an address is in use or malformed, or a socket broke. */
    const SOCKET_ERROR = 'Publisher Pulsar socket error';
    /** A peer sent bytes that are not the expected protocol message. */
    const PROTOCOL_ERROR = 'Unexpected message from the peer';
    /** The pulse names a class that is not PublisherToSubscribersDto or a declared subclass of it. */
    const PULSE_CLASS_NOT_ALLOWED = 'The pulse carries a class that may not be instantiated';
    /** A bug in the extension (a Rust panic caught at the boundary); please report it. */
    const INTERNAL_ERROR = 'Publisher Pulsar internal error';

    /** Code of INVALID_SETTING. */
    const INVALID_SETTING_CODE = 1;
    /** Code of DAEMON_UNREACHABLE. */
    const DAEMON_UNREACHABLE_CODE = 2;
    /** Code of ADMISSION_REFUSED. */
    const ADMISSION_REFUSED_CODE = 3;
    /** Code of ACTION_NOT_ALLOWED. */
    const ACTION_NOT_ALLOWED_CODE = 4;
    /** Code of OUT_OF_ORDER. */
    const OUT_OF_ORDER_CODE = 5;
    /** Code of SOCKET_ERROR. */
    const SOCKET_ERROR_CODE = 6;
    /** Code of PROTOCOL_ERROR. */
    const PROTOCOL_ERROR_CODE = 7;
    /** Code of PULSE_CLASS_NOT_ALLOWED. */
    const PULSE_CLASS_NOT_ALLOWED_CODE = 8;
    /** Code of INTERNAL_ERROR. */
    const INTERNAL_ERROR_CODE = 9;
}
