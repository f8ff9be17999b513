//! The Performer against this crate's daemon, run in-process on ephemeral loopback ports: the whole cycle,
//! what each kind of report does to the daemon, custom pulses, and the order of calls.

mod performer_support;

use std::thread;
use std::time::{Duration, Instant};

use performer_support::{daemon_config, eventually, vector, InProcessDaemon, STEP};
use publisher_pulsar::performer::Performer;
use publisher_pulsar::PulsarError;
use pulsar_wire::Value;

#[test]
fn full_cycle_succeeds_repeatedly_with_the_same_sockets() {
    let daemon = InProcessDaemon::start(&daemon_config(1, 0.02));
    let mut performer = Performer::connect(daemon.performer_config()).expect("connect");
    for round in 0..3 {
        let pulse = performer.wait_permission().expect("permission");
        assert_eq!(
            pulse.bytes,
            vector("03_PublisherToSubscribersDto.bin"),
            "round {round}"
        );
        assert!(pulse
            .object
            .class_is("React\\PublisherPulsar\\Inventory\\PublisherToSubscribersDto"));
        assert!(performer.holds_permission());
        performer.report_success().expect("report");
        assert!(!performer.holds_permission());
    }
    assert!(eventually(STEP, || {
        let s = daemon.stats.snapshot();
        s.engine.results == 3 && s.engine.grants == 3 && s.engine.errors == 0
    }));
    assert_eq!(daemon.stats.snapshot().engine.n, 1);
    daemon.stop().expect("clean stop");
}

#[test]
fn reporting_without_a_permission_is_out_of_order_and_sends_nothing() {
    let daemon = InProcessDaemon::start(&daemon_config(1, 0.02));
    let mut performer = Performer::connect(daemon.performer_config()).expect("connect");
    assert!(matches!(
        performer.report_success(),
        Err(PulsarError::OutOfOrder(_))
    ));
    performer.wait_permission().expect("permission");
    performer.report_success().expect("report");
    assert!(matches!(
        performer.report_slow_down("limit", "userRateLimitExceeded"),
        Err(PulsarError::OutOfOrder(_))
    ));
    assert!(eventually(STEP, || daemon
        .stats
        .snapshot()
        .engine
        .iterations
        >= 1));
    let s = daemon.stats.snapshot();
    assert_eq!(
        (s.engine.results, s.engine.late_results, s.engine.errors),
        (1, 0, 0)
    );
}

#[test]
fn a_slow_down_report_makes_the_daemon_release_fewer_workers() {
    let daemon = InProcessDaemon::start(&daemon_config(3, 0.02));
    let mut performer = Performer::connect(daemon.performer_config()).expect("connect");
    assert_eq!(daemon.stats.snapshot().engine.n, 3);
    performer.wait_permission().expect("permission");
    performer
        .report_slow_down("User Rate Limit Exceeded", "userRateLimitExceeded")
        .expect("report");
    assert!(
        eventually(STEP, || daemon.stats.snapshot().engine.n == 2),
        "n stayed at {}",
        daemon.stats.snapshot().engine.n
    );
    assert_eq!(daemon.stats.snapshot().engine.errors, 1);
    // A success afterwards lets it recover.
    performer.wait_permission().expect("permission");
    performer.report_success().expect("report");
    assert!(eventually(STEP, || daemon.stats.snapshot().engine.n == 3));
}

#[test]
fn a_pause_for_period_report_pauses_the_daemon() {
    let daemon = InProcessDaemon::start(&daemon_config(1, 0.02));
    let mut performer = Performer::connect(daemon.performer_config()).expect("connect");
    performer.wait_permission().expect("permission");
    let reported = Instant::now();
    performer
        .report_pause_for(1_500_000, "Daily Limit Exceeded", "dailyLimitExceeded")
        .expect("report");
    assert!(eventually(STEP, || daemon
        .stats
        .snapshot()
        .engine
        .paused_until
        .is_some()));
    assert_eq!(daemon.stats.snapshot().engine.errors, 1);
    // The next permission comes, but not before the pause is over (it starts after our report arrives).
    performer
        .wait_permission()
        .expect("permission after the pause");
    let waited = reported.elapsed();
    assert!(
        waited >= Duration::from_millis(1_400),
        "a pulse came during the pause: {waited:?}"
    );
    performer.report_success().expect("report");
}

