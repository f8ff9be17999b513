//! The Performer against a scripted fake daemon of raw sockets: the exact bytes and frames it sends (the golden
//! vectors of the original PHP Performer), the order of its steps, and how it recovers from every kind of
//! failure a daemon can cause. No real daemon here: what the Performer does must not depend on ours.

mod performer_support;

use std::thread;
use std::time::{Duration, Instant};

use performer_support::{vector, FakeDaemon};
use publisher_pulsar::performer::{ActionResult, Performer, PerformerConfig};
use publisher_pulsar::PulsarError;
use pulsar_wire::{BecomeTheSubscriberReply, PerformerPush};

const PULSE: &str = "03_PublisherToSubscribersDto.bin";

/// Runs `work` with a Performer for `fake` on another thread (the fake is scripted on this one).
fn with_performer<T: Send + 'static>(
    config: PerformerConfig,
    work: impl FnOnce(&mut Performer) -> T + Send + 'static,
) -> thread::JoinHandle<T> {
    thread::spawn(move || {
        let mut performer = Performer::connect(config).expect("connect the performer");
        work(&mut performer)
    })
}

#[test]
fn every_message_the_client_sends_equals_the_original_bytes() {
    let fake = FakeDaemon::bind();
    let ukrainian =
        match PerformerPush::decode(&vector("10_ActionResultingPushDto_slowDown_ukrainian.bin")) {
            Ok(PerformerPush::ActionResult(result)) => result,
            other => panic!("vector 10 is an action result: {other:?}"),
        };
    let sent_ukrainian = ukrainian.clone();
    let performer = with_performer(fake.config.clone(), move |p| {
        let pulse = p.wait_permission().expect("first permission");
        p.report_success().expect("report success");
        p.wait_permission().expect("second permission");
        p.report_slow_down("User Rate Limit Exceeded", "userRateLimitExceeded")
            .expect("report slow-down");
        p.wait_permission().expect("third permission");
        p.report(&sent_ukrainian)
            .expect("report the Ukrainian slow-down");
        p.wait_permission().expect("fourth permission");
        p.report_pause_for(3_600_000_000, "Daily Limit Exceeded", "dailyLimitExceeded")
            .expect("report pause-for-period");
        p.wait_permission().expect("fifth permission");
        p.report_early_termination(true)
            .expect("give back the permission");
        p.report_early_termination(false)
            .expect("inform of the end");
        pulse
    });

    fake.serve_one(&vector(PULSE));
    assert_eq!(
        fake.next_push(),
        vector("08_ActionResultingPushDto_success.bin")
    );
    fake.serve_one(&vector(PULSE));
    assert_eq!(
        fake.next_push(),
        vector("09_ActionResultingPushDto_slowDown_ascii.bin")
    );
    fake.serve_one(&vector(PULSE));
    assert_eq!(
        fake.next_push(),
        vector("10_ActionResultingPushDto_slowDown_ukrainian.bin")
    );
    fake.serve_one(&vector(PULSE));
    assert_eq!(
        fake.next_push(),
        vector("11_ActionResultingPushDto_sleepForPeriod_3600000000.bin")
    );
    fake.serve_one(&vector(PULSE));
    assert_eq!(
        fake.next_push(),
        vector("06_PerformerEarlyTerminated_standOnSubscription_true.bin")
    );
    assert_eq!(
        fake.next_push(),
        vector("07_PerformerEarlyTerminated_standOnSubscription_false.bin")
    );

    let pulse = performer.join().expect("performer thread");
    assert_eq!(pulse.bytes, vector(PULSE));
    assert!(pulse
        .object
        .class_is("React\\PublisherPulsar\\Inventory\\PublisherToSubscribersDto"));
    assert!(pulse.allow_action());
    // Nothing else was sent.
    assert_eq!(fake.next_push_within(Duration::from_millis(200)), None);
    assert!(ukrainian.is_error());
}

#[test]
fn reporting_without_a_permission_is_out_of_order() {
    let fake = FakeDaemon::bind();
    let mut p = Performer::connect(fake.config.clone()).expect("connect");
    assert!(!p.holds_permission());
    assert!(matches!(
        p.report_success(),
        Err(PulsarError::OutOfOrder(_))
    ));
    assert!(matches!(
        p.report_slow_down("limit", "userRateLimitExceeded"),
        Err(PulsarError::OutOfOrder(_))
    ));
    assert!(matches!(
        p.report_pause_for(1_000_000, "quota", "dailyLimitExceeded"),
        Err(PulsarError::OutOfOrder(_))
    ));
    assert!(matches!(
        p.report(&ActionResult::default()),
        Err(PulsarError::OutOfOrder(_))
    ));
    assert!(matches!(
        p.report_early_termination(true),
        Err(PulsarError::OutOfOrder(_))
    ));
    // Nothing reached the daemon.
    assert_eq!(fake.next_push_within(Duration::from_millis(200)), None);
}

