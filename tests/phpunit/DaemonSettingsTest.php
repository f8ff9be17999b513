<?php

declare(strict_types=1);

namespace PulsarTest;

use PulsarTest\Support\Child;
use PulsarTest\Support\Implementation;
use PulsarTest\Support\Ports;
use PulsarTest\Support\PulsarTestCase;
use React\PublisherPulsar\Inventory\Exceptions\PublisherPulsarException;
use React\PublisherPulsar\Inventory\PerformerDto;
use React\PublisherPulsar\Inventory\PerformerSocketsParamsDto;
use React\PublisherPulsar\Inventory\PublisherToSubscribersDto;
use React\PublisherPulsar\Performer;

/**
 * The drop-in's own daemon settings, set through PublisherPulsarDto and run by `Pulsar::manage()` (not pulsard):
 * CURVE, allowFrom and the state file do in a PHP-run daemon what they do in pulsard. The same on both routes.
 * (SettingsTableTest checks that every setter reaches the core's configuration; this checks that the daemon acts
 * on what it got.)
 */
final class DaemonSettingsTest extends PulsarTestCase
{
    /** The tests' key pair (PulsarTestCase). */
    private const SECRET = self::TEST_CURVE_SECRET;
    private const PUBLIC = self::TEST_CURVE_PUBLIC;

    /** A daemon quick enough for a test: one permission per 0.2 s pulse. */
    private const QUICK = ['pulsationIterationPeriod' => 0.2, 'subscribersPerIteration' => 1, 'maxWaitReplyStackResult' => 0.1];

    public function testSetCurveSecretKeyMakesTheDaemonACurveServer(): void
    {
        [$daemon, $sockets] = $this->startDaemon(self::QUICK + ['curveSecretKey' => self::SECRET]);
        // The daemon logs the public key of its secret key.
        $this->assertTrue($daemon->waitForOutput(self::PUBLIC, 5), $daemon->describe());

        $keyed = $this->performer($sockets, self::PUBLIC, 15.0);
        $keyed->connectToPulsarAndWaitPermissionToAct();
        $this->assertInstanceOf(PublisherToSubscribersDto::class, $keyed->getPublisherToSubscribersDto());
        $keyed->pushActionResultInfoWithoutPulsarCorrectionBehavior();

        // The original's NULL mechanism never completes the handshake with it.
        $this->assertNotServed(
            $this->performer($sockets, null, 1.0),
            'a Performer without the key was served by a daemon with setCurveSecretKey()'
        );
        $this->stopDaemon($daemon);
    }

    public function testSetAllowFromKeepsOtherAddressesOut(): void
    {
        // One string with commas between the entries, as in the environment variable: loopback is not in it.
        [$daemon, $sockets] = $this->startDaemon(self::QUICK + ['allowFrom' => '10.0.0.0/8, 192.168.0.0/16']);
        $this->assertNotServed(
            $this->performer($sockets, null, 1.0),
            'a Performer on loopback was served by a daemon that allows 10.0.0.0/8 and 192.168.0.0/16 only'
        );
        $this->assertTrue(
            $daemon->waitForOutput('refusing a connection: its address is not in allowFrom', 5),
            $daemon->describe()
        );
        $this->stopDaemon($daemon);

        // A list that holds loopback lets it in.
        [$daemon, $sockets] = $this->startDaemon(self::QUICK + ['allowFrom' => ['10.0.0.0/8', '127.0.0.1']]);
        $insider = $this->performer($sockets, null, 15.0);
        $insider->connectToPulsarAndWaitPermissionToAct();
        $insider->pushActionResultInfoWithoutPulsarCorrectionBehavior();
        $this->stopDaemon($daemon);
    }

