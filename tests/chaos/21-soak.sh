#!/usr/bin/env bash
# Soak: a large fleet of every client kind (Rust Performer, Python over libpulsar, PHP extension, PHP FFI, and
# original-protocol PHP workers of tests/php, in equal numbers) against one daemon at N = 10 per 1 s, while one
# random worker is killed with SIGKILL every second (its slot starts a new one) and the daemon is killed with
# SIGKILL and restarted after a 0.5 s outage at a fixed interval.
#
#   ci (default): 30 workers, 90 s, a restart every 45 s
#   full:         100 workers, 600 s, a restart every 120 s
#   CHAOS_SOAK_SECONDS, CHAOS_SOAK_WORKERS, CHAOS_SOAK_RESTART_EVERY override them; e.g. the documented 5-minute
#   run: CHAOS_MODE=full CHAOS_SOAK_SECONDS=300 bash tests/chaos/21-soak.sh
#
# Fails on: a crash, a pulse or a period window (across incarnations) over N by the daemon's count, the daemon's
# RSS over 64 MiB, no pulse within 3 s of a restart, or less than 85 % of the limit used (grants over N per period,
# measured from 10 s after the start to the end, outages included).
source "$(dirname "$0")/lib.sh"
trap chaos_cleanup EXIT
work=$(mktemp -d /tmp/chaos-21.XXXXXX)
log=$work/pulsard.log
RSS_BOUND_KB=$((64 * 1024))
if [ "$CHAOS_MODE" = full ]; then
  seconds=${CHAOS_SOAK_SECONDS:-600} workers=${CHAOS_SOAK_WORKERS:-100} every=${CHAOS_SOAK_RESTART_EVERY:-120}
else
  seconds=${CHAOS_SOAK_SECONDS:-90} workers=${CHAOS_SOAK_WORKERS:-30} every=${CHAOS_SOAK_RESTART_EVERY:-45}
fi
kinds=(rust python ext ffi original)

chaos_ports
chaos_daemon_start "$log"
slots=()
for i in $(seq "$workers"); do
  chaos_worker "${kinds[$((i % 5))]}" "$i" "$work" 100
  slots+=("$CHAOS_LAST_SLOT")
done
chaos_watch 10
from=$(date +%s.%N)
kills=0 restarts=0
end=$((SECONDS + seconds)) next_restart=$((SECONDS + every))
while [ "$SECONDS" -lt "$end" ]; do
  if [ "$SECONDS" -ge "$next_restart" ]; then
    chaos_daemon_kill
    sleep 0.5
    date +%s.%N >>"$work/restarts"
    chaos_daemon_start "$log"
    restarts=$((restarts + 1)) next_restart=$((next_restart + every))
  fi
  victim=$(chaos_worker_child "${slots[$((RANDOM % workers))]}")
  if [ -n "$victim" ]; then kill -9 "$victim" 2>/dev/null && kills=$((kills + 1)); fi
  chaos_watch 1
done
to=$(date +%s.%N)
chaos_cleanup

echo "21-soak: mode=$CHAOS_MODE seconds=$seconds workers=$workers (rust python ext ffi original, equal shares)" \
  "worker_kills=$kills daemon_restarts=$restarts N=10 per 1 s"
python3 "$CHAOS_ROOT/tests/chaos/figures.py" --log "$log" --n 10 --period 1 --workers "$work" \
  --restarts "$work/restarts" --recover-within 3 --from "$from" --to "$to" --min-utilisation 0.85 ||
  chaos_fail "figures"
echo "daemon_max_rss_kib=$MAX_RSS_KB (bound $RSS_BOUND_KB)"
[ "$MAX_RSS_KB" -le "$RSS_BOUND_KB" ] || chaos_fail "daemon RSS $MAX_RSS_KB KiB over $RSS_BOUND_KB KiB"
[ "${CHAOS_KEEP:-0}" = 1 ] && echo "work directory: $work" || rm -rf "$work"
exit $((CHAOS_FAILURES > 0))
