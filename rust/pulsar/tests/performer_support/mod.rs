//! Shared helpers of the `performer_*` tests: golden vectors, free ports, a scripted fake daemon made of raw
//! sockets (to see the exact bytes a Performer sends), and bounded waits.
//!
//! Every wait here has a bound, so a broken Performer fails a test instead of hanging it.

#![allow(dead_code)] // each test file uses a different subset

#[path = "../ports_support/mod.rs"]
mod ports_support;
#[allow(unused_imports)] // not every test file that uses this support picks ports
pub use ports_support::free_ports;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use publisher_pulsar::performer::PerformerConfig;

/// Longest any single step of a test may take before the test fails.
pub const STEP: Duration = Duration::from_secs(10);

/// The bytes of a golden vector, from the codec's in-repository copy (`rust/wire/tests/vectors`).
pub fn vector(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../wire/tests/vectors")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("golden vector {}: {e}", path.display()))
}

/// A loopback port that was free a moment ago (bind port 0, read it, release it).
pub fn free_port() -> u16 {
    let listener =
        std::net::TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral loopback port");
    listener.local_addr().expect("local address").port()
}

/// Three consecutive-looking addresses are not needed: any three distinct free ports.
pub fn free_addresses() -> (String, String, String) {
    let [a, b, c] = free_ports::<3>().map(|p| format!("tcp://127.0.0.1:{p}"));
    (a, b, c)
}

/// A Performer configuration for tests: short timeouts so failures show quickly.
pub fn performer_config(publish: &str, pull: &str, admission: &str) -> PerformerConfig {
    PerformerConfig {
        publisher_pulsar_address: publish.to_owned(),
        push_pulsar_address: pull.to_owned(),
        request_pulsar_rs_address: admission.to_owned(),
        module_name: "performer-test".into(),
        admission_timeout: Duration::from_secs(10),
        pulse_timeout: Duration::from_secs(10),
        send_timeout: Duration::from_secs(2),
        curve_server_key: None,
    }
}

/// Polls `check` every 10 ms until it holds or `within` passes; returns whether it held.
pub fn eventually(within: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if check() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A fake daemon of raw sockets on ephemeral ports: ROUTER for admission, PULL for pushes, XPUB (verbose) for
/// the pulse, so a test sees every frame and every (un)subscription the Performer sends.
pub struct FakeDaemon {
    /// Admission desk (the Performer's REQ connects here).
    pub admission: zmq::Socket,
    /// Readiness and results.
    pub pull: zmq::Socket,
    /// Pulses; its received messages are subscriptions (`[1]`) and unsubscriptions (`[0]`).
    pub publisher: zmq::Socket,
    /// A Performer configuration pointing at this fake.
    pub config: PerformerConfig,
    _context: zmq::Context,
}

fn bind_ephemeral(socket: &zmq::Socket) -> String {
    socket.set_linger(0).expect("LINGER");
    socket
        .bind("tcp://127.0.0.1:*")
        .expect("bind an ephemeral port");
    socket
        .get_last_endpoint()
        .expect("last endpoint")
        .expect("endpoint is UTF-8")
}

impl FakeDaemon {
    /// Binds the three sockets.
    pub fn bind() -> FakeDaemon {
        let context = zmq::Context::new();
        let admission = context.socket(zmq::ROUTER).expect("ROUTER");
        let pull = context.socket(zmq::PULL).expect("PULL");
        let publisher = context.socket(zmq::XPUB).expect("XPUB");
        publisher.set_xpub_verbose(true).expect("XPUB_VERBOSE");
        let admission_address = bind_ephemeral(&admission);
        let pull_address = bind_ephemeral(&pull);
        let publish_address = bind_ephemeral(&publisher);
        let config = performer_config(&publish_address, &pull_address, &admission_address);
        FakeDaemon {
            admission,
            pull,
            publisher,
            config,
            _context: context,
        }
    }

    /// The next admission request as `(envelope, frames from the delimiter on)`. The envelope is the routing
    /// id and, from our correlating REQ socket, the request id frame (`ZMQ_REQ_CORRELATE`).
    pub fn next_request(&self) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
        let mut frames = recv(&self.admission, STEP).expect("an admission request in time");
        let delimiter = frames
            .iter()
            .position(Vec::is_empty)
            .expect("a REQ envelope ends with an empty delimiter");
        let rest = frames.split_off(delimiter);
        (frames, rest)
    }

    /// Answers an admission request the way a REP socket would: the whole envelope, `""`, then `body`.
    pub fn answer(&self, envelope: &[Vec<u8>], body: &[u8]) {
        let frames = envelope.iter().map(Vec::as_slice).chain([&b""[..], body]);
        self.admission
            .send_multipart(frames, 0)
            .expect("answer the admission request");
    }

    /// The next pushed message (must be one frame).
    pub fn next_push(&self) -> Vec<u8> {
        self.next_push_within(STEP)
            .expect("a pushed message in time")
    }

    /// The next pushed message within `within`, if any.
    pub fn next_push_within(&self, within: Duration) -> Option<Vec<u8>> {
        let mut frames = recv(&self.pull, within)?;
        assert_eq!(frames.len(), 1, "PUSH messages are one frame");
        frames.pop()
    }

    /// The next subscription event: `[1]` for subscribe "", `[0]` for unsubscribe "".
    pub fn next_subscription_event(&self) -> Vec<u8> {
        let mut frames = recv(&self.publisher, STEP).expect("a subscription event in time");
        assert_eq!(frames.len(), 1, "subscription events are one frame");
        frames.pop().expect("one frame")
    }

    /// Publishes one pulse.
    pub fn publish(&self, body: &[u8]) {
        self.publisher.send(body, 0).expect("publish");
    }

    /// Admits the next requester, waits for its subscription and readiness, publishes `pulse`, and checks the
    /// unsubscription that follows.
    pub fn serve_one(&self, pulse: &[u8]) {
        let (id, frames) = self.next_request();
        assert_eq!(
            frames,
            vec![Vec::new(), vector("01_PreparingRequestDto.bin")]
        );
        self.answer(&id, &vector("02_BecomeTheSubscriberReplyDto.bin"));
        assert_eq!(self.next_subscription_event(), b"\x01");
        assert_eq!(self.next_push(), vector("05_ReadyToGetSubscriptionMsg.bin"));
        self.publish(pulse);
        assert_eq!(self.next_subscription_event(), b"\x00");
    }
}

