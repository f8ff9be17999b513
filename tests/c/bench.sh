#!/usr/bin/env bash
# Cost of one full permission cycle (wait_permission + report_success, one worker, one cycle at a time)
# through the C ABI and through Python, against pulsard on loopback, next to the physical floor: a bare ZeroMQ
# REQ/REP round trip over tcp loopback between two processes. Release builds. Not part of the test suite.
#
#   bash tests/c/bench.sh [ITERATIONS] [WARMUP]
#
# The daemon runs with N = 1 and a period of 1 us, so that it never throttles and every cycle is one whole
# iteration of the protocol (admission, subscription + ready, pulse, result). A second run with a 1 ms period
# shows what the period itself costs a lone worker.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
iterations=${1:-5000}
warmup=${2:-500}
tmp=$(mktemp -d)
pulsard_pid=""
cleanup() {
  if [ -n "$pulsard_pid" ]; then kill "$pulsard_pid" 2>/dev/null || true; wait "$pulsard_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

cargo build -q --release -p pulsar-capi
cargo build -q --release -p publisher-pulsar --bin pulsard
cargo build -q --release -p pulsar-capi --example native_cycle
release="$root/target/release"
# The program loads the soname, libpulsar.so.0 (c-api/build.rs), which cargo does not create: a symlink in $tmp.
ln -s "$release/libpulsar.so" "$tmp/libpulsar.so.0"
cc -std=c11 -O2 -Wall -Wextra -o "$tmp/bench_cycle" tests/c/bench_cycle.c -I include -L "$release" -lpulsar \
  $(pkg-config --cflags --libs libzmq) -Wl,-rpath,"$tmp"

python=""
for candidate in "${PYTHON:-}" python3 /usr/bin/python3; do
  if [ -n "$candidate" ] && "$candidate" -c "import ctypes" >/dev/null 2>&1; then python="$candidate"; break; fi
done

read -r p1 p2 p3 < <("$python" tests/free_ports.py 3)
config="{\"requestPulsarRsSocketAddress\":\"tcp://127.0.0.1:$p1\",\"publisherPulsarSocketAddress\":\"tcp://127.0.0.1:$p2\",\"pushPulsarSocketAddress\":\"tcp://127.0.0.1:$p3\",\"admissionTimeout\":10,\"pulseTimeout\":10}"

start_pulsard() {
  "$release/pulsard" --subscribers-per-iteration 1 --pulsation-iteration-period "$1" \
    --max-wait-reply-stack-result 0.5 --reply-stack-address "tcp://127.0.0.1:$p1" \
    --publish-address "tcp://127.0.0.1:$p2" --pull-address "tcp://127.0.0.1:$p3" \
    --reply-to-reply-stack-address "tcp://127.0.0.1:*" --push-to-reply-stack-address "tcp://127.0.0.1:*" \
    --log-level warn &
  pulsard_pid=$!
}
stop_pulsard() {
  kill "$pulsard_pid"; wait "$pulsard_pid" || true; pulsard_pid=""
}

echo "machine: $(nproc) CPUs, $(uname -sr), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "libzmq $(pkg-config --modversion libzmq), libpulsar $(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1) (release)"
echo "-- pulsard N=1, period 1 us ($iterations cycles after $warmup warm-up)"
start_pulsard 0.000001
"$tmp/bench_cycle" cycle "$config" "$iterations" "$warmup"
"$release/examples/native_cycle" "$config" "$iterations" "$warmup"
PULSAR_LIB="$release/libpulsar.so" "$python" tests/python/bench_cycle.py "$config" "$iterations" "$warmup"
stop_pulsard
echo "-- physical floor"
"$tmp/bench_cycle" zmq "$iterations" "$warmup" 100
"$tmp/bench_cycle" zmq "$iterations" "$warmup" 1000
echo "-- pulsard N=1, period 1 ms (1000 cycles)"
start_pulsard 0.001
"$tmp/bench_cycle" cycle "$config" 1000 100
stop_pulsard
