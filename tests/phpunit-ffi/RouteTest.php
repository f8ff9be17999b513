<?php

declare(strict_types=1);

namespace PulsarFfiTest;

use PHPUnit\Framework\TestCase;
use React\PublisherPulsar\Ffi\Failure;
use React\PublisherPulsar\Ffi\PulseObject;
use React\PublisherPulsar\Inventory\Exceptions\PublisherPulsarException;
use React\PublisherPulsar\Inventory\PublisherPulsarDto;
use React\PublisherPulsar\Performer;
use React\PublisherPulsar\Pulsar;
use React\PublisherPulsar\ReplyStack;

/**
 * The composer route itself: which files the classes come from, how a missing or forbidden library is reported,
 * and the FFI classes' own helpers.
 */
final class RouteTest extends TestCase
{
    private const ROOT = __DIR__ . '/../..';

    public function testTheBehaviourClassesAreTheFfiOnesAndTheDtosTheSharedOnes(): void
    {
        $root = realpath(self::ROOT);
        foreach ([Pulsar::class, Performer::class, ReplyStack::class] as $class) {
            $this->assertSame("$root/php-ext/ffi/" . substr(strrchr($class, '\\'), 1) . '.php',
                (new \ReflectionClass($class))->getFileName());
        }
        $this->assertSame("$root/php-ext/php/Inventory/PublisherPulsarDto.php",
            (new \ReflectionClass(PublisherPulsarDto::class))->getFileName());
    }

