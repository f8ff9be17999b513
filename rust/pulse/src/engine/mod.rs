//! The slot engine: whom to admit, when a pulse goes out and to how many, and what the results change.
//!
//! # The rules (engine v2: slots, not phases)
//!
//! The original ran one phase-locked iteration after another (gather N, wait for every Ready, publish, wait for
//! every result), so every absent worker cost the whole fleet a multi-second timeout. This engine models
//! *capacity* instead; the bytes on the wire are the same (`docs/protocol.md`).
//!
//! 1. **Pulses.** A pulse may go out whenever `pulsationIterationPeriod` plus the guard (below) plus the
//!    slow-down pause have passed since the previous pulse finished sending. It goes to every subscription that
//!    has reached the publisher at that moment; each admitted worker subscribes, so those are the admitted workers
//!    that are ready. A ready worker is never held while the period allows a pulse: it waits for company only
//!    when admitted workers are still subscribing, and then at most `min(maxWaitReplyStackResult, period / 10)`;
//!    never for anonymous places (rule 4).
//! 2. **Never more than N.** No pulse reaches more than the configured N (`subscribersPerIteration`) and two
//!    pulses are always at least a period apart, so no period window on the daemon's clock holds more than N
//!    grants. Subscriptions are counted exactly (the driver reports every subscribe and unsubscribe, including
//!    a connection's end); one beyond what the tracked admitted workers owe (a stray) takes a place of the next
//!    pulse, so that fewer are admitted, and that pulse releases no tracked worker for it; if more than N are
//!    present all the same the pulse is held, never sent to more than N.
//! 3. **Slots.** At most `maxActingPerformers` workers (by default the N in force: the original's meaning) hold a
//!    slot at once. A worker takes a slot when admitted and gives it back with its result, its early
//!    termination, or when its pulse's result timeout (`performerContainerActionMaxExecutionTime`) runs out. At
//!    most N workers are admitted or subscribed for the next pulse. Admission for the next pulse therefore
//!    overlaps the current pulse's acting: a missing result holds one slot, never the fleet. Results carry no
//!    identity and are credited to the oldest pulse still owed, so a dead receiver's debt would move on to each
//!    newer pulse for as long as pulses keep coming; when the driver reports the receiver lost (its push
//!    connection closed after a Ready and a pulse with no result, or is still silent at that pulse's result
//!    timeout: [`Event::ReceiverLost`]), that debt is written off at the result timeout of the pulse that
//!    released it (at once if that has passed), wherever it moved. A write-off takes
//!    only a result still owed: no report can free a slot that is not held, nor free one before a timeout.
//! 4. **The absent.** An admitted worker that never subscribes costs only its own slot: when the driver sees its
//!    admission connection close it is dropped at once ([`Event::AdmissionLost`]); one still connected but
//!    silent is dropped after `maxWaitAllSubscribersReadyBeforePublish`; if it had subscribed all the same (a period
//!    longer than that wait), its subscription keeps its place in the next pulse as a stray (rule 2), taking the
//!    oldest tracked workers for the subscribed ones. Subscriptions carry no identity, so a publish takes the
//!    oldest admitted workers for the ones it released; when a worker kept by that guess asks
//!    again ([`Event::AskedAgain`]) its place stays, anonymous, for the subscription still owed by the worker
//!    released in its stead, until a publish or the same wait takes it. Counting errs on the side of fewer
//!    admissions, never more.
//! 5. **Guard.** The next pulse waits `min(pulseGuardInterval, period / 50)` longer than the period, so that
//!    the receivers' own clocks (each wakes a little later than the send) still see at most N per window.
//! 6. **Adaptation** acts on results as they arrive ([`crate::adapt`]): the first erroring result since the last
//!    decision decides at once (slow-down narrows N or grows the pause; `sleepForPeriod` stops admission and
//!    pulses for that long); results of pulses that went out before that decision decide nothing more. Each
//!    pulse whose receivers all reported without error recovers one step. A receiver of an earlier pulse still
//!    subscribed when the next one leaves gets that one too: it counts towards its N but owes no second result.
//! 7. **Fail closed.** Identity-less messages are matched against what is outstanding: results and early
//!    terminations beyond the released workers still owed, Readies beyond the admitted workers, and
//!    unsubscriptions beyond the subscriptions present are ignored and counted. They can never free a slot
//!    that is not held nor make a pulse larger.
//! 8. **Pause-for-period** closes admission and stops pulses until it ends; waiting workers keep their places.
//!    One pause never lasts longer than `maxPauseForPeriod` (24 h by default): its length comes from a peer.
//! 9. **`timerIterationsLimit`** stops the engine once that many pulses went out and their results are in.
//! 10. **Restarts.** A start after a predecessor on the same sockets ([`restart`]): the first pulse waits until a
//!     period has passed since the predecessor's last pulse could have gone out (a whole period when that is
//!     unknown), and admission opens only after subscriptions it left behind had time to be counted. Without a
//!     predecessor the first pulse may go at once.
//!
//! It must never read a clock, sleep, or do I/O: time comes in with every call.

