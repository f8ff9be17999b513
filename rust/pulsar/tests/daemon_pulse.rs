//! The daemon's pulse behaviour over real ZeroMQ sockets, driven by raw protocol workers: admission, N per
//! period, FIFO order, slow-down and recovery, pause-for-period, imitation, a worker that connects before the
//! daemon binds, and prompt shutdown.

mod daemon_support;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use daemon_support::*;
use publisher_pulsar::daemon::Daemon;
use pulsar_pulse::Nanos;
use pulsar_wire::{Limits, Pulse};

#[test]
fn three_workers_are_admitted_pulsed_and_their_results_counted() {
    let mut config = test_config();
    config.subscribers_per_iteration = 3;
    let daemon = TestDaemon::start(&config);
    let workers: Vec<_> = (0..3)
        .map(|_| {
            let endpoints = daemon.endpoints.clone();
            thread::spawn(move || RawWorker::connect(&endpoints).cycle(&success(), STEP))
        })
        .collect();
    for w in workers {
        let cycle = w.join().expect("worker thread").expect("a full cycle");
        assert_eq!(
            cycle.pulse,
            config.pulse_bytes(),
            "the configured pulse bytes"
        );
        let pulse = Pulse::decode(&cycle.pulse, &Limits::default()).expect("a pulse object");
        assert!(pulse.allow_action());
    }
    let (ok, s) = daemon.wait_for(STEP, |s| s.engine.results == 3 && s.engine.iterations >= 1);
    assert!(ok, "three results and a finished iteration, got {s:?}");
    assert_eq!(s.engine.grants, 3, "each worker released once: {s:?}");
    assert_eq!(s.admitted, 3, "{s:?}");
    assert_eq!(s.engine.errors, 0, "{s:?}");
    assert!(s.engine.pulses >= 1 && s.max_receivers <= 3, "{s:?}");
    assert_eq!(s.dropped_messages, 0, "{s:?}");
    let s = daemon.stop();
    assert!(!s.running);
}

#[test]
fn at_most_n_workers_per_period_with_more_workers_waiting() {
    const N: usize = 2;
    const PERIOD: f64 = 0.3;
    let mut config = test_config();
    config.subscribers_per_iteration = N as u32;
    config.pulsation_iteration_period = PERIOD;
    config.max_wait_reply_stack_result = 0.3;
    let daemon = TestDaemon::start(&config);
    let receipts: Arc<Mutex<Vec<(usize, Instant)>>> = Arc::default();
    let run_until = Instant::now() + Duration::from_secs(3);
    let workers: Vec<_> = (0..6)
        .map(|id| {
            let endpoints = daemon.endpoints.clone();
            let receipts = Arc::clone(&receipts);
            thread::spawn(move || {
                let worker = RawWorker::connect(&endpoints);
                while Instant::now() < run_until {
                    match worker.cycle(&success(), STEP) {
                        Ok(c) => receipts.lock().expect("lock").push((id, c.pulsed_at)),
                        Err(_) => break,
                    }
                }
            })
        })
        .collect();
    thread::sleep(run_until.saturating_duration_since(Instant::now()));
    let stats = daemon.stop();
    for w in workers {
        w.join().expect("worker thread");
    }
    let receipts = receipts.lock().expect("lock").clone();
    assert!(
        receipts.len() >= 8,
        "about 10 pulses of 2 were possible in 3 s, got {} receipts ({stats:?})",
        receipts.len()
    );
    let mut times: Vec<Instant> = receipts.iter().map(|(_, t)| *t).collect();
    times.sort();
    // Receipts of one pulse arrive together; pulses are at least a period apart. A window a bit shorter than
    // the period tolerates delivery jitter but still catches two pulses (2N receipts) too close together.
    let window = Duration::from_secs_f64(PERIOD * 0.8);
    for (i, start) in times.iter().enumerate() {
        let in_window = times[i..]
            .iter()
            .take_while(|t| t.duration_since(*start) < window)
            .count();
        assert!(
            in_window <= N,
            "{in_window} receipts within {window:?} of receipt {i}: more than N = {N} per period"
        );
    }
    assert!(stats.max_receivers as usize <= N, "{stats:?}");
    let mut per_worker: HashMap<usize, usize> = HashMap::new();
    for (id, _) in &receipts {
        *per_worker.entry(*id).or_default() += 1;
    }
    assert_eq!(
        per_worker.len(),
        6,
        "first come, first served: every waiting worker gets its turn: {per_worker:?}"
    );
}

