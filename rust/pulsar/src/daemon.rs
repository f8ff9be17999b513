//! The ZeroMQ driver around the pulse engine: what `pulsard` runs.
//!
//! It owns three sockets in one `zmq::Context` and moves bytes and time between them and
//! [`pulsar_pulse::Engine`]:
//! - **admission desk**, a ROUTER bound at `replyStackSocketAddress`. Performers' REQ sockets send
//!   `PreparingRequestDto` (`[identity, "", body]` here); each valid request becomes a [`Ticket`] in the engine's
//!   FIFO queue, and the reply `BecomeTheSubscriberReplyDto` goes back when the engine admits or refuses it.
//!   `ROUTER_MANDATORY` makes a reply to a vanished worker fail, which the engine hears as a lost admission.
//!   The reply echoes the request's whole envelope (every frame before the empty delimiter), so REQ sockets
//!   with `REQ_CORRELATE` and intermediate proxies work too. A peer that asks again while it waits (a relaxed
//!   REQ resending, or a DEALER) keeps its one place in the queue, and the reply goes with its latest request.
//! - **publisher**, an XPUB bound at `publishSocketAddress` with `XPUB_VERBOSE`, so that every subscription
//!   reaches the engine: a pulse goes out only once the admitted workers' subscriptions have arrived (no pulse
//!   lost to ZeroMQ's slow joiner). The pulse is one frame, no topic.
//! - **inbox**, a PULL bound at `pullSocketAddress`: `ReadyToGetSubscriptionMsg`, `ActionResultingPushDto` and
//!   `PerformerEarlyTerminated`, one frame each.
//!
//! The original ran its admission desk ("ReplyStack") as a second process linked to the daemon through
//! `replyToReplyStackSocketAddress` (and declared, never used, `pushToReplyStackSocketAddress`). Here the desk
//! runs inside the daemon, so those two addresses are validated for compatibility but **not bound**; workers
//! see exactly the same three sockets as before.
//!
//! The loop polls the sockets until the engine's next deadline (at most 100 ms, so that a shutdown request is
//! noticed), drains each readable socket up to a budget so that one busy socket cannot starve the others, feeds
//! what arrived to the engine with the time since start, lets time pass, and carries out the engine's actions.
//!
//! It must never: decide anything the engine decides, sleep or block outside `zmq::poll`, panic on anything a
//! peer sends, or instantiate PHP values (messages are decoded strictly into plain data by `pulsar_wire`).
//! Malformed input is logged (rate-limited) and dropped; a malformed admission request is answered with
//! `allowToStartSubscription = false` so that its REQ socket is not left waiting.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use pulsar_pulse::adapt::ReportedError;
use pulsar_pulse::{Action, Engine, Event, IterationReport, Nanos, Ticket};
use pulsar_wire::{
    ActionResult, BecomeTheSubscriberReply, Limits, PerformerPush, PreparingRequest, Pulse,
};
use tracing::{debug, info, warn};

use crate::{PulsarConfig, PulsarError};

/// Largest message the bound sockets accept; libzmq drops the connection of a peer that sends more, before
/// the bytes reach us. Every protocol message is far smaller.
pub const MAX_MESSAGE_SIZE: i64 = 1 << 20;

/// Longest time the loop sleeps in `zmq::poll`, so that [`ShutdownHandle::shutdown`] takes effect promptly.
pub const SHUTDOWN_POLL_INTERVAL: Duration = Duration::from_millis(100);

/// Most messages read from one socket in one loop turn, so that a flood on one socket cannot starve the others.
const DRAIN_BUDGET: usize = 1024;

/// How long closing a socket may wait to flush what is queued (the last refusals at shutdown).
const LINGER_MS: i32 = 100;

/// Queue bounds per peer; generous for the protocol (one message in flight per worker per step).
const HIGH_WATER_MARK: i32 = 10_000;

/// At most one warning per this interval and kind of malformed input; the rest are counted.
const WARN_INTERVAL: Duration = Duration::from_secs(1);

/// Longest error message or reason kept from a worker's result (they go into log lines).
const MAX_REPORTED_TEXT: usize = 512;

/// The addresses the daemon is reachable at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// The admission desk (ROUTER), as bound: performers' `requestPulsarRsSocketAddress`.
    pub reply_stack: String,
    /// The publisher (XPUB), as bound: performers' `publisherPulsarSocketAddress`.
    pub publish: String,
    /// The inbox (PULL), as bound: performers' `pushPulsarSocketAddress`.
    pub pull: String,
    /// `replyToReplyStackSocketAddress` as configured (not bound: the admission desk is internal).
    pub reply_to_reply_stack: String,
    /// `pushToReplyStackSocketAddress` as configured (not bound: unused, as in the original).
    pub push_to_reply_stack: String,
}

