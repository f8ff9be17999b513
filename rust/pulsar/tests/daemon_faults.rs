//! The daemon under faults: hostile or broken peers on every socket, and workers that die mid-cycle. In each
//! case a normal worker must keep being served and every wait of the daemon must stay bounded.

mod daemon_support;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use daemon_support::*;
use pulsar_pulse::Nanos;
use pulsar_wire::{BecomeTheSubscriberReply, PreparingRequest};

/// Sends one admission body from a fresh REQ socket and returns the reply's `allowToStartSubscription`.
fn ask_with(context: &zmq::Context, address: &str, body: &[u8]) -> Option<bool> {
    let req = context.socket(zmq::REQ).expect("REQ");
    req.set_linger(0).expect("LINGER");
    req.set_sndtimeo(2000).expect("SNDTIMEO");
    req.connect(address).expect("connect");
    req.send(body, 0).expect("send");
    let reply = recv_within(&req, STEP)?;
    Some(
        BecomeTheSubscriberReply::decode(&reply)
            .expect("a well-formed reply")
            .allow_to_start_subscription,
    )
}

#[test]
fn hostile_input_is_dropped_or_refused_while_a_normal_worker_keeps_its_pulses() {
    let mut config = test_config();
    config.subscribers_per_iteration = 1;
    config.pulsation_iteration_period = 0.05;
    let daemon = TestDaemon::start(&config);
    let pulses = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let normal = {
        let endpoints = daemon.endpoints.clone();
        let pulses = Arc::clone(&pulses);
        let stop = Arc::clone(&stop);
        thread::spawn(move || {
            let worker = RawWorker::connect(&endpoints);
            while !stop.load(Ordering::SeqCst) {
                worker
                    .cycle(&success(), STEP)
                    .expect("the normal worker is served throughout");
                pulses.fetch_add(1, Ordering::SeqCst);
            }
        })
    };
    assert!(
        wait_until(STEP, || pulses.load(Ordering::SeqCst) >= 1),
        "the normal worker is served before the attack"
    );

    let context = zmq::Context::new();
    let admission = &daemon.endpoints.reply_stack;
    let valid = PreparingRequest::default().encode();
    let not_ready = PreparingRequest {
        ready_to_act: false,
        ..PreparingRequest::default()
    }
    .encode();
    let refused_bodies: [(&str, Vec<u8>); 6] = [
        ("garbage", b"\x00\x01\xffgarbage".to_vec()),
        ("truncated", valid[..valid.len() / 2].to_vec()),
        ("unknown class", b"O:8:\"stdClass\":0:{}".to_vec()),
        ("wrong protocol class", success_push()),
        ("empty", Vec::new()),
        ("readyToAct false", not_ready),
    ];
    for (what, body) in &refused_bodies {
        assert_eq!(
            ask_with(&context, admission, body),
            Some(false),
            "{what}: the REQ peer is answered with a refusal, not left hanging"
        );
    }

    // 2 MiB on the admission desk: libzmq drops the connection; there is no reply to wait for.
    let big = vec![b'x'; 2 << 20];
    let req = context.socket(zmq::REQ).expect("REQ");
    req.set_linger(0).expect("LINGER");
    req.set_sndtimeo(2000).expect("SNDTIMEO");
    req.connect(admission).expect("connect");
    req.send(&big[..], 0).expect("send 2 MiB");

    // A DEALER without the empty delimiter frame, and one with too many frames: dropped.
    let dealer = context.socket(zmq::DEALER).expect("DEALER");
    dealer.set_linger(0).expect("LINGER");
    dealer.set_sndtimeo(2000).expect("SNDTIMEO");
    dealer.connect(admission).expect("connect");
    dealer.send(&valid[..], 0).expect("send without delimiter");
    dealer
        .send_multipart([&b""[..], &valid[..], &b"extra"[..]], 0)
        .expect("send four frames");
    dealer
        .send_multipart([&b"not empty"[..], &valid[..]], 0)
        .expect("send a non-empty delimiter");

    // Garbage on the inbox: bytes, a truncated push, an unknown class, a multipart push, 2 MiB.
    let push = context.socket(zmq::PUSH).expect("PUSH");
    push.set_linger(0).expect("LINGER");
    push.set_sndtimeo(2000).expect("SNDTIMEO");
    push.connect(&daemon.endpoints.pull).expect("connect");
    let result = success_push();
    for body in [
        b"\x00garbage\xff".to_vec(),
        result[..result.len() - 3].to_vec(),
        b"O:8:\"stdClass\":0:{}".to_vec(),
        valid.clone(),
        Vec::new(),
    ] {
        push.send(body, 0).expect("push garbage");
    }
    push.send_multipart([&result[..], &result[..]], 0)
        .expect("push two frames");
    let big_push = context.socket(zmq::PUSH).expect("PUSH");
    big_push.set_linger(0).expect("LINGER");
    big_push.set_sndtimeo(2000).expect("SNDTIMEO");
    big_push.connect(&daemon.endpoints.pull).expect("connect");
    big_push.send(&big[..], 0).expect("push 2 MiB");

    // A raw XSUB that sends something that is not a subscription.
    let xsub = context.socket(zmq::XSUB).expect("XSUB");
    xsub.set_linger(0).expect("LINGER");
    xsub.set_sndtimeo(2000).expect("SNDTIMEO");
    xsub.connect(&daemon.endpoints.publish).expect("connect");
    xsub.send(&b"\x02not a subscription"[..], 0)
        .expect("send junk to the publisher");

    // Dropped: 5 malformed admission bodies, 3 badly framed admission messages, 6 inbox messages, 1 publisher
    // message. (readyToAct false is refused but well-formed; the 2 MiB messages never reach the daemon.)
    let (ok, s) = daemon.wait_for(STEP, |s| s.dropped_messages >= 15);
    assert!(ok, "every hostile message counted as dropped: {s:?}");
    assert_eq!(s.rejected_requests, 6, "{s:?}");

    let before = pulses.load(Ordering::SeqCst);
    assert!(
        wait_until(STEP, || pulses.load(Ordering::SeqCst) >= before + 3),
        "the normal worker keeps getting pulses after the attack"
    );
    stop.store(true, Ordering::SeqCst);
    normal.join().expect("the normal worker never failed");
    let s = daemon.stop();
    assert_eq!(s.max_receivers, 1, "hostile peers never got a share: {s:?}");
    assert_eq!(s.dropped_messages, 15, "{s:?}");
}

