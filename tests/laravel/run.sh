#!/usr/bin/env bash
# The Laravel suite: a real Laravel 8 application (tests/laravel/app, Debian's php-laravel-framework, a SQLite
# `database` queue) running Publisher Pulsar, once with the pulsar extension loaded and once with the composer
# package's FFI classes.
#
#  1. The seeds: the original README's artisan commands (react:pulsar running the daemon through ->manage(),
#     react:pulsar-reply-stack, and Performer workers), with only Laravel's renames (fire() -> handle(),
#     \Log::getMonolog() -> \Log::getLogger()). Workers get their grants; the daemon's records, with their fields,
#     reach the application's Monolog log file; SIGTERM ends both daemon commands with status 0.
#  2. The bridge (php-ext/laravel): PulsarServiceProvider found by package discovery, pulsar:serve at N=2 per
#     0.5 s, 30 queued jobs through the WaitForPermission middleware on 4 queue:work processes; on their first
#     attempt 6 throw SlowDown, one a 429 RequestException, one a 429 with Retry-After: 1, one PauseFor(1). Each
#     job finished exactly once, never more than 2 starts per period, the slow-downs shrank N, the Retry-After and
#     the PauseFor paused every worker, pulsar:status shows the daemon, SIGTERM ends pulsar:serve with status 0
#     (tests/laravel/check-queue.php). `vendor:publish --tag=pulsar-config` publishes config/pulsar.php.
#
#  3. WaitForPermission's reading of Retry-After (seconds, HTTP dates) (tests/laravel/check-retry-after.php).
#  4. CURVE through the bridge: pulsar:serve with PULSAR_CURVE_SECRET_KEY (and PULSAR_STATE_FILE) logs the
#     pair's public key and keeps its record where told; a queue:work without PULSAR_CURVE_SERVER_KEY is not
#     admitted (its job is released, not run); one with the daemon's public key runs every job.
#
# Every wait is bounded; every process started here is stopped on exit. Usage: bash tests/laravel/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)

cargo build -p pulsar-php -p pulsar-capi
extension="$root/target/debug/libpulsar_php.so"
export PULSAR_LIB="$root/target/debug/libpulsar.so"

work=$(mktemp -d)
pids=()
ok=0
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 50); do
    local alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  if [ "$ok" = 1 ]; then
    rm -rf "$work"
  else
    echo "tests/laravel: FAILED; the applications and their logs are kept in $work" >&2
  fi
}
trap cleanup EXIT

fail() { echo "tests/laravel: FAIL: $*" >&2; exit 1; }

# $1 distinct free loopback TCP ports on one line (the kernel's choice; taken again by the daemon a moment later;
# tests/free_ports.py says why they are bound together).
free_ports() { python3 "$root/tests/free_ports.py" "$1"; }

# Waits up to $1 seconds for the command "$2..." to succeed.
wait_for() {
  local limit=$1; shift
  local deadline=$((SECONDS + limit))
  until "$@"; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.1
  done
}

# Waits up to $2 seconds for our child process $1 to end; sets $status to its exit status (or fails).
status=0
wait_exit() {
  local pid=$1 limit=$2
  wait_for "$limit" bash -c "! kill -0 $pid 2>/dev/null" || fail "process $pid did not end within ${limit}s"
  status=0
  wait "$pid" || status=$?
}

# A fresh copy of the application in $work/$1, with its stand-in composer vendor directory and a migrated database.
new_app() {
  local app="$work/$1"
  mkdir -p "$app"
  cp -r tests/laravel/app/. "$app/"
  mkdir -p "$app/storage/logs" "$app/storage/framework/cache/data" "$app/database"
  : > "$app/database/database.sqlite"
  php tests/laravel/make-vendor.php "$root" "$app"
  (cd "$app" && "${php[@]}" artisan migrate --force --no-interaction >/dev/null)
  echo "$app"
}

