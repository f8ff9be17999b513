//! The driver's reading side: admission requests (through the lobby for strangers), subscriptions, performers'
//! pushes, and the sockets' monitors, each turned into engine events.
//!
//! It must never decide anything the engine decides or panic on anything a peer sends. Malformed input is
//! logged (rate-limited) and dropped; a malformed admission request is answered with
//! `allowToStartSubscription = false` so that its REQ socket is not left waiting, unless its envelope is too
//! deep or too large to echo (then it is dropped unanswered).

use pulsar_pulse::{Event, Offer};
use pulsar_wire::{PerformerPush, PreparingRequest};
use tracing::{debug, warn};

use super::access::CONNECTION_PROPERTY;
use super::admission::{split_request, Enqueued, Envelope};
use super::driver::Driver;
use super::report::reported_error;
use super::sockets::{Role, Seen, MAX_ENVELOPE_FRAMES};
use super::stats::Rejection;
use super::LOG_TARGET;
use crate::PulsarError;

/// Most messages read from one socket in one loop turn, so that a flood on one socket cannot starve the others.
pub(super) const DRAIN_BUDGET: usize = 1024;

/// One message read from the admission socket: its frames (cut short when too many), whether it had more
/// frames than any protocol message, and the connection it came in on, if known.
pub(super) struct Arrival {
    pub(super) frames: Vec<Vec<u8>>,
    pub(super) too_many_frames: bool,
    pub(super) source: Option<i32>,
}

