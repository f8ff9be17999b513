<?php

declare(strict_types=1);

namespace PulsarTest;

use PulsarTest\Support\Child;
use PulsarTest\Support\Ports;
use PulsarTest\Support\PulsarTestCase;
use React\PublisherPulsar\Inventory\Exceptions\PublisherPulsarException;
use React\PublisherPulsar\Inventory\PerformerDto;
use React\PublisherPulsar\Inventory\PerformerSocketsParamsDto;
use React\PublisherPulsar\Inventory\PublisherToSubscribersDto;
use React\PublisherPulsar\Performer;

/**
 * CURVE for PHP workers: a `pulsard` started with `curveSecretKey` serves a Performer whose
 * PerformerSocketsParamsDto holds the daemon's public key (setCurveServerKey()), and no Performer without it or
 * with another key; a malformed key is refused naming its setter. The same on both routes (extension and FFI).
 */
final class CurveTest extends PulsarTestCase
{
    /** The tests' key pair (PulsarTestCase). */
    private const SECRET = self::TEST_CURVE_SECRET;
    private const PUBLIC = self::TEST_CURVE_PUBLIC;

    public function testAWorkerWithTheDaemonsPublicKeyIsServedAndOneWithoutIsNot(): void
    {
        [$daemon, $sockets] = $this->curveDaemon();
        // The pair belongs together: the daemon logs the public key of its secret key.
        $this->assertStringContainsString(self::PUBLIC, $daemon->stderr(), $daemon->describe());

        // Two whole cycles: admission (REQ), readiness and result (PUSH) and the pulse (SUB) all go over CURVE.
        $keyed = $this->curvePerformer($sockets, self::PUBLIC, 15.0);
        for ($cycle = 1; $cycle <= 2; $cycle++) {
            $keyed->connectToPulsarAndWaitPermissionToAct();
            $this->assertInstanceOf(PublisherToSubscribersDto::class, $keyed->getPublisherToSubscribersDto());
            $keyed->pushActionResultInfoWithoutPulsarCorrectionBehavior();
        }

        // The original's NULL mechanism (no key) and a well-formed key that is not the daemon's (its secret key
        // read as a public key) never complete the handshake: not admitted within a short admission timeout.
        foreach (['no key' => null, 'another key' => self::SECRET] as $what => $key) {
            $stranger = $this->curvePerformer($sockets, $key, 1.0);
            try {
                $stranger->connectToPulsarAndWaitPermissionToAct();
                $this->fail("a Performer with $what was served by a CURVE daemon");
            } catch (PublisherPulsarException $e) {
                $this->assertSame(PublisherPulsarException::DAEMON_UNREACHABLE_CODE, $e->getCode(), "$what: " . $e->getMessage());
            }
        }

        // The keyed worker is still served after the strangers' attempts.
        $keyed->connectToPulsarAndWaitPermissionToAct();
        $keyed->pushActionResultInfoWithoutPulsarCorrectionBehavior();

        $daemon->terminate();
        $this->assertSame(['code' => 0, 'signal' => null], $daemon->wait(15), $daemon->describe());
    }

    public function testAMalformedKeyIsRefusedNamingItsSetter(): void
    {
        // Nothing listens on these ports: a key that passed the check would time out instead (DAEMON_UNREACHABLE).
        $sockets = Ports::pulsarAddresses();
        $setter = 'PerformerSocketsParamsDto::setCurveServerKey()';
        foreach (['not a key', '', substr(self::PUBLIC, 0, 39), self::PUBLIC . 'x'] as $bad) {
            $performer = $this->curvePerformer($sockets, $bad, 0.5);
            try {
                $performer->connectToPulsarAndWaitPermissionToAct();
                $this->fail('the key ' . var_export($bad, true) . ' was accepted');
            } catch (PublisherPulsarException $e) {
                $this->assertSame(PublisherPulsarException::INVALID_SETTING_CODE, $e->getCode(), $e->getMessage());
                // Word for word, so that both routes say the same.
                $this->assertSame(
                    PublisherPulsarException::INVALID_SETTING . ": $setter must be a Z85-encoded CURVE key of 40 characters",
                    $e->getMessage()
                );
            }
        }
        foreach ([['a', 'list'], new \stdClass(), true] as $wrong) {
            $performer = $this->curvePerformer($sockets, $wrong, 0.5);
            try {
                $performer->connectToPulsarAndWaitPermissionToAct();
                $this->fail('a key of ' . get_debug_type($wrong) . ' was accepted');
            } catch (PublisherPulsarException $e) {
                $this->assertSame(PublisherPulsarException::INVALID_SETTING_CODE, $e->getCode(), $e->getMessage());
                $this->assertStringStartsWith(PublisherPulsarException::INVALID_SETTING . ": $setter needs a string, got ", $e->getMessage());
            }
        }
    }

    /** @return array{0:Child,1:array<string,string>} a pulsard with the test's secret key, one permission per pulse */
    private function curveDaemon(): array
    {
        return $this->startPulsard([
            'curveSecretKey' => self::SECRET, 'pulsationIterationPeriod' => 0.2, 'subscribersPerIteration' => 1,
            'maxWaitReplyStackResult' => 0.1,
        ]);
    }

    /**
     * A Performer on $sockets with every wait bounded by $timeout and $key (anything) as its CURVE server key.
     *
     * @param array<string,string> $sockets
     */
    private function curvePerformer(array $sockets, mixed $key, float $timeout): Performer
    {
        $params = new PerformerSocketsParamsDto();
        $params->setPublisherPulsarSocketAddress($sockets['publishSocketAddress']);
        $params->setPushPulsarSocketAddress($sockets['pullSocketAddress']);
        $params->setRequestPulsarRsSocketAddress($sockets['replyStackSocketAddress']);
        // On purpose: the tests give it wrong types too, as a user's code may.
        // @mago-expect analysis:mixed-argument
        $params->setCurveServerKey($key);
        $dto = new PerformerDto();
        $dto->setModuleName('phpunit-curve');
        $dto->setSocketsParams($params);
        $dto->setAdmissionTimeout($timeout);
        $dto->setPulseTimeout($timeout);
        $dto->setSendTimeout($timeout);
        return new Performer($dto);
    }
}