# PHP with the implementation under test: the extension, or the FFI package (no extension; PULSAR_LIB set).
# Background processes are started as "${php[@]}" ... & (not through a function), so that $! is PHP itself.
set_impl() {
  impl=$1
  if [ "$impl" = ext ]; then
    php=(php -d extension="$extension")
  else
    php=(php -d ffi.enable=1)
  fi
}

if php -r 'exit(extension_loaded("pulsar") ? 0 : 1);'; then
  fail "the pulsar extension is loaded by this PHP's configuration: the FFI run could not be told apart"
fi

seeds() {
  local app; app=$(new_app "seeds-$impl")
  local ports; read -r -a ports <<< "$(free_ports 5)"
  export SEED_REPLY_TO_REPLY_STACK="tcp://127.0.0.1:${ports[0]}" SEED_PUSH_TO_REPLY_STACK="tcp://127.0.0.1:${ports[1]}"
  export SEED_PUBLISH="tcp://127.0.0.1:${ports[2]}" SEED_PULL="tcp://127.0.0.1:${ports[3]}"
  export SEED_REPLY_STACK="tcp://127.0.0.1:${ports[4]}"
  cd "$app"
  "${php[@]}" artisan react:pulsar > pulsar.out 2>&1 & local daemon=$!; pids+=("$daemon")
  "${php[@]}" artisan react:pulsar-reply-stack > reply-stack.out 2>&1 & local stack=$!; pids+=("$stack")
  local workers=()
  "${php[@]}" artisan react:performer 3 > performer-1.out 2>&1 & workers+=($!)
  "${php[@]}" artisan react:performer 3 > performer-2.out 2>&1 & workers+=($!)
  "${php[@]}" artisan react:performer 2 --mode=slowdown > performer-3.out 2>&1 & workers+=($!)
  pids+=("${workers[@]}")
  local w
  for w in "${workers[@]}"; do
    wait_exit "$w" 60
    [ "$status" = 0 ] || { cat performer-*.out pulsar.out >&2; fail "[$impl] a react:performer exited with $status"; }
  done
  local grants; grants=$(cat performer-*.out | grep -c '^GRANT ' || true)
  [ "$grants" = 8 ] || fail "[$impl] $grants grants, expected 8"
  # The records reach Laravel's Monolog logger: the application's own log file, with their fields as context.
  wait_for 10 grep -q 'USER_RATE_LIMIT_EXCEEDED' storage/logs/laravel.log \
    || { cat storage/logs/laravel.log >&2; fail "[$impl] the slow-down's record is not in storage/logs/laravel.log"; }
  grep -q 'testing.INFO: pulse iteration finished {"module":"react:pulsar"' storage/logs/laravel.log \
    || fail "[$impl] no pulse record of module react:pulsar in storage/logs/laravel.log"
  kill -TERM "$daemon" "$stack"
  wait_exit "$daemon" 15; [ "$status" = 0 ] || fail "[$impl] react:pulsar exited with $status on SIGTERM"
  wait_exit "$stack" 15; [ "$status" = 0 ] || fail "[$impl] react:pulsar-reply-stack exited with $status on SIGTERM"
  echo "[$impl] seeds: 8 grants to 3 react:performer workers; the daemon's records in Laravel's log file;" \
    "react:pulsar and react:pulsar-reply-stack exit 0 on SIGTERM"
  cd "$root"
}