/// Asks a running daemon to stop. Cheap to clone and to share between threads (e.g. a signal handler).
#[derive(Debug, Clone, Default)]
pub struct ShutdownHandle {
    requested: Arc<AtomicBool>,
}

impl ShutdownHandle {
    /// A new handle, not yet triggered. Give it to [`run_until_shutdown`] or use [`Daemon::shutdown_handle`].
    pub fn new() -> ShutdownHandle {
        ShutdownHandle::default()
    }

    /// Makes [`Daemon::run`] return within about [`SHUTDOWN_POLL_INTERVAL`]. Idempotent.
    pub fn shutdown(&self) {
        self.requested.store(true, Ordering::SeqCst);
    }

    /// Whether [`ShutdownHandle::shutdown`] was called.
    pub fn is_shutdown(&self) -> bool {
        self.requested.load(Ordering::SeqCst)
    }
}

/// Counters of a daemon: the engine's [`pulsar_pulse::Stats`] plus what only the driver sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DaemonStats {
    /// N now (workers per pulse after adaptation).
    pub n: u32,
    /// Slow-down pause before each publish now.
    pub pause: Nanos,
    /// End of a pause-for-period in force, if any (daemon time: since [`Daemon::run`] began).
    pub paused_until: Option<Nanos>,
    /// Pulses published.
    pub pulses: u64,
    /// Sum of receivers over all pulses.
    pub grants: u64,
    /// Erroring results received.
    pub errors: u64,
    /// Results received.
    pub results: u64,
    /// Results that arrived after their iteration had ended.
    pub late_results: u64,
    /// Iterations finished.
    pub iterations: u64,
    /// Workers waiting for admission now.
    pub queued: u64,
    /// Admission requests refused by the engine (queue full, stopping).
    pub refused: u64,
    /// Admission replies `allowToStartSubscription = true` delivered.
    pub admitted: u64,
    /// Admissions whose worker had gone when its reply was due.
    pub lost_admissions: u64,
    /// Malformed admission requests (answered with a refusal).
    pub rejected_requests: u64,
    /// Messages dropped: malformed, wrongly framed or unexpected, on any socket.
    pub dropped_messages: u64,
    /// The most receivers any single pulse had.
    pub max_receivers: u32,
    /// Whether the loop is running (false before [`Daemon::run`] and after it returned).
    pub running: bool,
}

/// Reads a daemon's counters from any thread.
#[derive(Debug, Clone, Default)]
pub struct StatsHandle {
    shared: Arc<Mutex<DaemonStats>>,
}

impl StatsHandle {
    /// The counters as of the end of the daemon's last loop turn.
    pub fn snapshot(&self) -> DaemonStats {
        // A poisoned lock only means a reader panicked mid-copy; the plain-data counters are still usable.
        *self.shared.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn store(&self, stats: DaemonStats) {
        *self.shared.lock().unwrap_or_else(PoisonError::into_inner) = stats;
    }
}

/// A bound daemon, ready to [`Daemon::run`]. Binding is the readiness signal: once [`Daemon::bind`] returns,
/// workers can connect (and those that connected earlier are being served as soon as it runs).
pub struct Daemon {
    config: PulsarConfig,
    pulse: Vec<u8>,
    admission: zmq::Socket,
    publisher: zmq::Socket,
    inbox: zmq::Socket,
    endpoints: Endpoints,
    shutdown: ShutdownHandle,
    stats: StatsHandle,
    // Sockets keep the context alive; held here as well so that it plainly outlives them.
    _context: zmq::Context,
}

impl std::fmt::Debug for Daemon {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Daemon")
            .field("module", &self.config.module_name)
            .field("endpoints", &self.endpoints)
            .finish_non_exhaustive()
    }
}