    public function testSetStateFileIsWhereTheDaemonKeepsItsRecord(): void
    {
        $file = $this->tempFile('pulsar-state-');
        // The daemon creates it itself (a file that is already there is replaced by rename, never written into).
        @unlink($file);
        [$daemon, $sockets] = $this->startDaemon(self::QUICK + ['stateFile' => $file]);
        $this->assertStringContainsString('"state":"running"', $this->waitForFile($file, 5), $daemon->describe());

        $performer = $this->performer($sockets, null, 15.0);
        $performer->connectToPulsarAndWaitPermissionToAct();
        $performer->pushActionResultInfoWithoutPulsarCorrectionBehavior();
        $this->stopDaemon($daemon);

        // What the daemon wrote is checked below, field by field.
        // @mago-expect analysis:mixed-assignment
        $record = json_decode((string) file_get_contents($file), true, 4, JSON_THROW_ON_ERROR);
        $this->assertIsArray($record);
        $this->assertSame('stopped', $record['state'] ?? null, (string) file_get_contents($file));
        // It pulsed once at least, so the record says when, for the next daemon to keep the period.
        $this->assertIsInt($record['last_pulse_unix_ns'] ?? null, (string) file_get_contents($file));
        $this->assertSame(0o600, fileperms($file) & 0o777);
    }

    public function testASettingTheCoreRefusesNamesTheSetter(): void
    {
        [$daemon] = $this->startDaemonExpectingFailure(['allowFrom' => ['not-a-network']]);
        $this->assertStringContainsString('setAllowFrom()', $daemon->stdout(), $daemon->describe());
        [$daemon] = $this->startDaemonExpectingFailure(['curveSecretKey' => 'short']);
        $this->assertStringContainsString('setCurveSecretKey()', $daemon->stdout(), $daemon->describe());
    }

    /** $performer's wait ends unserved: the daemon never completes its handshake (DAEMON_UNREACHABLE). */
    private function assertNotServed(Performer $performer, string $failure): void
    {
        try {
            $performer->connectToPulsarAndWaitPermissionToAct();
            $this->fail($failure);
        } catch (PublisherPulsarException $e) {
            $this->assertSame(PublisherPulsarException::DAEMON_UNREACHABLE_CODE, $e->getCode(), $e->getMessage());
        }
    }

    /**
     * Runs fixtures/daemon.php with a configuration manage() must refuse: it ends with our exception (exit 3).
     *
     * @param array<string,mixed> $config
     * @return array{0:Child}
     */
    private function startDaemonExpectingFailure(array $config): array
    {
        $config['sockets'] = Ports::pulsarAddresses();
        $daemon = Child::start(
            Implementation::php(self::FIXTURES . '/daemon.php', [json_encode($config, JSON_THROW_ON_ERROR)])
        );
        $exit = $daemon->wait(20);
        $this->assertNotNull($exit, "manage() did not return:\n" . $daemon->describe());
        $this->assertSame(3, $exit['code'], $daemon->describe());
        $this->assertStringContainsString('EXCEPTION ' . PublisherPulsarException::INVALID_SETTING_CODE, $daemon->stdout());
        return [$daemon];
    }

    /** The contents of $file once it exists and is not empty, within $timeout seconds (else the test fails). */
    private function waitForFile(string $file, float $timeout): string
    {
        $deadline = microtime(true) + $timeout;
        do {
            clearstatcache();
            $text = @file_get_contents($file);
            if (is_string($text) && $text !== '') {
                return $text;
            }
            usleep(20_000);
        } while (microtime(true) < $deadline);
        $this->fail("$file was not written within $timeout s");
    }

    /**
     * A Performer on $sockets with every wait bounded by $timeout, over CURVE when $key is given.
     *
     * @param array<string,string> $sockets
     */
    private function performer(array $sockets, ?string $key, float $timeout): Performer
    {
        $params = new PerformerSocketsParamsDto();
        $params->setPublisherPulsarSocketAddress($sockets['publishSocketAddress']);
        $params->setPushPulsarSocketAddress($sockets['pullSocketAddress']);
        $params->setRequestPulsarRsSocketAddress($sockets['replyStackSocketAddress']);
        if ($key !== null) {
            $params->setCurveServerKey($key);
        }
        $dto = new PerformerDto();
        $dto->setModuleName('phpunit-daemon-settings');
        $dto->setSocketsParams($params);
        $dto->setAdmissionTimeout($timeout);
        $dto->setPulseTimeout($timeout);
        $dto->setSendTimeout($timeout);
        return new Performer($dto);
    }
}
