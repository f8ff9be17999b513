//! The Performer when the daemon is not there: absent at start, killed while a worker waits (the `pulsard`
//! binary as a child process, killed with SIGKILL), restarted on the same ports. Every failure must be a clear,
//! bounded error, and the next call after the daemon is back must succeed.

mod performer_support;

use std::thread;
use std::time::{Duration, Instant};

use performer_support::{
    daemon_config, free_ports, performer_config, vector, InProcessDaemon, Pulsard, STEP,
};
use publisher_pulsar::performer::{Performer, PerformerConfig};
use publisher_pulsar::{PulsarConfig, PulsarError};

/// Three free loopback addresses: (admission, publish, pull).
fn fixed_addresses() -> (String, String, String) {
    let [a, b, c] = free_ports::<3>().map(|p| format!("tcp://127.0.0.1:{p}"));
    (a, b, c)
}

fn daemon_on(n: u32, reply_stack: &str, publish: &str, pull: &str) -> PulsarConfig {
    let mut config = daemon_config(n, 0.02);
    config.pulsar_sockets_params.reply_stack_socket_address = reply_stack.into();
    config.pulsar_sockets_params.publish_socket_address = publish.into();
    config.pulsar_sockets_params.pull_socket_address = pull.into();
    config
}

fn performer_on(reply_stack: &str, publish: &str, pull: &str) -> PerformerConfig {
    performer_config(publish, pull, reply_stack)
}

fn is_timeout(outcome: &Result<impl std::fmt::Debug, PulsarError>, expected: &str) -> bool {
    matches!(outcome, Err(PulsarError::Timeout { what, .. }) if *what == expected)
}

const ADMISSION: &str = "waiting for admission (is the daemon running?)";
const PULSE: &str = "waiting for the pulse";

#[test]
fn daemon_absent_at_start_times_out_then_serves_once_it_is_up() {
    let (reply_stack, publish, pull) = fixed_addresses();
    let mut config = performer_on(&reply_stack, &publish, &pull);
    config.admission_timeout = Duration::from_millis(500);
    let mut performer = Performer::connect(config).expect("connecting needs no daemon");

    let started = Instant::now();
    let outcome = performer.wait_permission();
    let waited = started.elapsed();
    assert!(is_timeout(&outcome, ADMISSION), "{outcome:?}");
    assert!(
        waited >= Duration::from_millis(500),
        "gave up early: {waited:?}"
    );
    assert!(waited < STEP, "the timeout was not honoured: {waited:?}");

    let daemon = InProcessDaemon::start(&daemon_on(1, &reply_stack, &publish, &pull));
    // A single call may still miss if the machine stalls longer than 0.5 s; a worker would simply ask again.
    let deadline = Instant::now() + STEP;
    let pulse = loop {
        match performer.wait_permission() {
            Ok(pulse) => break pulse,
            Err(PulsarError::Timeout { what, .. })
                if what == ADMISSION && Instant::now() < deadline => {}
            Err(e) => panic!("not served after the daemon started: {e}"),
        }
    };
    assert_eq!(pulse.bytes, vector("03_PublisherToSubscribersDto.bin"));
    performer.report_success().expect("report");
    assert!(performer_support::eventually(STEP, || daemon
        .stats
        .snapshot()
        .engine
        .results
        == 1));
}

#[test]
fn a_worker_started_before_the_daemon_is_served_by_the_same_call() {
    let (reply_stack, publish, pull) = fixed_addresses();
    let config = performer_on(&reply_stack, &publish, &pull);
    let worker = thread::spawn(move || {
        let mut performer = Performer::connect(config).expect("connect");
        let pulse = performer.wait_permission()?;
        performer.report_success()?;
        Ok::<_, PulsarError>(pulse.bytes)
    });
    thread::sleep(Duration::from_millis(300));
    let daemon = InProcessDaemon::start(&daemon_on(1, &reply_stack, &publish, &pull));
    let bytes = worker
        .join()
        .expect("worker thread")
        .expect("served once the daemon is up");
    assert_eq!(bytes, vector("03_PublisherToSubscribersDto.bin"));
    assert!(performer_support::eventually(STEP, || daemon
        .stats
        .snapshot()
        .engine
        .results
        == 1));
}

/// `pulsard` flags: N = 1, quick pulses, and a result wait long enough that a worker holding a permission
/// without reporting keeps the daemon busy for the whole test.
const BUSY_DAEMON: &[&str] = &[
    "--subscribers-per-iteration",
    "1",
    "--pulsation-iteration-period",
    "0.02",
    "--max-wait-reply-stack-result",
    "0.1",
    "--performer-container-action-max-execution-time",
    "120",
];

