#!/usr/bin/env bash
# Helpers for the network chaos scenarios (10-19), sourced, never run. They start one pulsard on free loopback
# ports, sample its memory and CPU, and run target/debug/examples/chaos_peer (rust/pulsar/examples/chaos_peer.rs)
# as hostile and normal peers. The scenario decides what is a failure.
#
#   net_start LOG [FLAGS..]  starts pulsard (JSON log to LOG); sets PID ADM PUB PULL. With NET_NOFILE set, the
#                            daemon runs with that descriptor limit (soft and hard)
#   net_rss_kb               the daemon's resident memory in KiB (0 if gone)
#   net_cpu_ticks            the daemon's user+system CPU ticks so far
#   net_sample_peak SECONDS  samples RSS every 0.2 s for SECONDS into PEAK_KB; a daemon gone is a crash
#   net_settle               waits up to 6 s for RSS to come down (the daemon trims its heap after churn)
#   net_fail MESSAGE         records a failure; net_finish exits 1 if any
#   net_max_receivers LOG    the most receivers any pulse had, from the daemon's iteration log lines
#
# CHAOS_MODE=ci (default, about a minute each) or full; NET_KEEP=1 keeps the work directory (logs) afterwards;
# NET_LOG_LEVEL sets the daemon's log filter (default info).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CHAOS_MODE=${CHAOS_MODE:-ci}
PULSARD=${PULSARD:-$ROOT/target/debug/pulsard}
PEER=${CHAOS_PEER:-$ROOT/target/debug/examples/chaos_peer}
FAILURES=0
PID=
PEAK_KB=0
WORK=$(mktemp -d)
trap 'net_cleanup' EXIT

if [ ! -x "$PULSARD" ] || [ ! -x "$PEER" ]; then
  (cd "$ROOT" && nice cargo build -q -p publisher-pulsar --bin pulsard --example chaos_peer)
fi

net_cleanup() {
  if [ -n "$PID" ]; then kill -TERM "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  jobs -p | xargs -r kill -9 2>/dev/null || true
  if [ -n "${NET_KEEP:-}" ]; then echo "work directory kept: $WORK"; else rm -rf "$WORK"; fi
}

net_start() {
  local log=$1
  shift
  local limit=${NET_NOFILE:-$(ulimit -Hn)}
  bash -c 'ulimit -n "$0" && exec "$@"' "$limit" \
  "$PULSARD" --reply-stack-address 'tcp://127.0.0.1:*' --publish-address 'tcp://127.0.0.1:*' \
    --pull-address 'tcp://127.0.0.1:*' --reply-to-reply-stack-address 'tcp://127.0.0.1:*' \
    --push-to-reply-stack-address 'tcp://127.0.0.1:*' --log-format json --log-level "${NET_LOG_LEVEL:-info}" "$@" 2>"$log" &
  PID=$!
  local i line
  for i in $(seq 100); do
    line=$(grep -m1 '"pulsard listening"' "$log" 2>/dev/null || true)
    if [ -n "$line" ]; then
      ADM=$(sed 's/.*"reply_stack":"\([^"]*\)".*/\1/' <<<"$line")
      PUB=$(sed 's/.*"publish":"\([^"]*\)".*/\1/' <<<"$line")
      PULL=$(sed 's/.*"pull":"\([^"]*\)".*/\1/' <<<"$line")
      return 0
    fi
    sleep 0.05
  done
  echo "pulsard did not start:"; cat "$log"; exit 1
}

net_rss_kb() { awk '/^VmRSS:/ {print $2; f=1} END {if (!f) print 0}' "/proc/$PID/status" 2>/dev/null || echo 0; }

net_cpu_ticks() { awk '{print $14 + $15}' "/proc/$PID/stat" 2>/dev/null || echo 0; }

net_alive() { kill -0 "$PID" 2>/dev/null; }

net_sample_peak() {
  local end=$((SECONDS + $1)) rss
  while [ $SECONDS -lt $end ]; do
    if ! net_alive; then net_fail "the daemon exited (crash?)"; return 0; fi
    rss=$(net_rss_kb)
    [ "$rss" -gt "$PEAK_KB" ] && PEAK_KB=$rss
    sleep 0.2
  done
}

net_settle() {
  local i before after
  for i in $(seq 6); do
    before=$(net_rss_kb); sleep 1; after=$(net_rss_kb)
    [ "$after" -ge "$before" ] && [ "$i" -ge 3 ] && break
  done
  return 0
}

net_max_receivers() {
  grep -o '"receivers":[0-9]*' "$1" | cut -d: -f2 | sort -n | tail -1 || true
}

net_fail() {
  FAILURES=$((FAILURES + 1))
  echo "FAIL: $*"
}

net_finish() {
  if ! net_alive; then net_fail "the daemon is not running at the end"; fi
  if [ "$FAILURES" -gt 0 ]; then echo "$(basename "$0"): $FAILURES failure(s)"; exit 1; fi
  echo "$(basename "$0"): ok"
}
