#!/usr/bin/env bash
# Admission flood with a normal fleet alongside: strangers open thousands of connections to the admission port,
# each asks once and then neither reads nor subscribes, while 20 of our workers cycle with N = 10 per 1 s and
# maxAdmissionQueue = 100. Fails on: a crash, a pulse reaching more than N or a period window holding more than N
# on the daemon's clock (figures.py, from its "pulse published" lines), the
# fleet getting fewer than a quarter of its pre-flood rate during the flood, the daemon burning CPU after the
# flood, RSS over the documented bound. The daemon runs with a descriptor limit of 1200 (soft and hard), so that
# the flood would reach it without the connection limit (1024 by default).
# New workers must be served after the flood (the connection count comes back down). Figures also printed: the log lines saying the connection limit was reached, and failed accepts. (16 MiB + 96 KiB per allowed connection at the peak, 32 MiB after).
source "$(dirname "$0")/net-lib.sh"
if [ "$CHAOS_MODE" = full ]; then PER_PROC=5000; HOLD=50; else PER_PROC=2500; HOLD=20; fi
PROCS=4; N=10; WARM=8; AFTER=6
PEAK_BOUND_KB=$((16 * 1024 + 96 * 1024)); AFTER_BOUND_KB=$((32 * 1024))
LOG=$WORK/pulsard.log
export NET_NOFILE=1200
# "pulse published" (the send time on the daemon's clock, for the period windows) is a debug line.
export NET_LOG_LEVEL="info,publisher_pulsar::daemon=debug"
net_start "$LOG" --subscribers-per-iteration $N --pulsation-iteration-period 1 --max-admission-queue 100
"$PEER" fleet "$ADM" "$PUB" "$PULL" 20 $((WARM + HOLD + 4 + AFTER)) $N 1 >"$WORK/fleet.out" 2>&1 &
FLEET=$!
sleep $WARM
BEFORE_KB=$(net_rss_kb)
for p in $(seq $PROCS); do "$PEER" admission-flood "$ADM" $PER_PROC $HOLD >"$WORK/flood-$p.out" 2>&1 & done
net_sample_peak $((HOLD + 4))
wait $(jobs -p | grep -v "^$FLEET$" | grep -v "^$PID$") 2>/dev/null || true
T0=$(net_cpu_ticks); sleep 3; T1=$(net_cpu_ticks)
FDS_AFTER=$(ls "/proc/$PID/fd" 2>/dev/null | wc -l)
CPU_PCT=$(( (T1 - T0) * 100 / (3 * $(getconf CLK_TCK)) ))
wait $FLEET || FLEET_RC=$?
# New connections are accepted again once the flood is gone: the connection count came back down.
"$PEER" fleet "$ADM" "$PUB" "$PULL" 3 4 $N 1 >"$WORK/late.out" 2>&1 || LATE_RC=$?
net_settle
AFTER_KB=$(net_rss_kb)
FLEET_LINE=$(cat "$WORK/fleet.out")
PER_SECOND=$(sed 's/.*per_second=\[\(.*\)\]/\1/' <<<"$FLEET_LINE" | tr -d ' ')
read -r PRE DURING < <(python3 - "$PER_SECOND" $WARM $HOLD <<'PY'
import sys
per = [int(x) for x in sys.argv[1].split(",") if x]
warm, hold = int(sys.argv[2]), int(sys.argv[3])
pre = per[2:warm]
during = per[warm + 1: warm + hold]
print(f"{sum(pre) / max(len(pre), 1):.1f} {sum(during) / max(len(during), 1):.1f}")
PY
)
REFUSED=$(grep -c 'connection limit reached' "$LOG" || true)
ACCEPT_FAILED=$(grep -c 'cannot accept a connection' "$LOG" || true)
echo "figures: connections=$((PROCS * PER_PROC)) rss_before_kb=$BEFORE_KB rss_peak_kb=$PEAK_KB rss_after_kb=$AFTER_KB" \
  "fleet_grants_per_s_before=$PRE fleet_grants_per_s_during=$DURING cpu_after_flood_pct=$CPU_PCT" \
  "max_receivers=$(net_max_receivers "$LOG") limit_log_lines=$REFUSED accept_failed_log_lines=$ACCEPT_FAILED descriptors_after=$FDS_AFTER"
echo "$FLEET_LINE"
echo "after the flood, new workers: $(cat "$WORK/late.out")"
[ "${LATE_RC:-0}" = 0 ] || net_fail "new workers were not served after the flood"
[ "${FLEET_RC:-0}" = 2 ] && net_fail "the fleet got no grant at all"
python3 -c "import sys; sys.exit(0 if float('$DURING') >= float('$PRE') / 4 and float('$DURING') > 0 else 1)" \
  || net_fail "the fleet starved during the flood ($DURING grants/s against $PRE before)"
[ "$(net_max_receivers "$LOG")" -le $N ] 2>/dev/null || net_fail "a pulse reached more than N"
# Period windows on the daemon's clock: the workers' own receipt times wake late on a starved machine, the
# daemon's send times are what the limit is about.
python3 "$ROOT/tests/chaos/figures.py" --log "$LOG" --n $N --period 1 || net_fail "figures.py: see its FAIL line above"
[ "$CPU_PCT" -le 50 ] || net_fail "the daemon uses $CPU_PCT % CPU after the flood"
[ "$PEAK_KB" -le $PEAK_BOUND_KB ] || net_fail "RSS peak $PEAK_KB KiB over $PEAK_BOUND_KB"
[ "$AFTER_KB" -le $AFTER_BOUND_KB ] || net_fail "RSS after $AFTER_KB KiB over $AFTER_BOUND_KB"
net_finish
