//! The loop: polls the three sockets until the engine's next deadline, turns what arrives into engine events
//! with the time since start, and carries out the engine's actions at once.
//!
//! It must never decide anything the engine decides, sleep or block outside `zmq::poll` (and the last
//! fraction of a millisecond before a deadline), or panic on anything a peer sends. Malformed input is logged
//! (rate-limited) and dropped; a malformed admission request is answered with `allowToStartSubscription = false`
//! so that its REQ socket is not left waiting.

use std::collections::HashMap;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use pulsar_pulse::{Action, Engine, Event, Nanos, Ticket};
use pulsar_wire::{BecomeTheSubscriberReply, PerformerPush, PreparingRequest};
use tracing::{debug, info, warn};

use super::LOG_TARGET;

use super::admission::{split_request, Desk, Enqueued, Envelope};
use super::report::{log_iteration, log_pause, reported_error, WarnGate};
use super::stats::Rejection;
use super::{Daemon, DaemonStats, SHUTDOWN_POLL_INTERVAL};
use crate::PulsarError;

/// Most messages read from one socket in one loop turn, so that a flood on one socket cannot starve the others.
const DRAIN_BUDGET: usize = 1024;

/// `ZMQ_EVENT_DISCONNECTED` in a socket monitor's event frame.
const EVENT_DISCONNECTED: u16 = 0x0200;

/// One message read from the admission socket: its frames, and the connection it came in on, if known.
type Arrival = (Vec<Vec<u8>>, Option<i32>);

/// What happened to one message sent on the admission desk.
enum Delivery {
    Sent,
    /// The worker is gone (EHOSTUNREACH) or its queue is full (EAGAIN): either way it will not hear from us.
    Lost(zmq::Error),
}

/// The loop's state; lives only inside [`Daemon::run`].
pub(super) struct Driver<'d> {
    daemon: &'d mut Daemon,
    engine: Engine,
    started: Instant,
    desk: Desk,
    pub(super) stats: DaemonStats,
    admission_warnings: WarnGate,
    subscription_warnings: WarnGate,
    inbox_warnings: WarnGate,
    /// The engine asked to stop (`timerIterationsLimit`).
    stop_requested: bool,
    /// Events read since the engine last decided, in arrival order (see [`Driver::flush`]).
    events: Vec<Event>,
    /// When each ticket's admission request arrived, until the engine refuses, loses or forgets it (bounded by
    /// the tickets the engine holds: the queue and the admitted workers).
    requested_at: HashMap<Ticket, Nanos>,
    /// Tickets forgotten since the last action that was not a [`Action::Forget`]: a publish right after them
    /// released them (see [`Driver::carry_out_actions`]).
    forgotten: Vec<Ticket>,
}

