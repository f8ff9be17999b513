#!/usr/bin/env bash
# Restart under load: a fleet of every client kind keeps the daemon at its limit (N = 10 per 1 s, 10 workers:
# two each of the Rust Performer, Python over libpulsar (C ABI), the PHP extension and the PHP FFI package, plus
# two original-protocol PHP workers of tests/php). The daemon is killed with SIGKILL and started again on the
# same ports after a 0.5 s and after a 10 s outage (ci: once each; full: three times each), each time right
# after it sent a pulse.
#
# Fails on: a crash, a pulse or a period window (across incarnations) over N by the daemon's count, the daemon's
# RSS over 64 MiB, or one of our workers (all four kinds, default timeouts) not served within 3 s of a restart.
# The original workers are not held to the 3 s: a request lost with the daemon is theirs to time out (20 s);
# their subscriptions left behind must not break N or stall the others.
source "$(dirname "$0")/lib.sh"
trap chaos_cleanup EXIT
work=$(mktemp -d /tmp/chaos-20.XXXXXX)
log=$work/pulsard.log
RSS_BOUND_KB=$((64 * 1024))
case $CHAOS_MODE in
  full) outages=(0.5 10 0.5 10 0.5 10) ;;
  *) outages=(0.5 10) ;;
esac

# Kills the daemon right after it sent a pulse: the worst moment for a period window across the restart (the
# restarted daemon must not pulse again within that period).
kill_after_pulse() {
  local before i
  before=$(grep -c '"pulse published"' "$log" || true)
  for i in $(seq 60); do
    [ "$(grep -c '"pulse published"' "$log" || true)" -gt "$before" ] && break
    sleep 0.05
  done
  chaos_daemon_kill
}

chaos_ports
chaos_daemon_start "$log"
for kind in rust python ext ffi original; do
  for id in 1 2; do chaos_worker "$kind" "$id" "$work" 100; done
done
chaos_watch 8
from=$(date +%s.%N)
for outage in "${outages[@]}"; do
  kill_after_pulse
  sleep "$outage"
  date +%s.%N >>"$work/restarts"
  chaos_daemon_start "$log"
  chaos_watch 8
done
to=$(date +%s.%N)
chaos_cleanup

echo "20-restart-under-load: outages=${outages[*]} s; workers=10 (2 x rust python ext ffi original); N=10 per 1 s"
python3 "$CHAOS_ROOT/tests/chaos/figures.py" --log "$log" --n 10 --period 1 --workers "$work" \
  --restarts "$work/restarts" --recover-kinds rust,python,ext,ffi --recover-within 3 --from "$from" --to "$to" ||
  chaos_fail "figures"
echo "daemon_max_rss_kib=$MAX_RSS_KB (bound $RSS_BOUND_KB)"
[ "$MAX_RSS_KB" -le "$RSS_BOUND_KB" ] || chaos_fail "daemon RSS $MAX_RSS_KB KiB over $RSS_BOUND_KB KiB"
errors=$(cat "$work"/*.err 2>/dev/null | grep -ci panic || true)
[ "$errors" -eq 0 ] || chaos_fail "$errors worker panics (see $work/*.err)"
[ "${CHAOS_KEEP:-0}" = 1 ] && echo "work directory: $work" || rm -rf "$work"
exit $((CHAOS_FAILURES > 0))
