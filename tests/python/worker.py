"""One worker process of the coordination tests: K permissions through its own Performer, one
CLOCK_MONOTONIC time (nanoseconds, the same clock as C's clock_gettime(CLOCK_MONOTONIC)) per line on stdout;
with PULSAR_WORKER_CLOCK=wall, Unix time in seconds with microseconds instead (what PHP's microtime(true) gives,
for fleets mixed with PHP workers).

    python3 worker.py CONFIG_JSON K

A library error ends it with status 1 and "<ExceptionClass>: <library message>" on stderr.
"""

import json
import os
import sys
import time
from pathlib import Path

if os.environ.get("PULSAR_TEST_INSTALLED") != "1":  # else the installed wheel's module
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "c-api" / "python"))

import publisher_pulsar  # noqa: E402


def main() -> int:
    config = json.loads(sys.argv[1])
    grants = int(sys.argv[2])
    try:
        with publisher_pulsar.Performer(config) as performer:
            for _ in range(grants):
                pulse = performer.wait_permission()
                if os.environ.get("PULSAR_WORKER_CLOCK") == "wall":
                    granted = f"{time.time():.6f}"
                else:
                    granted = time.monotonic_ns()
                if not pulse.allow_action:
                    raise RuntimeError("a pulse without allowAction was handed out")
                print(granted, flush=True)
                performer.report_success()
    except publisher_pulsar.PulsarError as error:
        print(f"{type(error).__name__}: {error}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
