#!/usr/bin/env bash
# Static analysis of the project's PHP code with mago (https://mago.carthage.software), configured by mago.toml:
# `mago lint` (mago's rules, less the ones mago.toml turns off, each with its reason) and `mago analyze` (types and
# symbols), both failing on any finding of any level. The analyser's findings that predate it are listed in
# tests/php/mago-analyze-baseline.toml: the list may only shrink (fix one, then regenerate it with
# `mago analyze --generate-baseline --baseline tests/php/mago-analyze-baseline.toml`); a new finding fails.
#
# mago is a Rust program from crates.io. A release build takes about 14 CPU-minutes; built with the cheaper profile
# below (no LTO, opt-level 1: about 10 CPU-minutes, and it still analyses this tree in under 2 s) it goes to
# target/mago. tests/run-all.sh starts that build in the background at `nice 19` right after the project's own
# build, so that it uses the CPU the sleeping daemon tests leave idle, and runs this script last.
#   bash tests/php/mago.sh                  analyse (mago from $MAGO, PATH, ~/.cargo/bin or target/mago)
#   bash tests/php/mago.sh --install-only   build target/mago/bin/mago if no mago is found, and stop
# Without mago and without PULSAR_INSTALL_MAGO=1 (which builds it first) the analysis is skipped with a message.
set -euo pipefail
cd "$(dirname "$0")/../.."

version=1.29.0
find_mago() {
  if [ -n "${MAGO:-}" ]; then
    echo "$MAGO"
  elif command -v mago >/dev/null 2>&1; then
    command -v mago
  elif [ -x "${CARGO_HOME:-$HOME/.cargo}/bin/mago" ]; then
    echo "${CARGO_HOME:-$HOME/.cargo}/bin/mago"
  elif [ -x target/mago/bin/mago ]; then
    echo target/mago/bin/mago
  fi
}
install_mago() {
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=256 CARGO_PROFILE_RELEASE_OPT_LEVEL=1 \
    CARGO_PROFILE_RELEASE_DEBUG=0 cargo install "mago@$version" --locked --root target/mago
}

mago=$(find_mago)
if [ "${1:-}" = --install-only ]; then
  [ -n "$mago" ] || install_mago
  exit 0
fi
if [ -z "$mago" ] && [ "${PULSAR_INSTALL_MAGO:-0}" = 1 ]; then
  install_mago
  mago=target/mago/bin/mago
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