/// Receives one whole message within `within`.
pub fn recv(socket: &zmq::Socket, within: Duration) -> Option<Vec<Vec<u8>>> {
    let ms = i64::try_from(within.as_millis()).unwrap_or(i64::MAX);
    match socket.poll(zmq::POLLIN, ms) {
        Ok(n) if n > 0 => Some(socket.recv_multipart(0).expect("receive a ready message")),
        _ => None,
    }
}

/// A daemon of this crate running on a thread of the test, on ephemeral loopback ports unless the
/// configuration names ports. Stopped and joined on drop.
pub struct InProcessDaemon {
    /// Where it listens.
    pub endpoints: publisher_pulsar::daemon::Endpoints,
    /// Its counters.
    pub stats: publisher_pulsar::daemon::StatsHandle,
    shutdown: publisher_pulsar::daemon::ShutdownHandle,
    thread: Option<std::thread::JoinHandle<Result<(), publisher_pulsar::PulsarError>>>,
}

/// A daemon configuration with every address on an ephemeral loopback port and quick pulses.
pub fn daemon_config(n: u32, period_secs: f64) -> publisher_pulsar::PulsarConfig {
    let mut config = publisher_pulsar::PulsarConfig {
        subscribers_per_iteration: n,
        pulsation_iteration_period: period_secs,
        // A lone performer is served after this, instead of the original's 5 s.
        max_wait_reply_stack_result: 0.2,
        module_name: "performer-test-daemon".into(),
        ..publisher_pulsar::PulsarConfig::default()
    };
    let p = &mut config.pulsar_sockets_params;
    for address in [
        &mut p.reply_to_reply_stack_socket_address,
        &mut p.push_to_reply_stack_socket_address,
        &mut p.publish_socket_address,
        &mut p.pull_socket_address,
        &mut p.reply_stack_socket_address,
    ] {
        *address = "tcp://127.0.0.1:*".into();
    }
    config
}

impl InProcessDaemon {
    /// Binds and runs a daemon with `config`.
    pub fn start(config: &publisher_pulsar::PulsarConfig) -> InProcessDaemon {
        let daemon = publisher_pulsar::daemon::Daemon::bind(config).expect("bind the daemon");
        let endpoints = daemon.endpoints();
        let stats = daemon.stats_handle();
        let shutdown = daemon.shutdown_handle();
        let thread = std::thread::spawn(move || daemon.run());
        InProcessDaemon {
            endpoints,
            stats,
            shutdown,
            thread: Some(thread),
        }
    }

    /// A Performer configuration for this daemon.
    pub fn performer_config(&self) -> PerformerConfig {
        performer_config(
            &self.endpoints.publish,
            &self.endpoints.pull,
            &self.endpoints.reply_stack,
        )
    }

    /// Stops the daemon and waits for its thread; the daemon's own outcome.
    pub fn stop(mut self) -> Result<(), publisher_pulsar::PulsarError> {
        self.shutdown.shutdown();
        self.thread
            .take()
            .expect("the thread is joined once")
            .join()
            .expect("daemon thread did not panic")
    }
}

impl Drop for InProcessDaemon {
    fn drop(&mut self) {
        self.shutdown.shutdown();
        if let Some(thread) = self.thread.take() {
            // The daemon notices the shutdown within its poll interval (100 ms).
            let _ = thread.join();
        }
    }
}

/// The `pulsard` binary of this package as a child process, killed on drop.
pub struct Pulsard {
    /// The child.
    pub child: std::process::Child,
}

impl Pulsard {
    /// Starts `pulsard` with these flags on the given admission/publish/pull addresses and waits (bounded)
    /// until its admission port accepts TCP connections.
    pub fn start(reply_stack: &str, publish: &str, pull: &str, flags: &[&str]) -> Pulsard {
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_pulsard"))
            .args([
                "--reply-stack-address",
                reply_stack,
                "--publish-address",
                publish,
                "--pull-address",
                pull,
                "--reply-to-reply-stack-address",
                "tcp://127.0.0.1:*",
                "--push-to-reply-stack-address",
                "tcp://127.0.0.1:*",
                "--log-level",
            ])
            // PERFORMER_TEST_PULSARD_LOG=debug shows the daemon's view when a test fails.
            .arg(std::env::var("PERFORMER_TEST_PULSARD_LOG").unwrap_or_else(|_| "warn".into()))
            .args(flags)
            .stdin(std::process::Stdio::null())
            .spawn()
            .expect("start pulsard");
        let port = reply_stack
            .rsplit_once(':')
            .and_then(|(_, port)| port.parse::<u16>().ok())
            .expect("a tcp://127.0.0.1:PORT admission address");
        let listening = eventually(STEP, || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        assert!(listening, "pulsard did not listen on {reply_stack} in time");
        Pulsard { child }
    }

    /// Kills it at once (SIGKILL: no goodbye to anyone) and reaps it.
    pub fn kill(mut self) {
        self.child.kill().expect("kill pulsard");
        self.child.wait().expect("reap pulsard");
    }
}

impl Drop for Pulsard {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