#[test]
fn admission_is_first_come_first_served() {
    let mut config = test_config();
    config.subscribers_per_iteration = 1;
    config.pulsation_iteration_period = 0.05;
    let daemon = TestDaemon::start(&config);
    let workers: Vec<RawWorker> = (0..4)
        .map(|_| RawWorker::connect(&daemon.endpoints))
        .collect();
    workers[0].ask();
    assert_eq!(workers[0].await_admission(STEP), Some(true), "A admitted");
    // B, C, D ask in this order; each request is seen queued before the next one is sent. A was counted as
    // queued itself until admission opened after the start: only snapshots that count its admission tell.
    for (i, w) in workers.iter().enumerate().skip(1) {
        w.ask();
        let (ok, s) = daemon.wait_for(STEP, |s| s.admitted == 1 && s.engine.queued == i as u64);
        assert!(ok, "request {i} queued: {s:?}");
    }
    for (i, w) in workers.iter().enumerate() {
        if i > 0 {
            assert_eq!(
                w.await_admission(STEP),
                Some(true),
                "worker {i} admitted next"
            );
            for later in &workers[i + 1..] {
                assert_eq!(
                    later.await_admission(Duration::from_millis(50)),
                    None,
                    "a later worker must not be admitted before worker {i} is done"
                );
            }
        }
        w.join_pulse();
        assert!(w.await_pulse(STEP).is_some(), "worker {i} pulsed");
        w.leave_pulse();
        w.report(&success());
    }
    let (ok, s) = daemon.wait_for(STEP, |s| s.engine.results == 4);
    assert!(ok, "{s:?}");
    assert_eq!(s.engine.grants, 4, "{s:?}");
}

