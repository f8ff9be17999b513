"""Errors surface as Python exceptions carrying the library's own messages, and the exception classes come
from the header's status constants."""

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

import publisher_pulsar as pp
from conftest import ROOT, free_addresses, performer_config, wildcard_daemon_config

HERE = Path(__file__).resolve().parent


def test_every_status_of_the_header_has_its_exception_class():
    header = (ROOT / "include" / "pulsar.h").read_text()
    declared = dict(re.findall(r"PULSAR_STATUS_(\w+) = (\d+),", header))
    assert declared["OK"] == "0" and declared["TIMEOUT"] == "200"
    assert {name: str(number) for name, number in pp.STATUS.items()} == declared
    for name, number in declared.items():
        if name == "OK":
            continue
        cls = pp.EXCEPTIONS[int(number)]
        assert issubclass(cls, pp.PulsarError)
        assert (cls.status, cls.status_name) == (int(number), name)
        assert getattr(pp, cls.__name__) is cls
    assert len(set(pp.EXCEPTIONS.values())) == len(declared) - 1
    assert issubclass(pp.PulsarTimeoutError, TimeoutError)
    assert issubclass(pp.PulsarInvalidJsonError, ValueError)


def test_malformed_json_and_unknown_keys():
    with pytest.raises(pp.PulsarInvalidJsonError, match="invalid configuration JSON") as caught:
        pp.Performer('{"admissionTimeout": ')
    assert caught.value.status == 103
    with pytest.raises(pp.PulsarInvalidJsonError, match="admisionTimeout"):
        pp.Performer({"admisionTimeout": 5})
    with pytest.raises(pp.PulsarInvalidJsonError, match="subscribersPerIteraton"):
        pp.Daemon({"subscribersPerIteraton": 3})


def test_invalid_settings_name_the_setting():
    with pytest.raises(pp.PulsarInvalidArgumentError, match="admissionTimeout"):
        pp.Performer({"admissionTimeout": 0})
    with pytest.raises(pp.PulsarInvalidArgumentError, match="pulseTimeout"):
        pp.Performer({"pulseTimeout": -1})
    with pytest.raises(pp.PulsarInvalidArgumentError, match="subscribersPerIteration"):
        pp.Daemon(wildcard_daemon_config(subscribersPerIteration=0))
    with pytest.raises(pp.PulsarInvalidArgumentError, match="performerContainerActionMaxExecutionTime"):
        pp.Daemon(wildcard_daemon_config(performerContainerActionMaxExecutionTime=2))


def test_invalid_utf8_and_nul_characters():
    with pytest.raises(pp.PulsarInvalidUtf8Error, match="not valid UTF-8"):
        pp.Performer(b'{"moduleName": "caf\xe9"}')
    with pytest.raises(ValueError, match="NUL"):
        pp.Performer('{"moduleName": "a\0b"}')
    with pytest.raises(TypeError):
        pp.Performer(42)


def test_reports_out_of_order_and_without_a_message():
    with pp.Performer() as performer:
        assert not performer.holds_permission
        with pytest.raises(pp.PulsarOutOfOrderError, match="call wait_permission first"):
            performer.report_success()
        with pytest.raises(pp.PulsarOutOfOrderError):
            performer.report_early_termination(True)
        with pytest.raises(pp.PulsarInvalidArgumentError, match="errorMessage"):
            performer.report_slow_down("", "userRateLimitExceeded")
        with pytest.raises(pp.PulsarInvalidArgumentError, match="sleepPeriod"):
            performer.report_pause_for(2**63, "quota", "")
        with pytest.raises(ValueError):
            performer.report_pause_for(-1, "quota", "")
    with pytest.raises(ValueError, match="closed"):
        performer.report_success()


def test_a_bound_address_is_a_bind_error():
    with pp.Daemon(wildcard_daemon_config()) as first:
        taken = first.endpoints["publish"]
        second = wildcard_daemon_config()
        second["pulsarSocketsParams"]["publishSocketAddress"] = taken
        with pytest.raises(pp.PulsarBindError, match=re.escape(taken)):
            pp.Daemon(second)


def test_daemon_absent_times_out_within_the_timeout_then_works_once_it_starts(pulsard):
    addresses = free_addresses()
    with pp.Performer(performer_config(addresses, admission=0.5)) as performer:
        started = time.monotonic()
        with pytest.raises(pp.PulsarTimeoutError, match="admission") as caught:
            performer.wait_permission()
        waited = time.monotonic() - started
        assert 0.45 <= waited < 3, f"the wait took {waited:.3f} s with a 0.5 s admission timeout"
        assert caught.value.status == pp.STATUS["TIMEOUT"]

        pulsard(addresses, n=1, period=0.05)
        pulse = performer.wait_permission()
        assert pulse.class_name == "React\\PublisherPulsar\\Inventory\\PublisherToSubscribersDto"
        assert pulse.properties == {"allowAction": True}
        assert pulse.raw.startswith(b'O:57:"React\\PublisherPulsar\\Inventory\\PublisherToSubscribersDto"')
        assert performer.holds_permission
        performer.report_success()


def test_daemon_killed_mid_wait_then_restarted(pulsard):
    addresses = free_addresses()
    daemon = pulsard(addresses, n=1, period=1.5)
    with pp.Performer(performer_config(addresses, admission=5, pulse=1)) as performer:
        performer.wait_permission()
        performer.report_success()
        # The next pulse is 1.5 s away: kill the daemon while we wait for it.
        killer = subprocess.Popen(
            [sys.executable, "-c", f"import os, signal, time; time.sleep(0.3); os.kill({daemon.process.pid}, 9)"]
        )
        with pytest.raises(pp.PulsarTimeoutError):
            performer.wait_permission()
        killer.wait(timeout=10)
        daemon.process.wait(timeout=10)
        pulsard(addresses, n=1, period=0.05)
        performer.wait_permission()
        performer.report_success()


def test_a_worker_process_reports_the_library_message():
    addresses = free_addresses()
    config = performer_config(addresses, admission=0.3)
    worker = subprocess.run(
        [sys.executable, str(HERE / "worker.py"), json.dumps(config), "1"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert worker.returncode == 1
    assert worker.stderr.startswith("PulsarTimeoutError: timed out after 300ms while waiting for admission")


def test_a_flag_of_the_result_struct_other_than_0_or_1_is_refused():
    """PulsarActionResult's flags are integers, so a 2 written from C memory is refused with a message, where a
    C bool would have been undefined behaviour."""
    import ctypes

    with pp.Performer(performer_config(free_addresses())) as performer:
        result = pp._ActionResult(has_sleep_for_period=2, sleep_for_period_us=1_000_000)
        status = pp._lib.pulsar_performer_report(performer._live(), ctypes.byref(result))
        assert status == pp.STATUS["INVALID_ARGUMENT"]
        message = pp._lib.pulsar_last_error_message().decode()
        assert message == "result->has_sleep_for_period must be 0 (null) or 1 (set), got 2"
        # 1 passes the check: the performer holds no permission, so the report is refused for that instead.
        result.has_sleep_for_period = 1
        status = pp._lib.pulsar_performer_report(performer._live(), ctypes.byref(result))
        assert status == pp.STATUS["OUT_OF_ORDER"]