fn success_push() -> Vec<u8> {
    pulsar_wire::PerformerPush::ActionResult(success()).encode()
}

#[test]
fn a_worker_killed_after_its_pulse_delays_the_next_pulse_at_most_by_the_result_timeout() {
    let test_started = Instant::now();
    let mut config = test_config();
    config.subscribers_per_iteration = 2;
    config.max_wait_reply_stack_result = 0.3;
    config.performer_container_action_max_execution_time = 7.0;
    let daemon = TestDaemon::start(&config);
    let survivor = RawWorker::connect(&daemon.endpoints);
    let victim = RawWorker::connect(&daemon.endpoints);
    for w in [&survivor, &victim] {
        w.ask();
        assert_eq!(w.await_admission(STEP), Some(true));
        w.join_pulse();
    }
    let first = survivor.await_pulse(STEP).expect("first pulse");
    assert!(
        victim.await_pulse(STEP).is_some(),
        "the victim is released too"
    );
    let first_at = Instant::now();
    drop(victim); // killed: its sockets vanish, it never reports
    survivor.leave_pulse();
    survivor.report(&success());
    let next = survivor
        .cycle(&success(), Duration::from_secs(12))
        .expect("the survivor is pulsed again");
    assert_eq!(next.pulse, first);
    let delay = next.pulsed_at.duration_since(first_at);
    // Result timeout (7 s) + admission wait for the missing second worker (0.3 s) + slack for a loaded machine.
    assert!(
        delay <= Duration::from_millis(9_500),
        "the dead worker delayed the next pulse by {delay:?}"
    );
    let (ok, s) = daemon.wait_for(STEP, |s| s.engine.results == 2);
    assert!(ok, "both of the survivor's results counted: {s:?}");
    daemon.stop();
    assert!(test_started.elapsed() < Duration::from_secs(15));
}

#[test]
fn a_killed_receiver_gives_its_slot_back_at_its_timeout_while_others_report() {
    // N = 2 with the default slots (N). The victim dies holding its permission; two workers then loop. Their
    // results are credited to the oldest pulse still owed, so without the loss report the victim's debt would
    // move on to each newer pulse and one slot would stay held for as long as they loop: one worker per pulse.
    slot_comes_back_while_two_workers_loop(Victim::Killed);
}

#[test]
fn a_hung_receiver_gives_its_slot_back_at_its_timeout_while_others_report() {
    // The same with a victim that stays connected and never reports: only the time tells.
    slot_comes_back_while_two_workers_loop(Victim::Hangs);
}

