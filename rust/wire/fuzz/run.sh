#!/usr/bin/env bash
# Fuzzes pulsar-wire's parser and typed decoders with cargo-fuzz (libFuzzer).
#
#   rust/wire/fuzz/run.sh                 # 60 s with AddressSanitizer
#   FUZZ_SECONDS=600 rust/wire/fuzz/run.sh
#   FUZZ_SANITIZER=none rust/wire/fuzz/run.sh   # if the sanitizer runtime is unavailable
#
# Crashes land in rust/wire/fuzz/artifacts/parse/ (reproduce with `cargo fuzz run parse <file>` from rust/wire,
# with RUSTC_BOOTSTRAP=1); the corpus grows in rust/wire/fuzz/corpus/parse/. Both are gitignored.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
crate="$(dirname "$here")"

# cargo-fuzz passes nightly-only flags (-Zsanitizer, -Cpasses=sancov-module, ...). Only a stable toolchain is
# installed here; RUSTC_BOOTSTRAP=1 makes stable rustc/cargo accept them. Fine for a test harness, never for
# shipping builds.
export RUSTC_BOOTSTRAP=1

if ! command -v cargo-fuzz >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

# Seed the corpus with the golden vectors (the real protocol messages), fresh on every run.
corpus="$here/corpus/parse"
mkdir -p "$corpus"
cp "$crate"/tests/vectors/*.bin "$corpus/"

seconds="${FUZZ_SECONDS:-60}"
sanitizer="${FUZZ_SANITIZER:-address}"

cd "$crate"
exec cargo fuzz run --sanitizer "$sanitizer" parse "$corpus" -- \
    -max_total_time="$seconds" \
    -dict="$here/parse.dict" \
    -max_len=4096 \
    -timeout=10 \
    -print_final_stats=1
