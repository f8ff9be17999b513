<?php
/**
 * Stands in for `composer install` in the test application: writes APP/vendor/autoload.php and
 * APP/vendor/composer/installed.json as composer would for an application requiring this repository's package.
 *
 * - autoload.php: Debian's Laravel autoloader (Illuminate/autoload.php on PHP's include_path, which pulls in
 *   Symfony, Monolog, Carbon, ...), the application's own App\ namespace, and the PSR-4 map of the repository's
 *   composer.json (React\PublisherPulsar\ FFI classes and the PublisherPulsar\Laravel\ bridge), and Debian's
 *   guzzlehttp/psr7 (a Laravel 8 application requires guzzlehttp/guzzle; its HTTP client's responses need it).
 * - installed.json: the package's name and its `extra`, so that Laravel's package discovery registers
 *   extra.laravel.providers exactly as in a composer project.
 *
 * Usage: php make-vendor.php REPOSITORY_ROOT APPLICATION_DIRECTORY
 */

declare(strict_types=1);

if ($argc !== 3 || !is_file($argv[1] . '/composer.json') || !is_dir($argv[2])) {
    fwrite(STDERR, "usage: php make-vendor.php REPOSITORY_ROOT APPLICATION_DIRECTORY\n");
    exit(2);
}
$root = realpath($argv[1]);
$app = realpath($argv[2]);
$composer = json_decode((string) file_get_contents("$root/composer.json"), true, 512, JSON_THROW_ON_ERROR);

$map = ['App\\' => ["$app/app/"]];
foreach ($composer['autoload']['psr-4'] ?? [] as $prefix => $directories) {
    foreach ((array) $directories as $directory) {
        $map[$prefix][] = $root . '/' . rtrim($directory, '/') . '/';
    }
}

@mkdir("$app/vendor/composer", 0o777, true);
$autoload = "<?php\n\ndeclare(strict_types=1);\n\n// Written by tests/laravel/make-vendor.php (a stand-in for composer's autoloader).\n"
    . "require_once 'Illuminate/autoload.php';\nrequire_once 'GuzzleHttp/Psr7/autoload.php';\n\n"
    . '$map = ' . var_export($map, true) . ";\n\n"
    . <<<'PHP'
spl_autoload_register(static function (string $class) use ($map): void {
    foreach ($map as $prefix => $directories) {
        if (strncmp($class, $prefix, strlen($prefix)) === 0) {
            foreach ($directories as $directory) {
                $file = $directory . str_replace('\\', '/', substr($class, strlen($prefix))) . '.php';
                if (is_file($file)) {
                    require $file;
                    return;
                }
            }
        }
    }
});

PHP;
file_put_contents("$app/vendor/autoload.php", $autoload);

$installed = ['packages' => [[
    'name' => $composer['name'],
    'version' => 'dev-main',
    'type' => $composer['type'] ?? 'library',
    'extra' => $composer['extra'] ?? [],
]]];
file_put_contents(
    "$app/vendor/composer/installed.json",
    json_encode($installed, JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES | JSON_THROW_ON_ERROR) . "\n"
);