queue() {
  local app; app=$(new_app "queue-$impl")
  local count=30 slow=3,7,11,19,23,29 http429=13 retry_after=17 pause_for=25 n=2 period=0.5 jitter=0.1
  export PULSAR_SUBSCRIBERS_PER_ITERATION=$n PULSAR_PULSATION_ITERATION_PERIOD=$period
  local ports; read -r -a ports <<< "$(free_ports 3)"
  export PULSAR_PUBLISH_ADDRESS="tcp://127.0.0.1:${ports[0]}" PULSAR_PULL_ADDRESS="tcp://127.0.0.1:${ports[1]}"
  export PULSAR_REPLY_STACK_ADDRESS="tcp://127.0.0.1:${ports[2]}"
  export PULSAR_ADMISSION_TIMEOUT=20 PULSAR_PULSE_TIMEOUT=20 PULSAR_SEND_TIMEOUT=5
  cd "$app"
  "${php[@]}" artisan test:dispatch "$count" "$app/records.txt" --slow-down="$slow" \
    --http429="$http429" --retry-after="$retry_after" --pause-for="$pause_for" >/dev/null
  "${php[@]}" artisan vendor:publish --tag=pulsar-config >/dev/null
  grep -q PULSAR_SUBSCRIBERS_PER_ITERATION config/pulsar.php || fail "[$impl] vendor:publish did not publish config/pulsar.php"
  "${php[@]}" artisan pulsar:serve > serve.out 2>&1 & local serve=$!; pids+=("$serve")
  wait_for 20 grep -qs '"state": "running"' storage/framework/pulsar-status.json \
    || { cat serve.out >&2; fail "[$impl] pulsar:serve did not start within 20 s"; }
  local workers=() i
  for i in 1 2 3 4; do
    "${php[@]}" artisan queue:work --sleep=1 --tries=5 --timeout=60 > "worker-$i.out" 2>&1 & workers+=($!)
  done
  pids+=("${workers[@]}")
  done_count() { local c; c=$(grep -c '^DONE ' "$app/records.txt" 2>/dev/null || true); echo "${c:-0}"; }
  all_done() { [ "$(done_count)" -ge "$count" ]; }
  wait_for 120 all_done || { cat worker-*.out serve.out >&2; fail "[$impl] only $(done_count) of $count jobs done within 120 s"; }
  "${php[@]}" artisan pulsar:status > status.out 2>&1 || { cat status.out >&2; fail "[$impl] pulsar:status failed"; }
  grep -q '^state: running' status.out && grep -q '^N: ' status.out && grep -q '^pause: ' status.out \
    && grep -q '^queue: ' status.out && grep -q 'granted' status.out \
    || { cat status.out >&2; fail "[$impl] pulsar:status does not show state, N, pause, queue and recent grants"; }
  local w
  kill -TERM "${workers[@]}"
  for w in "${workers[@]}"; do
    wait_exit "$w" 30
    [ "$status" = 0 ] || { cat worker-*.out >&2; fail "[$impl] a queue:work exited with $status on SIGTERM"; }
  done
  kill -TERM "$serve"
  wait_exit "$serve" 15; [ "$status" = 0 ] || { cat serve.out >&2; fail "[$impl] pulsar:serve exited with $status on SIGTERM"; }
  grep -q '"state": "stopped"' storage/framework/pulsar-status.json || fail "[$impl] the status file does not say stopped"
  php "$root/tests/laravel/check-queue.php" "$app/records.txt" storage/logs/laravel.log database/database.sqlite \
    "$count" "$slow,$http429,$retry_after,$pause_for" "$retry_after,$pause_for" "$n" "$period" "$jitter" | sed "s/^/[$impl] /"
  echo "[$impl] pulsar:status:"; sed 's/^/    /' status.out | head -12
  cd "$root"
}

