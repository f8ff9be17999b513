#!/usr/bin/env bash
# Helpers shared by the chaos scenarios (sourced, never run). Each scenario is a separate bash script; these only
# start and stop things and print figures, the scenario decides what is a failure.
#
#   chaos_ports                      sets ADM PUB PULL: three free loopback addresses
#   chaos_daemon_start LOG [FLAGS..] starts target/debug/pulsard on them (JSON log appended to LOG); sets DAEMON_PID
#   chaos_daemon_kill                SIGKILL the daemon and reap it
#   chaos_daemon_alive               true while it runs
#   chaos_rss_kb PID                 resident memory of a process, in KiB (0 if gone)
#   chaos_watch SECONDS              waits (whole seconds), sampling the daemon's RSS into MAX_RSS_KB; a daemon that exits
#                                    meanwhile is a crash (chaos_fail)
#   chaos_worker KIND ID DIR [ACT]   a worker slot: a loop restarting one worker of KIND (rust, python, ext, ffi,
#                                    original) whenever it ends, acting ACT ms (default 100) per permission;
#                                    output in DIR/KIND-ID.out; sets CHAOS_LAST_SLOT to the loop's pid
#   chaos_worker_child SLOT          the pid of the worker a slot runs now (empty between two)
#   chaos_fail MESSAGE               records a failure (the scenario exits 1 at its end) and prints it
#   chaos_cleanup                    stops every slot and the daemon (installed as the EXIT trap)
#
# CHAOS_MODE=ci (default) or full; CHAOS_KEEP=1 keeps the work directory for a look afterwards.
set -euo pipefail
CHAOS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CHAOS_MODE=${CHAOS_MODE:-ci}
PULSARD=${PULSARD:-$CHAOS_ROOT/target/debug/pulsard}
CHAOS_RUST_WORKER=${CHAOS_RUST_WORKER:-$CHAOS_ROOT/target/debug/examples/chaos_worker}
export PULSAR_LIB=${PULSAR_LIB:-$CHAOS_ROOT/target/debug/libpulsar.so}
export PULSAR_FFI_AUTOLOAD=${PULSAR_FFI_AUTOLOAD:-$CHAOS_ROOT/tests/phpunit-ffi/autoload.php}
PULSAR_PHP_EXTENSION=${PULSAR_PHP_EXTENSION:-$CHAOS_ROOT/target/debug/libpulsar_php.so}
CHAOS_FAILURES=0
CHAOS_SLOTS=()
DAEMON_PID=

chaos_ports() {
  # Distinct ports, bound together (tests/free_ports.py says why).
  local ports; read -r -a ports <<< "$(python3 "$CHAOS_ROOT/tests/free_ports.py" 3)"
  ADM=tcp://127.0.0.1:${ports[0]}
  PUB=tcp://127.0.0.1:${ports[1]}
  PULL=tcp://127.0.0.1:${ports[2]}
}

chaos_daemon_start() {
  local log=$1
  shift
  "$PULSARD" --reply-stack-address "$ADM" --publish-address "$PUB" --pull-address "$PULL" \
    --reply-to-reply-stack-address tcp://127.0.0.1:0 --push-to-reply-stack-address tcp://127.0.0.1:0 \
    --log-format json --log-level "info,publisher_pulsar::daemon=debug" "$@" 2>>"$log" &
  DAEMON_PID=$!
  # Bounded wait until the admission port accepts connections.
  local port=${ADM##*:} i
  for i in $(seq 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    sleep 0.05
  done
  chaos_fail "pulsard did not listen on $ADM within 5 s"
}

chaos_daemon_alive() { [ -n "$DAEMON_PID" ] && kill -0 "$DAEMON_PID" 2>/dev/null; }

chaos_daemon_kill() {
  if [ -n "$DAEMON_PID" ]; then
    kill -9 "$DAEMON_PID" 2>/dev/null || true
    wait "$DAEMON_PID" 2>/dev/null || true
    DAEMON_PID=
  fi
}

chaos_rss_kb() { awk '/^VmRSS:/ {print $2; found=1} END {if (!found) print 0}' "/proc/$1/status" 2>/dev/null || echo 0; }

MAX_RSS_KB=0
chaos_now_us() { echo "${EPOCHREALTIME/./}"; }

chaos_watch() {
  local until rss
  until=$(($(chaos_now_us) + ${1%.*} * 1000000))
  while [ "$(chaos_now_us)" -lt "$until" ]; do
    if ! chaos_daemon_alive; then
      chaos_fail "the daemon exited on its own (crash?): see its log"
      DAEMON_PID=
      return 0
    fi
    rss=$(chaos_rss_kb "$DAEMON_PID")
    [ "$rss" -gt "$MAX_RSS_KB" ] && MAX_RSS_KB=$rss
    sleep 0.2
  done
}

chaos_worker() {
  local kind=$1 id=$2 dir=$3 act=${4:-100} cmd
  case $kind in
    rust) cmd=("$CHAOS_RUST_WORKER" "$ADM" "$PUB" "$PULL" "$id" "$act") ;;
    python) cmd=(python3 "$CHAOS_ROOT/tests/chaos/worker.py" "$ADM" "$PUB" "$PULL" "$id" "$act") ;;
    ext) cmd=(php -d "extension=$PULSAR_PHP_EXTENSION" "$CHAOS_ROOT/tests/chaos/worker.php" "$ADM" "$PUB" "$PULL" "$id" ext "$act") ;;
    ffi) cmd=(php -d ffi.enable=1 "$CHAOS_ROOT/tests/chaos/worker.php" "$ADM" "$PUB" "$PULL" "$id" ffi "$act") ;;
    # The original library's worker (ext-zmq, serialize(), no pulsar code), with its own 20 s timeouts.
    original) cmd=(php -n -d extension=zmq "$CHAOS_ROOT/tests/php/worker.php" --admission "$ADM" --publish "$PUB"
      --push "$PULL" --id "$id" --seconds 100000 --timeout-ms 20000 --act-ms "$act") ;;
    *) echo "chaos_worker: unknown kind $kind" >&2; return 2 ;;
  esac
  setsid bash -c 'while :; do "$@"; sleep 0.2; done' chaos-slot "${cmd[@]}" >>"$dir/$kind-$id.out" 2>>"$dir/$kind-$id.err" &
  CHAOS_LAST_SLOT=$!
  disown "$CHAOS_LAST_SLOT" 2>/dev/null || true
  CHAOS_SLOTS+=("$CHAOS_LAST_SLOT")
}

chaos_worker_child() { local c; read -r c _ <"/proc/$1/task/$1/children" 2>/dev/null || true; echo "${c:-}"; }

chaos_fail() {
  CHAOS_FAILURES=$((CHAOS_FAILURES + 1))
  echo "FAIL: $*"
}

chaos_cleanup() {
  local slot
  for slot in "${CHAOS_SLOTS[@]}"; do kill -9 -- "-$slot" 2>/dev/null || true; done
  chaos_daemon_kill
}