impl Daemon {
    /// Validates `config` and binds the three sockets. Errors name the bad setting or the address that could
    /// not be bound.
    pub fn bind(config: &PulsarConfig) -> Result<Daemon, PulsarError> {
        config.validate()?;
        let pulse = config.pulse_bytes();
        if let Ok(p) = Pulse::decode(&pulse, &Limits::default()) {
            if !p.allow_action() {
                warn!("the configured publisherToSubscribersDto has allowAction = false: every performer will refuse to act");
            }
        }
        let addresses = &config.pulsar_sockets_params;
        let context = zmq::Context::new();

        let admission = new_socket(&context, zmq::ROUTER)?;
        admission
            .set_router_mandatory(true)
            .map_err(PulsarError::zmq("setting ROUTER_MANDATORY"))?;
        bind(&admission, &addresses.reply_stack_socket_address)?;

        let publisher = new_socket(&context, zmq::XPUB)?;
        publisher
            .set_xpub_verbose(true)
            .map_err(PulsarError::zmq("setting XPUB_VERBOSE"))?;
        bind(&publisher, &addresses.publish_socket_address)?;

        let inbox = new_socket(&context, zmq::PULL)?;
        bind(&inbox, &addresses.pull_socket_address)?;

        let endpoints = Endpoints {
            reply_stack: last_endpoint(&admission, &addresses.reply_stack_socket_address)?,
            publish: last_endpoint(&publisher, &addresses.publish_socket_address)?,
            pull: last_endpoint(&inbox, &addresses.pull_socket_address)?,
            reply_to_reply_stack: addresses.reply_to_reply_stack_socket_address.clone(),
            push_to_reply_stack: addresses.push_to_reply_stack_socket_address.clone(),
        };
        if let Some(command) = &config.reply_stack_command_name {
            debug!(%command, "replyStackCommandName is ignored: the admission desk runs inside the daemon");
        }
        let stats = StatsHandle::default();
        stats.store(DaemonStats {
            n: config.subscribers_per_iteration,
            ..DaemonStats::default()
        });
        Ok(Daemon {
            config: config.clone(),
            pulse,
            admission,
            publisher,
            inbox,
            endpoints,
            shutdown: ShutdownHandle::new(),
            stats,
            _context: context,
        })
    }

    /// The addresses actually bound (a `tcp://host:*` setting shows its chosen port here).
    pub fn endpoints(&self) -> Endpoints {
        self.endpoints.clone()
    }

    /// A handle that stops [`Daemon::run`] from any thread.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        self.shutdown.clone()
    }

    /// Replaces the shutdown handle with one the caller already holds (e.g. wired to signals before binding).
    pub fn with_shutdown_handle(mut self, shutdown: ShutdownHandle) -> Daemon {
        self.shutdown = shutdown;
        self
    }

    /// A handle to read the daemon's counters from any thread.
    pub fn stats_handle(&self) -> StatsHandle {
        self.stats.clone()
    }

    /// The settings in force.
    pub fn config(&self) -> &PulsarConfig {
        &self.config
    }

    /// Runs the loop until the shutdown handle is triggered or `timerIterationsLimit` is reached. Workers
    /// still waiting for admission when it stops are refused (`allowToStartSubscription = false`), so none is
    /// left hanging. Errors only when ZeroMQ itself fails.
    pub fn run(self) -> Result<(), PulsarError> {
        let span = tracing::info_span!("pulsar", module = %self.config.module_name);
        let _entered = span.enter();
        let started = Instant::now();
        let engine = Engine::new(self.config.to_pulse_config(), Nanos::ZERO);
        let mut driver = Driver {
            daemon: &self,
            engine,
            started,
            tickets: HashMap::new(),
            waiting_peers: HashMap::new(),
            next_ticket: 0,
            stats: DaemonStats {
                running: true,
                ..DaemonStats::default()
            },
            admission_warnings: WarnGate::default(),
            subscription_warnings: WarnGate::default(),
            inbox_warnings: WarnGate::default(),
            stop_requested: false,
        };
        debug!(endpoints = ?self.endpoints, "pulse loop started");
        let outcome = driver.run_loop();
        driver.refuse_waiting();
        driver.stats.running = false;
        driver.publish_stats();
        debug!("pulse loop stopped");
        outcome
    }
}

/// Binds a daemon with `config`, wires `shutdown` to it and runs it until shut down (or until
/// `timerIterationsLimit`); returns the final counters.
pub fn run_until_shutdown(
    config: &PulsarConfig,
    shutdown: ShutdownHandle,
) -> Result<DaemonStats, PulsarError> {
    let daemon = Daemon::bind(config)?.with_shutdown_handle(shutdown);
    let stats = daemon.stats_handle();
    daemon.run()?;
    Ok(stats.snapshot())
}

fn new_socket(context: &zmq::Context, kind: zmq::SocketType) -> Result<zmq::Socket, PulsarError> {
    let socket = context
        .socket(kind)
        .map_err(PulsarError::zmq("creating a socket"))?;
    socket
        .set_linger(LINGER_MS)
        .map_err(PulsarError::zmq("setting LINGER"))?;
    socket
        .set_maxmsgsize(MAX_MESSAGE_SIZE)
        .map_err(PulsarError::zmq("setting MAXMSGSIZE"))?;
    socket
        .set_sndhwm(HIGH_WATER_MARK)
        .map_err(PulsarError::zmq("setting SNDHWM"))?;
    socket
        .set_rcvhwm(HIGH_WATER_MARK)
        .map_err(PulsarError::zmq("setting RCVHWM"))?;
    Ok(socket)
}

