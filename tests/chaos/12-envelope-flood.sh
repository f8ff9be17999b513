#!/usr/bin/env bash
# Routing-envelope floods on the admission port: peers send requests behind deep envelopes of large frames (the
# issue's case: 4 peers with 64 frames of 1 MiB), then behind deep envelopes of small frames. The daemon must
# echo nothing back (an envelope deeper than one 4-byte request id is dropped unanswered; a frame over 4 KiB
# closes the connection) while a normal fleet keeps its grants. Fails on: a crash, any byte echoed, a pulse over
# N, the fleet getting no grant, RSS over the documented bound (96 MiB at the peak: libzmq bounds each frame,
# not how many frames one message has, and holds a message until its last frame; 32 MiB after).
source "$(dirname "$0")/net-lib.sh"
if [ "$CHAOS_MODE" = full ]; then ROUNDS=10; else ROUNDS=3; fi
N=10; PEAK_BOUND_KB=$((96 * 1024)); AFTER_BOUND_KB=$((32 * 1024))
LOG=$WORK/pulsard.log
net_start "$LOG" --subscribers-per-iteration $N --pulsation-iteration-period 1
"$PEER" fleet "$ADM" "$PUB" "$PULL" 12 $((6 + ROUNDS * 5 + 8)) $N 1 >"$WORK/fleet.out" 2>&1 &
FLEET=$!
sleep 5
BEFORE_KB=$(net_rss_kb)
ECHOED=0
for r in $(seq $ROUNDS); do
  "$PEER" envelopes "$ADM" 4 64 1048576 >"$WORK/big.out" 2>&1 &
  "$PEER" envelopes "$ADM" 50 200 4000 >"$WORK/deep.out" 2>&1 &
  net_sample_peak 5
  wait $(jobs -p | grep -v "^$FLEET$" | grep -v "^$PID$") 2>/dev/null || true
  for f in big deep; do
    e=$(grep -o 'echoed_bytes=[0-9]*' "$WORK/$f.out" | cut -d= -f2)
    ECHOED=$((ECHOED + ${e:-0}))
  done
done
net_settle
AFTER_KB=$(net_rss_kb)
wait $FLEET || FLEET_RC=$?
echo "figures: rounds=$ROUNDS sent_per_round_mb=$(( (4 * 64 * 1048576 + 50 * 200 * 4000) / 1048576 )) echoed_bytes=$ECHOED" \
  "rss_before_kb=$BEFORE_KB rss_peak_kb=$PEAK_KB rss_after_kb=$AFTER_KB max_receivers=$(net_max_receivers "$LOG")"
cat "$WORK/fleet.out"
[ "$ECHOED" -eq 0 ] || net_fail "$ECHOED bytes of envelopes were echoed back"
[ "${FLEET_RC:-0}" = 2 ] && net_fail "the fleet got no grant"
[ "$(net_max_receivers "$LOG")" -le $N ] 2>/dev/null || net_fail "a pulse reached more than N"
[ "$PEAK_KB" -le $PEAK_BOUND_KB ] || net_fail "RSS peak $PEAK_KB KiB over $PEAK_BOUND_KB"
[ "$AFTER_KB" -le $AFTER_BOUND_KB ] || net_fail "RSS after $AFTER_KB KiB over $AFTER_BOUND_KB"
net_finish