#[test]
fn slow_down_narrows_n_then_grows_the_pause_and_success_recovers() {
    let mut config = test_config();
    config.subscribers_per_iteration = 3;
    config.max_wait_reply_stack_result = 0.5;
    let daemon = TestDaemon::start(&config);
    let failing = Arc::new(AtomicBool::new(true));
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..3)
        .map(|_| {
            let endpoints = daemon.endpoints.clone();
            let failing = Arc::clone(&failing);
            let stop = Arc::clone(&stop);
            thread::spawn(move || {
                let worker = RawWorker::connect(&endpoints);
                while !stop.load(Ordering::SeqCst) {
                    worker.ask();
                    if worker.await_admission(Duration::from_secs(10)) != Some(true) {
                        break;
                    }
                    worker.join_pulse();
                    // Waits in short slices so that the test's end is not held up by a pulse that never comes.
                    let deadline = Instant::now() + Duration::from_secs(10);
                    let mut pulsed = false;
                    while !pulsed && !stop.load(Ordering::SeqCst) && Instant::now() < deadline {
                        pulsed = worker.await_pulse(Duration::from_millis(50)).is_some();
                    }
                    if !pulsed {
                        break;
                    }
                    worker.leave_pulse();
                    let result = if failing.load(Ordering::SeqCst) {
                        slow_down()
                    } else {
                        success()
                    };
                    worker.report(&result);
                }
            })
        })
        .collect();

    // Record every distinct (n, pause) the daemon goes through.
    let mut seen: Vec<(u32, Nanos)> = Vec::new();
    let mut record = |daemon: &TestDaemon, timeout: Duration, goal: &dyn Fn(u32, Nanos) -> bool| {
        let deadline = Instant::now() + timeout;
        loop {
            let s = daemon.snapshot();
            if seen.last() != Some(&(s.engine.n, s.engine.pause)) {
                seen.push((s.engine.n, s.engine.pause));
            }
            if goal(s.engine.n, s.engine.pause) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            thread::sleep(Duration::from_millis(1));
        }
    };
    let slowed = record(&daemon, Duration::from_secs(10), &|n, pause| {
        n == 1 && pause >= Nanos::from_secs(1)
    });
    failing.store(false, Ordering::SeqCst);
    let recovered = slowed
        && record(&daemon, Duration::from_secs(15), &|n, pause| {
            n == 3 && pause == Nanos::ZERO
        });
    stop.store(true, Ordering::SeqCst);
    let stats = daemon.stop();
    for w in workers {
        w.join().expect("worker thread");
    }
    assert!(slowed, "N went down to 1 and the pause grew: {seen:?}");
    assert!(recovered, "back to N = 3 without pause: {seen:?}");
    let mut ns: Vec<u32> = seen.iter().map(|(n, _)| *n).collect();
    ns.dedup();
    assert_eq!(ns, [3, 2, 1, 2, 3], "N, step by step: {seen:?}");
    for (n, pause) in &seen {
        assert!(
            *pause == Nanos::ZERO || *n == 1,
            "a pause only once N is down to 1: {seen:?}"
        );
    }
    // Recovery shrinks the pause step by step before N grows again.
    let peak = seen
        .iter()
        .position(|(_, p)| *p == seen.iter().map(|(_, p)| *p).max().unwrap_or_default())
        .expect("a peak");
    let pauses_after: Vec<Nanos> = seen[peak..].iter().map(|(_, p)| *p).collect();
    assert!(
        pauses_after.windows(2).all(|w| w[1] <= w[0]),
        "the pause only shrinks during recovery: {seen:?}"
    );
    assert!(stats.engine.errors >= 3, "{stats:?}");
}

#[test]
fn a_pause_for_period_delays_the_next_pulse() {
    let mut config = test_config();
    config.subscribers_per_iteration = 1;
    config.pulsation_iteration_period = 0.05;
    let daemon = TestDaemon::start(&config);
    let worker = RawWorker::connect(&daemon.endpoints);
    let first = worker
        .cycle(&pause_for(600_000), STEP)
        .expect("first cycle");
    let (paused, s) = daemon.wait_for(STEP, |s| s.engine.paused_until.is_some());
    assert!(paused, "the daemon pauses after sleepForPeriod: {s:?}");
    let second = worker.cycle(&success(), STEP).expect("second cycle");
    let gap = second.pulsed_at.duration_since(first.reported_at);
    assert!(
        gap >= Duration::from_millis(600),
        "the next pulse came {gap:?} after the report, before the 600 ms pause was over"
    );
    let (ok, s) = daemon.wait_for(STEP, |s| {
        s.engine.results == 2 && s.engine.paused_until.is_none()
    });
    assert!(ok, "{s:?}");
    assert_eq!(
        (s.engine.errors, s.engine.n),
        (1, 1),
        "a pause changes neither N nor counts twice"
    );
}

#[test]
fn fewer_workers_than_n_are_pulsed_after_the_admission_wait() {
    let mut config = test_config();
    config.subscribers_per_iteration = 10;
    config.max_wait_reply_stack_result = 0.3;
    let daemon = TestDaemon::start(&config);
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let endpoints = daemon.endpoints.clone();
            thread::spawn(move || {
                let worker = RawWorker::connect(&endpoints);
                (0..3)
                    .map(|_| worker.cycle(&success(), Duration::from_secs(3)))
                    .collect::<Result<Vec<_>, _>>()
            })
        })
        .collect();
    for w in workers {
        let cycles = w
            .join()
            .expect("worker thread")
            .expect("every cycle pulsed");
        assert_eq!(cycles.len(), 3);
    }
    let (ok, s) = daemon.wait_for(STEP, |s| s.engine.results == 6);
    assert!(ok, "{s:?}");
    assert!(s.engine.pulses >= 3 && s.max_receivers <= 2, "{s:?}");
    assert_eq!(s.engine.n, 10, "imitation is no error: N stays: {s:?}");
}

