#!/usr/bin/env bash
# Runs every test of the project on a fresh Debian 12 machine: installs the system packages it needs (as root),
# builds once, then runs the Rust, C, Python and PHP suites. Usage: bash tests/run-all.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

section() { printf '\n==== %s ====\n' "$*"; }

packages=(pkg-config libzmq3-dev php8.2-cli php8.2-dev php-zmq phpunit libclang-dev python3-pytest python3-prometheus-client python3-venv make gcc dpkg-dev binutils
  php-laravel-framework php8.2-sqlite3 php-guzzlehttp-psr7)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  section "installing system packages: ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "run as root (or install: apt-get install -y ${missing[*]})" >&2
    exit 1
  fi
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
fi

export CARGO_TERM_COLOR=never

section "format and lints"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings

section "Rust tests (unit, property, integration, PHP workers against pulsard)"
cargo build --workspace --all-targets

# The PHP analyser (mago) is a Rust program that takes about 10 CPU-minutes to build: build it in the background at
# the lowest priority while the tests and suites below, which mostly wait on daemons and sleeps, leave the CPU idle.
mago_build=
if [ "${PULSAR_MAGO:-1}" = 1 ]; then
  mkdir -p target
  nice -n 19 bash tests/php/mago.sh --install-only > target/mago-build.log 2>&1 &
  mago_build=$!
fi

cargo test --workspace

# Further suites register themselves here: each is a script that reuses the target dir built above.
# packaging/check-debs.sh builds the Debian packages from that debug build and checks them.
for suite in tests/c/run.sh tests/python/run.sh tests/python/run-wheel.sh tests/phpunit/run.sh tests/phpunit/run-ffi.sh \
  tests/laravel/run.sh packaging/check-debs.sh rust/wire/fuzz/run.sh tests/chaos/run.sh; do
  if [ -f "$suite" ]; then
    section "$suite"
    bash "$suite"
  fi
done

section "tests/php/mago.sh"
if [ -n "$mago_build" ] && ! wait "$mago_build"; then
  tail -n 30 target/mago-build.log
  echo "building mago failed (log above); PULSAR_MAGO=0 skips the PHP analysis" >&2
  exit 1
fi
bash tests/php/mago.sh

section "all suites passed"
