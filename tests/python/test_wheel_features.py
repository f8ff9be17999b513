"""What the wheel relies on: the library describes its own ABI (no header at run time), log records reach
logging.getLogger("publisher_pulsar"), and wait_permission_async leaves the event loop free."""

import asyncio
import ctypes
import logging
import os
import time
from pathlib import Path

import pytest

import publisher_pulsar as pp
from conftest import INSTALLED, ROOT, wildcard_daemon_config


def test_the_statuses_and_the_stats_layout_come_from_the_library():
    assert pp.ABI["version"] == pp.version()
    assert pp.STATUS == {name: int(n) for name, n in pp.ABI["statuses"].items()}
    for name, number in pp.STATUS.items():
        assert pp._lib.pulsar_status_name(number).decode() == name
    assert pp._lib.pulsar_status_name(1) is None
    described = pp.ABI["structs"]["PulsarDaemonStats"]
    assert ctypes.sizeof(pp._CStats) == described["size"]
    assert [f["name"] for f in described["fields"]] == list(pp.DaemonStats.__dataclass_fields__)
    assert not hasattr(pp, "header_path")


@pytest.mark.skipif(not INSTALLED, reason="checks the installed wheel (tests/python/run-wheel.sh)")
def test_the_installed_wheel_uses_its_own_library_and_no_repository_file():
    package = Path(pp.__file__).resolve().parent
    assert ROOT not in package.parents, package
    assert pp.library_path.resolve() == package / "libpulsar.so"
    assert "PULSAR_LIB" not in os.environ
    with open("/proc/self/maps") as maps:
        loaded = {line.split()[-1] for line in maps if "libpulsar" in line}
    assert loaded == {str(package / "libpulsar.so")}, loaded


def test_log_records_reach_python_logging(caplog):
    caplog.set_level(logging.INFO, logger="publisher_pulsar")
    with pp.Daemon(wildcard_daemon_config()) as daemon:
        daemon.start()
        deadline = time.monotonic() + 10
        while not daemon.stats().running and time.monotonic() < deadline:
            time.sleep(0.02)
    # close() stopped the daemon, which logs "shutdown requested" at info; the background drain or the next
    # call hands it over.
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        pp._drain_log()
        records = [r for r in caplog.records if r.name == "publisher_pulsar" and "shutdown requested" in r.message]
        if records:
            break
        time.sleep(0.05)
    assert records, [r.getMessage() for r in caplog.records]
    assert records[0].levelno == logging.INFO
    assert records[0].pulsar_target
    assert isinstance(records[0].pulsar_fields, dict)


def test_wait_permission_async_leaves_the_event_loop_running():
    async def scenario():
        with pp.Daemon(wildcard_daemon_config(pulsationIterationPeriod=0.6, subscribersPerIteration=1)) as daemon:
            daemon.start()
            with pp.Performer(daemon.performer_config(admissionTimeout=10, pulseTimeout=10)) as performer:
                # A first cycle, so that the next wait is for the next pulse, a good part of a period away.
                await asyncio.wait_for(performer.wait_permission_async(), timeout=20)
                performer.report_success()
                ticks = []

                async def ticker():
                    while True:
                        ticks.append(time.monotonic())
                        await asyncio.sleep(0.01)

                tick_task = asyncio.ensure_future(ticker())
                started = time.monotonic()
                pulse = await asyncio.wait_for(performer.wait_permission_async(), timeout=20)
                waited = time.monotonic() - started
                tick_task.cancel()
                assert performer.holds_permission
                performer.report_success()
                return pulse, waited, [t for t in ticks if started <= t <= started + waited]

    pulse, waited, ticks = asyncio.run(scenario())
    assert pulse.allow_action
    # The wait took a good part of a period, and the ticker kept ticking during it (a blocked loop: 1 tick).
    assert waited > 0.1
    assert len(ticks) >= max(3, int(waited / 0.01) // 4), (waited, len(ticks))


def test_a_cancelled_async_wait_gives_its_permission_back():
    async def scenario():
        with pp.Daemon(wildcard_daemon_config(pulsationIterationPeriod=0.6, subscribersPerIteration=1)) as daemon:
            daemon.start()
            with pp.Performer(daemon.performer_config(admissionTimeout=10, pulseTimeout=10)) as performer:
                await asyncio.wait_for(performer.wait_permission_async(), timeout=20)
                performer.report_success()
                task = asyncio.ensure_future(performer.wait_permission_async())
                await asyncio.sleep(0.05)
                assert not task.done(), "the next pulse is a period away"
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task
                # The thread's wait goes on; the next call waits for it, then finds no permission held.
                loop = asyncio.get_running_loop()
                held = await asyncio.wait_for(loop.run_in_executor(None, lambda: performer.holds_permission), 25)
                return held

    assert asyncio.run(scenario()) is False


def test_a_forged_error_message_stays_one_line_in_python_logging(caplog):
    """A worker's error message with newlines and ANSI escapes reaches Python logging as one line, escapes
    visible; the record's `pulsar_fields` keep the exact text."""
    caplog.set_level(logging.INFO, logger="publisher_pulsar")
    # Under the daemon's 512-character cut, so that the log carries it whole.
    forged = "quota exceeded\n\x1b[32mINFO\x1b[0m forged line 0"
    forged += "".join(f"\nINFO forged line {i}" for i in range(1, 20))
    assert len(forged) < 512
    with pp.Daemon(wildcard_daemon_config(subscribersPerIteration=1)) as daemon:
        daemon.start()
        with pp.Performer(daemon.performer_config(admissionTimeout=10, pulseTimeout=10)) as performer:
            performer.wait_permission()
            performer.report_slow_down(forged, "reason\r\n")
            deadline = time.monotonic() + 10
            records = []
            while not records and time.monotonic() < deadline:
                pp._drain_log()
                records = [r for r in caplog.records if "forged line" in r.getMessage()]
                time.sleep(0.05)
    assert len(records) == 1, [r.getMessage() for r in caplog.records]
    line = records[0].getMessage()
    assert "\n" not in line and "\r" not in line and "\x1b" not in line, line
    assert "quota exceeded\\n\\x1b[32mINFO\\x1b[0m forged line 0\\nINFO forged line 1\\n" in line, line
    assert "error_reason=reason\\r\\n" in line, line
    assert records[0].pulsar_fields["error_message"] == forged