//!
//! # Layout
//! - this file: [`Engine`], its state and public calls, admission and the bookkeeping of subscriptions;
//! - `events`: [`Event`], [`Action`], [`PauseCause`], [`IterationReport`] (plain data shared with drivers);
//! - `publish`: when a pulse goes out and to how many;
//! - `verdict`: what results change, and the report of a finished pulse;
//! - `stats`: [`Stats`];
//! - `roster`, `flights`: admitted workers not yet released, and pulses whose results are owed;
//! - [`restart`]: how a start guards against what a predecessor did and left behind.

mod events;
mod flights;
mod publish;
pub mod restart;
mod roster;
mod stats;
mod verdict;

use std::collections::VecDeque;

use crate::adapt::AdaptationState;
use crate::config::PulseConfig;
use crate::time::Nanos;
use flights::{Credit, Flights};
use roster::Roster;

pub use events::{Action, Event, IterationReport, PauseCause, Ticket};
pub use stats::Stats;

/// The longest a receiver's Ready may be read after the pulse that reached it (see [`Event::ReceiverLost`]): the
/// Ready follows the worker's subscription on another connection from the same process, so it lags the
/// subscription by a network's jitter, far less than this.
pub const READY_LAG: Nanos = Nanos::from_millis(50);

/// The pulse engine. See the module docs for the rules.
#[derive(Debug, Clone)]
pub struct Engine {
    config: PulseConfig,
    adapt: AdaptationState,
    now: Nanos,
    queue: VecDeque<Ticket>,
    roster: Roster,
    /// Subscriptions that arrived since the last pulse and are still there.
    waiting: u32,
    /// Of `waiting`, subscriptions that arrived beyond the tracked admitted workers (strays): places of the next
    /// pulse that no admission may take.
    strays: u32,
    /// Receivers of earlier pulses whose unsubscription has not arrived: they would receive the next one too.
    departing: u32,
    /// Readies still expected from admitted workers.
    ready_owed: u32,
    /// Results that no pulse owed and that have not yet explained a tracked worker asking again (at most N).
    unowed_results: u32,
    flights: Flights,
    pulses: u64,
    last_sent: Option<Nanos>,
    paused_until: Option<Nanos>,
    /// Admission stays closed until then after the start (see [`restart`]).
    admission_opens: Nanos,
    /// No pulse before then after the start (see [`restart`]).
    first_pulse_at: Nanos,
    /// The first pulse waits up to a period for admitted company, not a tenth (a first daemon, see [`restart`]).
    first_gathers: bool,
    /// Since when the next pulse has been allowed by time and had a receiver (reset at each pulse).
    due_since: Option<Nanos>,
    /// A hold because of excess subscriptions is under way.
    holding: bool,
    /// Pulses up to this number were out when the last error decision was taken.
    decided_through: u64,
    stopping: bool,
    stopped: bool,
    actions: VecDeque<Action>,
    stats: Stats,
}

