"""`pulsard --metrics-address`: the /metrics text parses with Prometheus's own Python parser
(`prometheus_client.parser`, Debian's python3-prometheus-client) and its figures match what Python performers
saw; /healthz answers "ok"."""

import subprocess
import time
import urllib.request

import pytest

import publisher_pulsar as pp
from conftest import PULSARD, free_addresses_and_port, performer_config

try:
    # Required, never skipped: this is the check that Prometheus itself reads our text.
    from prometheus_client import parser
except ImportError as missing:
    raise ImportError("apt-get install python3-prometheus-client (tests/run-all.sh does)") from missing


def get(address: str, path: str) -> tuple:
    with urllib.request.urlopen(f"http://{address}{path}", timeout=5) as response:
        return response.status, response.read().decode()


def wait_for(address: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            get(address, "/healthz")
            return
        except OSError:
            assert time.monotonic() < deadline, f"no metrics at {address} within {timeout} s"
            time.sleep(0.05)


def families(address: str) -> dict:
    status, text = get(address, "/metrics")
    assert status == 200
    return {f.name: f for f in parser.text_string_to_metric_families(text)}


def sample(fams: dict, family: str, name: str, **labels) -> float:
    for s in fams[family].samples:
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
            return s.value
    raise AssertionError(f"no sample {name} {labels} in {fams[family].samples}")


def start_pulsard(addresses: dict, metrics: str, *settings: str) -> subprocess.Popen:
    """pulsard on `addresses` serving /metrics at `metrics`, with extra flags."""
    return subprocess.Popen(
        [
            str(PULSARD),
            *settings,
            "--reply-stack-address", addresses["reply_stack"],
            "--publish-address", addresses["publish"],
            "--pull-address", addresses["pull"],
            "--reply-to-reply-stack-address", "tcp://127.0.0.1:*",
            "--push-to-reply-stack-address", "tcp://127.0.0.1:*",
            "--metrics-address", metrics,
            "--log-level", "warn",
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def stop(daemon: subprocess.Popen) -> None:
    daemon.terminate()
    try:
        daemon.wait(timeout=10)
    except subprocess.TimeoutExpired:
        daemon.kill()
        daemon.wait(timeout=10)


def test_refused_connections_and_the_connection_limit_are_figures():
    addresses, metrics_port = free_addresses_and_port()
    metrics = f"127.0.0.1:{metrics_port}"
    # Loopback is not allowed: every connection our performer opens is refused by the access check.
    daemon = start_pulsard(addresses, metrics, "--allow-from", "10.0.0.0/8", "--max-connections", "50")
    try:
        wait_for(metrics)
        with pp.Performer(performer_config(addresses, admission=1, pulse=1, send=1)) as outsider:
            with pytest.raises(pp.PulsarError):
                outsider.wait_permission()
        deadline = time.monotonic() + 10
        while True:
            fams = families(metrics)
            refused = sample(fams, "pulsar_refused_connections", "pulsar_refused_connections_total",
                             reason="not_allowed")
            if refused >= 1:
                break
            assert time.monotonic() < deadline, "the refused connection was not counted in time"
            time.sleep(0.05)
        assert fams["pulsar_refused_connections"].type == "counter"
        assert sample(fams, "pulsar_refused_connections", "pulsar_refused_connections_total",
                      reason="connection_limit") == 0
        assert sample(fams, "pulsar_max_connections", "pulsar_max_connections") == 50
        # A refused connection is closed: once the daemon has seen it go, nothing is open.
        deadline = time.monotonic() + 10
        while sample(families(metrics), "pulsar_open_connections", "pulsar_open_connections") != 0:
            assert time.monotonic() < deadline, "refused connections still counted as open after 10 s"
            time.sleep(0.05)
    finally:
        stop(daemon)


def test_metrics_parse_with_the_prometheus_parser_and_count_grants():
    addresses, metrics_port = free_addresses_and_port()
    metrics = f"127.0.0.1:{metrics_port}"
    daemon = start_pulsard(
        addresses, metrics,
        "--subscribers-per-iteration", "2",
        "--pulsation-iteration-period", "0.1",
        "--max-wait-reply-stack-result", "0.5",
    )
    try:
        wait_for(metrics)
        assert get(metrics, "/healthz") == (200, "ok\n")
        grants = 3
        with pp.Performer(performer_config(addresses)) as performer:
            for _ in range(grants):
                performer.wait_permission()
                performer.report_success()
        deadline = time.monotonic() + 10
        while True:
            fams = families(metrics)
            if sample(fams, "pulsar_results", "pulsar_results_total", outcome="success") == grants:
                break
            assert time.monotonic() < deadline, "results not counted in time"
            time.sleep(0.05)

        assert fams["pulsar_grants"].type == "counter"
        assert sample(fams, "pulsar_grants", "pulsar_grants_total") == grants
        assert fams["pulsar_admission_wait_seconds"].type == "histogram"
        assert sample(fams, "pulsar_admission_wait_seconds", "pulsar_admission_wait_seconds_count") == grants
        assert (
            sample(fams, "pulsar_admission_wait_seconds", "pulsar_admission_wait_seconds_bucket", le="+Inf")
            == grants
        )
        assert sample(fams, "pulsar_configured_subscribers_per_iteration",
                      "pulsar_configured_subscribers_per_iteration") == 2
        for outcome in ("success", "slow_down", "sleep_for_period", "late", "ignored"):
            sample(fams, "pulsar_results", "pulsar_results_total", outcome=outcome)
        for family in (
            "pulsar_pulses",
            "pulsar_lost_receivers",
            "pulsar_subscribers_per_iteration",
            "pulsar_slow_down_pause_seconds",
            "pulsar_paused_until_timestamp_seconds",
            "pulsar_admission_queue_length",
            "pulsar_connected_peers",
            "pulsar_rejected_messages",
            "pulsar_refused_connections",
            "pulsar_open_connections",
            "pulsar_max_connections",
        ):
            assert family in fams, family
        assert sample(fams, "pulsar_rejected_messages", "pulsar_rejected_messages_total",
                      socket="inbox", reason="malformed") == 0

        # Prometheus asks for OpenMetrics: that form parses with the OpenMetrics parser, same figures.
        from prometheus_client.openmetrics import parser as openmetrics_parser

        request = urllib.request.Request(
            f"http://{metrics}/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"}
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.headers["Content-Type"].startswith("application/openmetrics-text")
            open_text = response.read().decode()
        open_fams = {f.name: f for f in openmetrics_parser.text_string_to_metric_families(open_text)}
        assert sample(open_fams, "pulsar_grants", "pulsar_grants_total") == grants
    finally:
        stop(daemon)