#[test]
fn workers_that_report_and_exit_at_once_are_never_taken_for_lost_receivers() {
    // Each worker reports and closes its sockets right away, as a PHP script that ends after its job does: the
    // close can reach the daemon before the result it sent just before, which must still count as reported.
    let mut config = test_config();
    config.subscribers_per_iteration = 4;
    config.pulsation_iteration_period = 0.05;
    let daemon = TestDaemon::start(&config);
    let one_shots: Vec<_> = (0..4)
        .map(|_| {
            let endpoints = daemon.endpoints.clone();
            thread::spawn(move || {
                for _ in 0..10 {
                    let worker = RawWorker::connect(&endpoints);
                    worker
                        .cycle(&success(), STEP)
                        .expect("a one-shot worker is served");
                }
            })
        })
        .collect();
    for w in one_shots {
        w.join().expect("a one-shot worker panicked");
    }
    let (ok, s) = daemon.wait_for(STEP, |s| s.engine.results == 40 && s.open_connections == 0);
    assert!(
        ok,
        "every result counted and every connection closed: {s:?}"
    );
    // Give the loop a few turns to settle what it saw closing.
    thread::sleep(Duration::from_millis(200));
    let s = daemon.stop();
    assert_eq!(
        (
            s.engine.lost_receivers,
            s.engine.ignored_losses,
            s.engine.late_results
        ),
        (0, 0, 0),
        "{s:?}"
    );
}

/// A raw worker admitted and released by `daemon`'s next pulse, still subscribed.
fn released_worker(daemon: &TestDaemon) -> RawWorker {
    let worker = RawWorker::connect(&daemon.endpoints);
    worker.ask();
    assert_eq!(worker.await_admission(STEP), Some(true));
    worker.join_pulse();
    assert!(worker.await_pulse(STEP).is_some(), "the worker is released");
    worker
}

/// What happens to the worker released first.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Victim {
    /// SIGKILLed: its sockets close.
    Killed,
    /// Alive and connected, never reporting.
    Hangs,
}

fn slot_comes_back_while_two_workers_loop(how: Victim) {
    let test_started = Instant::now();
    let mut config = test_config();
    config.subscribers_per_iteration = 2;
    config.max_wait_reply_stack_result = 0.3;
    config.performer_container_action_max_execution_time = 7.0;
    let daemon = TestDaemon::start(&config);
    let victim = released_worker(&daemon);
    let released_at = Instant::now();
    let hung = match how {
        Victim::Killed => {
            drop(victim); // killed: its sockets vanish, it never reports
            let (ok, s) = daemon.wait_for(STEP, |s| s.engine.lost_receivers == 1);
            assert!(
                ok,
                "the closed push connection reported the victim lost: {s:?}"
            );
            None
        }
        Victim::Hangs => {
            // It unsubscribes, as a worker does before acting, and then never reports.
            victim.leave_pulse();
            Some(victim)
        }
    };

    let stop = Arc::new(AtomicBool::new(false));
    let loopers: Vec<_> = (0..2)
        .map(|_| {
            let endpoints = daemon.endpoints.clone();
            let stop = Arc::clone(&stop);
            thread::spawn(move || {
                let worker = RawWorker::connect(&endpoints);
                let mut cycles = 0u32;
                while !stop.load(Ordering::SeqCst) {
                    worker
                        .cycle(&success(), STEP)
                        .expect("a looping worker is served");
                    cycles += 1;
                }
                cycles
            })
        })
        .collect();
    // Before the victim's pulse reaches its result timeout (7 s) one slot is still held: one worker per pulse.
    thread::sleep(Duration::from_secs(5).saturating_sub(released_at.elapsed()));
    let before = daemon.snapshot().engine;
    thread::sleep(Duration::from_secs(1));
    let held = daemon.snapshot().engine;
    assert_eq!(
        held.grants - before.grants,
        held.pulses - before.pulses,
        "one slot is held until the timeout: {held:?}"
    );
    // After it the slot is back: pulses reach both loopers.
    thread::sleep(Duration::from_secs(8).saturating_sub(released_at.elapsed()));
    let after = daemon.snapshot().engine;
    thread::sleep(Duration::from_secs(2));
    let freed = daemon.snapshot().engine;
    stop.store(true, Ordering::SeqCst);
    let cycles: Vec<u32> = loopers
        .into_iter()
        .map(|l| l.join().expect("a looper panicked"))
        .collect();
    let (grants, pulses) = (freed.grants - after.grants, freed.pulses - after.pulses);
    assert!(
        grants > pulses + pulses / 2,
        "after the timeout most pulses reach both loopers: {grants} grants in {pulses} pulses ({freed:?})"
    );
    assert!(freed.lapsed_results >= 1, "{freed:?}");
    assert_eq!(freed.lost_receivers, 1, "{freed:?}");
    assert!(
        cycles.iter().all(|&c| c > 10),
        "both loopers were served: {cycles:?}"
    );
    drop(hung);
    daemon.stop();
    assert!(test_started.elapsed() < Duration::from_secs(20));
}