impl Engine {
    /// A new engine starting at `now` after a predecessor about which nothing is known
    /// ([`restart::Predecessor::UNKNOWN`]): its first pulse waits a period and admission opens
    /// [`restart::RESTART_SETTLE`] after `now`. The config must have passed [`PulseConfig::validate`];
    /// out-of-range values are clamped to something usable rather than trusted.
    pub fn new(config: PulseConfig, now: Nanos) -> Engine {
        Engine::after(config, now, restart::Predecessor::UNKNOWN)
    }

    /// A new engine starting at `now`, guarding against what `predecessor` may have done (see [`restart`]).
    pub fn after(config: PulseConfig, now: Nanos, predecessor: restart::Predecessor) -> Engine {
        let mut engine = Engine::without_predecessor(config, now);
        let spacing = engine.period().saturating_add(engine.guard());
        engine.first_pulse_at = restart::first_pulse_at(predecessor, now, spacing);
        engine.admission_opens = restart::admission_opens(predecessor, now);
        engine.first_gathers = predecessor == restart::Predecessor::None;
        engine
    }

    /// A new engine that no earlier one can have preceded on these workers ([`restart::Predecessor::None`]):
    /// its first pulse may go at once and admission is open from the start.
    pub fn without_predecessor(config: PulseConfig, now: Nanos) -> Engine {
        let adapt = AdaptationState::new(
            config.subscribers_per_iteration,
            config.slow_down_step,
            config.max_slow_down_pause,
        );
        let mut engine = Engine {
            config,
            adapt,
            now,
            queue: VecDeque::new(),
            roster: Roster::default(),
            waiting: 0,
            strays: 0,
            departing: 0,
            ready_owed: 0,
            unowed_results: 0,
            flights: Flights::default(),
            pulses: 0,
            last_sent: None,
            admission_opens: now,
            first_pulse_at: now,
            first_gathers: false,
            paused_until: None,
            due_since: None,
            holding: false,
            decided_through: 0,
            stopping: false,
            stopped: false,
            actions: VecDeque::new(),
            stats: Stats::default(),
        };
        engine.refresh_stats();
        engine
    }

    /// Pulses sent so far: the driver notes it with each Ready, for [`Event::ReceiverLost`].
    #[must_use]
    pub fn pulses(&self) -> u64 {
        self.pulses
    }

    /// The configuration in force.
    pub fn config(&self) -> &PulseConfig {
        &self.config
    }

    /// Feeds one event that happened at `now`.
    pub fn handle(&mut self, now: Nanos, event: Event) {
        self.handle_all(now, [event]);
    }

    /// Feeds events that happened at `now`, in order, then decides once. A driver that read a batch of
    /// messages hands them over together, so that a pulse is never decided while subscriptions that are already
    /// read (and may already be in the publisher's list) have not been counted.
    pub fn handle_all(&mut self, now: Nanos, events: impl IntoIterator<Item = Event>) {
        self.advance_clock(now);
        for event in events {
            self.apply(event);
        }
        self.step();
    }