fn bind(socket: &zmq::Socket, address: &str) -> Result<(), PulsarError> {
    socket.bind(address).map_err(|source| PulsarError::Bind {
        address: address.to_string(),
        source,
    })
}

fn last_endpoint(socket: &zmq::Socket, configured: &str) -> Result<String, PulsarError> {
    match socket.get_last_endpoint() {
        Ok(Ok(endpoint)) => Ok(endpoint),
        // Not UTF-8 (an odd ipc path): the configured address is the best description we have.
        Ok(Err(_)) => Ok(configured.to_string()),
        Err(e) => Err(PulsarError::zmq("reading the bound endpoint")(e)),
    }
}

/// Lets one warning through per [`WARN_INTERVAL`], counting the ones it holds back.
#[derive(Debug, Default)]
struct WarnGate {
    last: Option<Instant>,
    held_back: u64,
}

impl WarnGate {
    /// `Some(number held back since the last warning)` when a warning may be logged now.
    fn admit(&mut self) -> Option<u64> {
        let now = Instant::now();
        match self.last {
            Some(last) if now.duration_since(last) < WARN_INTERVAL => {
                self.held_back += 1;
                None
            }
            _ => {
                self.last = Some(now);
                Some(std::mem::take(&mut self.held_back))
            }
        }
    }
}

/// What happened to one reply sent on the admission desk.
enum Delivery {
    Sent,
    /// The worker is gone (EHOSTUNREACH) or its queue is full (EAGAIN): either way it will not hear from us.
    Lost(zmq::Error),
}

/// The loop's state; lives only inside [`Daemon::run`].
struct Driver<'d> {
    daemon: &'d Daemon,
    engine: Engine,
    started: Instant,
    /// Envelopes (routing id first) of the requests that await their reply, by ticket.
    tickets: HashMap<u64, Envelope>,
    /// The ticket each waiting peer holds, by routing id: one place in the queue per peer.
    waiting_peers: HashMap<Vec<u8>, u64>,
    next_ticket: u64,
    stats: DaemonStats,
    admission_warnings: WarnGate,
    subscription_warnings: WarnGate,
    inbox_warnings: WarnGate,
    /// The engine asked to stop (`timerIterationsLimit`).
    stop_requested: bool,
}

