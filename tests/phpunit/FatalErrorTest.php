<?php

declare(strict_types=1);

namespace PulsarTest;

use PulsarTest\Support\Child;
use PulsarTest\Support\Implementation;
use PulsarTest\Support\Ports;
use PulsarTest\Support\PulsarTestCase;

/**
 * A PHP fatal error in user code that the library calls (a DTO getter, an autoloader, a pulse's __wakeup, the
 * logger) ends the process as PHP itself ends it: the fatal error message, exit status 255, shutdown functions run
 * with error_get_last() naming the error, no catch or finally block and no crash or abort. Each case runs in a
 * child (fixtures/fatal.php), since a fatal error ends the process. With the extension the error is caught at its
 * zend_try boundary and handed back to PHP after every Rust frame returned (php-ext/src/boundary.rs).
 */
final class FatalErrorTest extends PulsarTestCase
{
    private const E_USER_ERROR = 256;

    /** @param array<string,mixed> $config */
    private function fatalChild(array $config): Child
    {
        $child = Child::start(Implementation::php(self::FIXTURES . '/fatal.php', [json_encode($config)]));
        $exit = $child->wait(30);
        $this->assertNotNull($exit, "the child did not end:\n" . $child->describe());
        $this->assertSame(['code' => 255, 'signal' => null], $exit, $child->describe());
        return $child;
    }

    /** The child ended with PHP's fatal error $message, as PHP reports one. */
    private function assertEndedByFatalError(Child $child, string $message): void
    {
        $output = $child->stdout() . $child->stderr();
        $this->assertMatchesRegularExpression('/Fatal error: +' . preg_quote($message, '/') . '/', $output, $child->describe());
        $this->assertSame([['SHUTDOWN', (string) self::E_USER_ERROR, ...explode(' ', $message)]],
            self::lines($child->stdout(), 'SHUTDOWN'), $child->describe());
        foreach (['FINALLY', 'AFTER', 'CAUGHT'] as $word) {
            $this->assertStringNotContainsString($word, $child->stdout(), 'the script went on after the fatal error');
        }
        foreach (['panicked', 'Segmentation', 'Aborted', 'core dumped', 'Bailed out'] as $crash) {
            $this->assertStringNotContainsString($crash, $output);
        }
    }

    public function testAFatalErrorInADtoGetterEndsTheRequestAsPhpWould(): void
    {
        $child = $this->fatalChild(['mode' => 'getter']);
        $this->assertEndedByFatalError($child, 'fatal in a DTO getter');
        // The control: the same getter called by the script itself gives the same output.
        $direct = $this->fatalChild(['mode' => 'direct']);
        $this->assertSame($direct->stdout(), $child->stdout());
        $this->assertSame($direct->stderr(), $child->stderr());
    }

    public function testAFatalErrorInAnAutoloaderEndsTheRequestAndTheDaemonGetsThePermissionBack(): void
    {
        [$daemon, $sockets] = $this->startHoldingDaemon('React\PublisherPulsar\Inventory\PublisherToSubscribersDto');
        $child = $this->fatalChild(['mode' => 'autoloader'] + self::performerAddresses($sockets));
        $autoloaded = self::lines($child->stdout(), 'AUTOLOAD');
        $this->assertNotEmpty($autoloaded, $child->describe());
        $this->assertStringStartsWith('React\PublisherPulsar\\', $autoloaded[0][1]);
        $this->assertEndedByFatalError($child, 'fatal in an autoloader asked for ' . $autoloaded[0][1]);
        $this->assertPermissionCameBack($daemon, $sockets);
    }

    public function testAFatalErrorInThePulsesWakeupEndsTheRequestAndTheDaemonGetsThePermissionBack(): void
    {
        [$daemon, $sockets] = $this->startHoldingDaemon('PulsarTest\Fixtures\FatalWakeup');
        $child = $this->fatalChild(['mode' => 'wakeup'] + self::performerAddresses($sockets));
        $this->assertEndedByFatalError($child, 'fatal in __wakeup');
        $this->assertPermissionCameBack($daemon, $sockets);
    }

    public function testAFatalErrorInTheDaemonsLoggerEndsTheRequestAsPhpWould(): void
    {
        $child = $this->fatalChild(['mode' => 'logger', 'sockets' => Ports::pulsarAddresses()]);
        $this->assertEndedByFatalError($child, 'fatal in the logger');
    }

    public function testAFatalErrorInThePulseObjectsSerializeEndsTheRequestAsPhpWould(): void
    {
        $child = $this->fatalChild(['mode' => 'serialize', 'sockets' => Ports::pulsarAddresses()]);
        $this->assertEndedByFatalError($child, 'fatal in __serialize');
    }

    /**
     * pulsard publishing an object of $class with a 60 s action time: a permission neither reported nor given back
     * would hold the next worker for 30 s.
     *
     * @return array{0:Child,1:array<string,string>}
     */
    private function startHoldingDaemon(string $class): array
    {
        $pulse = sprintf('O:%d:"%s":1:{s:14:"%s";b:1;}', strlen($class), $class, "\0*\0allowAction");
        return $this->startPulsard([
            'publisherToSubscribersDto' => $pulse, 'pulsationIterationPeriod' => 0.2, 'subscribersPerIteration' => 1,
            'maxWaitReplyStackResult' => 0.1, 'performerContainerActionMaxExecutionTime' => 60,
        ]);
    }

    /** The next worker is served within 10 s: the failed worker's permission came back. */
    private function assertPermissionCameBack(Child $daemon, array $sockets): void
    {
        $next = $this->newPerformer($sockets, 10.0);
        try {
            $next->connectToPulsarAndWaitPermissionToAct();
            $next->pushActionResultInfoWithoutPulsarCorrectionBehavior();
        } catch (\React\PublisherPulsar\Inventory\Exceptions\PublisherPulsarException $e) {
            // This process has no FatalWakeup class: refused, but served in time.
            $this->assertSame(
                \React\PublisherPulsar\Inventory\Exceptions\PublisherPulsarException::PULSE_CLASS_NOT_ALLOWED_CODE,
                $e->getCode(),
                $e->getMessage()
            );
        }
        $daemon->terminate();
        $this->assertSame(['code' => 0, 'signal' => null], $daemon->wait(15), $daemon->describe());
    }
}
