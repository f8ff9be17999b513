#!/usr/bin/env bash
# Builds the pulsar extension (debug) and pulsard, then runs the PHP suite with Debian's phpunit under a PHP that
# loads the freshly built extension. Extra arguments go to phpunit (e.g. --filter DtoTest).
#
# PULSAR_PHP_IMPL=ffi runs the same tests against the composer package's FFI classes instead (no extension
# loaded; PULSAR_FFI_AUTOLOAD names the composer autoloader).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)

impl=${PULSAR_PHP_IMPL:-ext}
cargo build -p publisher-pulsar --bin pulsard
export PULSARD="$root/target/debug/pulsard"
# Both PHP implementations (and libpulsar for the Python worker) are built whatever is under test: the mixed
# fleet test runs workers of every kind against one daemon.
cargo build -p pulsar-php -p pulsar-capi
export PULSAR_LIB="${PULSAR_LIB:-$root/target/debug/libpulsar.so}"
export PULSAR_FFI_AUTOLOAD="${PULSAR_FFI_AUTOLOAD:-$root/tests/phpunit-ffi/autoload.php}"

export PULSAR_PHP_EXTENSION="${PULSAR_PHP_EXTENSION:-$root/target/debug/libpulsar_php.so}"
if [ "$impl" = ext ]; then
  export PULSAR_PHP_EXTENSION="$root/target/debug/libpulsar_php.so"
  exec php -d zend.assertions=1 -d assert.exception=1 -d extension="$PULSAR_PHP_EXTENSION" /usr/bin/phpunit -c tests/phpunit/phpunit.xml "$@"
else
  export PULSAR_PHP_IMPL
  exec php -d zend.assertions=1 -d assert.exception=1 -d ffi.enable=1 /usr/bin/phpunit -c tests/phpunit/phpunit.xml "$@"
fi
