//! Shared pieces of the daemon's integration tests: an in-process daemon on wildcard ports, and a raw-ZeroMQ
//! worker that speaks the protocol step by step with the codec's bytes (not the crate's Performer client, so
//! that the daemon is tested against the wire protocol itself).
//!
//! Every wait here is bounded; a test that hits a bound fails with a message instead of hanging.

// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

#[path = "../ports_support/mod.rs"]
mod ports_support;
#[allow(unused_imports)] // not every test file that uses this support picks ports
pub use ports_support::free_ports;

use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use publisher_pulsar::daemon::{Daemon, DaemonStats, Endpoints, ShutdownHandle, StatsHandle};
use publisher_pulsar::{PulsarConfig, PulsarError};
use pulsar_wire::{ActionResult, BecomeTheSubscriberReply, PerformerPush, PreparingRequest};

/// The longest any single step of a raw worker may take in a test.
pub const STEP: Duration = Duration::from_secs(5);

/// A config with every address on a loopback wildcard port and short waits fit for tests.
pub fn test_config() -> PulsarConfig {
    let mut c = PulsarConfig {
        pulsation_iteration_period: 0.1,
        max_wait_reply_stack_result: 1.0,
        max_wait_all_subscribers_ready_before_publish: 3.0,
        module_name: "daemon-test".into(),
        ..PulsarConfig::default()
    };
    let p = &mut c.pulsar_sockets_params;
    for a in [
        &mut p.reply_to_reply_stack_socket_address,
        &mut p.push_to_reply_stack_socket_address,
        &mut p.publish_socket_address,
        &mut p.pull_socket_address,
        &mut p.reply_stack_socket_address,
    ] {
        *a = "tcp://127.0.0.1:*".into();
    }
    // Each test daemon keeps its record for a successor in the build's temporary folder; a test that restarts a
    // daemon with the same config finds it. A record left by an earlier run whose process had the same id is
    // removed: a new config has no predecessor.
    static NEXT_STATE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let state = format!(
        "{}/pulsard-{}-{}.state",
        env!("CARGO_TARGET_TMPDIR"),
        std::process::id(),
        NEXT_STATE.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    );
    let _ = std::fs::remove_file(&state);
    c.state_file = Some(state);
    c
}

/// A daemon bound in-process and running on its own thread; stopped when dropped.
pub struct TestDaemon {
    /// Where it listens.
    pub endpoints: Endpoints,
    /// Its counters.
    pub stats: StatsHandle,
    /// Stops it.
    pub shutdown: ShutdownHandle,
    done: mpsc::Receiver<Result<(), PulsarError>>,
}

impl TestDaemon {
    /// Binds (the readiness signal) and runs the daemon on a thread.
    pub fn start(config: &PulsarConfig) -> TestDaemon {
        let daemon = Daemon::bind(config).expect("the daemon binds");
        TestDaemon::run(daemon)
    }

    /// Runs an already bound daemon on a thread.
    pub fn run(daemon: Daemon) -> TestDaemon {
        let endpoints = daemon.endpoints();
        let stats = daemon.stats_handle();
        let shutdown = daemon.shutdown_handle();
        let (tx, done) = mpsc::channel();
        thread::Builder::new()
            .name("test-daemon".into())
            .spawn(move || {
                let _ = tx.send(daemon.run());
            })
            .expect("spawn the daemon thread");
        TestDaemon {
            endpoints,
            stats,
            shutdown,
            done,
        }
    }

    /// The counters now.
    pub fn snapshot(&self) -> DaemonStats {
        self.stats.snapshot()
    }

    /// Waits (bounded) until the counters satisfy `cond`; returns the last snapshot either way.
    pub fn wait_for(
        &self,
        timeout: Duration,
        cond: impl Fn(&DaemonStats) -> bool,
    ) -> (bool, DaemonStats) {
        let deadline = Instant::now() + timeout;
        loop {
            let s = self.snapshot();
            if cond(&s) {
                return (true, s);
            }
            if Instant::now() >= deadline {
                return (false, s);
            }
            thread::sleep(Duration::from_millis(2));
        }
    }

    /// Waits (bounded) for `run()` to return by itself, e.g. after `timerIterationsLimit`.
    pub fn wait_stopped(&self, timeout: Duration) -> Option<Result<(), PulsarError>> {
        self.done.recv_timeout(timeout).ok()
    }

    /// Asks it to stop and waits (bounded) for `run()` to return; panics if it does not.
    pub fn stop(self) -> DaemonStats {
        self.shutdown.shutdown();
        match self.done.recv_timeout(Duration::from_secs(3)) {
            Ok(result) => result.expect("the daemon ran without error"),
            Err(e) => panic!("the daemon did not stop within 3 s after shutdown: {e}"),
        }
        self.stats.snapshot()
    }
}

impl Drop for TestDaemon {
    fn drop(&mut self) {
        self.shutdown.shutdown();
    }
}

/// A worker made of raw sockets: REQ to the admission desk, SUB to the publisher, PUSH to the inbox.
pub struct RawWorker {
    pub req: zmq::Socket,
    pub sub: zmq::Socket,
    pub push: zmq::Socket,
    _context: zmq::Context,
}

/// What a worker saw during one full cycle.
#[derive(Debug, Clone)]
pub struct Cycle {
    /// When the admission reply arrived.
    pub admitted_at: Instant,
    /// When the pulse arrived.
    pub pulsed_at: Instant,
    /// When the result was pushed.
    pub reported_at: Instant,
    /// The pulse's bytes.
    pub pulse: Vec<u8>,
}