#[test]
fn a_permission_is_reported_once() {
    let fake = FakeDaemon::bind();
    let performer = with_performer(fake.config.clone(), |p| {
        p.wait_permission().expect("permission");
        assert!(p.holds_permission());
        p.report_success().expect("first report");
        assert!(!p.holds_permission());
        p.report_success()
    });
    fake.serve_one(&vector(PULSE));
    assert_eq!(
        fake.next_push(),
        vector("08_ActionResultingPushDto_success.bin")
    );
    let second = performer.join().expect("performer thread");
    assert!(
        matches!(second, Err(PulsarError::OutOfOrder(_))),
        "{second:?}"
    );
}

#[test]
fn an_error_without_a_message_is_refused_and_the_permission_kept() {
    let fake = FakeDaemon::bind();
    let performer = with_performer(fake.config.clone(), |p| {
        p.wait_permission().expect("permission");
        let empty = p.report_slow_down("", "userRateLimitExceeded");
        assert!(p.holds_permission());
        p.report_success().expect("the permission is still there");
        empty
    });
    fake.serve_one(&vector(PULSE));
    assert_eq!(
        fake.next_push(),
        vector("08_ActionResultingPushDto_success.bin")
    );
    let empty = performer.join().expect("performer thread");
    assert!(
        matches!(&empty, Err(PulsarError::InvalidSetting { setting, .. }) if setting == "errorMessage"),
        "{empty:?}"
    );
}

#[test]
fn admission_timeout_replaces_the_request_socket_and_the_next_call_works() {
    let fake = FakeDaemon::bind();
    let mut config = fake.config.clone();
    config.admission_timeout = Duration::from_millis(300);
    let performer = with_performer(config, |p| {
        let started = Instant::now();
        let first = p.wait_permission();
        let waited = started.elapsed();
        let second = p.wait_permission().map(|pulse| pulse.bytes);
        (first, waited, second)
    });

    // The first request arrives and is left unanswered. Its envelope is the routing id and the request id of a
    // correlating REQ socket (what lets a resend after a daemon restart be told apart from the lost request).
    let (first_id, frames) = fake.next_request();
    assert_eq!(first_id.len(), 2, "routing id and request id: {first_id:?}");
    assert_eq!(first_id[1].len(), 4, "a 32-bit request id");
    assert_eq!(
        frames,
        vec![Vec::new(), vector("01_PreparingRequestDto.bin")]
    );
    // The second one comes from a fresh REQ socket (a new connection, so a new routing id); answer it only.
    let (second_id, frames) = fake.next_request();
    assert_ne!(
        first_id, second_id,
        "the timed-out REQ socket must be replaced"
    );
    assert_eq!(
        frames,
        vec![Vec::new(), vector("01_PreparingRequestDto.bin")]
    );
    fake.answer(&second_id, &vector("02_BecomeTheSubscriberReplyDto.bin"));
    assert_eq!(fake.next_subscription_event(), b"\x01");
    assert_eq!(fake.next_push(), vector("05_ReadyToGetSubscriptionMsg.bin"));
    fake.publish(&vector(PULSE));

    let (first, waited, second) = performer.join().expect("performer thread");
    match first {
        Err(PulsarError::Timeout { what, after }) => {
            assert_eq!(what, "waiting for admission (is the daemon running?)");
            assert_eq!(after, Duration::from_millis(300));
        }
        other => panic!("expected an admission timeout, got {other:?}"),
    }
    assert!(
        waited >= Duration::from_millis(300),
        "gave up early: {waited:?}"
    );
    assert_eq!(second.expect("second call succeeds"), vector(PULSE));
}

#[test]
fn pulse_timeout_gives_the_slot_back_and_unsubscribes() {
    let fake = FakeDaemon::bind();
    let mut config = fake.config.clone();
    config.pulse_timeout = Duration::from_millis(300);
    let performer = with_performer(config, |p| {
        let first = p.wait_permission();
        let held_after_error = p.holds_permission();
        let second = p.wait_permission().map(|pulse| pulse.bytes);
        (first, held_after_error, second)
    });

    let (id, _) = fake.next_request();
    fake.answer(&id, &vector("02_BecomeTheSubscriberReplyDto.bin"));
    assert_eq!(fake.next_subscription_event(), b"\x01");
    assert_eq!(fake.next_push(), vector("05_ReadyToGetSubscriptionMsg.bin"));
    // No pulse: the performer gives up, tells us not to wait for it, and unsubscribes.
    assert_eq!(
        fake.next_push(),
        vector("06_PerformerEarlyTerminated_standOnSubscription_true.bin")
    );
    assert_eq!(fake.next_subscription_event(), b"\x00");
    // The same REQ socket asks again (it got its reply) and is served normally.
    fake.serve_one(&vector(PULSE));

    let (first, held_after_error, second) = performer.join().expect("performer thread");
    assert!(
        matches!(
            first,
            Err(PulsarError::Timeout {
                what: "waiting for the pulse",
                ..
            })
        ),
        "{first:?}"
    );
    assert!(!held_after_error);
    assert_eq!(second.expect("second call succeeds"), vector(PULSE));
}