    /**
     * Runs $code in a fresh PHP with the FFI classes; returns its output.
     *
     * @param list<string> $ini
     * @param array<string,string|false> $env
     */
    private static function php(string $code, array $ini, array $env): string
    {
        $command = [PHP_BINARY];
        foreach ($ini as $setting) {
            $command[] = '-d';
            $command[] = $setting;
        }
        $script = 'require ' . var_export(__DIR__ . '/autoload.php', true) . ';' . $code;
        $command = array_merge($command, ['-r', $script]);
        $environment = getenv();
        foreach ($env as $name => $value) {
            if ($value === false) {
                unset($environment[$name]);
            } else {
                $environment[$name] = $value;
            }
        }
        $process = proc_open($command, [1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes, null, $environment);
        $output = stream_get_contents($pipes[1]) . stream_get_contents($pipes[2]);
        fclose($pipes[1]);
        fclose($pipes[2]);
        proc_close($process);
        return $output;
    }

    private const TRY_PERFORMER = 'try { (new React\PublisherPulsar\Performer())->connectToPulsarAndWaitPermissionToAct(); }'
        . ' catch (React\PublisherPulsar\Inventory\Exceptions\PublisherPulsarException $e) {'
        . ' echo get_class($e), " ", $e->getCode(), " ", $e->getMessage(); }';

    public function testAMissingLibraryIsAClearException(): void
    {
        $output = self::php(self::TRY_PERFORMER, ['ffi.enable=1'], ['PULSAR_LIB' => '/nonexistent/libpulsar.so']);
        $this->assertStringStartsWith(PublisherPulsarException::class . ' 1 ' . PublisherPulsarException::INVALID_SETTING
            . ': PULSAR_LIB names /nonexistent/libpulsar.so', $output);
    }

    public function testAFileThatIsNotTheLibraryIsAClearException(): void
    {
        $output = self::php(self::TRY_PERFORMER, ['ffi.enable=1'], ['PULSAR_LIB' => __FILE__]);
        $this->assertStringContainsString(' 1 ' . PublisherPulsarException::INVALID_SETTING . ': cannot load ' . __FILE__, $output);
    }

    public function testFfiForbiddenByTheConfigurationIsAClearException(): void
    {
        $output = self::php(self::TRY_PERFORMER, ['ffi.enable=0'], []);
        $this->assertStringContainsString(' 1 ' . PublisherPulsarException::INVALID_SETTING . ": ffi.enable is '0'", $output);
    }

    public function testPreloadModeAllowsTheCommandLine(): void
    {
        // Debian's default, ffi.enable=preload, lets CLI scripts (artisan commands, workers) use FFI::cdef().
        $code = 'echo React\PublisherPulsar\Ffi\Library::ffi()->pulsar_version();';
        $this->assertMatchesRegularExpression('/^\d+\.\d+\.\d+/', self::php($code, ['ffi.enable=preload'], []));
    }

    public function testAnFfiPreloadHeaderServesWhereFfiCdefIsForbidden(): void
    {
        // PHP-FPM with ffi.enable=preload (PHP's default) allows only preloaded declarations: the header that
        // preloadHeader() writes, named in ffi.preload, is then what the classes use.
        $header = (string) tempnam(sys_get_temp_dir(), 'pulsar-ffi-');
        try {
            file_put_contents($header, \React\PublisherPulsar\Ffi\Library::preloadHeader());
            $code = 'echo React\PublisherPulsar\Ffi\Library::ffi()->pulsar_version(), " ",'
                . ' React\PublisherPulsar\Ffi\Library::source(), "\n";'
                . '$dto = new React\PublisherPulsar\Inventory\PerformerDto(); $dto->setAdmissionTimeout(0.2);'
                . '$params = new React\PublisherPulsar\Inventory\PerformerSocketsParamsDto();'
                . '$params->setRequestPulsarRsSocketAddress("tcp://127.0.0.1:' . self::closedPort() . '");'
                . '$dto->setSocketsParams($params);'
                . 'try { (new React\PublisherPulsar\Performer($dto))->connectToPulsarAndWaitPermissionToAct(); }'
                . ' catch (React\PublisherPulsar\Inventory\Exceptions\PublisherPulsarException $e) {'
                . ' echo $e->getCode(), " ", $e->getMessage(); }';
            $output = self::php($code, ['ffi.enable=preload', "ffi.preload=$header"], ['PULSAR_LIB' => '/nonexistent']);
            $this->assertMatchesRegularExpression('/^\d+\.\d+\.\d+ scope PUBLISHER_PULSAR\n/', $output);
            $this->assertStringContainsString("\n2 " . PublisherPulsarException::DAEMON_UNREACHABLE . ': ', $output);
        } finally {
            @unlink($header);
        }
    }

    /** A loopback port nobody listens on (the kernel's choice, closed again). */
    private static function closedPort(): int
    {
        $server = stream_socket_server('tcp://127.0.0.1:0');
        $name = (string) stream_socket_get_name($server, false);
        fclose($server);
        return (int) substr($name, strrpos($name, ':') + 1);
    }

    public function testStatusesMapToTheExtensionsKinds(): void
    {
        $e = Failure::fromStatus(102, 'invalid setting pulsarSocketsParams.publishSocketAddress: must not be empty');
        $this->assertSame(PublisherPulsarException::INVALID_SETTING_CODE, $e->getCode());
        $this->assertSame(PublisherPulsarException::INVALID_SETTING
            . ': PulsarSocketsParamsDto::setPublishSocketAddress() must not be empty', $e->getMessage());
        $this->assertSame("'pulse engine settings'", Failure::setterOf('pulse engine settings'));
        $this->assertSame(PublisherPulsarException::DAEMON_UNREACHABLE_CODE, Failure::fromStatus(200, 'x')->getCode());
        $this->assertSame(PublisherPulsarException::SOCKET_ERROR_CODE, Failure::fromStatus(206, 'x')->getCode());
        $this->assertSame(PublisherPulsarException::INTERNAL_ERROR_CODE, Failure::fromStatus(900, 'x')->getCode());
    }

    public function testClassNamesFromTheNetworkAreCheckedLikePhp(): void
    {
        foreach (['React\PublisherPulsar\Inventory\PublisherToSubscribersDto', 'Mine', '_Under\score_1', 'Ünï\Cödé'] as $good) {
            $this->assertTrue(PulseObject::isValidClassName($good), $good);
        }
        foreach (['', '\Leading', 'Trailing\\', 'Double\\\\Sep', '1Digit', '../../etc/passwd', 'Space Name', "Nul\0Byte", 'Dash-Name'] as $bad) {
            $this->assertFalse(PulseObject::isValidClassName($bad), $bad);
        }
    }
}