    fn apply(&mut self, event: Event) {
        match event {
            Event::AdmissionRequested(ticket) => self.on_admission_request(ticket),
            Event::AdmissionLost(ticket) => self.on_admission_lost(ticket),
            Event::AskedAgain(ticket) => {
                if self.unowed_results > 0 && self.roster.remove(ticket) {
                    // A result came that no pulse owed: a worker got a pulse it was not counted for (its
                    // subscription reached the publisher's list just before the send). This is most likely it,
                    // still tracked as a joiner: it owes no subscription, so its place goes.
                    self.unowed_results -= 1;
                    self.stats.departed += 1;
                } else if self.roster.anonymize(ticket) {
                    self.stats.anonymized += 1;
                } else {
                    self.on_admission_lost(ticket);
                }
            }
            Event::Subscribed => {
                // Beyond what the tracked admitted workers owe: a stray (left behind by a predecessor, see
                // `restart`, or never admitted). It takes a place of the next pulse, so that fewer are admitted.
                let tracked = u32::try_from(self.roster.len()).unwrap_or(u32::MAX);
                if self.waiting.saturating_sub(self.strays) >= tracked {
                    self.strays = self.strays.saturating_add(1);
                }
                self.waiting = self.waiting.saturating_add(1);
            }
            Event::Unsubscribed => self.on_unsubscribed(),
            Event::Ready => {
                if self.ready_owed > 0 {
                    self.ready_owed -= 1;
                } else {
                    self.stats.ignored_readies += 1;
                }
            }
            Event::EarlyTerminated {
                stand_on_subscription,
            } => {
                if !stand_on_subscription || self.flights.credit(None) == Credit::Nobody {
                    self.stats.ignored_early_terminations += 1;
                }
            }
            Event::Result(outcome) => self.on_result(outcome),
            Event::ReceiverLost {
                pulses_at_ready,
                ready_lag,
            } => {
                // A receiver's Ready may be read just after the pulse that reached it (it pushes the Ready once
                // subscribed, and a due pulse goes out as soon as the subscription is counted); one read later
                // than that came from a worker still waiting, which owes nothing if no pulse went out since.
                let pulse = if self.pulses > pulses_at_ready {
                    pulses_at_ready + 1
                } else if ready_lag.is_some_and(|lag| lag <= READY_LAG) {
                    pulses_at_ready
                } else {
                    0
                };
                if pulse > 0 && self.flights.lose(pulse) {
                    self.stats.lost_receivers += 1;
                } else {
                    self.stats.ignored_losses += 1;
                }
            }
            Event::PulseSent => {
                if let Some(last) = self.last_sent {
                    self.last_sent = Some(last.max(self.now));
                }
            }
        }
    }

    /// Lets time pass: call when [`Engine::next_deadline`] is reached (calling it early or often is harmless).
    pub fn handle_timeout(&mut self, now: Nanos) {
        self.advance_clock(now);
        self.step();
    }

    /// The next thing the driver must do, if any.
    #[must_use]
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// The next moment at which time alone can change something; `None` if only an event can.
    #[must_use]
    pub fn next_deadline(&self) -> Option<Nanos> {
        if self.stopped {
            return None;
        }
        let now = self.now;
        let mut candidates = [
            self.paused_until,
            self.flights.next_deadline(),
            self.roster
                .oldest_admission()
                .map(|t| t.saturating_add(self.config.max_wait_all_subscribers_ready)),
            None,
            None,
            (!self.queue.is_empty()).then_some(self.admission_opens),
        ];
        if self.paused_until.is_none() && !self.stopping && self.waiting > 0 && !self.holding {
            candidates[3] = Some(self.earliest_publish());
            if let Some(since) = self.due_since {
                candidates[4] = Some(since.saturating_add(self.company_wait()));
            }
        }
        candidates.into_iter().flatten().filter(|t| *t > now).min()
    }

    /// Whether the engine has stopped (`timerIterationsLimit` reached).
    #[must_use]
    pub fn is_stopped(&self) -> bool {
        self.stopped
    }

    /// Counters and the adaptive state now.
    #[must_use]
    pub fn stats(&self) -> Stats {
        self.stats
    }

    fn advance_clock(&mut self, now: Nanos) {
        // A driver whose clock went backwards must not make the engine publish early: time only moves on.
        self.now = self.now.max(now);
    }

    /// The most workers that may hold a slot at once.
    fn slot_limit(&self) -> u32 {
        match self.config.max_acting_performers {
            0 => self.adapt.n,
            s => s,
        }
    }

    /// Admitted workers whose subscription has not arrived (as far as counts can tell).
    fn joiners(&self) -> u32 {
        u32::try_from(self.roster.len())
            .unwrap_or(u32::MAX)
            .saturating_add(self.strays)
            .saturating_sub(self.waiting)
    }

