<?php

declare(strict_types=1);

namespace PulsarTest;

use PulsarTest\Fixtures\Mine;
use PulsarTest\Support\Child;
use PulsarTest\Support\Implementation;
use PulsarTest\Support\PulsarTestCase;
use React\PublisherPulsar\Inventory\Exceptions\PublisherPulsarException;
use React\PublisherPulsar\Inventory\PublisherToSubscribersDto;

require_once __DIR__ . '/fixtures/pulse_classes.php';

/**
 * What a released Performer gets: the daemon's PublisherToSubscribersDto, or the user's subclass with all its
 * properties, exactly as the original's unserialize() would build it; and network bytes never become an object
 * of any other class.
 */
final class PulseObjectTest extends PulsarTestCase
{
    private const FAST = ['pulsationIterationPeriod' => 0.2, 'subscribersPerIteration' => 1, 'maxWaitReplyStackResult' => 0.1];

    /** serialize() text of an object of $class with the given (already serialized) properties. */
    private static function phpObject(string $class, array $properties): string
    {
        $body = '';
        foreach ($properties as $name => $value) {
            $body .= serialize((string) $name) . $value;
        }
        return sprintf('O:%d:"%s":%d:{%s}', strlen($class), $class, count($properties), $body);
    }

    private function performerChild(array $sockets, array $extra, array $env = []): Child
    {
        return Child::start(Implementation::php(self::FIXTURES . '/performer.php', [json_encode(
            self::performerAddresses($sockets) + ['id' => 'p', 'iterations' => 1, 'timeout' => 10] + $extra
        )]), $env);
    }

    public function testTheDefaultPulseIsAPublisherToSubscribersDto(): void
    {
        [$daemon, $sockets] = $this->startDaemon(self::FAST);
        $performer = $this->newPerformer($sockets);
        $this->assertNull($performer->getPublisherToSubscribersDto());
        $performer->connectToPulsarAndWaitPermissionToAct();
        $received = $performer->getPublisherToSubscribersDto();
        $this->assertSame(PublisherToSubscribersDto::class, get_class($received));
        $this->assertTrue($received->isAllowAction());
        $performer->pushActionResultInfoWithoutPulsarCorrectionBehavior();
        $this->stopDaemon($daemon);
    }

    public function testAUserSubclassArrivesWithEveryProperty(): void
    {
        $published = [
            'class' => Mine::class, 'command' => 'slow-down-please', 'secretToken' => "t0k\0en \xD0\x86",
            'privateNote' => 'only for me', 'options' => ['depth' => ['a' => 1, 'b' => [true, null, 2.5]]],
        ];
        [$daemon, $sockets] = $this->startDaemon(self::FAST + ['publish' => $published]);
        $expected = new Mine();
        $expected->command = $published['command'];
        $expected->setSecretToken($published['secretToken']);
        $expected->setPrivateNote($published['privateNote']);
        $expected->options = $published['options'];

        $performer = $this->newPerformer($sockets);
        for ($cycle = 0; $cycle < 2; $cycle++) {
            $performer->connectToPulsarAndWaitPermissionToAct();
            $received = $performer->getPublisherToSubscribersDto();
            $this->assertInstanceOf(Mine::class, $received);
            $this->assertEquals($expected, $received);
            $this->assertSame(serialize($expected), serialize($received), 'byte for byte the daemon\'s object');
            $this->assertSame("t0k\0en \xD0\x86", $received->getSecretToken());
            $this->assertSame('only for me', $received->getPrivateNote());
            $performer->pushActionResultInfoWithoutPulsarCorrectionBehavior();
        }
        $this->stopDaemon($daemon);
    }

