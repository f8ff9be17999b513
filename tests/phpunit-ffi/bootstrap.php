<?php
/** PHPUnit bootstrap of the FFI-only checks: the composer package's classes, autoloaded, and no extension. */

declare(strict_types=1);

if (extension_loaded('pulsar')) {
    throw new RuntimeException('the pulsar extension is loaded: the FFI classes cannot be tested in this PHP');
}
require __DIR__ . '/autoload.php';
