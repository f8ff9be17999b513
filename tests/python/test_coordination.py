"""Many processes share one limit through `pulsard`: Python workers, and Python and C workers together.

The limit is checked on the workers' own clocks (CLOCK_MONOTONIC, shared by all processes of the machine):
no window of 0.8 x period may hold more than N grants. A pulse's grants reach its workers at slightly
different moments, and two consecutive pulses may look a little closer than one period from the workers'
side on a busy machine, hence 0.8 rather than a full period.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import INSTALLED, ROOT, free_addresses, most_in_window, performer_config

HERE = Path(__file__).resolve().parent
N = 3
PERIOD = 0.25
GRANTS_PER_WORKER = 4
DEADLINE = 90  # seconds for the whole run; 24 grants at 3 per 0.25 s need about 2 s


def collect(processes):
    """Waits for every worker (bounded), fails with their messages, returns all grant times."""
    times = []
    for name, process in processes:
        try:
            out, err = process.communicate(timeout=DEADLINE)
        except subprocess.TimeoutExpired:
            for _, p in processes:
                p.kill()
            pytest.fail(f"{name} did not finish within {DEADLINE} s")
        assert process.returncode == 0, f"{name} failed: {err.decode(errors='replace')}"
        lines = out.decode().split()
        assert len(lines) == GRANTS_PER_WORKER, f"{name} printed {lines}"
        times.extend(int(line) for line in lines)
    return times


def check_limit(times, workers):
    assert len(times) == workers * GRANTS_PER_WORKER
    window = int(0.8 * PERIOD * 1e9)
    most = most_in_window(times, window)
    assert most <= N, f"{most} grants within {window / 1e6:.0f} ms; the limit is {N} per {PERIOD} s"
    # And the daemon did release them: all grants need at least (grants / N - 1) periods.
    span = (max(times) - min(times)) / 1e9
    assert span >= (len(times) // N - 1) * PERIOD * 0.8, f"{len(times)} grants in {span:.3f} s"


def test_most_in_window_counts_the_densest_window():
    ms = 1_000_000
    assert most_in_window([], 200 * ms) == 0
    assert most_in_window([0, 100 * ms, 199 * ms, 200 * ms], 200 * ms) == 3
    assert most_in_window([0, 250 * ms, 500 * ms], 200 * ms) == 1


def python_worker(config):
    return subprocess.Popen(
        [sys.executable, str(HERE / "worker.py"), json.dumps(config), str(GRANTS_PER_WORKER)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def test_six_python_processes_share_one_limit(pulsard):
    addresses = free_addresses()
    pulsard(addresses, n=N, period=PERIOD)
    config = performer_config(addresses)
    processes = [(f"python worker {i}", python_worker(config)) for i in range(6)]
    check_limit(collect(processes), workers=6)


@pytest.fixture(scope="module")
def c_worker(tmp_path_factory):
    """tests/c/coordinate.c compiled against the repository's header and library (its --worker mode)."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("no C compiler: the mixed C and Python test needs cc (tests/run-all.sh installs gcc)")
    import publisher_pulsar

    # The C program links the library Python uses, except with the installed wheel: its copy finds its bundled
    # libzmq relative to its own directory, which a symlink elsewhere breaks; the repository's build stands in.
    library = ROOT / "target" / "debug" / "libpulsar.so" if INSTALLED else publisher_pulsar.library_path
    if not library.is_file():
        pytest.skip(f"{library} is not built (cargo build -p pulsar-capi)")
    libdir = library.parent
    # The library's soname is libpulsar.so.0 (c-api/build.rs): the program loads that name, which cargo does not
    # create next to libpulsar.so; a symlink in a directory of the program's rpath stands in for it.
    rundir = tmp_path_factory.mktemp("lib")
    (rundir / "libpulsar.so.0").symlink_to(library.resolve())
    binary = tmp_path_factory.mktemp("c") / "coordinate"
    subprocess.run(
        [
            compiler, "-std=c11", "-O1", "-o", str(binary), str(ROOT / "tests" / "c" / "coordinate.c"),
            f"-I{ROOT / 'include'}", f"-L{libdir}", "-lpulsar", "-lpthread",
            f"-Wl,-rpath,{rundir}",
        ],
        check=True,
        timeout=120,
    )
    return binary


def test_python_and_c_processes_share_one_limit(pulsard, c_worker):
    addresses = free_addresses()
    pulsard(addresses, n=N, period=PERIOD)
    config = performer_config(addresses)
    processes = [(f"python worker {i}", python_worker(config)) for i in range(3)]
    processes += [
        (
            f"C worker {i}",
            subprocess.Popen(
                [str(c_worker), "--worker", json.dumps(config), str(GRANTS_PER_WORKER)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            ),
        )
        for i in range(3)
    ]
    check_limit(collect(processes), workers=6)
