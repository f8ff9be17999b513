#!/usr/bin/env bash
# Subscription floods on the publish port, with a normal fleet alongside:
#   A. the issue's case: subscriptions with topics up to 64 KiB (each connection is dropped by libzmq at its
#      first message over the publisher's 64-byte limit);
#   B. within the limit: many distinct topics of up to 63 bytes on each of several connections, held and closed
#      (a SUB socket queues at most about 1 000 subscriptions, so about that many of each connection's arrive).
# Fails on: a crash, a pulse reaching more than N, the fleet getting no grant while the floods run, RSS over
# the documented bound (48 MiB at the peak, 32 MiB after the floods end).
source "$(dirname "$0")/net-lib.sh"
if [ "$CHAOS_MODE" = full ]; then ROUNDS=10; TOPICS=50000; else ROUNDS=3; TOPICS=20000; fi
N=10; PEAK_BOUND_KB=$((48 * 1024)); AFTER_BOUND_KB=$((32 * 1024))
LOG=$WORK/pulsard.log
net_start "$LOG" --subscribers-per-iteration $N --pulsation-iteration-period 1
"$PEER" fleet "$ADM" "$PUB" "$PULL" 12 $((8 + ROUNDS * 8 + 6)) $N 1 >"$WORK/fleet.out" 2>&1 &
FLEET=$!
sleep 5
BEFORE_KB=$(net_rss_kb)
for r in $(seq $ROUNDS); do
  "$PEER" subflood "$PUB" 200 65536 >>"$WORK/flood.out" 2>&1 &
  for c in 1 2 3; do "$PEER" subflood "$PUB" $TOPICS 63 >>"$WORK/flood.out" 2>&1 & done
  net_sample_peak 8
done
net_settle
AFTER_KB=$(net_rss_kb)
wait $FLEET || FLEET_RC=$?
echo "figures: rounds=$ROUNDS long_topic_connections=$ROUNDS short_topic_connections=$((ROUNDS * 3))x$TOPICS" \
  "rss_before_kb=$BEFORE_KB rss_peak_kb=$PEAK_KB rss_after_kb=$AFTER_KB max_receivers=$(net_max_receivers "$LOG")"
cat "$WORK/fleet.out"
[ "${FLEET_RC:-0}" = 2 ] && net_fail "the fleet got no grant"
[ "$(net_max_receivers "$LOG")" -le $N ] 2>/dev/null || net_fail "a pulse reached more than N"
[ "$PEAK_KB" -le $PEAK_BOUND_KB ] || net_fail "RSS peak $PEAK_KB KiB over $PEAK_BOUND_KB"
[ "$AFTER_KB" -le $AFTER_BOUND_KB ] || net_fail "RSS after $AFTER_KB KiB over $AFTER_BOUND_KB"
net_finish
