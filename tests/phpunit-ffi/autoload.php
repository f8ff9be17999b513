<?php
/**
 * A stand-in for composer's vendor/autoload.php, so that the FFI route is tested without composer: registers the
 * PSR-4 map of the repository's composer.json (`autoload.psr-4`), nothing else. tests/phpunit/run-ffi.sh names this
 * file in PULSAR_FFI_AUTOLOAD, which the suite's bootstrap and its child processes require.
 */

declare(strict_types=1);

(static function (): void {
    $root = dirname(__DIR__, 2);
    $composer = json_decode((string) file_get_contents("$root/composer.json"), true, 512, JSON_THROW_ON_ERROR);
    $map = [];
    foreach ($composer['autoload']['psr-4'] ?? [] as $prefix => $directories) {
        foreach ((array) $directories as $directory) {
            $map[] = [$prefix, $root . '/' . rtrim($directory, '/') . '/'];
        }
    }
    spl_autoload_register(static function (string $class) use ($map): void {
        foreach ($map as [$prefix, $directory]) {
            if (strncmp($class, $prefix, strlen($prefix)) === 0) {
                $file = $directory . str_replace('\\', '/', substr($class, strlen($prefix))) . '.php';
                if (is_file($file)) {
                    require $file;
                    return;
                }
            }
        }
    });
})();