impl<'d> Driver<'d> {
    pub(super) fn new(daemon: &'d mut Daemon) -> Driver<'d> {
        let engine = Engine::new(daemon.config.to_pulse_config(), Nanos::ZERO);
        let configured_n = daemon.config.subscribers_per_iteration;
        Driver {
            daemon,
            engine,
            started: Instant::now(),
            desk: Desk::default(),
            stats: DaemonStats {
                running: true,
                started_unix: unix_now(),
                configured_n,
                ..DaemonStats::default()
            },
            admission_warnings: WarnGate::default(),
            subscription_warnings: WarnGate::default(),
            inbox_warnings: WarnGate::default(),
            stop_requested: false,
            events: Vec::new(),
            requested_at: HashMap::new(),
            forgotten: Vec::new(),
        }
    }

    /// Notes one event for the engine; [`Driver::flush`] hands them over.
    fn feed(&mut self, event: Event) {
        match &event {
            Event::AdmissionLost(ticket) | Event::AskedAgain(ticket) => {
                self.requested_at.remove(ticket);
            }
            _ => {}
        }
        self.events.push(event);
    }

    /// Hands every event read so far to the engine at once, with a fresh clock reading, and carries out what it
    /// decides (which may produce events of its own, e.g. an admission reply that cannot be delivered). The
    /// engine decides only after the whole batch: the publisher's subscriptions are read last, so a pulse is
    /// never decided while subscriptions that already reached the publisher's list sit uncounted in its queue
    /// (the pulse would reach them too).
    fn flush(&mut self) {
        loop {
            let events = std::mem::take(&mut self.events);
            let now = self.now();
            self.engine.handle_all(now, events);
            if self.carry_out_actions() {
                self.stop_requested = true;
            }
            if self.events.is_empty() {
                return;
            }
        }
    }

    fn now(&self) -> Nanos {
        let elapsed = self.started.elapsed();
        Nanos::from_nanos(u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX))
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
            std::thread::sleep(std::time::Duration::from_nanos(left.as_nanos()));
        }
    }

    pub(super) fn run_loop(&mut self) -> Result<(), PulsarError> {
        loop {
            if self.daemon.shutdown.is_shutdown() {
                info!(target: LOG_TARGET, "shutdown requested");
                return Ok(());
            }
            self.close_last_millisecond();
            let timeout = poll_timeout_ms(self.engine.next_deadline(), self.now());
            let mut items = [
                self.daemon.admission.as_poll_item(zmq::POLLIN),
                self.daemon.publisher.as_poll_item(zmq::POLLIN),
                self.daemon.inbox.as_poll_item(zmq::POLLIN),
                self.daemon.monitor.as_poll_item(zmq::POLLIN),
            ];
            match zmq::poll(&mut items, timeout) {
                Ok(_) => {}
                // A signal interrupted the wait: look at the shutdown flag and go on.
                Err(zmq::Error::EINTR) => continue,
                Err(e) => return Err(PulsarError::zmq("polling the sockets")(e)),
            }
            // The publisher (item 1) is drained on every turn, readable or not (see below).
            let readable = [
                items[0].is_readable(),
                items[2].is_readable(),
                items[3].is_readable(),
            ];
            // Closed connections first, so that a descriptor reused by a new peer is seen in order.
            if readable[2] {
                self.drain_monitor()?;
            }
            if readable[0] {
                self.drain_admission()?;
            }
            if readable[1] {
                self.drain_inbox()?;
            }
            // Always, and last: a subscription that reached libzmq since the poll is already in the publisher's
            // list, so the pulse decided next would reach it; it must be counted first.
            self.drain_subscriptions()?;
            self.flush();
            let stop = self.stop_requested;
            self.publish_stats();
            if stop {
                info!(target: LOG_TARGET, "timerIterationsLimit reached");
                return Ok(());
            }
        }
    }

    /// Reads the admission socket's monitor: a closed connection hands its worker's tickets back to the engine.
    fn drain_monitor(&mut self) -> Result<(), PulsarError> {
        for _ in 0..DRAIN_BUDGET {
            let frames = match self.daemon.monitor.recv_multipart(zmq::DONTWAIT) {
                Ok(frames) => frames,
                Err(zmq::Error::EAGAIN) | Err(zmq::Error::EINTR) => return Ok(()),
                Err(e) => return Err(PulsarError::zmq("reading the admission monitor")(e)),
            };
            // [event: u16 LE, value: u32 LE][endpoint]; the value of a disconnection is the descriptor.
            let Some(head) = frames.first().and_then(|f| f.get(..6)) else {
                continue;
            };
            let event = u16::from_le_bytes([head[0], head[1]]);
            let fd = i32::from_le_bytes([head[2], head[3], head[4], head[5]]);
            if event == EVENT_DISCONNECTED {
                for ticket in self.desk.disconnected(fd) {
                    debug!(
                        target: LOG_TARGET,
                        ticket = ticket.0,
                        fd, "a worker's admission connection closed"
                    );
                    self.stats.disconnected_workers += 1;
                    self.feed(Event::AdmissionLost(ticket));
                }
            }
        }
        Ok(())
    }

    /// Reads one whole message from the admission socket with the connection it came in on.
    fn recv_admission(&mut self) -> Result<Option<Arrival>, PulsarError> {
        let first = match pulsar_sockopt::recv_frame(&mut self.daemon.admission, zmq::DONTWAIT) {
            Ok(frame) => frame,
            Err(zmq::Error::EAGAIN) | Err(zmq::Error::EINTR) => return Ok(None),
            Err(e) => return Err(PulsarError::zmq("receiving an admission request")(e)),
        };
        // libzmq 4.3 leaves the connection off the routing-id frame when the message was prefetched by a poll;
        // the frames that came off the wire carry it.
        let mut source = first.source_fd;
        let mut more = first.more;
        let mut frames = vec![first.bytes];
        while more {
            let frame = pulsar_sockopt::recv_frame(&mut self.daemon.admission, zmq::DONTWAIT)
                .map_err(PulsarError::zmq("receiving an admission request"))?;
            more = frame.more;
            source = source.or(frame.source_fd);
            frames.push(frame.bytes);
        }
        Ok(Some((frames, source)))
    }

    /// Reads admission requests: `[identity, "", body]` from performers' REQ sockets (more envelope frames
    /// before the delimiter are kept and echoed).
    fn drain_admission(&mut self) -> Result<(), PulsarError> {
        for _ in 0..DRAIN_BUDGET {
            let Some((frames, source)) = self.recv_admission()? else {
                return Ok(());
            };
            if let (Some(fd), Some(peer)) = (source, frames.first()) {
                for ticket in self.desk.connection(fd, peer) {
                    self.stats.disconnected_workers += 1;
                    self.feed(Event::AdmissionLost(ticket));
                }
            }
            let count = frames.len();
            let Some((envelope, body)) = split_request(frames) else {
                self.dropped(
                    Rejection::AdmissionFraming,
                    &format!("an admission message of {count} frames"),
                    "expected [identity, empty delimiter, body] from a REQ socket",
                );
                continue;
            };
            match PreparingRequest::decode(&body) {
                Ok(request) if request.ready_to_act => self.enqueue(envelope),
                Ok(_) => {
                    self.stats.rejected_requests += 1;
                    self.stats.rejected.add(Rejection::AdmissionNotReady);
                    if let Some(held_back) = self.admission_warnings.admit() {
                        warn!(
                            target: LOG_TARGET,
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
                    self.stats.rejected.add(Rejection::AdmissionMalformed);
                    if let Some(held_back) = self.admission_warnings.admit() {
                        warn!(
                            target: LOG_TARGET,
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

    fn enqueue(&mut self, envelope: Envelope) {
        match self.desk.enqueue(envelope) {
            Enqueued::AlreadyWaiting => {
                debug!(target: LOG_TARGET, "a waiting peer asked again: it keeps its place");
            }
            Enqueued::New { ticket, moved_on } => {
                if let Some(old) = moved_on {
                    // Admitted before and asking again: it is not waiting for its old pulse any more.
                    self.feed(Event::AskedAgain(old));
                }
                let now = self.now();
                self.requested_at.insert(ticket, now);
                self.feed(Event::AdmissionRequested(ticket));
            }
        }
    }

    /// Reads subscription messages from the XPUB socket: byte 1 subscribes, byte 0 unsubscribes (explicitly or
    /// because the connection ended), then the topic.
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
                    Rejection::PublisherNotSubscription,
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
                    target: LOG_TARGET,
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
                    Rejection::InboxFraming,
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
                        Rejection::InboxMalformed,
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

    fn dropped(&mut self, kind: Rejection, what: &str, why: &str) {
        self.stats.dropped_messages += 1;
        self.stats.rejected.add(kind);
        let warnings = match kind {
            Rejection::AdmissionFraming
            | Rejection::AdmissionMalformed
            | Rejection::AdmissionNotReady => &mut self.admission_warnings,
            Rejection::PublisherNotSubscription => &mut self.subscription_warnings,
            Rejection::InboxFraming | Rejection::InboxMalformed => &mut self.inbox_warnings,
        };
        if let Some(held_back) = warnings.admit() {
            warn!(target: LOG_TARGET, held_back, reason = why, "dropping {what}");
        }
    }

    /// Carries out every pending action; true when the engine asked to stop.
    ///
    /// The admission wait is measured here: the engine forgets the tickets a pulse releases right before it
    /// emits that pulse's [`Action::Publish`], so the run of [`Action::Forget`]s just before a publish names the
    /// released workers (at most `receivers` of them, the latest ones). The approximation: a subscription wait
    /// that ran out in the same engine step is forgotten just before as well and may be counted when the pulse
    /// released fewer tickets than it reached.
    fn carry_out_actions(&mut self) -> bool {
        let mut stop = false;
        while let Some(action) = self.engine.poll_action() {
            if !matches!(action, Action::Forget(_) | Action::Publish { .. }) {
                self.forgotten.clear();
            }
            match action {
                Action::Admit(ticket) => self.answer(ticket, true),
                Action::Refuse(ticket) => {
                    self.requested_at.remove(&ticket);
                    self.answer(ticket, false)
                }
                Action::Forget(ticket) => {
                    self.desk.forget(ticket);
                    self.forgotten.push(ticket);
                }
                Action::Publish {
                    iteration,
                    receivers,
                    at,
                } => {
                    self.observe_released(receivers);
                    self.publish(iteration, receivers, at)
                }
                Action::PulseHeld {
                    subscriptions,
                    limit,
                } => warn!(
                    target: LOG_TARGET,
                    subscriptions,
                    limit,
                    "holding the pulse: more subscriptions than N are present (a subscriber that was never \
                     admitted?); it goes out once some leave"
                ),
                Action::Paused {
                    cause,
                    requested,
                    applied,
                } => log_pause(cause, requested, applied),
                Action::IterationFinished(report) => log_iteration(&report, &self.engine.stats()),
                Action::Stop => stop = true,
            }
        }
        // Forgets not followed by a publish released nobody.
        for ticket in std::mem::take(&mut self.forgotten) {
            self.requested_at.remove(&ticket);
        }
        stop
    }

    /// Records the admission wait of the workers a publish released (see [`Driver::carry_out_actions`]).
    fn observe_released(&mut self, receivers: u32) {
        let now = self.now();
        let forgotten = std::mem::take(&mut self.forgotten);
        let released = forgotten.len().min(receivers as usize);
        let (before, released) = forgotten.split_at(forgotten.len() - released);
        for ticket in before {
            self.requested_at.remove(ticket);
        }
        for ticket in released {
            if let Some(asked) = self.requested_at.remove(ticket) {
                self.stats.admission_wait.observe(now.saturating_sub(asked));
            }
        }
    }

    /// Answers the worker behind `ticket`; an admission that cannot be delivered is handed back to the engine.
    fn answer(&mut self, ticket: Ticket, allow: bool) {
        let Some(envelope) = self.desk.take_pending(ticket) else {
            // The engine only names tickets we gave it, each once; this would be an engine defect.
            warn!(
                target: LOG_TARGET,
                ticket = ticket.0,
                "the engine answered an unknown admission ticket"
            );
            return;
        };
        match self.send_reply(&envelope, allow) {
            Delivery::Sent if allow => {
                self.stats.admitted += 1;
                self.desk.track(ticket, envelope);
            }
            Delivery::Sent => {}
            Delivery::Lost(e) => {
                debug!(target: LOG_TARGET, peer = %envelope.peer(), error = %e, allow, "admission reply not delivered: the worker is gone");
                if allow {
                    self.stats.lost_admissions += 1;
                    self.requested_at.remove(&ticket);
                    let now = self.now();
                    self.engine.handle(now, Event::AdmissionLost(ticket));
                }
            }
        }
    }

    /// Answers a request that never became a ticket (malformed, or not ready to act).
    fn reply_directly(&mut self, envelope: &Envelope, allow: bool) {
        if let Delivery::Lost(e) = self.send_reply(envelope, allow) {
            debug!(target: LOG_TARGET, peer = %envelope.peer(), error = %e, "refusal not delivered: the peer is gone");
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
                    target: LOG_TARGET,
                    iteration,
                    receivers,
                    decided_at_us = decided_at.as_micros(),
                    sent_at_us = sent_at.as_micros(),
                    "pulse published"
                );
            }
            Err(e) => {
                warn!(target: LOG_TARGET, iteration, receivers, error = %e, "publishing the pulse failed")
            }
        }
    }

    /// Refuses every worker still waiting for admission, so that none hangs on a daemon that is gone.
    pub(super) fn refuse_waiting(&mut self) {
        // Requests that had arrived but were not read yet are refused too, whatever they hold.
        let mut arrived = 0;
        while arrived < DRAIN_BUDGET {
            let Ok(Some((frames, _))) = self.recv_admission() else {
                break;
            };
            arrived += 1;
            if let Some((envelope, _)) = split_request(frames) {
                self.reply_directly(&envelope, false);
            }
        }
        let waiting = self.desk.drain_pending();
        if !waiting.is_empty() {
            info!(
                target: LOG_TARGET,
                waiting = waiting.len(),
                "refusing the workers still waiting for admission"
            );
        }
        for envelope in waiting {
            self.reply_directly(&envelope, false);
        }
    }

    pub(super) fn publish_stats(&mut self) {
        self.stats.absorb(self.engine.stats());
        self.stats.admission_connections = self.desk.connections() as u64;
        self.daemon.stats.store(self.stats);
    }
}

/// Now as nanoseconds since the Unix epoch (zero if the system clock is before it).
fn unix_now() -> Nanos {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    Nanos::from_nanos(u64::try_from(since.as_nanos()).unwrap_or(u64::MAX))
}

/// Milliseconds to wait in `zmq::poll`: the whole milliseconds until the deadline (the fraction left over is
/// slept precisely by `close_last_millisecond`), never more than [`SHUTDOWN_POLL_INTERVAL`].
fn poll_timeout_ms(deadline: Option<Nanos>, now: Nanos) -> i64 {
    let cap = SHUTDOWN_POLL_INTERVAL.as_millis() as u64;
    let wait_ms = match deadline {
        Some(deadline) => (deadline.saturating_sub(now).as_nanos() / 1_000_000).min(cap),
        None => cap,
    };
    i64::try_from(wait_ms).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poll_timeout_rounds_down_and_is_capped() {
        let now = Nanos::from_millis(1000);
        assert_eq!(poll_timeout_ms(None, now), 100);
        assert_eq!(poll_timeout_ms(Some(Nanos::from_secs(60)), now), 100);
        assert_eq!(
            poll_timeout_ms(Some(Nanos::from_nanos(now.as_nanos() + 1)), now),
            0
        );
        assert_eq!(
            poll_timeout_ms(Some(Nanos::from_nanos(now.as_nanos() + 1_999_999)), now),
            1
        );
        assert_eq!(poll_timeout_ms(Some(Nanos::from_millis(1020)), now), 20);
        assert_eq!(poll_timeout_ms(Some(now), now), 0);
        assert_eq!(poll_timeout_ms(Some(Nanos::ZERO), now), 0);
    }
}