#[test]
fn a_worker_killed_after_admission_delays_the_pulse_at_most_by_the_ready_wait() {
    let mut config = test_config();
    config.subscribers_per_iteration = 2;
    config.max_wait_all_subscribers_ready_before_publish = 1.0;
    let daemon = TestDaemon::start(&config);
    let survivor = RawWorker::connect(&daemon.endpoints);
    let victim = RawWorker::connect(&daemon.endpoints);
    survivor.ask();
    victim.ask();
    assert_eq!(survivor.await_admission(STEP), Some(true));
    assert_eq!(victim.await_admission(STEP), Some(true));
    drop(victim); // killed before subscribing
    let joined = Instant::now();
    survivor.join_pulse();
    assert!(
        survivor.await_pulse(STEP).is_some(),
        "pulsed without the dead worker"
    );
    let delay = joined.elapsed();
    assert!(
        delay <= Duration::from_millis(3_000),
        "ready wait is 1 s; the dead worker delayed the pulse by {delay:?}"
    );
    survivor.leave_pulse();
    survivor.report(&success());
    let (ok, s) = daemon.wait_for(STEP, |s| s.engine.iterations >= 1);
    assert!(ok, "{s:?}");
    assert_eq!(s.max_receivers, 1, "{s:?}");
}

#[test]
fn a_peer_that_asks_again_while_waiting_keeps_one_place_in_the_queue() {
    let mut config = test_config();
    config.subscribers_per_iteration = 1;
    config.pulsation_iteration_period = 0.05;
    config.max_wait_all_subscribers_ready_before_publish = 1.0;
    let daemon = TestDaemon::start(&config);
    let holder = RawWorker::connect(&daemon.endpoints);
    holder.ask();
    assert_eq!(holder.await_admission(STEP), Some(true));

    let context = zmq::Context::new();
    let dealer = context.socket(zmq::DEALER).expect("DEALER");
    dealer.set_linger(0).expect("LINGER");
    dealer.set_sndtimeo(2000).expect("SNDTIMEO");
    dealer
        .connect(&daemon.endpoints.reply_stack)
        .expect("connect");
    let request = PreparingRequest::default().encode();
    for _ in 0..3 {
        dealer
            .send_multipart([&b""[..], &request[..]], 0)
            .expect("ask");
    }
    // A relaxed, correlating REQ (request id frame before the delimiter) queues behind it.
    let correlating = context.socket(zmq::REQ).expect("REQ");
    correlating.set_linger(0).expect("LINGER");
    correlating.set_req_relaxed(true).expect("REQ_RELAXED");
    correlating.set_req_correlate(true).expect("REQ_CORRELATE");
    correlating
        .connect(&daemon.endpoints.reply_stack)
        .expect("connect");
    // The holder was counted as queued until admission opened after the start: only a snapshot that counts its
    // admission says that the DEALER's requests are queued.
    let (ok, s) = daemon.wait_for(STEP, |s| s.admitted == 1 && s.engine.queued >= 1);
    assert!(ok, "{s:?}");
    correlating.send(&request[..], 0).expect("ask");
    let (ok, s) = daemon.wait_for(STEP, |s| s.engine.queued >= 2);
    assert!(ok, "{s:?}");
    thread::sleep(Duration::from_millis(100));
    assert_eq!(
        daemon.snapshot().engine.queued,
        2,
        "three requests from one DEALER hold one place: {:?}",
        daemon.snapshot()
    );

    holder.join_pulse();
    assert!(holder.await_pulse(STEP).is_some());
    holder.leave_pulse();
    holder.report(&success());

    // The DEALER is admitted once, with the envelope it sent.
    let reply = dealer
        .poll(zmq::POLLIN, 5000)
        .ok()
        .filter(|n| *n > 0)
        .and_then(|_| dealer.recv_multipart(zmq::DONTWAIT).ok())
        .expect("the DEALER is answered");
    assert_eq!(reply.len(), 2, "[delimiter, body]: {reply:?}");
    assert!(reply[0].is_empty());
    let allowed = BecomeTheSubscriberReply::decode(&reply[1]).expect("a reply");
    assert!(allowed.allow_to_start_subscription);
    // The daemon probes an admitted worker's connection with one-frame messages (a REQ socket discards them
    // unread; a DEALER sees them): anything else would be a second reply.
    let second_reply = (0..50).any(|_| {
        recv_multipart_within(&dealer, Duration::from_millis(4)).is_some_and(|m| m.len() != 1)
    });
    assert!(!second_reply, "only one reply for the three requests");
    // Its slot is never used (it does not subscribe); after the ready wait the correlating REQ gets its turn.
    let reply = recv_within(&correlating, Duration::from_secs(8)).expect("the REQ is answered");
    let allowed = BecomeTheSubscriberReply::decode(&reply).expect("a reply");
    assert!(allowed.allow_to_start_subscription);
}