    /// Admitted workers not yet released: tracked by ticket, or (strays included) subscribed.
    fn booked(&self) -> u32 {
        let tracked = u32::try_from(self.roster.len()).unwrap_or(u32::MAX);
        tracked.saturating_add(self.strays).max(self.waiting)
    }

    /// Who the next pulse would reach if everyone booked subscribed: the booked workers plus earlier receivers
    /// still subscribed.
    fn pipeline(&self) -> u32 {
        self.booked().saturating_add(self.departing)
    }

    fn on_admission_request(&mut self, ticket: Ticket) {
        if self.stopping || self.queue.len() >= self.config.max_admission_queue {
            self.stats.refused += 1;
            self.actions.push_back(Action::Refuse(ticket));
        } else {
            self.queue.push_back(ticket);
        }
    }

    fn on_admission_lost(&mut self, ticket: Ticket) {
        if self.roster.remove(ticket) {
            self.stats.departed += 1;
        } else if let Some(pos) = self.queue.iter().position(|t| *t == ticket) {
            self.queue.remove(pos);
        }
    }

    fn on_unsubscribed(&mut self) {
        // Receivers of the last pulse leave first; a waiting subscriber leaving means it gave up or died. Either
        // way the sum, which is who the next pulse reaches, stays exact.
        if self.departing > 0 {
            self.departing -= 1;
        } else if self.waiting > 0 {
            self.waiting -= 1;
            self.strays = self.strays.min(self.waiting);
        } else {
            self.stats.ignored_unsubscriptions += 1;
        }
    }

    /// Runs every transition that the current state and time allow.
    fn step(&mut self) {
        if self.stopped {
            return;
        }
        loop {
            let mut progressed = false;
            if self.paused_until.is_some_and(|until| self.now >= until) {
                self.paused_until = None;
            }
            let join_wait = self.config.max_wait_all_subscribers_ready;
            if self.now >= join_wait {
                let cutoff = self.now.saturating_sub(join_wait);
                // Tracked workers whose subscription has arrived.
                let subscribed = self.waiting.saturating_sub(self.strays);
                let actions = &mut self.actions;
                let expired = self
                    .roster
                    .expire(cutoff, |t| actions.push_back(Action::Forget(t)));
                self.stats.subscription_timeouts += expired as u64;
                // A worker whose wait runs out may have subscribed already (a period longer than the wait): its
                // subscription keeps its place in the next pulse, as a stray, or admission would fill that place
                // a second time and the pulse would be held. As at a publish, the oldest tracked workers are
                // taken for the subscribed ones.
                let expired = u32::try_from(expired).unwrap_or(u32::MAX);
                self.strays = self.strays.saturating_add(expired.min(subscribed));
            }
            while let Some(flight) = self.flights.land(self.now) {
                self.finish(flight);
                progressed = true;
            }
            if self.stopping {
                if self.flights.is_empty() {
                    self.stop();
                }
                break;
            }
            // Publish before admitting: the driver carries actions out in order, and a pulse sent after a batch of
            // admission replies could reach subscriptions that arrived meanwhile, uncounted.
            progressed |= self.try_publish();
            self.admit_from_queue();
            if !progressed {
                break;
            }
        }
        self.refresh_stats();
    }

    fn admit_from_queue(&mut self) {
        if self.paused_until.is_some() || self.now < self.admission_opens {
            return;
        }
        let n = self.adapt.n;
        let slots = self.slot_limit();
        // Earlier receivers still subscribed count towards the next pulse's size, but their slot is the one they
        // hold as acting workers: count it once.
        while self.pipeline() < n && self.booked().saturating_add(self.flights.acting()) < slots {
            let Some(ticket) = self.queue.pop_front() else {
                break;
            };
            self.roster.admit(ticket, self.now);
            self.ready_owed = self.ready_owed.saturating_add(1);
            self.actions.push_back(Action::Admit(ticket));
        }
    }
}
