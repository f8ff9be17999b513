<?php
/**
 * IDE stubs for the pulsar extension (pulsar.so): the classes it implements in Rust, shown by signature.
 *
 * The DTO classes (Inventory\*, Abstracts\PushDto, Interfaces\*, the exception) are plain PHP that the extension
 * embeds: their declarations are the sources themselves, in php-ext/php/ (PSR-4 under React\PublisherPulsar\).
 * Point the IDE at this file and at php-ext/php/ (or install the composer package). Never include this file where
 * the extension is loaded: the classes already exist there. tests/phpunit/StubsTest.php checks this file plus those
 * sources against the implementation under test.
 *
 * @noinspection PhpUnused
 */

namespace React\PublisherPulsar {

    use React\PublisherPulsar\Inventory\ActionResultingPushDto;
    use React\PublisherPulsar\Inventory\PerformerDto;
    use React\PublisherPulsar\Inventory\PerformerSocketsParamsDto;
    use React\PublisherPulsar\Inventory\PublisherPulsarDto;
    use React\PublisherPulsar\Inventory\PublisherToSubscribersDto;

    /**
     * The daemon. Runs inside the calling PHP process: `setPublisherPulsarDto($dto)`, then `manage()`, which
     * blocks until SIGTERM/SIGINT or the DTO's timerIterationsLimit, as the original did.
     */
    class Pulsar
    {
        public function __construct() {}

        /**
         * Sets the daemon's settings (read when manage() starts).
         *
         * @param PublisherPulsarDto $publisherPulsarDto
         * @throws Inventory\Exceptions\PublisherPulsarException INVALID_SETTING for anything else
         */
        public function setPublisherPulsarDto($publisherPulsarDto): void {}

        /** @return PublisherPulsarDto|null the settings given to setPublisherPulsarDto() */
        public function getPublisherPulsarDto(): mixed {}

        /**
         * Binds the sockets and runs the daemon until SIGTERM/SIGINT (then returns normally) or until
         * timerIterationsLimit iterations. Log records go to the DTO's logger (PSR-3 style), or to STDOUT.
         * A logger's exception stops the daemon and is rethrown from here.
         *
         * @throws Inventory\Exceptions\PublisherPulsarException INVALID_SETTING (the message names the setter),
         *         SOCKET_ERROR (e.g. an address in use)
         */
        public function manage(): void {}
    }

    /**
     * A worker's link to the Pulsar: wait for permission, act, report once.
     */
    class Performer
    {
        /**
         * `new Performer()` or, as in the article, `new Performer($performerDto)`.
         *
         * @param PerformerDto|null $performerDto
         */
        public function __construct($performerDto = null) {}

        /**
         * Sets the settings; they count from the next connectToPulsarAndWaitPermissionToAct().
         *
         * @param PerformerDto $performerDto
         */
        public function setPerformerDto($performerDto): void {}

        /** @return PerformerDto|null */
        public function getPerformerDto(): mixed {}

        /** Puts the default addresses (tcp://127.0.0.1:6273, :6274, :6275) into the PerformerDto (created if none). */
        public function initDefaultPerformerSocketsParams(): void {}

        /**
         * Sets the three Pulsar addresses (into the PerformerDto, created if none).
         *
         * @param PerformerSocketsParamsDto $socketsParams
         */
        public function setSocketsParams($socketsParams): void {}

        /**
         * Asks for admission and waits for the pulse that allows acting now. Each permission must be reported
         * once: pushActionResultInfo(), pushActionResultInfoWithoutPulsarCorrectionBehavior() or
         * pushPerformerEarlyTerminated().
         *
         * @throws Inventory\Exceptions\PublisherPulsarException DAEMON_UNREACHABLE after the PerformerDto's
         *         timeouts, ADMISSION_REFUSED, ACTION_NOT_ALLOWED (allowAction false), PULSE_CLASS_NOT_ALLOWED
         *         (the pulse's class is not declared here or is not a PublisherToSubscribersDto), INVALID_SETTING
         */
        public function connectToPulsarAndWaitPermissionToAct(): void {}

        /**
         * @return PublisherToSubscribersDto|null the object of the last pulse: the daemon's
         *         publisherToSubscribersDto (your subclass, with its properties) or the default one
         */
        public function getPublisherToSubscribersDto(): mixed {}

        /**
         * Reports the result of the permitted action; an error in it may make the Pulsar slow down or pause.
         *
         * @param ActionResultingPushDto $actionResultingPushDto
         * @throws Inventory\Exceptions\PublisherPulsarException OUT_OF_ORDER without a permission held
         */
        public function pushActionResultInfo($actionResultingPushDto): void {}

        /**
         * Reports that the permitted action went fine.
         *
         * @throws Inventory\Exceptions\PublisherPulsarException OUT_OF_ORDER without a permission held
         */
        public function pushActionResultInfoWithoutPulsarCorrectionBehavior(): void {}

        /**
         * Tells the Pulsar this worker ends early. With true (the default) it gives back a permission received
         * but not used, so that the Pulsar does not wait for its result; with false it only informs.
         */
        public function pushPerformerEarlyTerminated(bool $standOnSubscription = true): void {}
    }

    /**
     * The original's admission process. The admission desk now runs inside Pulsar::manage(), so
     * startCommunication() only keeps an existing command (artisan, supervisor) alive: it logs once and blocks
     * until SIGTERM or SIGINT.
     */
    class ReplyStack
    {
        public function __construct() {}

        public function startCommunication(): void {}
    }
}

namespace React\PublisherPulsar\Internal {

    /**
     * @internal the extension's autoloader for its embedded PHP classes, registered at every request start-up.
     */
    function autoload(string $class): void {}

    /**
     * @internal the daemon's settings table as JSON (key, PHP getter and setter, type, default, range, help).
     */
    function settings(): string {}

    /**
     * @internal the configuration manage() would run with, as JSON, after the core's checks.
     * @throws \React\PublisherPulsar\Inventory\Exceptions\PublisherPulsarException as manage() would
     */
    function checkSettings($dto): string {}
}
