"""Benchmark of one permission cycle through the Python module (ctypes over libpulsar): wait_permission
(which also builds the Pulse: class name, properties from JSON, raw bytes) + report_success, one at a time.

    python3 bench_cycle.py PERFORMER_JSON ITERATIONS WARMUP

Prints the same line format as tests/c/bench_cycle.c. Run by tests/c/bench.sh.
"""

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "c-api" / "python"))

import publisher_pulsar  # noqa: E402


def main() -> None:
    config, iterations, warmup = json.loads(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    samples = []
    with publisher_pulsar.Performer(config) as performer:
        for i in range(-warmup, iterations):
            started = time.perf_counter()
            performer.wait_permission()
            performer.report_success()
            if i >= 0:
                samples.append((time.perf_counter() - started) * 1e6)
    samples.sort()
    n = len(samples)
    print(
        f"{'Python permission cycle':<34} n={n}  mean {sum(samples) / n:8.1f} us  p50 {samples[n // 2]:8.1f} us  "
        f"p99 {samples[int(n * 0.99)]:8.1f} us  max {samples[-1]:8.1f} us"
    )


if __name__ == "__main__":
    main()