#[test]
fn a_worker_that_connected_before_the_daemon_bound_is_served() {
    let [admission, publish, pull] = free_ports::<3>();
    let address = |port: u16| format!("tcp://127.0.0.1:{port}");
    let worker = RawWorker::connect_to(&address(admission), &address(publish), &address(pull));
    // The request waits in the worker's own queue until the daemon is there.
    worker.ask();
    thread::sleep(Duration::from_millis(200));
    let mut config = test_config();
    config.subscribers_per_iteration = 1;
    let p = &mut config.pulsar_sockets_params;
    p.reply_stack_socket_address = address(admission);
    p.publish_socket_address = address(publish);
    p.pull_socket_address = address(pull);
    let daemon = TestDaemon::start(&config);
    assert_eq!(worker.await_admission(STEP), Some(true), "admitted once up");
    worker.join_pulse();
    assert!(worker.await_pulse(STEP).is_some(), "pulsed");
    worker.leave_pulse();
    worker.report(&success());
    let (ok, s) = daemon.wait_for(STEP, |s| s.engine.results == 1);
    assert!(ok, "{s:?}");
}

#[test]
fn shutdown_returns_promptly_and_refuses_the_waiting_workers() {
    let mut config = test_config();
    config.subscribers_per_iteration = 1;
    let daemon = Daemon::bind(&config).expect("bind");
    let daemon = TestDaemon::run(daemon);
    let holder = RawWorker::connect(&daemon.endpoints);
    holder.ask();
    assert_eq!(holder.await_admission(STEP), Some(true));
    let waiting = RawWorker::connect(&daemon.endpoints);
    waiting.ask();
    // The holder itself was counted as queued while admission was closed after the start (restart settle), and
    // the counters are published at the end of the loop turn that sent its reply: only a snapshot that counts
    // its admission says that the one queued is the waiting worker.
    let (ok, s) = daemon.wait_for(STEP, |s| s.admitted == 1 && s.engine.queued == 1);
    assert!(ok, "{s:?}");
    let asked = Instant::now();
    daemon.shutdown.shutdown();
    let outcome = daemon
        .wait_stopped(Duration::from_secs(2))
        .expect("run() returned within 2 s of the shutdown request");
    outcome.expect("a clean stop");
    let took = asked.elapsed();
    assert!(took < Duration::from_secs(2), "{took:?}");
    assert_eq!(
        waiting.await_admission(STEP),
        Some(false),
        "a worker still waiting is told no rather than left hanging"
    );
    assert!(!daemon.snapshot().running);
}

#[test]
fn the_iteration_limit_stops_the_daemon_by_itself() {
    let mut config = test_config();
    config.subscribers_per_iteration = 1;
    config.timer_iterations_limit = 2;
    let daemon = TestDaemon::start(&config);
    let worker = RawWorker::connect(&daemon.endpoints);
    worker.cycle(&success(), STEP).expect("first");
    worker.cycle(&success(), STEP).expect("second");
    let outcome = daemon
        .wait_stopped(STEP)
        .expect("run() returned after two iterations");
    outcome.expect("a clean stop");
    let s = daemon.snapshot();
    assert_eq!(
        (s.engine.iterations, s.engine.pulses, s.running),
        (2, 2, false),
        "{s:?}"
    );
}

#[test]
fn binding_an_address_in_use_fails_naming_the_address() {
    let first = Daemon::bind(&test_config()).expect("bind");
    let taken = first.endpoints().publish;
    let mut config = test_config();
    config.pulsar_sockets_params.publish_socket_address = taken.clone();
    match Daemon::bind(&config) {
        Err(publisher_pulsar::PulsarError::Bind { address, .. }) => assert_eq!(address, taken),
        other => panic!("expected a bind error for {taken}, got {other:?}"),
    }
    let mut bad = test_config();
    bad.subscribers_per_iteration = 0;
    assert!(matches!(
        Daemon::bind(&bad),
        Err(publisher_pulsar::PulsarError::InvalidSetting { setting, .. }) if setting == "subscribersPerIteration"
    ));
}

