"""CURVE through the C ABI: an in-process daemon with `curveSecretKey` serves a Performer configured with its
public key (`curveServerKey`), and no other."""

import time

import pytest

import publisher_pulsar as pp
from conftest import wildcard_daemon_config

# A key pair made for this test only (rust/pulsar/examples/curve_keypair.rs); never use it anywhere else.
SECRET = "EJ}9:vfjcknUX4s418qCs0*j>FMM%}01TRn*W%Ei"
PUBLIC = ":q7[Pq1NA>M!Y(sgdm{l=9m+N&]=Hdme]JI<yth)"


def wait_until(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def test_a_performer_with_the_server_key_is_served_over_curve_and_one_without_is_not():
    config = wildcard_daemon_config(subscribersPerIteration=1, curveSecretKey=SECRET)
    with pp.Daemon(config) as daemon:
        daemon.start()
        with pp.Performer(daemon.performer_config(admissionTimeout=10, pulseTimeout=10, curveServerKey=PUBLIC)) as p:
            p.wait_permission()
            p.report_success()
        wait_until(lambda: daemon.stats().results == 1)
        with pp.Performer(daemon.performer_config(admissionTimeout=1, pulseTimeout=1)) as plain:
            with pytest.raises(pp.PulsarError):
                plain.wait_permission()


def test_a_malformed_server_key_is_refused_by_name():
    with pytest.raises(pp.PulsarError, match="curveServerKey"):
        pp.Performer({"curveServerKey": "not a key"})