#[test]
fn a_configured_subclass_arrives_with_its_class_and_properties() {
    let custom = vector("04_CustomPublisherToSubscribersDto.bin");
    let mut config = daemon_config(1, 0.02);
    config.publisher_to_subscribers_dto = Some(custom.clone());
    let daemon = InProcessDaemon::start(&config);
    let mut performer = Performer::connect(daemon.performer_config()).expect("connect");
    let pulse = performer.wait_permission().expect("permission");
    assert_eq!(pulse.bytes, custom);
    assert!(pulse
        .object
        .class_is("PulsarHarness\\CustomPublisherToSubscribersDto"));
    assert!(pulse.allow_action());
    assert_eq!(
        pulse.object.get("command"),
        Some(&Value::Str(b"slow-down-please".to_vec()))
    );
    assert_eq!(
        pulse.object.get("secretToken"),
        Some(&Value::Str(b"t0ken".to_vec()))
    );
    performer.report_success().expect("report");
}

#[test]
fn a_pulse_with_allow_action_false_is_refused_without_holding_up_the_daemon() {
    let forbidding = String::from_utf8(vector("03_PublisherToSubscribersDto.bin"))
        .expect("vector 03 is ASCII")
        .replace("b:1;", "b:0;")
        .into_bytes();
    let mut config = daemon_config(1, 0.02);
    config.publisher_to_subscribers_dto = Some(forbidding);
    // Were the refusing performer not to say it will not report, the iteration would last this long.
    config.performer_container_action_max_execution_time = 120.0;
    let daemon = InProcessDaemon::start(&config);
    let mut performer = Performer::connect(daemon.performer_config()).expect("connect");
    let outcome = performer.wait_permission();
    assert!(
        matches!(outcome, Err(PulsarError::ActionNotAllowed)),
        "{outcome:?}"
    );
    assert!(!performer.holds_permission());
    assert!(matches!(
        performer.report_success(),
        Err(PulsarError::OutOfOrder(_))
    ));
    assert!(
        eventually(STEP, || daemon.stats.snapshot().engine.iterations >= 1),
        "the daemon still waits for a result that will never come"
    );
    // And the next call is served again (and refused again, as configured).
    assert!(matches!(
        performer.wait_permission(),
        Err(PulsarError::ActionNotAllowed)
    ));
}

#[test]
fn many_performers_share_the_pulses_never_more_than_n_at_once() {
    const N: u32 = 3;
    const PERFORMERS: usize = 6;
    const ROUNDS: usize = 3;
    let daemon = InProcessDaemon::start(&daemon_config(N, 0.02));
    let context = zmq::Context::new();
    let workers: Vec<_> = (0..PERFORMERS)
        .map(|_| {
            let config = daemon.performer_config();
            let context = context.clone();
            thread::spawn(move || {
                let mut performer = Performer::connect_in(config, &context).expect("connect");
                for _ in 0..ROUNDS {
                    performer.wait_permission().expect("permission");
                    performer.report_success().expect("report");
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().expect("worker thread");
    }
    let total = (PERFORMERS * ROUNDS) as u64;
    assert!(eventually(STEP, || daemon.stats.snapshot().engine.results == total));
    let s = daemon.stats.snapshot();
    assert_eq!(s.engine.grants, total);
    assert!(
        s.max_receivers <= N,
        "a pulse reached {} workers",
        s.max_receivers
    );
    assert_eq!(s.engine.errors, 0);
}
