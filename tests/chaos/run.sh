#!/usr/bin/env bash
# The chaos suite: runs every tests/chaos/[0-9][0-9]-*.sh scenario in order, each against daemons and workers of its
# own on free loopback ports, prints their figures, and fails if any scenario fails (a crash, a pulse or period
# window over N by the daemon's count, RSS over the scenario's bound, a client not recovered within 3 s of a
# restart, or a scenario's own limits).
#
#   bash tests/chaos/run.sh              CHAOS_MODE=ci (default): bounded, all scenarios in a few minutes
#   CHAOS_MODE=full bash tests/chaos/run.sh   the long versions (the soak runs 10 minutes)
#   bash tests/chaos/run.sh 21           only the scenarios whose file names start with these numbers
#
# Builds what the scenarios need first (debug: pulsard, the Rust chaos worker, libpulsar, the PHP extension).
set -euo pipefail
cd "$(dirname "$0")/../.."
export CHAOS_MODE=${CHAOS_MODE:-ci}
cargo build -p publisher-pulsar --bin pulsard --example chaos_worker
cargo build -p pulsar-capi -p pulsar-php

# Every scenario is bounded: a hung one fails the suite instead of holding CI (the longest, the soak, takes about
# 100 s in ci mode and CHAOS_SOAK_SECONDS, 600 by default, in full mode). CHAOS_SCENARIO_TIMEOUT overrides.
if [ "$CHAOS_MODE" = full ]; then
  limit=${CHAOS_SCENARIO_TIMEOUT:-$(( ${CHAOS_SOAK_SECONDS:-600} + 900 ))}
else
  limit=${CHAOS_SCENARIO_TIMEOUT:-300}
fi

failed=()
for scenario in tests/chaos/[0-9][0-9]-*.sh; do
  name=$(basename "$scenario" .sh)
  if [ $# -gt 0 ]; then
    wanted=0
    for prefix in "$@"; do [[ $name == "$prefix"* ]] && wanted=1; done
    [ "$wanted" = 1 ] || continue
  fi
  printf '\n---- chaos %s (%s) ----\n' "$name" "$CHAOS_MODE"
  started=$SECONDS
  if timeout --kill-after=10 "$limit" bash "$scenario"; then
    echo "---- $name passed in $((SECONDS - started)) s"
  else
    echo "---- $name FAILED in $((SECONDS - started)) s (bound ${limit} s)"
    failed+=("$name")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "chaos scenarios failed: ${failed[*]}"
  exit 1
fi
echo "chaos: every scenario passed"
