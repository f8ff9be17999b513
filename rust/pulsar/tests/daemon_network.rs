//! The daemon against hostile or unknown peers at the network level: message and envelope limits, the
//! connection limit, `allowFrom` and CURVE. Real libzmq sockets on loopback wildcard ports; every wait bounded.

mod daemon_support;

use std::time::Duration;

use daemon_support::*;
use pulsar_wire::{BecomeTheSubscriberReply, PreparingRequest};

/// How long a test waits to be sure that nothing arrives.
const QUIET: Duration = Duration::from_millis(700);

fn dealer(context: &zmq::Context, endpoint: &str) -> zmq::Socket {
    let s = context.socket(zmq::DEALER).expect("DEALER");
    s.set_linger(0).expect("LINGER");
    s.set_sndtimeo(2000).expect("SNDTIMEO");
    s.connect(endpoint).expect("connect");
    s
}

fn reply_allows(frames: &[Vec<u8>]) -> bool {
    let body = frames.last().expect("a body frame");
    BecomeTheSubscriberReply::decode(body)
        .expect("a well-formed reply")
        .allow_to_start_subscription
}

fn recv_frames(socket: &zmq::Socket, timeout: Duration) -> Option<Vec<Vec<u8>>> {
    let ms = i64::try_from(timeout.as_millis()).unwrap_or(i64::MAX);
    match socket.poll(zmq::POLLIN, ms) {
        Ok(n) if n > 0 => socket.recv_multipart(zmq::DONTWAIT).ok(),
        _ => None,
    }
}

#[test]
fn a_deep_or_large_envelope_is_dropped_unanswered_and_a_correlate_id_is_echoed() {
    let daemon = TestDaemon::start(&test_config());
    let context = zmq::Context::new();
    let request = PreparingRequest::default().encode();

    let deep = dealer(&context, &daemon.endpoints.reply_stack);
    deep.send_multipart([&b"\0\0\0\x01"[..], b"\0\0\0\x02", b"", &request], 0)
        .expect("send");
    let large = dealer(&context, &daemon.endpoints.reply_stack);
    large
        .send_multipart([&[7u8; 64][..], b"", &request], 0)
        .expect("send");
    // A frame above the admission socket's message limit closes the connection before it reaches the daemon.
    let huge = dealer(&context, &daemon.endpoints.reply_stack);
    let big = vec![1u8; 64 * 1024];
    huge.send_multipart([&big[..], b"", &request], 0)
        .expect("send");
    let correlating = dealer(&context, &daemon.endpoints.reply_stack);
    correlating
        .send_multipart([&b"\0\0\0\x09"[..], b"", &request], 0)
        .expect("send");

    let reply = recv_frames(&correlating, STEP).expect("the correlating request is answered");
    assert_eq!(
        reply[0], b"\0\0\0\x09",
        "its request id comes back: {reply:?}"
    );
    assert!(reply_allows(&reply));
    for (name, socket) in [("deep", &deep), ("large", &large), ("huge", &huge)] {
        assert!(
            recv_frames(socket, QUIET).is_none(),
            "the {name} envelope was answered"
        );
    }
    let (ok, s) = daemon.wait_for(STEP, |s| s.dropped_messages >= 2);
    assert!(ok, "{s:?}");
    assert_eq!(s.admitted, 1, "{s:?}");
}

#[test]
fn a_subscription_with_a_long_topic_loses_its_connection_and_is_never_counted() {
    let mut config = test_config();
    config.subscribers_per_iteration = 1;
    let daemon = TestDaemon::start(&config);
    let context = zmq::Context::new();
    let hostile = context.socket(zmq::SUB).expect("SUB");
    hostile.set_linger(0).expect("LINGER");
    hostile.connect(&daemon.endpoints.publish).expect("connect");
    hostile.set_subscribe(&[b'x'; 1000]).expect("subscribe");
    std::thread::sleep(Duration::from_millis(200));
    // A normal worker still gets its pulse: the hostile subscription was never counted (it would have held the
    // pulse of N = 1).
    let worker = RawWorker::connect(&daemon.endpoints);
    worker.ask();
    assert_eq!(worker.await_admission(STEP), Some(true));
    worker.join_pulse();
    assert!(worker.await_pulse(STEP).is_some());
    let (ok, s) = daemon.wait_for(STEP, |s| s.engine.pulses >= 1);
    assert!(ok, "{s:?}");
    assert_eq!(s.max_receivers, 1, "{s:?}");
}

