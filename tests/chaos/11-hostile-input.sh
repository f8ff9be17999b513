#!/usr/bin/env bash
# Random, mutated, nested (deep PHP arrays) and oversized messages on all three ports, from fresh connections,
# with a normal fleet alongside. Fails on: a crash, a pulse reaching more than N, the fleet getting fewer than
# half its pre-attack rate, RSS over the documented bound (48 MiB at the peak, 32 MiB after the attack).
source "$(dirname "$0")/net-lib.sh"
if [ "$CHAOS_MODE" = full ]; then ATTACK=120; FUZZERS=4; else ATTACK=30; FUZZERS=2; fi
N=10; WARM=6; PEAK_BOUND_KB=$((48 * 1024)); AFTER_BOUND_KB=$((32 * 1024))
LOG=$WORK/pulsard.log
net_start "$LOG" --subscribers-per-iteration $N --pulsation-iteration-period 1
"$PEER" fleet "$ADM" "$PUB" "$PULL" 12 $((WARM + ATTACK + 10)) $N 1 >"$WORK/fleet.out" 2>&1 &
FLEET=$!
sleep $WARM
BEFORE_KB=$(net_rss_kb)
for f in $(seq $FUZZERS); do "$PEER" fuzz "$ADM" "$PUB" "$PULL" $ATTACK >"$WORK/fuzz-$f.out" 2>&1 & done
net_sample_peak $((ATTACK + 1))
wait $(jobs -p | grep -v "^$FLEET$" | grep -v "^$PID$") 2>/dev/null || true
net_settle
AFTER_KB=$(net_rss_kb)
wait $FLEET || FLEET_RC=$?
FLEET_LINE=$(cat "$WORK/fleet.out")
PER_SECOND=$(sed 's/.*per_second=\[\(.*\)\]/\1/' <<<"$FLEET_LINE" | tr -d ' ')
read -r PRE DURING < <(python3 - "$PER_SECOND" $WARM $ATTACK <<'PY'
import sys
per = [int(x) for x in sys.argv[1].split(",") if x]
warm, attack = int(sys.argv[2]), int(sys.argv[3])
pre, during = per[2:warm], per[warm + 1: warm + attack]
print(f"{sum(pre) / max(len(pre), 1):.1f} {sum(during) / max(len(during), 1):.1f}")
PY
)
SENT=$(cat "$WORK"/fuzz-*.out | grep -o 'messages=[0-9]*' | cut -d= -f2 | paste -sd+ | bc)
echo "figures: fuzzers=$FUZZERS seconds=$ATTACK messages=$SENT rss_before_kb=$BEFORE_KB rss_peak_kb=$PEAK_KB" \
  "rss_after_kb=$AFTER_KB fleet_grants_per_s_before=$PRE fleet_grants_per_s_during=$DURING" \
  "max_receivers=$(net_max_receivers "$LOG")"
echo "$FLEET_LINE"
[ "${FLEET_RC:-0}" = 2 ] && net_fail "the fleet got no grant"
python3 -c "import sys; sys.exit(0 if float('$DURING') >= float('$PRE') / 2 else 1)" \
  || net_fail "the fleet slowed down under the attack ($DURING grants/s against $PRE before)"
[ "$(net_max_receivers "$LOG")" -le $N ] 2>/dev/null || net_fail "a pulse reached more than N"
[ "$PEAK_KB" -le $PEAK_BOUND_KB ] || net_fail "RSS peak $PEAK_KB KiB over $PEAK_BOUND_KB"
[ "$AFTER_KB" -le $AFTER_BOUND_KB ] || net_fail "RSS after $AFTER_KB KiB over $AFTER_BOUND_KB"
net_finish
