//! The loop: waits on the sockets (see `wakeup`) until the engine's next deadline, has `intake` turn what
//! arrives into engine events with the time since start, and carries out the engine's actions at once. After a
//! burst of closed connections or dropped messages it gives the freed memory back to the system.
//!
//! It must never decide anything the engine decides, sleep or block anywhere but in `Wakeup::wait`, or panic on
//! anything a peer sends.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use pulsar_pulse::{Action, Engine, Event, Lobby, Nanos, Pushers, Ticket};
use pulsar_wire::BecomeTheSubscriberReply;
use tracing::{debug, info, warn};

use super::LOG_TARGET;

use super::access::RefusalLog;
use super::admission::{split_request, Desk, Envelope};
use super::intake::DRAIN_BUDGET;
use super::report::{log_iteration, log_pause, WarnGate};
use super::subscribers::Subscribers;
use super::wakeup::{Source, Wakeup};
use super::{Daemon, DaemonStats, SHUTDOWN_POLL_INTERVAL};
use crate::PulsarError;

/// Closed connections and dropped messages are followed by a heap trim at most this often.
const TRIM_INTERVAL: Duration = Duration::from_secs(2);

/// How late the kernel may end the loop's timed wait (see [`pulsar_sockopt::set_timer_slack`]).
const TIMER_SLACK: Duration = Duration::from_micros(1);

/// What happened to one message sent on the admission desk.
enum Delivery {
    Sent,
    /// The worker is gone (EHOSTUNREACH) or its queue is full (EAGAIN): either way it will not hear from us.
    Lost(zmq::Error),
}

/// The loop's state; lives only inside [`Daemon::run`].
pub(super) struct Driver<'d> {
    pub(super) daemon: &'d mut Daemon,
    engine: Engine,
    started: Instant,
    pub(super) desk: Desk,
    /// Strangers' requests waiting for a place in the engine.
    pub(super) lobby: Lobby<Envelope>,
    /// Connections counted as subscribed.
    pub(super) subscribers: Subscribers,
    pub(super) stats: DaemonStats,
    pub(super) admission_warnings: WarnGate,
    pub(super) subscription_warnings: WarnGate,
    pub(super) inbox_warnings: WarnGate,
    pub(super) lobby_warnings: WarnGate,
    pub(super) accept_warnings: WarnGate,
    /// The access handler's refusals, logged from this thread (the only one a PHP host logs from).
    refusal_log: RefusalLog,
    /// Closed connections and dropped messages since the last heap trim.
    pub(super) churn: u64,
    last_trim: Instant,
    /// The engine asked to stop (`timerIterationsLimit`).
    stop_requested: bool,
    /// Events read since the engine last decided, in arrival order (see [`Driver::flush`]).
    events: Vec<Event>,
    /// When each ticket's admission request arrived, until the engine refuses, loses or forgets it (bounded by
    /// the tickets the engine holds: the queue and the admitted workers).
    requested_at: HashMap<Ticket, Nanos>,
    /// An admission reply was sent since the loop last looked (see [`Wakeup`]).
    replied: bool,
    /// A pulse was sent since the loop last looked.
    published: bool,
    /// Tickets forgotten since the last action that was not a [`Action::Forget`]: a publish right after them
    /// released them (see [`Driver::carry_out_actions`]).
    forgotten: Vec<Ticket>,
    /// Push connections whose Ready still awaits a result: a worker that dies or hangs holding a permission is
    /// reported lost from there ([`Event::ReceiverLost`]).
    pub(super) pushers: Pushers<i32>,
    pub(super) overdue_warnings: WarnGate,
}