#[test]
fn connections_beyond_max_connections_are_refused_until_some_close() {
    let mut config = test_config();
    config.max_connections = 3;
    let daemon = TestDaemon::start(&config);
    // A worker's three sockets are three connections: the limit is reached.
    let first = RawWorker::connect(&daemon.endpoints);
    // A whole cycle, so that all three of its connections are up (accepted) before the fourth one comes: a reply
    // proves the admission connection, the pulse the subscriber's, the counted result the push connection.
    first
        .cycle(&success(), STEP)
        .expect("the first worker is served");
    let (ok, s) = daemon.wait_for(STEP, |s| s.engine.results >= 1);
    assert!(ok, "{s:?}");
    let context = zmq::Context::new();
    let extra = dealer(&context, &daemon.endpoints.reply_stack);
    extra
        .send_multipart([&b""[..], &PreparingRequest::default().encode()], 0)
        .expect("queued locally");
    assert!(
        recv_frames(&extra, QUIET).is_none(),
        "a fourth connection was served"
    );
    drop(first);
    // Once the first worker's connections close, a new connection gets through and is served. (libzmq does
    // not retry a connection refused by the access check: the refused peer has to connect again.)
    let again = dealer(&context, &daemon.endpoints.reply_stack);
    again
        .send_multipart([&b""[..], &PreparingRequest::default().encode()], 0)
        .expect("send");
    let reply = recv_frames(&again, STEP).expect("served once connections closed");
    assert!(reply_allows(&reply));
}

#[test]
fn allow_from_refuses_addresses_outside_its_networks() {
    let mut config = test_config();
    config.allow_from = vec!["10.0.0.0/8".into()];
    let daemon = TestDaemon::start(&config);
    let outsider = RawWorker::connect(&daemon.endpoints);
    outsider.ask();
    assert_eq!(
        outsider.await_admission(QUIET),
        None,
        "loopback is not in 10/8"
    );

    let mut config = test_config();
    config.allow_from = vec!["10.0.0.0/8".into(), "127.0.0.1".into()];
    let daemon = TestDaemon::start(&config);
    let insider = RawWorker::connect(&daemon.endpoints);
    insider.ask();
    assert_eq!(insider.await_admission(STEP), Some(true));
}

#[test]
fn with_curve_only_clients_that_know_the_server_key_are_served() {
    let server = zmq::CurveKeyPair::new().expect("libzmq with CURVE");
    let mut config = test_config();
    config.curve_secret_key = Some(zmq::z85_encode(&server.secret_key).expect("z85"));
    let daemon = TestDaemon::start(&config);

    let plain = RawWorker::connect(&daemon.endpoints);
    plain.ask();
    assert_eq!(
        plain.await_admission(QUIET),
        None,
        "a NULL client was served"
    );

    let context = zmq::Context::new();
    let client = zmq::CurveKeyPair::new().expect("keys");
    let req = context.socket(zmq::REQ).expect("REQ");
    req.set_linger(0).expect("LINGER");
    req.set_curve_serverkey(&server.public_key)
        .expect("server key");
    req.set_curve_publickey(&client.public_key)
        .expect("public key");
    req.set_curve_secretkey(&client.secret_key)
        .expect("secret key");
    req.connect(&daemon.endpoints.reply_stack).expect("connect");
    req.send(PreparingRequest::default().encode(), 0)
        .expect("send");
    let body = recv_within(&req, STEP).expect("a CURVE client is served");
    assert!(
        BecomeTheSubscriberReply::decode(&body)
            .expect("reply")
            .allow_to_start_subscription
    );
}