curve() {
  local app; app=$(new_app "curve-$impl")
  local count=4
  # A key pair made for the tests only (the same as tests/phpunit/CurveTest.php); never use it anywhere else.
  local secret='EJ}9:vfjcknUX4s418qCs0*j>FMM%}01TRn*W%Ei' public=':q7[Pq1NA>M!Y(sgdm{l=9m+N&]=Hdme]JI<yth)'
  local ports; read -r -a ports <<< "$(free_ports 3)"
  export PULSAR_PUBLISH_ADDRESS="tcp://127.0.0.1:${ports[0]}" PULSAR_PULL_ADDRESS="tcp://127.0.0.1:${ports[1]}"
  export PULSAR_REPLY_STACK_ADDRESS="tcp://127.0.0.1:${ports[2]}"
  export PULSAR_ADMISSION_TIMEOUT=20 PULSAR_PULSE_TIMEOUT=20 PULSAR_SEND_TIMEOUT=5 PULSAR_UNREACHABLE_RELEASE_DELAY=0
  cd "$app"
  "${php[@]}" artisan test:dispatch "$count" "$app/records.txt" >/dev/null
  PULSAR_CURVE_SECRET_KEY="$secret" PULSAR_STATE_FILE="$app/pulsar.state" PULSAR_PULSATION_ITERATION_PERIOD=0.2 \
    PULSAR_SUBSCRIBERS_PER_ITERATION=2 "${php[@]}" artisan pulsar:serve > serve.out 2>&1 & local daemon=$!
  pids+=("$daemon")
  # The daemon logs the public key of its secret key once its sockets are bound, through Laravel's logger.
  wait_for 20 grep -qsF "$public" storage/logs/laravel.log \
    || { cat serve.out storage/logs/laravel.log >&2; fail "[$impl] pulsar:serve with PULSAR_CURVE_SECRET_KEY did not log the test pair's public key"; }
  wait_for 5 grep -qs '"state":"running"' "$app/pulsar.state" \
    || { cat serve.out >&2; fail "[$impl] pulsar:serve did not keep its record in PULSAR_STATE_FILE"; }

  # Without the key (the NULL mechanism): not admitted within its admission timeout; the job is released, not run.
  PULSAR_CURVE_SERVER_KEY='' PULSAR_ADMISSION_TIMEOUT=1 "${php[@]}" artisan queue:work --once --sleep=0 --tries=5 \
    --timeout=60 > worker-plain.out 2>&1 & local plain=$!; pids+=("$plain")
  wait_exit "$plain" 30; [ "$status" = 0 ] || { cat worker-plain.out >&2; fail "[$impl] queue:work --once exited with $status"; }
  grep -q 'pulsar: no permission, job released' storage/logs/laravel.log \
    || { cat storage/logs/laravel.log >&2; fail "[$impl] a worker without the CURVE key was not refused"; }
  ! grep -qs '^START ' "$app/records.txt" || fail "[$impl] a job ran in a worker without the CURVE key"

  # With the daemon's public key: every job runs.
  PULSAR_CURVE_SERVER_KEY="$public" "${php[@]}" artisan queue:work --stop-when-empty --sleep=0 --tries=5 \
    --timeout=60 > worker-curve.out 2>&1 & local keyed=$!; pids+=("$keyed")
  wait_exit "$keyed" 60; [ "$status" = 0 ] || { cat worker-curve.out >&2; fail "[$impl] queue:work exited with $status"; }
  local finished; finished=$(grep -c '^DONE ' "$app/records.txt" || true)
  [ "$finished" = "$count" ] || { cat worker-curve.out serve.out >&2; fail "[$impl] $finished of $count jobs done over CURVE"; }
  kill -TERM "$daemon"
  wait_exit "$daemon" 15; [ "$status" = 0 ] || { cat serve.out >&2; fail "[$impl] pulsar:serve exited with $status on SIGTERM"; }
  grep -qs '"state":"stopped"' "$app/pulsar.state" || fail "[$impl] pulsar:serve did not record its stop in PULSAR_STATE_FILE"
  unset PULSAR_UNREACHABLE_RELEASE_DELAY
  echo "[$impl] curve: a worker without PULSAR_CURVE_SERVER_KEY was not admitted (job released, not run);" \
    "with the daemon's public key $finished of $count jobs ran against pulsar:serve with PULSAR_CURVE_SECRET_KEY"
  cd "$root"
}

php tests/laravel/check-retry-after.php

for implementation in ext ffi; do
  set_impl "$implementation"
  seeds
  queue
  curve
done
ok=1
echo "tests/laravel: all passed"