/// One whole message within `timeout`, or `None`.
fn recv_multipart_within(socket: &zmq::Socket, timeout: Duration) -> Option<Vec<Vec<u8>>> {
    let ms = i64::try_from(timeout.as_millis()).unwrap_or(i64::MAX);
    match socket.poll(zmq::POLLIN, ms) {
        Ok(n) if n > 0 => socket.recv_multipart(zmq::DONTWAIT).ok(),
        _ => None,
    }
}

#[test]
fn a_worker_gone_before_subscribing_is_noticed_by_its_closed_connection_not_the_ready_wait() {
    // The ready wait is far longer than the test may take: only the closed connection can free the slot.
    let mut config = test_config();
    config.subscribers_per_iteration = 2;
    config.pulsation_iteration_period = 0.05;
    config.max_wait_all_subscribers_ready_before_publish = 60.0;
    let daemon = TestDaemon::start(&config);
    let started = Instant::now();
    for round in 0..3 {
        let ghost = RawWorker::connect(&daemon.endpoints);
        ghost.ask();
        assert_eq!(ghost.await_admission(STEP), Some(true), "round {round}");
        drop(ghost); // gone before subscribing, like a crash right after admission
        let (ok, s) = daemon.wait_for(STEP, |s| s.disconnected_workers > round);
        assert!(
            ok,
            "round {round}: the closed connection was not noticed: {s:?}"
        );
    }
    // Both slots are free again: two workers get one pulse together, at once.
    let a = RawWorker::connect(&daemon.endpoints);
    let b = RawWorker::connect(&daemon.endpoints);
    a.ask();
    b.ask();
    assert_eq!(a.await_admission(STEP), Some(true));
    assert_eq!(b.await_admission(STEP), Some(true));
    a.join_pulse();
    b.join_pulse();
    assert!(a.await_pulse(STEP).is_some());
    assert!(b.await_pulse(STEP).is_some());
    let (ok, s) = daemon.wait_for(STEP, |s| s.engine.pulses >= 1);
    assert!(ok, "{s:?}");
    assert_eq!(s.max_receivers, 2, "{s:?}");
    assert_eq!(s.engine.admitted_waiting, 0, "no ghost place left: {s:?}");
    assert!(started.elapsed() < Duration::from_secs(30));
    daemon.stop();
}

#[test]
fn a_pause_asked_for_centuries_lasts_the_configured_cap() {
    let mut config = test_config();
    config.subscribers_per_iteration = 1;
    config.pulsation_iteration_period = 0.05;
    config.max_pause_for_period = 1.0;
    let daemon = TestDaemon::start(&config);
    let first = released_worker(&daemon);
    first.leave_pulse();
    // i64::MAX microseconds: what a peer can put on the wire, 292 000 years.
    first.report(&pause_for(i64::MAX as u64));
    let (ok, s) = daemon.wait_for(STEP, |s| s.engine.paused_until.is_some());
    assert!(ok, "{s:?}");
    let until = s.engine.paused_until.expect("paused");
    assert!(until <= Nanos::from_secs(60), "paused until {until:?}");
    // The cap ends the pause: the next worker is served.
    let second = RawWorker::connect(&daemon.endpoints);
    second.ask();
    assert_eq!(second.await_admission(STEP), Some(true));
    second.join_pulse();
    assert!(second.await_pulse(STEP).is_some());
    daemon.stop();
}