#[test]
fn run_until_shutdown_binds_runs_and_returns_the_final_counters() {
    let shutdown = publisher_pulsar::daemon::ShutdownHandle::new();
    shutdown.shutdown();
    let (tx, rx) = std::sync::mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(publisher_pulsar::daemon::run_until_shutdown(
            &test_config(),
            shutdown,
        ));
    });
    let stats = rx
        .recv_timeout(Duration::from_secs(3))
        .expect("returned promptly for a handle already triggered")
        .expect("a clean run");
    assert!(!stats.running);
    assert_eq!((stats.engine.pulses, stats.engine.n), (0, 10));
    let mut bad = test_config();
    bad.pulsation_iteration_period = f64::NAN;
    assert!(publisher_pulsar::daemon::run_until_shutdown(&bad, Default::default()).is_err());
}

/// One worker's whole way to a pulse: ask, admission, subscription; the instant it received the pulse.
fn pulse_received(daemon: &TestDaemon) -> Instant {
    let worker = RawWorker::connect(&daemon.endpoints);
    worker.ask();
    assert_eq!(worker.await_admission(STEP), Some(true));
    worker.join_pulse();
    assert!(
        worker.await_pulse(STEP).is_some(),
        "{:?}",
        daemon.snapshot()
    );
    let at = Instant::now();
    worker.leave_pulse();
    worker.report(&success());
    at
}

/// No daemon ran on these sockets before (its state file does not exist): nothing to guard against, so a lone
/// worker is admitted and pulsed at once, not a period after the start.
#[test]
fn a_first_daemon_serves_a_lone_worker_at_once() {
    let mut config = test_config();
    config.pulsation_iteration_period = 3.0;
    let started = Instant::now();
    let daemon = TestDaemon::start(&config);
    let served = pulse_received(&daemon);
    assert!(
        served - started < Duration::from_millis(1500),
        "served {:?} after the start, with a 3 s period",
        served - started
    );
}

/// A daemon stopped right after a pulse and a new one started with the same state file at once: the new one's
/// first pulse still leaves a whole period after the old one's last, so no period window holds both.
#[test]
fn a_daemon_after_one_that_just_pulsed_waits_out_the_period() {
    let mut config = test_config();
    config.pulsation_iteration_period = 2.0;
    let first = TestDaemon::start(&config);
    let last_pulse = pulse_received(&first);
    first.shutdown.shutdown();
    first
        .wait_stopped(STEP)
        .expect("stopped in time")
        .expect("a clean stop");
    let second = TestDaemon::start(&config);
    let served = pulse_received(&second);
    // The pulse left before the worker woke with it: allow its wake-up delay.
    assert!(
        served - last_pulse >= Duration::from_millis(1900),
        "the predecessor's last pulse and the first new one were {:?} apart, with a 2 s period",
        served - last_pulse
    );
}

/// The state file says a daemon was running a moment ago (it died without a word): the new one assumes it may
/// have pulsed just before and waits a whole period after its own start.
#[test]
fn a_daemon_after_one_that_died_waits_a_whole_period() {
    let mut config = test_config();
    config.pulsation_iteration_period = 2.0;
    let path = config
        .state_file
        .clone()
        .expect("test configs name a state file");
    let now_ns = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_nanos();
    std::fs::write(
        &path,
        format!(r#"{{"state":"running","pid":1,"heartbeat_unix_ns":{now_ns}}}"#),
    )
    .expect("write the record");
    let started = Instant::now();
    let daemon = TestDaemon::start(&config);
    let served = pulse_received(&daemon);
    assert!(
        served - started >= Duration::from_secs(2),
        "served {:?} after the start",
        served - started
    );
}