    public function testAnAutoloadedSubclassIsUsedOnceTheWorkerHasDeclaredIt(): void
    {
        [$daemon, $sockets] = $this->startDaemon(self::FAST + ['publish' => ['class' => Mine::class, 'command' => 'go']]);
        $worker = $this->performerChild($sockets, [
            'autoload' => self::FIXTURES . '/pulse_classes.php', 'declare' => [Mine::class],
        ]);
        $this->assertSame(['code' => 0, 'signal' => null], $worker->wait(30), $worker->describe());
        // Asked once, by the worker's own class_exists() before it waited.
        $this->assertSame([['AUTOLOAD', Mine::class]], self::lines($worker->stdout(), 'AUTOLOAD'), $worker->describe());
        $grant = self::lines($worker->stdout(), 'GRANT')[0];
        $this->assertSame(Mine::class, $grant[3]);
        $this->stopDaemon($daemon);
    }

    /**
     * Class names from the network never reach an autoloader (which could include any file its map points to, or
     * tell a prober which classes exist): a pulse naming a class the worker has not declared is malformed, and the
     * permission it brought is given back at once.
     *
     * @dataProvider undeclaredPulses
     */
    public function testANetworkClassNameNeverReachesAnAutoloader(string $pulse, string $class): void
    {
        // With a 60 s action time the daemon would wait 30 s for the refused worker's result; the Performer below
        // gives up after 10 s, so only a given-back permission lets it through in time.
        [$daemon, $sockets] = $this->startPulsard([
            'publisherToSubscribersDto' => $pulse, 'pulsationIterationPeriod' => 0.2, 'subscribersPerIteration' => 1,
            'maxWaitReplyStackResult' => 0.1, 'performerContainerActionMaxExecutionTime' => 60,
        ]);
        $worker = $this->performerChild($sockets, ['autoload' => self::FIXTURES . '/pulse_classes.php']);
        $this->assertSame(['code' => 1, 'signal' => null], $worker->wait(30), $worker->describe());
        $this->assertSame([], self::lines($worker->stdout(), 'AUTOLOAD'), 'an autoloader saw a name from the network');
        $error = self::lines($worker->stdout(), 'ERROR')[0];
        $this->assertSame((string) PublisherPulsarException::PULSE_CLASS_NOT_ALLOWED_CODE, $error[2], $worker->describe());
        $this->assertStringContainsString("class $class is not declared in this worker", $worker->stdout());

        // Served in time means the permission came back. This process has declared Mine (so it gets it) but not
        // Attacker\Probe (refused the same way, not timed out).
        $next = $this->newPerformer($sockets, 10.0);
        try {
            $next->connectToPulsarAndWaitPermissionToAct();
            $this->assertSame(Mine::class, get_class($next->getPublisherToSubscribersDto()));
            $next->pushActionResultInfoWithoutPulsarCorrectionBehavior();
        } catch (PublisherPulsarException $e) {
            $this->assertSame(PublisherPulsarException::PULSE_CLASS_NOT_ALLOWED_CODE, $e->getCode(), $e->getMessage());
        }
        $daemon->terminate();
        $this->assertSame(['code' => 0, 'signal' => null], $daemon->wait(15), $daemon->describe());
    }

    /** @return array<string,array{string,string}> */
    public static function undeclaredPulses(): array
    {
        return [
            'a stranger\'s class' => [self::phpObject('Attacker\Probe', ["\0*\0allowAction" => 'b:1;']), 'Attacker\Probe'],
            'a pulse subclass the worker could autoload' => [
                self::phpObject(Mine::class, ["\0*\0allowAction" => 'b:1;']),
                Mine::class,
            ],
            'nested in the base class' => [
                self::phpObject('React\PublisherPulsar\Inventory\PublisherToSubscribersDto', [
                    "\0*\0allowAction" => 'b:1;', 'probe' => self::phpObject('Attacker\Probe', []),
                ]),
                'Attacker\Probe',
            ],
        ];
    }

