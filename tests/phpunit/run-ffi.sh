#!/usr/bin/env bash
# Runs the PHP suite (tests/phpunit, the same tests as run.sh) against the composer package's pure-PHP FFI classes
# (php-ext/ffi/ over libpulsar) instead of the extension: no extension loaded, ffi.enable=1, classes autoloaded from
# composer.json's PSR-4 map (tests/phpunit-ffi/autoload.php stands in for composer's vendor/autoload.php), and
# PULSAR_LIB naming the freshly built target/debug/libpulsar.so. The FFI-only checks of tests/phpunit-ffi (the
# declarations match include/pulsar.h; the classes under test are the FFI ones) run first.
# Extra arguments go to the shared suite's phpunit (e.g. --filter SeedsTest).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)

cargo build -p pulsar-capi
export PULSAR_LIB="$root/target/debug/libpulsar.so"
export PULSAR_FFI_AUTOLOAD="$root/tests/phpunit-ffi/autoload.php"
export PULSAR_PHP_IMPL=ffi

if php -d ffi.enable=1 -r 'exit(extension_loaded("pulsar") ? 0 : 1);'; then
  echo "the pulsar extension is loaded by this PHP's configuration: the FFI classes cannot be tested here" >&2
  exit 1
fi

php -d zend.assertions=1 -d assert.exception=1 -d ffi.enable=1 /usr/bin/phpunit -c tests/phpunit-ffi/phpunit.xml
exec bash tests/phpunit/run.sh "$@"