impl Driver<'_> {
    /// Hands one event to the engine with a fresh clock reading and carries out what it decides at once: a
    /// pulse must go out at the instant the engine recorded for it, or two pulses could end up closer than one
    /// period on the wire while a long batch of messages is drained.
    fn feed(&mut self, event: Event) {
        let now = self.now();
        self.engine.handle(now, event);
        if self.carry_out_actions() {
            self.stop_requested = true;
        }
    }

    fn now(&self) -> Nanos {
        let elapsed = self.started.elapsed();
        Nanos(u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX))
    }

    /// `zmq::poll` counts whole milliseconds: when less than one is left before the engine's deadline, sleep
    /// exactly that long instead, so that a pulse is not up to a millisecond late (10 % of a 10 ms period).
    /// Messages arriving meanwhile wait in libzmq's queues for a fraction of a millisecond.
    fn close_last_millisecond(&self) {
        let Some(deadline) = self.engine.next_deadline() else {
            return;
        };
        let left = deadline.saturating_sub(self.now());
        if left > Nanos::ZERO && left < Nanos::from_millis(1) {
            std::thread::sleep(std::time::Duration::from_nanos(left.0));
        }
    }

    fn run_loop(&mut self) -> Result<(), PulsarError> {
        loop {
            if self.daemon.shutdown.is_shutdown() {
                info!("shutdown requested");
                return Ok(());
            }
            self.close_last_millisecond();
            let timeout = poll_timeout_ms(self.engine.next_deadline(), self.now());
            let mut items = [
                self.daemon.admission.as_poll_item(zmq::POLLIN),
                self.daemon.publisher.as_poll_item(zmq::POLLIN),
                self.daemon.inbox.as_poll_item(zmq::POLLIN),
            ];
            match zmq::poll(&mut items, timeout) {
                Ok(_) => {}
                // A signal interrupted the wait: look at the shutdown flag and go on.
                Err(zmq::Error::EINTR) => continue,
                Err(e) => return Err(PulsarError::zmq("polling the sockets")(e)),
            }
            let readable = [
                items[0].is_readable(),
                items[1].is_readable(),
                items[2].is_readable(),
            ];
            if readable[0] {
                self.drain_admission()?;
            }
            if readable[1] {
                self.drain_subscriptions()?;
            }
            if readable[2] {
                self.drain_inbox()?;
            }
            let now = self.now();
            self.engine.handle_timeout(now);
            let stop = self.carry_out_actions() || self.stop_requested;
            self.publish_stats();
            if stop {
                info!("timerIterationsLimit reached");
                return Ok(());
            }
        }
    }

    /// Reads admission requests: `[identity, "", body]` from performers' REQ sockets (more envelope frames
    /// before the delimiter are kept and echoed).
    fn drain_admission(&mut self) -> Result<(), PulsarError> {
        for _ in 0..DRAIN_BUDGET {
            let frames = match self.daemon.admission.recv_multipart(zmq::DONTWAIT) {
                Ok(frames) => frames,
                Err(zmq::Error::EAGAIN) | Err(zmq::Error::EINTR) => return Ok(()),
                Err(e) => return Err(PulsarError::zmq("receiving an admission request")(e)),
            };
            let count = frames.len();
            let Some((envelope, body)) = split_request(frames) else {
                self.dropped(
                    Gate::Admission,
                    &format!("an admission message of {count} frames"),
                    "expected [identity, empty delimiter, body] from a REQ socket",
                );
                continue;
            };
            match PreparingRequest::decode(&body) {
                Ok(request) if request.ready_to_act => self.enqueue(envelope),
                Ok(_) => {
                    self.stats.rejected_requests += 1;
                    if let Some(held_back) = self.admission_warnings.admit() {
                        warn!(
                            peer = %envelope.peer(),
                            held_back,
                            "refusing an admission request with readyToAct = false"
                        );
                    }
                    self.reply_directly(&envelope, false);
                }
                Err(e) => {
                    self.stats.rejected_requests += 1;
                    self.stats.dropped_messages += 1;
                    if let Some(held_back) = self.admission_warnings.admit() {
                        warn!(
                            peer = %envelope.peer(),
                            len = body.len(),
                            error = %e,
                            held_back,
                            "refusing a malformed admission request"
                        );
                    }
                    self.reply_directly(&envelope, false);
                }
            }
        }
        Ok(())
    }

    /// A valid request: a new ticket at the end of the queue, or, from a peer that already waits, its latest
    /// envelope for the ticket it holds.
    fn enqueue(&mut self, envelope: Envelope) {
        let peer = envelope.routing_id().to_vec();
        if let Some(ticket) = self.waiting_peers.get(&peer) {
            debug!(peer = %envelope.peer(), "a waiting peer asked again: it keeps its place");
            self.tickets.insert(*ticket, envelope);
            return;
        }
        let ticket = self.next_ticket;
        self.next_ticket += 1;
        self.tickets.insert(ticket, envelope);
        self.waiting_peers.insert(peer, ticket);
        self.feed(Event::AdmissionRequested(Ticket(ticket)));
    }

    /// Reads subscription messages from the XPUB socket: byte 1 subscribes, byte 0 unsubscribes, then the topic.
    fn drain_subscriptions(&mut self) -> Result<(), PulsarError> {
        for _ in 0..DRAIN_BUDGET {
            let frames = match self.daemon.publisher.recv_multipart(zmq::DONTWAIT) {
                Ok(frames) => frames,
                Err(zmq::Error::EAGAIN) | Err(zmq::Error::EINTR) => return Ok(()),
                Err(e) => return Err(PulsarError::zmq("receiving a subscription")(e)),
            };
            let event = match frames.as_slice() {
                [frame] => match frame.split_first() {
                    Some((1, topic)) => Some((Event::Subscribed, topic)),
                    Some((0, topic)) => Some((Event::Unsubscribed, topic)),
                    _ => None,
                },
                _ => None,
            };
            let Some((event, topic)) = event else {
                self.dropped(
                    Gate::Subscription,
                    "a message on the publisher that is not a subscription",
                    "only SUB sockets' subscribe/unsubscribe messages are expected",
                );
                continue;
            };
            // Only a subscription whose topic prefixes the pulse receives it; protocol workers use "".
            if self.daemon.pulse.starts_with(topic) {
                self.feed(event);
            } else {
                debug!(
                    topic_len = topic.len(),
                    "ignoring a subscription that does not match the pulse"
                );
            }
        }
        Ok(())
    }

    /// Reads performers' pushes: Ready, results, early terminations.
    fn drain_inbox(&mut self) -> Result<(), PulsarError> {
        for _ in 0..DRAIN_BUDGET {
            let frames = match self.daemon.inbox.recv_multipart(zmq::DONTWAIT) {
                Ok(frames) => frames,
                Err(zmq::Error::EAGAIN) | Err(zmq::Error::EINTR) => return Ok(()),
                Err(e) => return Err(PulsarError::zmq("receiving a performer's push")(e)),
            };
            let [body] = frames.as_slice() else {
                self.dropped(
                    Gate::Inbox,
                    &format!("a push of {} frames", frames.len()),
                    "performers push one frame per message",
                );
                continue;
            };
            let event = match PerformerPush::decode(body) {
                Ok(PerformerPush::Ready) => Event::Ready,
                Ok(PerformerPush::ActionResult(result)) => Event::Result(reported_error(result)),
                Ok(PerformerPush::EarlyTerminated {
                    stand_on_subscription,
                }) => Event::EarlyTerminated {
                    stand_on_subscription,
                },
                Err(e) => {
                    self.dropped(
                        Gate::Inbox,
                        &format!("a malformed push of {} bytes", body.len()),
                        &e.to_string(),
                    );
                    continue;
                }
            };
            self.feed(event);
        }
        Ok(())
    }

    fn dropped(&mut self, gate: Gate, what: &str, why: &str) {
        self.stats.dropped_messages += 1;
        let warnings = match gate {
            Gate::Admission => &mut self.admission_warnings,
            Gate::Subscription => &mut self.subscription_warnings,
            Gate::Inbox => &mut self.inbox_warnings,
        };
        if let Some(held_back) = warnings.admit() {
            warn!(held_back, reason = why, "dropping {what}");
        }
    }

    /// Carries out every pending action; true when the engine asked to stop.
    fn carry_out_actions(&mut self) -> bool {
        let mut stop = false;
        while let Some(action) = self.engine.poll_action() {
            match action {
                Action::Admit(ticket) => self.answer(ticket, true),
                Action::Refuse(ticket) => self.answer(ticket, false),
                Action::Publish {
                    iteration,
                    receivers,
                    at,
                } => self.publish(iteration, receivers, at),
                Action::IterationFinished(report) => log_iteration(&report),
                Action::Stop => stop = true,
            }
        }
        stop
    }

    /// Answers the worker behind `ticket`; an admission that cannot be delivered is handed back to the engine.
    fn answer(&mut self, ticket: Ticket, allow: bool) {
        let Some(envelope) = self.take_ticket(ticket.0) else {
            // The engine only names tickets we gave it, each once; this would be an engine defect.
            warn!(
                ticket = ticket.0,
                "the engine answered an unknown admission ticket"
            );
            return;
        };
        match self.send_reply(&envelope, allow) {
            Delivery::Sent if allow => self.stats.admitted += 1,
            Delivery::Sent => {}
            Delivery::Lost(e) => {
                debug!(peer = %envelope.peer(), error = %e, allow, "admission reply not delivered: the worker is gone");
                if allow {
                    self.stats.lost_admissions += 1;
                    let now = self.now();
                    self.engine.handle(now, Event::AdmissionLost(ticket));
                }
            }
        }
    }

    fn take_ticket(&mut self, ticket: u64) -> Option<Envelope> {
        let envelope = self.tickets.remove(&ticket)?;
        if self.waiting_peers.get(envelope.routing_id()) == Some(&ticket) {
            self.waiting_peers.remove(envelope.routing_id());
        }
        Some(envelope)
    }

    /// Answers a request that never became a ticket (malformed, or not ready to act).
    fn reply_directly(&mut self, envelope: &Envelope, allow: bool) {
        if let Delivery::Lost(e) = self.send_reply(envelope, allow) {
            debug!(peer = %envelope.peer(), error = %e, "refusal not delivered: the peer is gone");
        }
    }

    fn send_reply(&self, envelope: &Envelope, allow: bool) -> Delivery {
        let body = BecomeTheSubscriberReply {
            allow_to_start_subscription: allow,
        }
        .encode();
        let frames = envelope
            .0
            .iter()
            .map(Vec::as_slice)
            .chain([&b""[..], &body[..]]);
        match self.daemon.admission.send_multipart(frames, zmq::DONTWAIT) {
            Ok(()) => Delivery::Sent,
            Err(e) => Delivery::Lost(e),
        }
    }

    fn publish(&mut self, iteration: u64, receivers: u32, decided_at: Nanos) {
        self.stats.max_receivers = self.stats.max_receivers.max(receivers);
        // XPUB never blocks (a subscriber whose queue is full misses the message); DONTWAIT makes that explicit.
        match self
            .daemon
            .publisher
            .send(self.daemon.pulse.as_slice(), zmq::DONTWAIT)
        {
            Ok(()) => {
                let sent_at = self.now();
                self.engine.handle(sent_at, Event::PulseSent);
                debug!(
                    iteration,
                    receivers,
                    decided_at_us = decided_at.0 / 1_000,
                    sent_at_us = sent_at.0 / 1_000,
                    "pulse published"
                );
            }
            Err(e) => warn!(iteration, receivers, error = %e, "publishing the pulse failed"),
        }
    }

    /// Refuses every worker still waiting for admission, so that none hangs on a daemon that is gone.
    fn refuse_waiting(&mut self) {
        // Requests that had arrived but were not read yet are refused too, whatever they hold.
        let mut arrived = 0;
        while arrived < DRAIN_BUDGET {
            let Ok(frames) = self.daemon.admission.recv_multipart(zmq::DONTWAIT) else {
                break;
            };
            arrived += 1;
            if let Some((envelope, _)) = split_request(frames) {
                self.reply_directly(&envelope, false);
            }
        }
        self.waiting_peers.clear();
        let mut waiting: Vec<(u64, Envelope)> = self.tickets.drain().collect();
        waiting.sort_unstable_by_key(|(ticket, _)| *ticket);
        if !waiting.is_empty() {
            info!(
                waiting = waiting.len(),
                "refusing the workers still waiting for admission"
            );
        }
        for (_, envelope) in waiting {
            self.reply_directly(&envelope, false);
        }
    }

    fn publish_stats(&mut self) {
        let e = self.engine.stats();
        let s = &mut self.stats;
        s.n = e.n;
        s.pause = e.pause;
        s.paused_until = e.paused_until;
        s.pulses = e.pulses;
        s.grants = e.grants;
        s.errors = e.errors;
        s.results = e.results;
        s.late_results = e.late_results;
        s.iterations = e.iterations;
        s.queued = e.queued;
        s.refused = e.refused;
        self.daemon.stats.store(*s);
    }
}

