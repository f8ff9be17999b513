#!/usr/bin/env python3
"""Plots grants per bin against the limit over time, for every case `pulse_bench --dump-dir` wrote.

A bin is 100 ms, or the case's period when that is longer (pulses of a 1 s period would otherwise show as one
full bin and nine empty ones): the dashed line is the limit for one bin, N x bin / period.

    pulse_bench --case all --dump-dir DIR_AFTER [--pulsard OLD --dump-dir DIR_BEFORE]
    /usr/bin/python3 tests/bench/plot_grants.py OUT.png DIR_AFTER [DIR_BEFORE] [LABEL_AFTER LABEL_BEFORE]

Needs matplotlib (Debian: python3-matplotlib, for /usr/bin/python3). A figure, not a test: it asserts nothing.
Each panel is one case: grants received per bin over the measured span (after, and before when given). A bin
can exceed the line by receipt jitter, not by extra grants.
"""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

BIN = 0.1
TITLES = {
    1: "1: N=10/1 s, 20 workers",
    2: "2: N=10/0.25 s, 20 workers",
    3: "3: N=100/10 ms, 200 workers",
    4: "4: small fleet, 5 workers, N=10/1 s",
    5: "5: lone worker every 1.1 s",
    6: "6: ghost in 12, N=3/0.25 s",
    7: "7: killed after grant, N=3/0.25 s",
    8: "8: burst tail, 20 x 12 grants",
}


def read(path):
    n = period = None
    times = []
    for line in path.read_text().splitlines():
        if line.startswith("#"):
            fields = dict(f.split("=") for f in line[1:].split())
            n, period = int(fields["n"]), float(fields["period_s"])
        elif line.strip():
            times.append(float(line))
    return n, period, [t for t in times if t >= 0]


def bins(times, width):
    if not times:
        return [], []
    count = int(max(times) / width) + 1
    counts = [0] * count
    for t in times:
        counts[int(t / width)] += 1
    return [i * width for i in range(count)], counts


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    out, after = Path(sys.argv[1]), Path(sys.argv[2])
    before = Path(sys.argv[3]) if len(sys.argv) > 3 else None
    label_after = sys.argv[4] if len(sys.argv) > 4 else "after (engine v2)"
    label_before = sys.argv[5] if len(sys.argv) > 5 else "before"
    cases = sorted(after.glob("case*.csv"), key=lambda p: int(p.stem[4:]))
    if not cases:
        print(f"no case*.csv in {after}", file=sys.stderr)
        return 1
    fig, axes = plt.subplots(len(cases), 1, figsize=(10, 2.1 * len(cases)), squeeze=False)
    for ax, path in zip(axes[:, 0], cases):
        k = int(path.stem[4:])
        n, period, times = read(path)
        width = max(BIN, period)
        x, y = bins(times, width)
        ax.step(x, y, where="post", label=label_after, color="tab:blue")
        if before and (before / path.name).is_file():
            _, _, old = read(before / path.name)
            bx, by = bins(old, width)
            ax.step(bx, by, where="post", label=label_before, color="tab:orange", alpha=0.7)
        ax.axhline(n * width / period, color="black", linestyle="--", linewidth=1, label="limit per bin")
        ax.set_title(f"{TITLES.get(k, f'case {k}')}  (bin {width * 1000:g} ms)", fontsize=9, loc="left")
        ax.set_ylabel("grants / bin", fontsize=8)
        ax.tick_params(labelsize=8)
    axes[0, 0].legend(fontsize=8, loc="upper right")
    axes[-1, 0].set_xlabel("seconds into the measured span")
    fig.tight_layout()
    fig.savefig(out, dpi=90)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