    public function testAClassTheWorkerDoesNotHaveIsRefusedClearly(): void
    {
        [$daemon, $sockets] = $this->startDaemon(self::FAST + ['publish' => ['class' => Mine::class, 'command' => 'go']]);
        $worker = $this->performerChild($sockets, []);
        $this->assertSame(['code' => 1, 'signal' => null], $worker->wait(30), $worker->describe());
        $error = self::lines($worker->stdout(), 'ERROR')[0];
        $this->assertSame((string) PublisherPulsarException::PULSE_CLASS_NOT_ALLOWED_CODE, $error[2]);
        $this->assertStringContainsString('class PulsarTest\Fixtures\Mine is not declared', $worker->stdout());
        $this->stopDaemon($daemon);
    }

    public function testAllowActionFalseIsRefusedAndNothingIsHandedOut(): void
    {
        [$daemon, $sockets] = $this->startDaemon(self::FAST + ['publish' => ['class' => Mine::class, 'allowAction' => false]]);
        $performer = $this->newPerformer($sockets);
        for ($cycle = 0; $cycle < 2; $cycle++) {
            try {
                $performer->connectToPulsarAndWaitPermissionToAct();
                $this->fail('a pulse with allowAction = false was accepted');
            } catch (PublisherPulsarException $e) {
                $this->assertSame(PublisherPulsarException::ACTION_NOT_ALLOWED_CODE, $e->getCode());
                $this->assertStringStartsWith(PublisherPulsarException::ACTION_NOT_ALLOWED . ':', $e->getMessage());
            }
            $this->assertNull($performer->getPublisherToSubscribersDto());
        }
        $this->stopDaemon($daemon);
    }

    /** @dataProvider hostilePulses */
    public function testNetworkBytesNeverBuildAnotherClass(string $pulse, string $mentions): void
    {
        [$daemon, $sockets] = $this->startPulsard([
            'publisherToSubscribersDto' => $pulse, 'pulsationIterationPeriod' => 0.2, 'maxWaitReplyStackResult' => 0.1,
        ]);
        $mark = $this->tempFile('pulsar-mark-');
        $worker = $this->performerChild($sockets, ['require' => [self::FIXTURES . '/pulse_classes.php']],
            ['PULSAR_TEST_MARK_FILE' => $mark]);
        $this->assertSame(['code' => 1, 'signal' => null], $worker->wait(30), $worker->describe());
        $error = self::lines($worker->stdout(), 'ERROR')[0];
        $this->assertSame((string) PublisherPulsarException::PULSE_CLASS_NOT_ALLOWED_CODE, $error[2], $worker->describe());
        $this->assertStringContainsString($mentions, $worker->stdout());
        $this->assertSame('', (string) file_get_contents($mark), 'Evil was instantiated (its __wakeup or __destruct ran)');
        $daemon->terminate();
        $this->assertSame(['code' => 0, 'signal' => null], $daemon->wait(15), $daemon->describe());
    }

    /** @return array<string,array{string,string}> */
    public static function hostilePulses(): array
    {
        $evil = self::phpObject('PulsarTest\Fixtures\Evil', ['allowAction' => 'b:1;']);
        return [
            'a declared class that is not a pulse' => [$evil, 'PulsarTest\Fixtures\Evil is not'],
            'nested inside an allowed subclass' => [
                self::phpObject('PulsarTest\Fixtures\Mine', ["\0*\0allowAction" => 'b:1;', 'nested' => $evil]),
                'PulsarTest\Fixtures\Evil is not',
            ],
            'inside an array of the pulse' => [
                self::phpObject('React\PublisherPulsar\Inventory\PublisherToSubscribersDto', [
                    "\0*\0allowAction" => 'b:1;', 'list' => 'a:1:{i:0;' . $evil . '}',
                ]),
                'PulsarTest\Fixtures\Evil is not',
            ],
            // PHP class names are case-insensitive: another spelling is the same class, refused all the same.
            'another spelling of it' => [self::phpObject('pulsartest\fixtures\EVIL', ['allowAction' => 'b:1;']), 'EVIL is not'],
        ];
    }
}
