#!/usr/bin/env bash
# Benchmark (prints figures, asserts nothing). Needs: cargo build --release -p publisher-pulsar --bins
# 5 original-protocol PHP workers, N=10 per 1 s, daemon defaults, 12 s: grants per second after a 2 s warm-up.
set -euo pipefail
cd "$(dirname "$0")/../.."
# Three distinct free ports, bound together (tests/free_ports.py says why).
read -r -a ports <<< "$(python3 tests/free_ports.py 3)"
adm=tcp://127.0.0.1:${ports[0]}; pub=tcp://127.0.0.1:${ports[1]}; pull=tcp://127.0.0.1:${ports[2]}
target/release/pulsard --reply-stack-address "$adm" --publish-address "$pub" --pull-address "$pull" \
  --reply-to-reply-stack-address tcp://127.0.0.1:0 --push-to-reply-stack-address tcp://127.0.0.1:0 --log-level warn &
d=$!
sleep 0.5
for i in 1 2 3 4 5; do php tests/php/worker.php --admission "$adm" --publish "$pub" --push "$pull" --id w$i --seconds 12 > "${TMPDIR:-/tmp}/five_$i.txt" & done
# The workers end by themselves (--seconds 12; every socket wait bounded by worker.php's timeout).
wait $(jobs -p | grep -v "^$d$") 2>/dev/null || true
kill $d
cat "${TMPDIR:-/tmp}"/five_*.txt | awk '$1=="GRANT"{print $3}' | sort -n | python3 -c '
import sys
t=[float(x) for x in sys.stdin]
t0=t[0]+2; t1=t0+9
n=sum(1 for x in t if t0<=x<t1)
print(f"grants={len(t)} measured_window_s=9 grants_in_window={n} grants_per_s={n/9:.2f}")'