#[test]
fn refused_admission_is_reported_and_the_next_call_works() {
    let fake = FakeDaemon::bind();
    let performer = with_performer(fake.config.clone(), |p| {
        let first = p.wait_permission();
        let second = p.wait_permission().map(|pulse| pulse.bytes);
        (first, second)
    });
    let (id, _) = fake.next_request();
    fake.answer(
        &id,
        &BecomeTheSubscriberReply {
            allow_to_start_subscription: false,
        }
        .encode(),
    );
    fake.serve_one(&vector(PULSE));
    let (first, second) = performer.join().expect("performer thread");
    assert!(
        matches!(first, Err(PulsarError::AdmissionRefused)),
        "{first:?}"
    );
    assert_eq!(second.expect("second call succeeds"), vector(PULSE));
}

#[test]
fn garbage_from_the_admission_desk_is_a_protocol_error_and_the_next_call_works() {
    let fake = FakeDaemon::bind();
    let performer = with_performer(fake.config.clone(), |p| {
        let first = p.wait_permission();
        let second = p.wait_permission().map(|pulse| pulse.bytes);
        (first, second)
    });
    let (id, _) = fake.next_request();
    fake.answer(&id, b"O:8:\"stdClass\":0:{}");
    fake.serve_one(&vector(PULSE));
    let (first, second) = performer.join().expect("performer thread");
    assert!(matches!(first, Err(PulsarError::Protocol(_))), "{first:?}");
    assert_eq!(second.expect("second call succeeds"), vector(PULSE));
}

#[test]
fn a_pulse_that_forbids_the_action_is_refused_and_given_back() {
    let fake = FakeDaemon::bind();
    let forbidding = String::from_utf8(vector(PULSE))
        .expect("vector 03 is ASCII")
        .replace("b:1;", "b:0;")
        .into_bytes();
    assert_ne!(forbidding, vector(PULSE));
    let performer = with_performer(fake.config.clone(), |p| {
        let first = p.wait_permission();
        let report = p.report_success();
        (first, report)
    });
    fake.serve_one(&forbidding);
    assert_eq!(
        fake.next_push(),
        vector("06_PerformerEarlyTerminated_standOnSubscription_true.bin")
    );
    let (first, report) = performer.join().expect("performer thread");
    assert!(
        matches!(first, Err(PulsarError::ActionNotAllowed)),
        "{first:?}"
    );
    assert!(
        matches!(report, Err(PulsarError::OutOfOrder(_))),
        "{report:?}"
    );
}

#[test]
fn a_custom_pulse_arrives_with_its_class_and_properties() {
    let fake = FakeDaemon::bind();
    let custom = vector("04_CustomPublisherToSubscribersDto.bin");
    let performer = with_performer(fake.config.clone(), |p| p.wait_permission());
    fake.serve_one(&custom);
    let pulse = performer
        .join()
        .expect("performer thread")
        .expect("permission");
    assert_eq!(pulse.bytes, custom);
    assert!(pulse
        .object
        .class_is("PulsarHarness\\CustomPublisherToSubscribersDto"));
    assert_eq!(
        pulse.object.get("command"),
        Some(&pulsar_wire::Value::Str(b"slow-down-please".to_vec()))
    );
    assert_eq!(
        pulse.object.get("secretToken"),
        Some(&pulsar_wire::Value::Str(b"t0ken".to_vec()))
    );
}

#[test]
fn asking_again_without_reporting_gives_the_old_permission_back_first() {
    let fake = FakeDaemon::bind();
    let performer = with_performer(fake.config.clone(), |p| {
        p.wait_permission().expect("first permission");
        p.wait_permission().expect("second permission");
        p.report_success()
    });
    fake.serve_one(&vector(PULSE));
    // The unreported first permission is given back before the second request.
    assert_eq!(
        fake.next_push(),
        vector("06_PerformerEarlyTerminated_standOnSubscription_true.bin")
    );
    fake.serve_one(&vector(PULSE));
    assert_eq!(
        fake.next_push(),
        vector("08_ActionResultingPushDto_success.bin")
    );
    performer.join().expect("performer thread").expect("report");
}