#[test]
fn the_performer_with_the_server_key_completes_cycles_over_curve() {
    use publisher_pulsar::performer::{Performer, PerformerConfig};
    let server = zmq::CurveKeyPair::new().expect("libzmq with CURVE");
    let mut config = test_config();
    config.curve_secret_key = Some(zmq::z85_encode(&server.secret_key).expect("z85"));
    let daemon = TestDaemon::start(&config);
    let json = serde_json::json!({
        "publisherPulsarSocketAddress": daemon.endpoints.publish,
        "pushPulsarSocketAddress": daemon.endpoints.pull,
        "requestPulsarRsSocketAddress": daemon.endpoints.reply_stack,
        "admissionTimeout": 5.0,
        "pulseTimeout": 5.0,
        "curveServerKey": zmq::z85_encode(&server.public_key).expect("z85"),
    });
    let config = PerformerConfig::from_json(&json.to_string()).expect("valid performer JSON");
    let mut performer = Performer::connect(config).expect("connect");
    for _ in 0..2 {
        performer.wait_permission().expect("a pulse over CURVE");
        performer.report_success().expect("report");
    }
    let (ok, s) = daemon.wait_for(STEP, |s| s.engine.results >= 2);
    assert!(ok, "{s:?}");
    assert!(PerformerConfig::from_json(r#"{"curveServerKey": "short"}"#).is_err());
}

#[test]
fn the_network_settings_are_read_from_json_and_checked_by_name() {
    use publisher_pulsar::{PulsarConfig, PulsarError};
    let setting = |json: &str| match PulsarConfig::from_json_str(json).and_then(|c| c.validate()) {
        Err(PulsarError::InvalidSetting { setting, .. }) => setting,
        other => panic!("{json}: expected an invalid setting, got {other:?}"),
    };
    let c = PulsarConfig::from_json_str(
        r#"{"allowFrom": ["10.0.0.0/8", "::1"], "maxConnections": 50, "curveSecretKey": null}"#,
    )
    .expect("valid JSON");
    c.validate().expect("valid settings");
    assert_eq!(c.allow_from, vec!["10.0.0.0/8".to_string(), "::1".into()]);
    assert_eq!(c.max_connections, 50);
    assert_eq!(
        setting(r#"{"allowFrom": "127.0.0.1"}"#),
        "allowFrom",
        "a list, not a string"
    );
    assert_eq!(setting(r#"{"allowFrom": ["10.0.0.0/33"]}"#), "allowFrom");
    assert_eq!(setting(r#"{"allowFrom": [1]}"#), "allowFrom");
    assert_eq!(setting(r#"{"maxConnections": 0}"#), "maxConnections");
    assert_eq!(setting(r#"{"maxConnections": -1}"#), "maxConnections");
    assert_eq!(
        setting(r#"{"curveSecretKey": "not a key"}"#),
        "curveSecretKey"
    );
}

/// A SUB that subscribes to the empty topic several times and leaves. libzmq (4.3.4, `XPUB_VERBOSER`) passes
/// every duplicate subscription up but reports one unsubscription per topic when the connection ends; counted
/// naively, the duplicates would outlive the peer and, more than N of them, stop admission for ever.
#[test]
fn duplicate_subscriptions_of_a_peer_that_left_do_not_hold_the_pulse_for_ever() {
    let mut config = test_config();
    config.subscribers_per_iteration = 2;
    config.max_wait_all_subscribers_ready_before_publish = 1.0;
    let daemon = TestDaemon::start(&config);
    {
        let context = zmq::Context::new();
        let sub = context.socket(zmq::SUB).expect("SUB");
        sub.set_linger(0).expect("LINGER");
        sub.connect(&daemon.endpoints.publish).expect("connect");
        for _ in 0..5 {
            sub.set_subscribe(b"").expect("subscribe");
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    std::thread::sleep(Duration::from_millis(300));
    let worker = RawWorker::connect(&daemon.endpoints);
    worker.ask();
    assert_eq!(worker.await_admission(STEP), Some(true));
    worker.join_pulse();
    assert!(
        worker.await_pulse(Duration::from_secs(10)).is_some(),
        "{:?}",
        daemon.snapshot()
    );
}
