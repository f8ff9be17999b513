"""The daemon inside a Python process: run on a thread, read and stopped from the main thread, shared by
performers on other threads."""

import threading
import time

import pytest

import publisher_pulsar as pp
from conftest import most_in_window, wildcard_daemon_config


def wait_until(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.005)


def test_threads_share_an_in_process_daemon_stopped_from_the_main_thread():
    n, period, workers, grants = 2, 0.2, 4, 3
    daemon = pp.Daemon(wildcard_daemon_config(subscribersPerIteration=n, pulsationIterationPeriod=period))
    runner = threading.Thread(target=daemon.run)
    runner.start()
    try:
        _share_and_stop(daemon, runner, n, period, workers, grants)
    finally:
        # A failed check must not leave run() blocking: pytest would wait for its thread at exit, forever.
        if runner.is_alive():
            daemon.stop()
            runner.join(10)


def _share_and_stop(daemon, runner, n, period, workers, grants):
    wait_until(lambda: daemon.stats().running)
    endpoints = daemon.endpoints
    assert all(not e.endswith(":*") for e in endpoints.values()), endpoints

    times, errors = [], []
    lock = threading.Lock()

    def worker():
        try:
            with pp.Performer(daemon.performer_config(admissionTimeout=20, pulseTimeout=20)) as performer:
                for _ in range(grants):
                    performer.wait_permission()
                    with lock:
                        times.append(time.monotonic_ns())
                    performer.report_success()
        except pp.PulsarError as error:
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
        assert not t.is_alive(), "a worker thread did not finish"
    assert not errors, errors
    # See test_coordination.py for why the window is 0.8 x period.
    assert most_in_window(times, int(0.8 * period * 1e9)) <= n
    # The last results were pushed a moment ago and the daemon publishes its figures after the loop turn that
    # read them: wait (bounded) for them to show before reading every figure.
    wait_until(lambda: daemon.stats().results >= workers * grants)
    stats = daemon.stats()
    assert stats.grants == workers * grants and stats.max_receivers <= n, stats
    # The figures pulsard's /metrics shows, through the in-process daemon too.
    assert stats.configured_n == n, stats
    assert stats.successes == stats.results == workers * grants, stats
    assert stats.slow_down_results == stats.sleep_for_period_results == stats.ignored_errors == 0, stats
    assert stats.paused_until_unix_us == 0, stats
    assert stats.admission_waits == stats.grants, stats
    assert 0 < stats.admission_wait_p50_us <= stats.admission_wait_p99_us, stats
    assert stats.admission_wait_sum_us >= stats.admission_wait_p50_us, stats
    # Every worker reported: none lost. The connection figures of pulsard's /metrics and status: the workers'
    # connections closed with their performers; one performer holding its permission has its three open.
    assert stats.lost_receivers == 0, stats
    assert stats.max_connections > 0 and stats.refused_not_allowed == stats.refused_connection_limit == 0, stats
    with pp.Performer(daemon.performer_config(admissionTimeout=20, pulseTimeout=20)) as performer:
        performer.wait_permission()
        wait_until(lambda: daemon.stats().open_connections >= 3)
        assert daemon.stats().open_connections <= daemon.stats().max_connections
        performer.report_success()

    daemon.stop()  # from the main thread, while run() blocks in `runner`
    runner.join(10)
    assert not runner.is_alive()
    assert not daemon.stats().running
    daemon.close()
    with pytest.raises(ValueError, match="closed"):
        daemon.stats()


def test_a_daemon_runs_once_and_close_stops_a_started_daemon():
    with pp.Daemon(wildcard_daemon_config()) as daemon:
        daemon.start()
        wait_until(lambda: daemon.stats().running)
        with pytest.raises(pp.PulsarOutOfOrderError, match="runs once"):
            daemon.run()
    # Leaving the block stopped it, joined its thread and freed it.


def test_an_iteration_limit_ends_run_by_itself():
    with pp.Daemon(wildcard_daemon_config(subscribersPerIteration=1, timerIterationsLimit=2)) as daemon:
        runner = daemon.start()
        with pp.Performer(daemon.performer_config(admissionTimeout=10, pulseTimeout=10)) as performer:
            for _ in range(2):
                performer.wait_permission()
                performer.report_success()
        runner.join(10)
        assert not runner.is_alive()
        assert daemon.stats().iterations == 2


def test_reports_reach_the_daemon_and_a_custom_pulse_is_decoded():
    pulse_object = (
        'O:24:"Acme\\Pulses\\CommandPulse":2:{s:14:"\0*\0allowAction";b:1;'
        's:10:"\0*\0command";s:16:"slow-down-please";}'
    )
    config = wildcard_daemon_config(subscribersPerIteration=1, publisherToSubscribersDto=pulse_object)
    with pp.Daemon(config) as daemon:
        daemon.start()
        with pp.Performer(daemon.performer_config(admissionTimeout=10, pulseTimeout=10)) as performer:
            pulse = performer.wait_permission()
            assert pulse.class_name == "Acme\\Pulses\\CommandPulse"
            assert pulse.properties == {"allowAction": True, "command": "slow-down-please"}
            assert pulse.raw == pulse_object.encode()
            performer.report_slow_down("Rate Limit Exceeded", "userRateLimitExceeded")
            performer.wait_permission()
            performer.report_pause_for(1000, "quota", "dailyLimitExceeded")
            performer.wait_permission()
            performer.report_early_termination(True)
        # The daemon publishes its figures after the loop turn that sent the pulse, which may be a moment after
        # the worker has it: wait for both figures rather than read them in that window.
        wait_until(lambda: daemon.stats().errors == 2 and daemon.stats().pulses >= 3)
        stats = daemon.stats()
        assert stats.pulses == 3 and stats.grants == 3, stats