/// Splits `[envelope.., "", body]`: the envelope ends at the first empty frame, and exactly one body frame
/// must follow it. Anything else (e.g. a DEALER without the delimiter) cannot be answered in a way the peer
/// would understand.
fn split_request(mut frames: Vec<Vec<u8>>) -> Option<(Envelope, Vec<u8>)> {
    let delimiter = frames.iter().position(Vec::is_empty)?;
    if delimiter == 0 || frames.len() != delimiter + 2 {
        return None;
    }
    let body = frames.pop()?;
    frames.pop(); // the delimiter
    Some((Envelope(frames), body))
}

/// The frames a ROUTER reply must carry before the empty delimiter: the routing id first, then whatever
/// envelope frames the peer's side added (a `REQ_CORRELATE` request id, proxies' routing ids).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Envelope(Vec<Vec<u8>>);

impl Envelope {
    fn routing_id(&self) -> &[u8] {
        self.0.first().map(Vec::as_slice).unwrap_or_default()
    }

    /// The routing id in hex, for logs.
    fn peer(&self) -> String {
        hex(self.routing_id())
    }
}

#[derive(Debug, Clone, Copy)]
enum Gate {
    Admission,
    Subscription,
    Inbox,
}

/// The engine's view of a result: `None` for success, the error's instructions otherwise.
fn reported_error(result: ActionResult) -> Option<ReportedError> {
    if !result.is_error() {
        return None;
    }
    Some(ReportedError {
        slow_down: result.slow_down.is_some(),
        sleep_for: result.sleep_for_period.map(Nanos::from_micros),
        message: log_text(result.error_message.as_deref()),
        reason: log_text(result.error_reason.as_deref()),
    })
}

