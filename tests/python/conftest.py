"""Shared pieces of the Python suite: the module under test (from the repository, or the installed wheel when
PULSAR_TEST_INSTALLED=1), free loopback addresses, and `pulsard` (target/debug/pulsard, or $PULSARD) as a
child process stopped at the end of each test."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INSTALLED = os.environ.get("PULSAR_TEST_INSTALLED") == "1"
if not INSTALLED:
    sys.path.insert(0, str(ROOT / "c-api" / "python"))

# The harnesses' one way to pick ports (tests/free_ports.py).
sys.path.append(str(ROOT / "tests"))
from free_ports import free_ports  # noqa: E402

PULSARD = Path(os.environ.get("PULSARD") or ROOT / "target" / "debug" / "pulsard")


def free_addresses_and_port() -> tuple:
    """The three addresses performers use and one more port (for the metrics endpoint), all distinct."""
    reply_stack, publish, pull, extra = free_ports(4)
    addresses = {
        "reply_stack": f"tcp://127.0.0.1:{reply_stack}",
        "publish": f"tcp://127.0.0.1:{publish}",
        "pull": f"tcp://127.0.0.1:{pull}",
    }
    return addresses, extra


def free_addresses() -> dict:
    """The three addresses performers use, on distinct free loopback ports."""
    return free_addresses_and_port()[0]


def performer_config(addresses: dict, admission: float = 20, pulse: float = 20, send: float = 5) -> dict:
    """A Performer configuration for `addresses` with the given timeouts (seconds)."""
    return {
        "requestPulsarRsSocketAddress": addresses["reply_stack"],
        "publisherPulsarSocketAddress": addresses["publish"],
        "pushPulsarSocketAddress": addresses["pull"],
        "admissionTimeout": admission,
        "pulseTimeout": pulse,
        "sendTimeout": send,
    }


def wildcard_daemon_config(**settings) -> dict:
    """An in-process daemon configuration on system-chosen loopback ports, with test-sized waits."""
    config = {
        "subscribersPerIteration": 2,
        "pulsationIterationPeriod": 0.05,
        "maxWaitReplyStackResult": 0.3,
        "maxWaitAllSubscribersReadyBeforePublish": 2,
        "moduleName": "python-test",
        "pulsarSocketsParams": {
            key: "tcp://127.0.0.1:*"
            for key in (
                "replyStackSocketAddress",
                "publishSocketAddress",
                "pullSocketAddress",
                "replyToReplyStackSocketAddress",
                "pushToReplyStackSocketAddress",
            )
        },
    }
    config.update(settings)
    return config


class Pulsard:
    """`pulsard` bound to `addresses`, logs to a pipe that is read only on failure."""

    def __init__(self, addresses: dict, n: int, period: float):
        if not PULSARD.is_file():
            raise RuntimeError(
                f"{PULSARD} does not exist: build it with `cargo build -p publisher-pulsar --bin pulsard` "
                "(tests/python/run.sh does)"
            )
        self.process = subprocess.Popen(
            [
                str(PULSARD),
                "--subscribers-per-iteration", str(n),
                "--pulsation-iteration-period", str(period),
                "--max-wait-reply-stack-result", "0.5",
                "--max-wait-all-subscribers-ready", "3",
                "--reply-stack-address", addresses["reply_stack"],
                "--publish-address", addresses["publish"],
                "--pull-address", addresses["pull"],
                "--reply-to-reply-stack-address", "tcp://127.0.0.1:*",
                "--push-to-reply-stack-address", "tcp://127.0.0.1:*",
                "--module-name", "pytest-pulsard",
                "--log-level", "warn",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def stop(self) -> None:
        """SIGTERM and a bounded wait; SIGKILL if it does not go."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self.process.stderr:
            self.process.stderr.close()

    def kill(self) -> None:
        """SIGKILL: the daemon dies without a word."""
        self.process.kill()
        self.process.wait(timeout=10)


@pytest.fixture
def pulsard():
    """A factory: pulsard(addresses, n, period) -> Pulsard; every one started is stopped after the test."""
    started = []

    def start(addresses: dict, n: int = 3, period: float = 0.25) -> Pulsard:
        daemon = Pulsard(addresses, n, period)
        started.append(daemon)
        return daemon

    yield start
    for daemon in started:
        daemon.stop()


def most_in_window(times_ns, window_ns: int) -> int:
    """The most grant times that fall in any half-open window [t, t + window) starting at a grant."""
    times = sorted(times_ns)
    most, j = 0, 0
    for i, start in enumerate(times):
        j = max(j, i)
        while j < len(times) and times[j] - start < window_ns:
            j += 1
        most = max(most, j - i)
    return most