impl<'d> Driver<'d> {
    pub(super) fn new(daemon: &'d mut Daemon) -> Driver<'d> {
        let engine = Engine::after(
            daemon.config.to_pulse_config(),
            Nanos::ZERO,
            daemon.succession.predecessor(),
        );
        let configured_n = daemon.config.subscribers_per_iteration;
        let daemon_max_connections = daemon.config.max_connections;
        // An admitted stranger proves itself by asking again: after its subscription wait, its action and a period.
        let pulse = daemon.config.to_pulse_config();
        let proof_window = pulse
            .max_wait_all_subscribers_ready
            .saturating_add(pulse.performer_container_action_max_execution_time)
            .saturating_add(pulse.pulsation_iteration_period);
        let lobby = Lobby::new(
            configured_n,
            usize::try_from(daemon.config.max_admission_queue).unwrap_or(usize::MAX),
            proof_window,
        );
        Driver {
            daemon,
            engine,
            started: Instant::now(),
            desk: Desk::default(),
            lobby,
            // Twice the connections that may be open: room for those that ended while subscribed.
            subscribers: Subscribers::new(
                usize::try_from(daemon_max_connections.saturating_mul(2)).unwrap_or(usize::MAX),
            ),
            stats: DaemonStats {
                running: true,
                started_unix: unix_now(),
                configured_n,
                ..DaemonStats::default()
            },
            admission_warnings: WarnGate::default(),
            subscription_warnings: WarnGate::default(),
            inbox_warnings: WarnGate::default(),
            lobby_warnings: WarnGate::default(),
            accept_warnings: WarnGate::default(),
            refusal_log: RefusalLog::default(),
            churn: 0,
            last_trim: Instant::now(),
            stop_requested: false,
            events: Vec::new(),
            requested_at: HashMap::new(),
            forgotten: Vec::new(),
            pushers: Pushers::new(pulse.performer_container_action_max_execution_time),
            overdue_warnings: WarnGate::default(),
            replied: false,
            published: false,
        }
    }

    /// Pulses the engine has sent so far (noted with each Ready, see `pushers`).
    pub(super) fn pulses(&self) -> u64 {
        self.engine.pulses()
    }

    /// Notes one event for the engine; [`Driver::flush`] hands them over.
    pub(super) fn feed(&mut self, event: Event) {
        match &event {
            Event::AdmissionLost(ticket) | Event::AskedAgain(ticket) => {
                self.requested_at.remove(ticket);
                self.lobby.ticket_gone(*ticket);
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
            self.admit_strangers();
            let events = std::mem::take(&mut self.events);
            let now = self.now();
            let losses = events
                .iter()
                .any(|e| matches!(e, Event::ReceiverLost { .. }));
            let before = losses.then(|| self.engine.stats());
            self.engine.handle_all(now, events);
            if let Some(before) = before {
                let after = self.engine.stats();
                debug!(
                    target: LOG_TARGET,
                    pulses = after.pulses,
                    accepted = after.lost_receivers - before.lost_receivers,
                    ignored = after.ignored_losses - before.ignored_losses,
                    acting = after.acting,
                    "lost receivers reported to the engine"
                );
            }
            if self.carry_out_actions() {
                self.stop_requested = true;
            }
            self.admit_strangers();
            if self.events.is_empty() {
                return;
            }
        }
    }

    /// Notes when `ticket`'s request arrived, for the admission-wait histogram.
    pub(super) fn note_requested(&mut self, ticket: Ticket) {
        let now = self.now();
        self.requested_at.insert(ticket, now);
    }

    /// The engine's clock now (time since the loop started).
    pub(super) fn now(&self) -> Nanos {
        let elapsed = self.started.elapsed();
        Nanos::from_nanos(u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX))
    }

    pub(super) fn run_loop(&mut self) -> Result<(), PulsarError> {
        let mut wakeup = Wakeup::new(self.daemon.wakeup_fds()?);
        // Each pulse leaves when the loop's wait for its moment ends: the kernel's default slack (50 µs) would
        // add up to that to every period.
        if !pulsar_sockopt::set_timer_slack(TIMER_SLACK) {
            debug!(target: LOG_TARGET, "the timer slack could not be lowered; pulses may leave up to 50 µs late");
        }
        loop {
            if self.daemon.shutdown.is_shutdown() {
                info!(target: LOG_TARGET, "shutdown requested");
                return Ok(());
            }
            if wakeup.is_due(Source::Monitors) {
                let more = self.drain_monitors()?;
                wakeup.read(Source::Monitors, more);
            }
            self.note_refusals(false);
            if wakeup.is_due(Source::Admission) {
                let more = self.drain_admission()?;
                wakeup.read(Source::Admission, more);
            }
            // A push connection seen closing is settled only with the inbox read to the end: its result may be
            // queued there behind the monitor's report of the close.
            if wakeup.is_due(Source::Inbox) || self.pushers.has_closing() {
                let more = self.drain_inbox()?;
                wakeup.read(Source::Inbox, more);
                if !more {
                    self.settle_closed_pushers();
                }
            }
            // Always, and last, signalled or not: a subscription libzmq has queued for the publisher joins its list
            // as soon as any call on that socket processes its commands, the pulse's send included, and would then
            // receive the pulse decided next; read now, it is counted first.
            let more = self.drain_subscriptions()?;
            wakeup.read(Source::Publisher, more);
            let now = self.now();
            self.report_overdue(now);
            let expired = self.lobby.expire(now);
            if expired > 0 {
                debug!(target: LOG_TARGET, expired, cap = self.lobby.cap(), "admitted newcomers never asked again: fewer newcomers at once");
            }
            self.flush();
            if std::mem::take(&mut self.replied) {
                wakeup.sent_on(Source::Admission);
            }
            if std::mem::take(&mut self.published) {
                wakeup.sent_on(Source::Publisher);
            }
            self.trim_after_churn();
            self.daemon.succession.heartbeat(Instant::now());
            let stop = self.stop_requested;
            self.publish_stats();
            if stop {
                info!(target: LOG_TARGET, "timerIterationsLimit reached");
                return Ok(());
            }
            let deadline = match (self.engine.next_deadline(), self.pushers.next_deadline()) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            let timeout = wait_timeout(deadline, self.now());
            wakeup.wait(timeout)?;
        }
    }

    /// Reports the workers still silent a result timeout after the pulse that reached them (hung, or acting for
    /// longer than `performerContainerActionMaxExecutionTime`): their connection is open, so only the time
    /// tells. The engine writes their debt off; a result they send later counts as late.
    fn report_overdue(&mut self, now: Nanos) {
        let overdue = self.pushers.overdue(now);
        if overdue.is_empty() {
            return;
        }
        if let Some(held_back) = self.overdue_warnings.admit() {
            warn!(
                target: LOG_TARGET,
                workers = overdue.len(),
                held_back,
                "released workers still silent at their result timeout (performerContainerActionMaxExecutionTime) \
                 with their connection open: hung or too slow; their slots are given back"
            );
        }
        for lost in overdue {
            self.feed(lost.event());
        }
    }

    /// Gives memory freed after closed connections or dropped messages back to the system (libzmq frees it,
    /// the C heap keeps it mapped until asked), at most every [`TRIM_INTERVAL`].
    fn trim_after_churn(&mut self) {
        if self.churn == 0 || self.last_trim.elapsed() < TRIM_INTERVAL {
            return;
        }
        let churn = std::mem::take(&mut self.churn);
        self.last_trim = Instant::now();
        let released = pulsar_sockopt::trim_heap();
        debug!(target: LOG_TARGET, churn, released, "heap trimmed after closed connections or dropped messages");
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
                self.settle_unreleased();
            }
            match action {
                Action::Admit(ticket) => self.answer(ticket, true),
                Action::Refuse(ticket) => {
                    self.requested_at.remove(&ticket);
                    self.lobby.ticket_gone(ticket);
                    self.answer(ticket, false)
                }
                // The desk's books are settled after the publish or before the next other action: a pulse's
                // forgets come just before it, and the send should not wait for their bookkeeping.
                Action::Forget(ticket) => self.forgotten.push(ticket),
                Action::Publish {
                    iteration,
                    receivers,
                    at,
                } => {
                    self.publish(iteration, receivers, at);
                    self.observe_released(receivers);
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
        self.settle_unreleased();
        stop
    }

    /// Forgets not followed by a publish released nobody: their subscription wait ran out (or the engine
    /// stopped tracking them otherwise).
    fn settle_unreleased(&mut self) {
        for ticket in std::mem::take(&mut self.forgotten) {
            self.desk.forget(ticket);
            self.requested_at.remove(&ticket);
            self.lobby.timed_out(ticket);
        }
    }

    /// Records the admission wait of the workers a publish released (see [`Driver::carry_out_actions`]).
    fn observe_released(&mut self, receivers: u32) {
        let now = self.now();
        let forgotten = std::mem::take(&mut self.forgotten);
        let released = forgotten.len().min(receivers as usize);
        let (before, released) = forgotten.split_at(forgotten.len() - released);
        for ticket in before {
            self.desk.forget(*ticket);
            self.requested_at.remove(ticket);
            self.lobby.ticket_gone(*ticket);
        }
        // Which admitted worker a pulse released is a guess: a stranger proves itself only by asking again.
        for ticket in released {
            self.desk.forget(*ticket);
            if let Some(asked) = self.requested_at.remove(ticket) {
                self.stats.admission_wait.observe(now.saturating_sub(asked));
            }
            self.lobby.ticket_gone(*ticket);
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
                let now = self.now();
                self.lobby.admitted(ticket, now);
                self.desk.track(ticket, envelope);
            }
            Delivery::Sent => {}
            Delivery::Lost(e) => {
                debug!(target: LOG_TARGET, peer = %envelope.peer(), error = %e, allow, "admission reply not delivered: the worker is gone");
                if allow {
                    self.stats.lost_admissions += 1;
                    self.requested_at.remove(&ticket);
                    self.lobby.ticket_gone(ticket);
                    let now = self.now();
                    self.engine.handle(now, Event::AdmissionLost(ticket));
                }
            }
        }
    }

    /// Answers a request that never became a ticket (malformed, not ready to act, or the lobby is full).
    pub(super) fn reply_directly(&mut self, envelope: &Envelope, allow: bool) {
        if let Delivery::Lost(e) = self.send_reply(envelope, allow) {
            debug!(target: LOG_TARGET, peer = %envelope.peer(), error = %e, "refusal not delivered: the peer is gone");
        }
    }

    fn send_reply(&mut self, envelope: &Envelope, allow: bool) -> Delivery {
        self.replied = true;
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
        self.published = true;
        // The state file's promise to a successor: no pulse leaves more than a heartbeat after the last one written
        // (a daemon that dies may have pulsed until its next heartbeat was due, and no later).
        self.daemon.succession.heartbeat(Instant::now());
        // XPUB never blocks (a subscriber whose queue is full misses the message); DONTWAIT makes that explicit.
        match self
            .daemon
            .publisher
            .send(self.daemon.pulse.as_slice(), zmq::DONTWAIT)
        {
            Ok(()) => {
                let sent_at = self.now();
                self.daemon.succession.pulsed();
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
        // After the send, which should not wait for it. Timed from the engine's own instant, so that it matches
        // the pulse's result deadline.
        self.pushers.published(iteration, decided_at);
    }

    /// Refuses every worker still waiting for admission, so that none hangs on a daemon that is gone.
    pub(super) fn refuse_waiting(&mut self) {
        // Requests that had arrived but were not read yet are refused too, whatever they hold.
        let mut arrived = 0;
        while arrived < DRAIN_BUDGET {
            let Ok(Some(arrival)) = self.recv_admission() else {
                break;
            };
            arrived += 1;
            if arrival.too_many_frames {
                continue;
            }
            if let Some((envelope, _)) = split_request(arrival.frames) {
                self.reply_directly(&envelope, false);
            }
        }
        let mut waiting = self.desk.drain_pending();
        waiting.extend(self.lobby.drain());
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

    /// Logs and counts the connections the access handler refused since the last turn; `at_end` logs what the
    /// warning interval still holds back.
    pub(super) fn note_refusals(&mut self, at_end: bool) {
        let (open, max) = (self.daemon.gauge.open(), self.daemon.max_connections);
        let (not_allowed, over_limit) = if at_end {
            self.refusal_log.flush(&self.daemon.refusals, open, max)
        } else {
            self.refusal_log.log(&self.daemon.refusals, open, max)
        };
        self.stats.refused_not_allowed += not_allowed;
        self.stats.refused_connection_limit += over_limit;
    }

    /// Stores this turn's counters where readers (the stats call, /metrics, the health check) take them.
    pub(super) fn publish_stats(&mut self) {
        self.stats.absorb(self.engine.stats());
        // Newcomers waiting in the lobby wait for admission too.
        self.stats.engine.queued += self.lobby.waiting() as u64;
        self.stats.admission_connections = self.desk.connections() as u64;
        self.stats.open_connections = self.daemon.gauge.open();
        self.stats.max_connections = self.daemon.max_connections;
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

/// How long to wait for the sockets: until the engine's deadline, to the nanosecond (a pulse due in 10.2 ms
/// leaves then, not at 10 or 11 ms), never more than [`SHUTDOWN_POLL_INTERVAL`] so that a shutdown is seen.
fn wait_timeout(deadline: Option<Nanos>, now: Nanos) -> Duration {
    let left = deadline.map_or(SHUTDOWN_POLL_INTERVAL, |deadline| {
        Duration::from_nanos(deadline.saturating_sub(now).as_nanos())
    });
    left.min(SHUTDOWN_POLL_INTERVAL)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_ends_at_the_deadline_to_the_nanosecond_and_is_capped() {
        let now = Nanos::from_millis(1000);
        assert_eq!(wait_timeout(None, now), SHUTDOWN_POLL_INTERVAL);
        assert_eq!(
            wait_timeout(Some(Nanos::from_secs(60)), now),
            SHUTDOWN_POLL_INTERVAL
        );
        assert_eq!(
            wait_timeout(Some(Nanos::from_nanos(now.as_nanos() + 1)), now),
            Duration::from_nanos(1)
        );
        assert_eq!(
            wait_timeout(Some(Nanos::from_nanos(now.as_nanos() + 10_200_000)), now),
            Duration::from_micros(10_200)
        );
        assert_eq!(wait_timeout(Some(now), now), Duration::ZERO);
        assert_eq!(wait_timeout(Some(Nanos::ZERO), now), Duration::ZERO);
    }
}
