#!/usr/bin/env bash
# Benchmark (prints figures, asserts nothing): one worker asking every 1.1 s at N=10 per 1 s with the daemon's
# defaults, from each kind of client: the original-protocol PHP worker (a new process per ask, as from cron),
# the Python module over libpulsar (C ABI), the PHP extension and the PHP FFI package (when built), and the Rust
# Performer (pulse_bench case 5). Prints the wait from asking to permission for every ask, then min/p50/max per
# client.
#
# Usage: bash tests/bench/lone_worker.sh [ASKS] [PULSARD]    (defaults: 8 asks, target/release/pulsard)
# Needs: cargo build --release -p publisher-pulsar --bins --examples && cargo build --release -p pulsar-capi -p pulsar-php
set -euo pipefail
cd "$(dirname "$0")/../.."
asks=${1:-8}
pulsard=${2:-target/release/pulsard}
# Three distinct free ports, bound together (tests/free_ports.py says why).
read -r -a ports <<< "$(python3 tests/free_ports.py 3)"
adm=tcp://127.0.0.1:${ports[0]}; pub=tcp://127.0.0.1:${ports[1]}; pull=tcp://127.0.0.1:${ports[2]}
"$pulsard" --reply-stack-address "$adm" --publish-address "$pub" --pull-address "$pull" \
  --reply-to-reply-stack-address tcp://127.0.0.1:0 --push-to-reply-stack-address tcp://127.0.0.1:0 \
  --log-level warn 2>/tmp/lone_worker_pulsard.log &
daemon=$!
trap 'kill $daemon 2>/dev/null; wait $daemon 2>/dev/null || true' EXIT
sleep 0.5

summary() { # name, then waits in ms on stdin
  python3 -c '
import sys
name = sys.argv[1]
w = sorted(float(x) for x in sys.stdin.read().split())
print(f"client={name} asks={len(w)} wait_ms_min={w[0]:.2f} p50={w[len(w)//2]:.2f} max={w[-1]:.2f} all=" + ",".join(f"{x:.2f}" for x in w))
' "$1"
}

# The original PHP worker: ASK and GRANT lines carry microtime(true).
for _ in $(seq "$asks"); do
  php tests/php/worker.php --admission "$adm" --publish "$pub" --push "$pull" --iterations 1 --timeout-ms 10000 |
    awk '$1=="ASK"{a=$3} $1=="GRANT"{printf "%.3f\n", ($3-a)*1000}'
  sleep 1.1
done | summary php-original

# Python over libpulsar: one Performer, a wait_permission every 1.1 s.
PULSAR_LIB=${PULSAR_LIB:-target/release/libpulsar.so} python3 - "$adm" "$pub" "$pull" "$asks" <<'PY' | summary python-libpulsar
import sys, time
sys.path.insert(0, "c-api/python")
import publisher_pulsar
adm, pub, pull, asks = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
config = {"requestPulsarRsSocketAddress": adm, "publisherPulsarSocketAddress": pub, "pushPulsarSocketAddress": pull}
with publisher_pulsar.Performer(config) as p:
    for _ in range(asks):
        t = time.perf_counter()
        p.wait_permission()
        print(f"{(time.perf_counter() - t) * 1000:.3f}", flush=True)
        p.report_success()
        time.sleep(1.1)
PY

# The PHP extension and the FFI package: the original class names, one Performer, a permission every 1.1 s.
php_lone() { # extra php flags...
  php "$@" -r '
    if (!extension_loaded("pulsar")) { require getenv("PULSAR_FFI_AUTOLOAD"); }
    [, $adm, $pub, $pull, $asks] = $argv;
    $dto = new React\PublisherPulsar\Inventory\PerformerDto();
    $dto->setModuleName("lone");
    $s = new React\PublisherPulsar\Inventory\PerformerSocketsParamsDto();
    $s->setRequestPulsarRsSocketAddress($adm);
    $s->setPublisherPulsarSocketAddress($pub);
    $s->setPushPulsarSocketAddress($pull);
    $dto->setSocketsParams($s);
    $p = new React\PublisherPulsar\Performer($dto);
    for ($i = 0; $i < (int) $asks; $i++) {
        $t = hrtime(true);
        $p->connectToPulsarAndWaitPermissionToAct();
        printf("%.3f\n", (hrtime(true) - $t) / 1e6);
        $p->pushActionResultInfoWithoutPulsarCorrectionBehavior();
        usleep(1100000);
    }' -- "$adm" "$pub" "$pull" "$asks"
}
extension=${PULSAR_PHP_EXTENSION:-target/release/libpulsar_php.so}
if [ -f "$extension" ]; then
  php_lone -d "extension=$extension" | summary php-extension
else
  echo "client=php-extension skipped: $extension not built (cargo build --release -p pulsar-php)"
fi
export PULSAR_FFI_AUTOLOAD=${PULSAR_FFI_AUTOLOAD:-tests/phpunit-ffi/autoload.php}
if [ -f "$PULSAR_FFI_AUTOLOAD" ]; then
  PULSAR_LIB=${PULSAR_LIB:-target/release/libpulsar.so} php_lone -d ffi.enable=1 | summary php-ffi
else
  echo "client=php-ffi skipped: $PULSAR_FFI_AUTOLOAD missing"
fi
