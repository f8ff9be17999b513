#!/usr/bin/env bash
# Static analysis of the project's PHP code with mago (https://mago.carthage.software), configured by mago.toml:
# `mago lint` (mago's rules, less the ones mago.toml turns off, each with its reason) and `mago analyze` (types and
# symbols), both failing on any finding of any level. The analyser's findings that predate it are listed in
# tests/php/mago-analyze-baseline.toml: the list may only shrink (fix one, then regenerate it with
# `mago analyze --generate-baseline --baseline tests/php/mago-analyze-baseline.toml`); a new finding fails.
#
# mago is a Rust program from crates.io. Building it takes about 14 CPU-minutes (measured: 22 min on a busy 2-core
# machine), which the CI's 30-minute budget cannot afford on a fresh machine, so this script does not build it
# unless asked: with mago absent it says so and skips. PULSAR_INSTALL_MAGO=1 installs it first
# (`cargo install mago@1.29.0 --locked`); MAGO names another binary.
set -euo pipefail
cd "$(dirname "$0")/../.."

version=1.29.0
mago=${MAGO:-}
if [ -z "$mago" ]; then
  if command -v mago >/dev/null 2>&1; then
    mago=$(command -v mago)
  elif [ -x "${CARGO_HOME:-$HOME/.cargo}/bin/mago" ]; then
    mago="${CARGO_HOME:-$HOME/.cargo}/bin/mago"
  fi
fi
if [ -z "$mago" ] && [ "${PULSAR_INSTALL_MAGO:-0}" = 1 ]; then
  cargo install "mago@$version" --locked
  mago="${CARGO_HOME:-$HOME/.cargo}/bin/mago"
fi
if [ -z "$mago" ]; then
  echo "SKIPPED: PHP static analysis: mago is not installed. Install it with 'cargo install mago@$version --locked'" \
    "(about 14 CPU-minutes) or run PULSAR_INSTALL_MAGO=1 bash tests/php/mago.sh."
  exit 0
fi

found=$("$mago" --version | awk '{print $2}')
if [ "$found" != "$version" ]; then
  echo "note: mago $found, the baseline was made with $version: findings may differ" >&2
fi
"$mago" lint
"$mago" analyze
echo "mago $found: no lint finding, no analyser finding beyond the baseline"