/// Lossy UTF-8, cut to a length fit for a log line.
fn log_text(bytes: Option<&[u8]>) -> String {
    let text = String::from_utf8_lossy(bytes.unwrap_or_default());
    match text.char_indices().nth(MAX_REPORTED_TEXT) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.into_owned(),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Milliseconds to wait in `zmq::poll`: the whole milliseconds until the deadline (the fraction left over is
/// slept precisely by `close_last_millisecond`), never more than [`SHUTDOWN_POLL_INTERVAL`].
fn poll_timeout_ms(deadline: Option<Nanos>, now: Nanos) -> i64 {
    let cap = SHUTDOWN_POLL_INTERVAL.as_millis() as u64;
    let wait_ms = match deadline {
        Some(deadline) => (deadline.saturating_sub(now).0 / 1_000_000).min(cap),
        None => cap,
    };
    i64::try_from(wait_ms).expect("capped at SHUTDOWN_POLL_INTERVAL")
}

/// One line per pulse at info, the whole report at debug.
fn log_iteration(report: &IterationReport) {
    let adaptation = format!("{:?}", report.adaptation);
    // `late` counts released workers that did not report before the result timeout.
    let late = report.receivers.saturating_sub(report.results);
    match &report.first_error {
        Some(error) => info!(
            iteration = report.iteration,
            n = report.n,
            receivers = report.receivers,
            imitated = report.imitated,
            results = report.results,
            errors = report.errors,
            late,
            adaptation,
            next_n = report.next_n,
            pause = %report.pause,
            error_message = %error.message,
            error_reason = %error.reason,
            "pulse iteration finished"
        ),
        None => info!(
            iteration = report.iteration,
            n = report.n,
            receivers = report.receivers,
            imitated = report.imitated,
            results = report.results,
            errors = report.errors,
            late,
            adaptation,
            next_n = report.next_n,
            pause = %report.pause,
            "pulse iteration finished"
        ),
    }
    debug!(?report, "iteration report");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_is_split_at_the_first_empty_frame() {
        let f = |frames: &[&[u8]]| split_request(frames.iter().map(|f| f.to_vec()).collect());
        let (envelope, body) = f(&[b"id", b"", b"body"]).expect("REQ shape");
        assert_eq!((envelope.0, body), (vec![b"id".to_vec()], b"body".to_vec()));
        let (envelope, _) = f(&[b"id", b"\0\0\0\x01", b"", b"body"]).expect("REQ_CORRELATE shape");
        assert_eq!(envelope.0.len(), 2);
        assert!(f(&[b"id", b"body"]).is_none(), "no delimiter");
        assert!(f(&[b"", b"body"]).is_none(), "no routing id");
        assert!(f(&[b"id", b"", b"body", b"more"]).is_none(), "two bodies");
        assert!(f(&[b"id", b""]).is_none(), "no body");
        assert_eq!(
            f(&[b"id", b"", b""]).map(|(_, b)| b),
            Some(Vec::new()),
            "an empty body is a body"
        );
    }

    #[test]
    fn poll_timeout_rounds_down_and_is_capped() {
        let now = Nanos::from_millis(1000);
        assert_eq!(poll_timeout_ms(None, now), 100);
        assert_eq!(poll_timeout_ms(Some(Nanos::from_secs(60)), now), 100);
        assert_eq!(poll_timeout_ms(Some(Nanos(now.0 + 1)), now), 0);
        assert_eq!(poll_timeout_ms(Some(Nanos(now.0 + 1_999_999)), now), 1);
        assert_eq!(poll_timeout_ms(Some(Nanos::from_millis(1020)), now), 20);
        assert_eq!(poll_timeout_ms(Some(now), now), 0);
        assert_eq!(poll_timeout_ms(Some(Nanos::ZERO), now), 0);
    }

    #[test]
    fn a_success_is_no_error_and_an_empty_message_is_no_error() {
        assert_eq!(reported_error(ActionResult::default()), None);
        let empty = ActionResult {
            error_message: Some(Vec::new()),
            slow_down: Some(true),
            ..ActionResult::default()
        };
        assert_eq!(reported_error(empty), None);
    }

    #[test]
    fn an_error_carries_its_instructions_and_lossy_text() {
        let result = ActionResult {
            action_complete_correctly: Some(false),
            error_message: Some(b"rate \xff limit".to_vec()),
            error_reason: Some(b"userRateLimitExceeded".to_vec()),
            sleep_for_period: Some(600_000),
            slow_down: Some(false),
        };
        let error = reported_error(result).expect("an error");
        assert!(
            error.slow_down,
            "slowDown set, even false, asks for a slow-down"
        );
        assert_eq!(error.sleep_for, Some(Nanos::from_millis(600)));
        assert_eq!(error.message, "rate \u{fffd} limit");
        assert_eq!(error.reason, "userRateLimitExceeded");
    }

    #[test]
    fn long_error_texts_are_cut_for_the_log() {
        let long = "я".repeat(MAX_REPORTED_TEXT * 3);
        let text = log_text(Some(long.as_bytes()));
        assert_eq!(text.chars().count(), MAX_REPORTED_TEXT + 1);
        assert!(text.ends_with('…'));
    }

    #[test]
    fn the_warning_gate_lets_one_through_per_interval_and_counts_the_rest() {
        let mut gate = WarnGate::default();
        assert_eq!(gate.admit(), Some(0));
        assert_eq!(gate.admit(), None);
        assert_eq!(gate.admit(), None);
        gate.last = gate.last.and_then(|t| t.checked_sub(WARN_INTERVAL));
        assert_eq!(gate.admit(), Some(2));
    }
}