#[test]
fn daemon_killed_during_the_admission_wait_gives_a_timeout_and_a_restart_serves_again() {
    let (reply_stack, publish, pull) = fixed_addresses();
    let pulsard = Pulsard::start(&reply_stack, &publish, &pull, BUSY_DAEMON);

    // The first worker takes the only slot and keeps it: the daemon waits for its result.
    let mut holder =
        Performer::connect(performer_on(&reply_stack, &publish, &pull)).expect("connect");
    holder
        .wait_permission()
        .expect("the first worker is served");

    // The second worker queues for admission; the daemon dies under it.
    let mut config = performer_on(&reply_stack, &publish, &pull);
    config.admission_timeout = Duration::from_secs(2);
    let waiter = thread::spawn(move || {
        let mut performer = Performer::connect(config).expect("connect");
        let first = performer.wait_permission().map(|_| ());
        (performer, first)
    });
    thread::sleep(Duration::from_millis(300));
    pulsard.kill();
    let (mut performer, first) = waiter.join().expect("waiter thread");
    assert!(is_timeout(&first, ADMISSION), "{first:?}");

    // The holder ends while no daemon runs: its goodbye cannot reach anyone (and must not reach the next one).
    drop(holder);
    // Same ports, new daemon: the next call is served (by a fresh REQ socket).
    let _pulsard = Pulsard::start(&reply_stack, &publish, &pull, BUSY_DAEMON);
    let pulse = performer
        .wait_permission()
        .expect("served by the restarted daemon");
    assert_eq!(pulse.bytes, vector("03_PublisherToSubscribersDto.bin"));
    performer.report_success().expect("report");
}

#[test]
fn daemon_killed_during_the_pulse_wait_gives_a_timeout_and_a_restart_serves_again() {
    let (reply_stack, publish, pull) = fixed_addresses();
    // A long period: after its first pulse (a period after the daemon's start), the worker is admitted again and
    // then waits for the next pulse, which is due only a period later.
    let pulsard = Pulsard::start(
        &reply_stack,
        &publish,
        &pull,
        &["--pulsation-iteration-period", "1.2"],
    );
    let mut config = performer_on(&reply_stack, &publish, &pull);
    config.pulse_timeout = Duration::from_millis(1_500);
    let (first_done, first_reported) = std::sync::mpsc::channel();
    let waiter = thread::spawn(move || {
        let mut performer = Performer::connect(config).expect("connect");
        performer
            .wait_permission()
            .expect("the first pulse, a period after the start");
        performer.report_success().expect("report");
        first_done.send(()).expect("main thread waits");
        let started = Instant::now();
        let first = performer.wait_permission().map(|_| ());
        (performer, first, started.elapsed())
    });
    first_reported
        .recv_timeout(Duration::from_secs(10))
        .expect("the first pulse within the admission timeout");
    thread::sleep(Duration::from_millis(300));
    pulsard.kill();
    let (mut performer, first, waited) = waiter.join().expect("waiter thread");
    assert!(is_timeout(&first, PULSE), "{first:?}");
    assert!(waited < STEP, "{waited:?}");
    assert!(!performer.holds_permission());

    let _pulsard = Pulsard::start(&reply_stack, &publish, &pull, BUSY_DAEMON);
    let pulse = performer
        .wait_permission()
        .expect("served by the restarted daemon");
    assert_eq!(pulse.bytes, vector("03_PublisherToSubscribersDto.bin"));
    performer.report_success().expect("report");
    // And again: the cycle is back to normal.
    performer.wait_permission().expect("second permission");
    performer.report_success().expect("report");
}

#[test]
fn a_worker_waiting_for_admission_is_served_within_3_s_of_a_restart_with_default_timeouts() {
    let (reply_stack, publish, pull) = fixed_addresses();
    let pulsard = Pulsard::start(&reply_stack, &publish, &pull, BUSY_DAEMON);

    // The first worker takes the only slot and keeps it, so the second one waits in the admission queue.
    let mut holder =
        Performer::connect(performer_on(&reply_stack, &publish, &pull)).expect("connect");
    holder
        .wait_permission()
        .expect("the first worker is served");
    // Default timeouts (the admission wait is 60 s): the restart, not a timeout, must bring the next request.
    let mut config = performer_on(&reply_stack, &publish, &pull);
    let defaults = PerformerConfig::default();
    config.admission_timeout = defaults.admission_timeout;
    config.pulse_timeout = defaults.pulse_timeout;
    config.send_timeout = defaults.send_timeout;
    let waiter = thread::spawn(move || {
        let mut performer = Performer::connect(config).expect("connect");
        let outcome = performer.wait_permission().map(|pulse| pulse.bytes);
        let served_at = Instant::now();
        if outcome.is_ok() {
            performer.report_success().expect("report");
        }
        (outcome, served_at)
    });
    thread::sleep(Duration::from_millis(300));
    pulsard.kill();
    drop(holder);
    thread::sleep(Duration::from_millis(500));

    let restarted_at = Instant::now();
    let _pulsard = Pulsard::start(&reply_stack, &publish, &pull, BUSY_DAEMON);
    let (outcome, served_at) = waiter.join().expect("waiter thread");
    assert_eq!(
        outcome.expect("the same call is served by the restarted daemon"),
        vector("03_PublisherToSubscribersDto.bin")
    );
    let after = served_at.saturating_duration_since(restarted_at);
    assert!(
        after < Duration::from_secs(3),
        "served {after:?} after the restart; the request must go again as soon as the daemon is back"
    );
}