fn socket(context: &zmq::Context, kind: zmq::SocketType) -> zmq::Socket {
    let s = context.socket(kind).expect("create a socket");
    s.set_linger(0).expect("LINGER");
    s.set_sndtimeo(2000).expect("SNDTIMEO");
    s.set_rcvtimeo(2000).expect("RCVTIMEO");
    s
}

impl RawWorker {
    /// Connects the three sockets to a daemon's endpoints.
    pub fn connect(endpoints: &Endpoints) -> RawWorker {
        RawWorker::connect_to(&endpoints.reply_stack, &endpoints.publish, &endpoints.pull)
    }

    /// Connects the three sockets to explicit addresses (the daemon need not be up yet).
    pub fn connect_to(reply_stack: &str, publish: &str, pull: &str) -> RawWorker {
        let context = zmq::Context::new();
        let req = socket(&context, zmq::REQ);
        req.connect(reply_stack).expect("connect REQ");
        let sub = socket(&context, zmq::SUB);
        sub.connect(publish).expect("connect SUB");
        let push = socket(&context, zmq::PUSH);
        // A worker that reports and exits at once must not lose its result: the socket is dropped right after the
        // send, and with LINGER 0 libzmq may discard it before its I/O thread has written it. Bounded: 2 s.
        push.set_linger(2000).expect("LINGER");
        push.connect(pull).expect("connect PUSH");
        RawWorker {
            req,
            sub,
            push,
            _context: context,
        }
    }

    /// Sends `PreparingRequestDto` (readyToAct true).
    pub fn ask(&self) {
        self.req
            .send(PreparingRequest::default().encode(), 0)
            .expect("send the admission request");
    }

    /// Waits for the admission reply: `Some(allowToStartSubscription)`, or `None` on timeout.
    pub fn await_admission(&self, timeout: Duration) -> Option<bool> {
        let body = recv_within(&self.req, timeout)?;
        let reply = BecomeTheSubscriberReply::decode(&body).expect("a well-formed admission reply");
        Some(reply.allow_to_start_subscription)
    }

    /// Subscribes to everything and pushes `ReadyToGetSubscriptionMsg`.
    pub fn join_pulse(&self) {
        self.sub.set_subscribe(b"").expect("subscribe");
        self.push
            .send(PerformerPush::Ready.encode(), 0)
            .expect("push Ready");
    }

    /// Waits for the pulse's bytes; `None` on timeout.
    pub fn await_pulse(&self, timeout: Duration) -> Option<Vec<u8>> {
        recv_within(&self.sub, timeout)
    }

    /// Unsubscribes, as a protocol worker does once it has its pulse.
    pub fn leave_pulse(&self) {
        self.sub.set_unsubscribe(b"").expect("unsubscribe");
    }

    /// Pushes a result.
    pub fn report(&self, result: &ActionResult) {
        self.push
            .send(PerformerPush::ActionResult(result.clone()).encode(), 0)
            .expect("push the result");
    }

    /// Ask, be admitted, join, receive the pulse, leave, report `result`; each step bounded by `step`.
    pub fn cycle(&self, result: &ActionResult, step: Duration) -> Result<Cycle, String> {
        self.ask();
        match self.await_admission(step) {
            Some(true) => {}
            Some(false) => return Err("admission refused".into()),
            None => return Err(format!("no admission reply within {step:?}")),
        }
        let admitted_at = Instant::now();
        self.join_pulse();
        let pulse = self
            .await_pulse(step)
            .ok_or_else(|| format!("no pulse within {step:?} after admission"))?;
        let pulsed_at = Instant::now();
        self.leave_pulse();
        self.report(result);
        Ok(Cycle {
            admitted_at,
            pulsed_at,
            reported_at: Instant::now(),
            pulse,
        })
    }
}

/// One message from `socket` within `timeout`, or `None`. Readiness can be spurious (a REQ socket reports a
/// daemon's probe as readable, then discards it unread), so it waits again until the time is up.
pub fn recv_within(socket: &zmq::Socket, timeout: Duration) -> Option<Vec<u8>> {
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let ms = i64::try_from(left.as_millis()).unwrap_or(i64::MAX);
        match socket.poll(zmq::POLLIN, ms) {
            Ok(n) if n > 0 => {
                if let Ok(bytes) = socket.recv_bytes(zmq::DONTWAIT) {
                    return Some(bytes);
                }
            }
            _ => {}
        }
        if left.is_zero() {
            return None;
        }
    }
}

/// A successful result.
pub fn success() -> ActionResult {
    ActionResult {
        action_complete_correctly: Some(true),
        ..ActionResult::default()
    }
}

/// A rate-limit error asking for a slow-down (as in the original README).
pub fn slow_down() -> ActionResult {
    ActionResult {
        action_complete_correctly: Some(false),
        error_message: Some(b"User Rate Limit Exceeded".to_vec()),
        error_reason: Some(b"userRateLimitExceeded".to_vec()),
        sleep_for_period: None,
        slow_down: Some(true),
    }
}

/// An error asking the daemon to pause for `micros` microseconds.
pub fn pause_for(micros: u64) -> ActionResult {
    ActionResult {
        action_complete_correctly: Some(false),
        error_message: Some(b"Daily Limit Exceeded".to_vec()),
        error_reason: Some(b"dailyLimitExceeded".to_vec()),
        sleep_for_period: Some(micros),
        slow_down: None,
    }
}

/// Polls `cond` every 2 ms until it holds or `timeout` passes.
pub fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(2));
    }
}
