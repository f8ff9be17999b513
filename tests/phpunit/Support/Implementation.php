<?php

declare(strict_types=1);

namespace PulsarTest\Support;

/**
 * Which implementation of the `React\PublisherPulsar` classes the suite tests, and how to start a child PHP
 * process that uses the same one.
 *
 * PULSAR_PHP_IMPL=ext (default): the `pulsar` extension; PULSAR_PHP_EXTENSION names the .so that children load.
 * PULSAR_PHP_IMPL=ffi: the composer package's pure-PHP classes over libpulsar (PULSAR_FFI_AUTOLOAD names the
 * composer autoloader, default vendor/autoload.php at the repository root). The tests only use the public API, so
 * the same tests run against both.
 */
final class Implementation
{
    public static function name(): string
    {
        $name = getenv('PULSAR_PHP_IMPL') ?: 'ext';
        if (!in_array($name, ['ext', 'ffi'], true)) {
            throw new \RuntimeException("PULSAR_PHP_IMPL must be 'ext' or 'ffi', got '$name'");
        }
        return $name;
    }

    /** Makes the classes available in this process; throws with a hint if they cannot be. */
    public static function load(): void
    {
        if (self::name() === 'ext') {
            if (!extension_loaded('pulsar')) {
                throw new \RuntimeException(
                    'the pulsar extension is not loaded: run tests/phpunit/run.sh, or php -d extension=.../libpulsar_php.so'
                );
            }
            return;
        }
        $autoload = getenv('PULSAR_FFI_AUTOLOAD') ?: dirname(__DIR__, 3) . '/vendor/autoload.php';
        if (!is_file($autoload)) {
            throw new \RuntimeException("PULSAR_PHP_IMPL=ffi needs the composer autoloader at $autoload (PULSAR_FFI_AUTOLOAD)");
        }
        require_once $autoload;
    }

    /**
     * The command line that runs $script with the implementation under test.
     *
     * @param list<string> $args
     * @return list<string>
     */
    public static function php(string $script, array $args = []): array
    {
        $command = [PHP_BINARY];
        if (self::name() === 'ext') {
            $extension = getenv('PULSAR_PHP_EXTENSION');
            if ($extension === false || $extension === '') {
                throw new \RuntimeException('PULSAR_PHP_EXTENSION must name the extension .so for child processes');
            }
            $command[] = '-d';
            $command[] = 'extension=' . $extension;
        } else {
            $command[] = '-d';
            $command[] = 'ffi.enable=1';
        }
        return array_merge($command, [$script], $args);
    }

    /**
     * A PHP without the implementation under test and with ext-zmq: the original library's world. `-n` keeps a
     * system-wide `extension=pulsar.so` out, whose classes would clash with the original protocol classes.
     *
     * @param list<string> $args
     * @return list<string>
     */
    public static function originalPhp(string $script, array $args = []): array
    {
        return array_merge([PHP_BINARY, '-n', '-d', 'extension=zmq'], [$script], $args);
    }
}
