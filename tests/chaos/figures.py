"""Figures of a chaos run, from the daemon's own log (every incarnation appends its JSON lines to one file) and
the workers' GRANT lines. Prints one "key=value" line per figure and exits 1 if a figure breaks a rule.

    python3 tests/chaos/figures.py --log LOG --n N --period SECONDS [--workers DIR]
        [--restarts FILE] [--recover-kinds rust,python,ext,ffi] [--recover-within 3]
        [--from UNIX] [--to UNIX] [--min-utilisation 0.85]

By the daemon's count: every "pulse published" line (debug) gives a send time and its receivers. A period window
over N is any [t, t + period) whose pulses, across incarnations, reach more than N (a restarted daemon cannot
know what its predecessor sent, so this is where restarts could break the limit). Utilisation is grants over the
run divided by N per period. Recovery: for each restart (a Unix time per line in FILE, when the new daemon was
started) and each worker of the given kinds that had a grant in the 30 s before it, the delay to its first grant
after it (needs --workers). Every restart must also be followed by a pulse within that time (the fleet is
served again). The daemon must log at debug level for its own target ("pulse published" is a debug line).
"""

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser()
    p.add_argument("--log", required=True)
    p.add_argument("--n", type=int, required=True)
    p.add_argument("--period", type=float, required=True)
    p.add_argument("--workers")
    p.add_argument("--restarts")
    p.add_argument("--recover-kinds", default="")
    p.add_argument("--recover-within", type=float, default=3.0)
    p.add_argument("--from", dest="start", type=float)
    p.add_argument("--to", dest="end", type=float)
    p.add_argument("--min-utilisation", type=float)
    return p.parse_args()


def pulses(log: str) -> tuple[list[tuple[float, int]], int, int]:
    """(send time, receivers) of every pulse; count of panics and of held pulses in the log.

    A send time is the daemon's own clock ("sent_at_us", since its start) plus the Unix time of that start,
    estimated per incarnation as the smallest (log timestamp - sent_at) of its pulses: a log line is written a
    little after the send, by a varying delay, so within an incarnation the daemon's clock is exact and across
    incarnations the error is the smallest such delay."""
    incarnations: list[list[tuple[float, float, int]]] = []
    panics, held = 0, 0
    for line in Path(log).read_text(errors="replace").splitlines():
        if "panicked" in line:
            panics += 1
        if not line.startswith("{"):
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        fields = record.get("fields", {})
        message = fields.get("message", "")
        if message == "pulsard listening" or not incarnations:
            incarnations.append([])
        if message == "pulse published":
            at = datetime.fromisoformat(record["timestamp"].replace("Z", "+00:00")).timestamp()
            incarnations[-1].append((at, int(fields["sent_at_us"]) / 1e6, int(fields["receivers"])))
        elif message.startswith("holding the pulse"):
            held += 1
    out = []
    for sent in incarnations:
        if sent:
            base = min(at - since for (at, since, _) in sent)
            out.extend((base + since, receivers) for (_, since, receivers) in sent)
    return sorted(out), panics, held


def grants(directory: str) -> dict[str, list[float]]:
    """Grant times per worker file (KIND-ID.out): ours print "GRANT KIND ID TIME", the original "GRANT ID TIME MODE"."""
    out = {}
    for path in sorted(Path(directory).glob("*.out")):
        kind = path.stem.split("-", 1)[0]
        times = []
        for line in path.read_text(errors="replace").splitlines():
            f = line.split()
            if len(f) >= 3 and f[0] == "GRANT":
                try:
                    times.append(float(f[2] if kind == "original" else f[3]))
                except (IndexError, ValueError):
                    pass
        out[path.stem] = sorted(times)
    return out


def main() -> int:
    a = parse_args()
    failed = []
    sent, panics, held = pulses(a.log)
    if not sent:
        failed.append("no 'pulse published' line in the log (is the daemon's target at debug level?)")
    if a.start is not None:
        sent = [p for p in sent if p[0] >= a.start]
    if a.end is not None:
        sent = [p for p in sent if p[0] <= a.end]
    worst_window, over = 0, 0
    for i, (t, _) in enumerate(sent):
        total = sum(r for (u, r) in sent[i:] if u < t + a.period)
        worst_window = max(worst_window, total)
        over += total > a.n
    largest = max((r for _, r in sent), default=0)
    total_grants = sum(r for _, r in sent)
    print(f"pulses={len(sent)} grants={total_grants} largest_pulse={largest} worst_period_window={worst_window} "
          f"windows_over_n={over} held_pulse_episodes={held} panics={panics}")
    if largest > a.n or over:
        failed.append(f"a pulse or a period window over N={a.n}")
    if panics:
        failed.append("the daemon panicked")
    if a.min_utilisation is not None and a.start is not None and a.end is not None:
        limit = (a.end - a.start) / a.period * a.n
        used = total_grants / limit if limit else 0.0
        print(f"utilisation={used:.3f} (grants {total_grants} of {limit:.0f} allowed over {a.end - a.start:.0f} s)")
        if used < a.min_utilisation:
            failed.append(f"utilisation {used:.3f} below {a.min_utilisation}")
    kinds = [k for k in a.recover_kinds.split(",") if k]
    restarts = [float(x) for x in Path(a.restarts).read_text().split()] if a.restarts else []
    for r in restarts:
        after = [(t - r, n) for (t, n) in sent if t >= r]
        first = after[0] if after else (float("inf"), 0)
        print(f"restart at {r:.3f}: first pulse {first[0]:.2f} s after it, to {first[1]}")
        if first[0] > a.recover_within:
            failed.append(f"no pulse within {a.recover_within} s of the restart at {r:.3f}")
    if restarts and kinds and a.workers:
        per_worker = grants(a.workers)
        for r in restarts:
            worst: dict[str, float] = {}
            for worker, times in per_worker.items():
                kind = worker.split("-", 1)[0]
                if kind not in kinds or not any(r - 30 <= t < r for t in times):
                    continue
                after = [t - r for t in times if t >= r]
                delay = after[0] if after else float("inf")
                worst[kind] = max(worst.get(kind, 0.0), delay)
            shown = " ".join(f"{k}={worst.get(k, float('nan')):.2f}s" for k in kinds)
            print(f"restart at {r:.3f}: slowest first grant after it per kind: {shown}")
            for k in kinds:
                if k not in worst:
                    failed.append(f"no {k} worker was active before the restart at {r:.3f}")
                elif worst[k] > a.recover_within:
                    failed.append(f"a {k} worker was served {worst[k]:.2f} s after the restart at {r:.3f}")
    for f in failed:
        print(f"FAIL: {f}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