impl Driver<'_> {
    /// Reads the sockets' monitors: connections counted, a closed admission connection hands its worker's
    /// tickets back to the engine, a failed accept (descriptor limit) is reported.
    /// True when a monitor had more than one turn's budget: the rest is read on the next turn.
    pub(super) fn drain_monitors(&mut self) -> Result<bool, PulsarError> {
        let mut more_left = false;
        for i in 0..self.daemon.monitors.len() {
            let mut read = 0;
            loop {
                if read == DRAIN_BUDGET {
                    more_left = true;
                    break;
                }
                read += 1;
                let role = self.daemon.monitors[i].role;
                let Some(seen) = self.daemon.monitors[i].next(&self.daemon.gauge)? else {
                    break;
                };
                match seen {
                    Seen::Accepted => {}
                    Seen::AcceptFailed(errno) => {
                        if let Some(held_back) = self.accept_warnings.admit() {
                            warn!(
                                target: LOG_TARGET,
                                socket = role.name(),
                                errno,
                                open = self.daemon.gauge.open(),
                                held_back,
                                "cannot accept a connection (errno 24 is the descriptor limit): lower maxConnections or raise the limit"
                            );
                        }
                    }
                    Seen::Disconnected(fd) => {
                        self.churn += 1;
                        match role {
                            Role::Admission => {
                                let (peer, tickets) = self.desk.disconnected(fd);
                                self.peer_gone(peer, tickets, fd);
                            }
                            Role::Inbox => self.pushers.closing(fd),
                            Role::Publisher => {}
                        }
                    }
                }
            }
        }
        Ok(more_left)
    }

    /// A peer's admission connection closed: it leaves the lobby, and its tickets go back to the engine.
    fn peer_gone(&mut self, peer: Option<Vec<u8>>, tickets: Vec<pulsar_pulse::Ticket>, fd: i32) {
        if let Some(peer) = peer {
            self.lobby.gone(&peer);
        }
        for ticket in tickets {
            debug!(
                target: LOG_TARGET,
                ticket = ticket.0,
                fd, "a worker's admission connection closed"
            );
            self.stats.disconnected_workers += 1;
            self.feed(Event::AdmissionLost(ticket));
        }
    }

    /// Push connections that closed with their Ready still without a result, once the inbox has been read to
    /// the end (their result may have been queued behind the close): their workers died before reporting,
    /// holding a permission if a pulse reached them, which the engine works out ([`pulsar_pulse::Pushers`]). A descriptor
    /// reused by a new connection keeps that connection's own Ready.
    pub(super) fn settle_closed_pushers(&mut self) {
        for lost in self.pushers.settle_closed() {
            debug!(
                target: LOG_TARGET,
                pulses_at_ready = lost.pulses_at_ready,
                ready_lag_us = lost.ready_lag.map(|l| l.as_micros()),
                "a push connection closed after a Ready, without a result"
            );
            self.feed(lost.event());
        }
    }

    /// Reads one whole message from the admission socket with the connection it came in on. Frames beyond what
    /// any protocol message has are read and dropped (libzmq has already bounded each one's size).
    pub(super) fn recv_admission(&mut self) -> Result<Option<Arrival>, PulsarError> {
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
        let mut too_many_frames = false;
        while more {
            let frame = pulsar_sockopt::recv_frame(&mut self.daemon.admission, zmq::DONTWAIT)
                .map_err(PulsarError::zmq("receiving an admission request"))?;
            more = frame.more;
            source = source.or(frame.source_fd);
            if frames.len() < MAX_ENVELOPE_FRAMES + 2 {
                frames.push(frame.bytes);
            } else {
                too_many_frames = true;
            }
        }
        Ok(Some(Arrival {
            frames,
            too_many_frames,
            source,
        }))
    }

    /// Reads admission requests: `[identity, "", body]` from performers' REQ sockets (one 4-byte request id
    /// before the delimiter from a `REQ_CORRELATE` socket is kept and echoed).
    /// True when the turn's budget ran out before the socket did.
    pub(super) fn drain_admission(&mut self) -> Result<bool, PulsarError> {
        for _ in 0..DRAIN_BUDGET {
            let Some(arrival) = self.recv_admission()? else {
                return Ok(false);
            };
            if let (Some(fd), Some(peer)) = (arrival.source, arrival.frames.first()) {
                let peer = peer.clone();
                let (old, tickets) = self.desk.connection(fd, &peer);
                self.peer_gone(old, tickets, fd);
            }
            let count = arrival.frames.len();
            let split = if arrival.too_many_frames {
                None
            } else {
                split_request(arrival.frames)
            };
            let Some((envelope, body)) = split else {
                self.dropped(
                    Rejection::AdmissionFraming,
                    &format!("an admission message of {count} frames or more"),
                    "expected [identity, empty delimiter, body] from a REQ socket, at most one 4-byte request id before the delimiter",
                );
                continue;
            };
            match PreparingRequest::decode(&body) {
                Ok(request) if request.ready_to_act => self.ask(envelope),
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
                    self.churn += 1;
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
        Ok(true)
    }

    /// A valid request: known peers (and peers already in the engine's queue) go to the engine, strangers to
    /// the lobby.
    fn ask(&mut self, envelope: Envelope) {
        let peer = envelope.routing_id();
        if self.desk.is_known(peer) || self.desk.is_waiting(peer) {
            self.enqueue(envelope, false);
            return;
        }
        if self.lobby.proven(peer) {
            // Admitted as a stranger and asking again on the same connection: a whole cycle.
            self.desk.mark_known(peer.to_vec());
            self.enqueue(envelope, false);
            return;
        }
        let peer = envelope.peer();
        if let Offer::Full(envelope) = self.lobby.offer(envelope) {
            self.stats.rejected_requests += 1;
            if let Some(held_back) = self.lobby_warnings.admit() {
                warn!(
                    target: LOG_TARGET,
                    peer = %envelope.peer(),
                    waiting = self.lobby.waiting(),
                            newcomers_in_engine = self.lobby.in_engine(),
                    cap = self.lobby.cap(),
                    held_back,
                    "refusing a newcomer's admission request: the lobby is full (maxAdmissionQueue)"
                );
            }
            self.reply_directly(&envelope, false);
            return;
        }
        debug!(
            target: LOG_TARGET,
            %peer,
            waiting = self.lobby.waiting(),
            newcomers_in_engine = self.lobby.in_engine(),
            cap = self.lobby.cap(),
            "a newcomer waits in the lobby"
        );
    }

    /// Books a request with the desk and gives the engine a new ticket for it (a `stranger`'s ticket is counted
    /// against the lobby's cap).
    fn enqueue(&mut self, envelope: Envelope, stranger: bool) {
        let peer = envelope.routing_id().to_vec();
        match self.desk.enqueue(envelope) {
            Enqueued::AlreadyWaiting => {
                debug!(target: LOG_TARGET, "a waiting peer asked again: it keeps its place");
            }
            Enqueued::New { ticket, moved_on } => {
                if let Some(old) = moved_on {
                    // Admitted before and asking again: it is not waiting for its old pulse any more.
                    self.feed(Event::AskedAgain(old));
                }
                if stranger {
                    self.lobby.entered(ticket, &peer);
                }
                self.note_requested(ticket);
                self.feed(Event::AdmissionRequested(ticket));
            }
        }
    }

    /// Hands waiting strangers to the engine while the lobby's cap allows.
    pub(super) fn admit_strangers(&mut self) {
        while let Some(envelope) = self.lobby.let_in() {
            self.enqueue(envelope, true);
        }
    }

    /// Reads subscription messages from the XPUB socket: byte 1 subscribes, byte 0 unsubscribes (explicitly or
    /// because the connection ended). Topics are short (the socket's message limit); protocol workers use the
    /// empty topic. A connection counts as subscribed once (see `subscribers`).
    pub(super) fn drain_subscriptions(&mut self) -> Result<bool, PulsarError> {
        for _ in 0..DRAIN_BUDGET {
            let message = match pulsar_sockopt::recv_tagged(
                &mut self.daemon.publisher,
                zmq::DONTWAIT,
                CONNECTION_PROPERTY,
            ) {
                Ok(message) => message,
                Err(zmq::Error::EAGAIN) => return Ok(false),
                Err(zmq::Error::EINTR) => return Ok(true),
                Err(e) => return Err(PulsarError::zmq("receiving a subscription")(e)),
            };
            let event = match message.bytes.split_first() {
                Some((1, topic)) if !message.more_frames => Some((true, topic)),
                Some((0, topic)) if !message.more_frames => Some((false, topic)),
                _ => None,
            };
            let Some((subscribe, topic)) = event else {
                self.dropped(
                    Rejection::PublisherNotSubscription,
                    "a message on the publisher that is not a subscription",
                    "only SUB sockets' subscribe/unsubscribe messages are expected",
                );
                continue;
            };
            // Only a subscription whose topic prefixes the pulse receives it; protocol workers use "".
            if !self.daemon.pulse.starts_with(topic) {
                debug!(
                    target: LOG_TARGET,
                    topic_len = topic.len(),
                    "ignoring a subscription that does not match the pulse"
                );
                continue;
            }
            let connection = message.property.and_then(|p| p.parse::<u64>().ok());
            if !self.subscribers.passes(connection, subscribe) {
                debug!(
                    target: LOG_TARGET,
                    connection, subscribe, "ignoring a repeated subscription or an unsubscription without one"
                );
                continue;
            }
            self.feed(if subscribe {
                Event::Subscribed
            } else {
                Event::Unsubscribed
            });
        }
        Ok(true)
    }

    /// Reads performers' pushes: Ready, results, early terminations.
    /// True when the turn's budget ran out before the socket did.
    pub(super) fn drain_inbox(&mut self) -> Result<bool, PulsarError> {
        for _ in 0..DRAIN_BUDGET {
            let body = match pulsar_sockopt::recv_frame(&mut self.daemon.inbox, zmq::DONTWAIT) {
                Ok(frame) => frame,
                Err(zmq::Error::EAGAIN) => return Ok(false),
                Err(zmq::Error::EINTR) => return Ok(true),
                Err(e) => return Err(PulsarError::zmq("receiving a performer's push")(e)),
            };
            let mut frames = 1usize;
            let mut more = body.more;
            while more {
                let frame = pulsar_sockopt::recv_frame(&mut self.daemon.inbox, zmq::DONTWAIT)
                    .map_err(PulsarError::zmq("receiving a performer's push"))?;
                frames += 1;
                more = frame.more;
            }
            if frames != 1 {
                self.dropped(
                    Rejection::InboxFraming,
                    &format!("a push of {frames} frames"),
                    "performers push one frame per message",
                );
                continue;
            }
            let (source, body) = (body.source_fd, body.bytes);
            let event = match PerformerPush::decode(&body) {
                Ok(PerformerPush::Ready) => {
                    if let Some(fd) = source {
                        let (pulses, now) = (self.pulses(), self.now());
                        self.pushers.ready(fd, pulses, now);
                    }
                    Event::Ready
                }
                Ok(PerformerPush::ActionResult(result)) => {
                    self.pushed_after_ready(source);
                    Event::Result(reported_error(result))
                }
                Ok(PerformerPush::EarlyTerminated {
                    stand_on_subscription,
                }) => {
                    self.pushed_after_ready(source);
                    Event::EarlyTerminated {
                        stand_on_subscription,
                    }
                }
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
        Ok(true)
    }

    /// A result or early termination came on this push connection: its worker no longer owes one.
    fn pushed_after_ready(&mut self, source: Option<i32>) {
        if let Some(fd) = source {
            self.pushers.reported(fd);
        }
    }

    fn dropped(&mut self, kind: Rejection, what: &str, why: &str) {
        self.stats.dropped_messages += 1;
        self.churn += 1;
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
}