#[test]
fn dropping_a_performer_with_a_permission_gives_it_back() {
    let fake = FakeDaemon::bind();
    let performer = with_performer(fake.config.clone(), |p| {
        p.wait_permission().expect("permission");
    });
    fake.serve_one(&vector(PULSE));
    performer.join().expect("performer thread");
    assert_eq!(
        fake.next_push(),
        vector("06_PerformerEarlyTerminated_standOnSubscription_true.bin")
    );
}

#[test]
fn sending_with_no_daemon_listening_times_out() {
    // Performer pointed at ports where nothing listens: a result cannot be handed over.
    let fake = FakeDaemon::bind();
    let mut config = fake.config.clone();
    let dead = format!("tcp://127.0.0.1:{}", performer_support::free_port());
    config.push_pulsar_address = dead;
    config.send_timeout = Duration::from_millis(200);
    config.pulse_timeout = Duration::from_secs(2);
    let performer = with_performer(config, |p| p.wait_permission());
    let (id, _) = fake.next_request();
    fake.answer(&id, &vector("02_BecomeTheSubscriberReplyDto.bin"));
    let outcome = performer.join().expect("performer thread");
    assert!(
        matches!(
            outcome,
            Err(PulsarError::Timeout {
                what: "sending readiness (is the daemon running?)",
                ..
            })
        ),
        "{outcome:?}"
    );
}

#[test]
fn performer_is_send() {
    fn assert_send<T: Send>() {}
    assert_send::<Performer>();
}

#[test]
fn config_json_uses_the_original_names_and_seconds() {
    let config = PerformerConfig::from_json(
        r#"{
            "publisherPulsarSocketAddress": "tcp://127.0.0.1:7273",
            "pushPulsarSocketAddress": "tcp://127.0.0.1:7274",
            "requestPulsarRsSocketAddress": "tcp://127.0.0.1:7275",
            "moduleName": "ga-worker",
            "admissionTimeout": 120,
            "pulseTimeout": 0.5,
            "sendTimeout": 1.25
        }"#,
    )
    .expect("valid JSON config");
    assert_eq!(config.publisher_pulsar_address, "tcp://127.0.0.1:7273");
    assert_eq!(config.push_pulsar_address, "tcp://127.0.0.1:7274");
    assert_eq!(config.request_pulsar_rs_address, "tcp://127.0.0.1:7275");
    assert_eq!(config.module_name, "ga-worker");
    assert_eq!(config.admission_timeout, Duration::from_secs(120));
    assert_eq!(config.pulse_timeout, Duration::from_millis(500));
    assert_eq!(config.send_timeout, Duration::from_millis(1250));

    // Serde in both directions uses the same shape.
    let json = serde_json::to_string(&config).expect("serialize");
    let again: PerformerConfig = serde_json::from_str(&json).expect("deserialize");
    assert_eq!(again, config);

    // Missing keys take the defaults.
    assert_eq!(
        PerformerConfig::from_json("{}").expect("empty object"),
        PerformerConfig::default()
    );
}

#[test]
fn config_json_rejects_unknown_keys_and_unusable_timeouts() {
    assert!(matches!(
        PerformerConfig::from_json(r#"{"admisionTimeout": 3}"#),
        Err(PulsarError::ConfigJson(_))
    ));
    for (key, value) in [
        ("admissionTimeout", "0"),
        ("pulseTimeout", "-1"),
        ("sendTimeout", "0.0"),
        ("admissionTimeout", "1e300"),
    ] {
        let outcome = PerformerConfig::from_json(&format!("{{\"{key}\": {value}}}"));
        assert!(
            matches!(&outcome, Err(PulsarError::InvalidSetting { setting, .. }) if setting == key),
            "{key}={value}: {outcome:?}"
        );
    }
    // NaN cannot be written in JSON, but can reach `validate` through serde from other formats: a zero or
    // absurd Duration is refused there.
    let zero = PerformerConfig {
        pulse_timeout: Duration::ZERO,
        ..PerformerConfig::default()
    };
    assert!(matches!(
        Performer::connect(zero),
        Err(PulsarError::InvalidSetting { setting, .. }) if setting == "pulseTimeout"
    ));
    let empty_address = PerformerConfig {
        request_pulsar_rs_address: " ".into(),
        ..PerformerConfig::default()
    };
    assert!(matches!(
        empty_address.validate(),
        Err(PulsarError::InvalidSetting { setting, .. }) if setting == "requestPulsarRsSocketAddress"
    ));
    let malformed = PerformerConfig {
        push_pulsar_address: "not-an-endpoint".into(),
        ..PerformerConfig::default()
    };
    assert!(matches!(
        Performer::connect(malformed),
        Err(PulsarError::Connect { .. })
    ));
}
