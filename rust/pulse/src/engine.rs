//! The iteration state machine: admission queue, pulse timing, ready and result waits, imitation, stop.
//!
//! One iteration, as `PROTOCOL.md` describes it, with the decisions taken for the drop-in:
//! 1. **Gathering.** Workers asking for admission wait in a FIFO queue; up to N of them are admitted
//!    ([`Action::Admit`]). The pulse is published ([`Action::Publish`]) when
//!    - N workers are admitted, or `maxWaitReplyStackResult` has passed since the iteration began (then the
//!      pulse goes to those who are there: the original's "imitation" of missing performers), and
//!    - every admitted worker is ready: its `ReadyToGetSubscriptionMsg` *and* its subscription have arrived
//!      (so no pulse is lost to ZeroMQ's slow joiner), or `maxWaitAllSubscribersReadyBeforePublish` has passed
//!      since the last admission, and
//!    - the previous publish is at least `pulsationIterationPeriod` ago and the slow-down pause since the
//!      iteration began is over.
//! 2. **Acting.** Released workers act and report. The iteration ends when every receiver has reported, or
//!    `performerContainerActionMaxExecutionTime` after the publish (a dead worker delays the next pulse by at
//!    most that). The first erroring result decides the adaptation ([`crate::adapt`]).
//! 3. **Paused** (only after a pause-for-period error): admission is closed until the period is over; workers
//!    wait in the queue.
//!
//! The engine never exceeds N receivers per pulse for workers that follow the protocol. The receivers of a pulse
//! are the subscriptions that arrived since the previous publish (every protocol worker unsubscribes after its
//! pulse), and admission is capped so that those can never outnumber N:
//! - an admitted worker whose subscription was still missing at a publish will receive the next pulse instead,
//!   so its slot stays reserved (for twice the ready wait; after that it is taken for dead);
//! - a subscription that arrives while no admission is going on is a straggler's (or a stranger's) and takes a
//!   slot of the next pulse.
//!
//! Should more than N subscriptions be present anyway (a subscriber that was never admitted, or a straggler later
//! than its reservation), the pulse is held for up to the ready wait, then published with the excess reported.
//!
//! It must never read a clock, sleep, or do I/O: time comes in with every call.

use std::collections::VecDeque;

use crate::adapt::{Adaptation, AdaptationState, ReportedError};
use crate::config::PulseConfig;
use crate::time::Nanos;

/// An opaque handle for one admission request, chosen by the driver (e.g. an index for a ZeroMQ routing id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ticket(pub u64);

/// Something that happened, fed to [`Engine::handle`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A worker asks to be admitted to a pulse (`PreparingRequestDto`).
    AdmissionRequested(Ticket),
    /// The admission reply for this ticket could not be delivered (the worker is gone).
    AdmissionLost(Ticket),
    /// A subscription reached the publisher (an XPUB subscribe message).
    Subscribed,
    /// A subscription was cancelled (an XPUB unsubscribe message). Informational.
    Unsubscribed,
    /// A worker reports it is subscribed (`ReadyToGetSubscriptionMsg`).
    Ready,
    /// A worker ends early (`PerformerEarlyTerminated`).
    EarlyTerminated {
        /// It had been admitted (true: do not wait for it any more) or not (false: logged only).
        stand_on_subscription: bool,
    },
    /// A released worker reports its action's result (`ActionResultingPushDto`); `None` means success.
    Result(Option<ReportedError>),
    /// The driver finished sending the pulse just published. The next publish is spaced from the later of the
    /// decision and this instant, so that a slow send (one pulse, many receivers) cannot bring two pulses closer
    /// than one period on the wire.
    PulseSent,
}

/// Something the driver must do, pulled with [`Engine::poll_action`].
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Tell this worker it is admitted (`BecomeTheSubscriberReplyDto{allowToStartSubscription: true}`).
    Admit(Ticket),
    /// Tell this worker it is refused (`allowToStartSubscription: false`): the admission queue is full or the
    /// engine has stopped.
    Refuse(Ticket),
    /// Publish the pulse now.
    Publish {
        /// Iteration number (1-based).
        iteration: u64,
        /// How many subscriptions will receive it.
        receivers: u32,
        /// The instant the engine published it at (the next publish is at least one period later).
        at: Nanos,
    },
    /// An iteration ended; one line for the log.
    IterationFinished(IterationReport),
    /// `timerIterationsLimit` reached: the driver should stop.
    Stop,
}

/// What one iteration did, for the log line and for tests.
#[derive(Debug, Clone, PartialEq)]
pub struct IterationReport {
    /// Iteration number (1-based).
    pub iteration: u64,
    /// N in force for this pulse.
    pub n: u32,
    /// Workers admitted during the iteration.
    pub admitted: u32,
    /// Slots the pulse went without (N minus admitted workers still present at publish time).
    pub imitated: u32,
    /// Subscriptions that received the pulse (0 if nothing was published).
    pub receivers: u32,
    /// Results received.
    pub results: u32,
    /// Erroring results received.
    pub errors: u32,
    /// Whether the result wait ended by timeout rather than by every receiver reporting.
    pub results_timed_out: bool,
    /// The first erroring result, which decided the adaptation.
    pub first_error: Option<ReportedError>,
    /// What the adaptation rule did.
    pub adaptation: Adaptation,
    /// N for the next pulse.
    pub next_n: u32,
    /// Slow-down pause for the next pulse.
    pub pause: Nanos,
    /// Subscriptions beyond N that were present when the pulse had to go out (should be 0).
    pub excess: u32,
    /// When the iteration began.
    pub started_at: Nanos,
    /// When the pulse was published.
    pub published_at: Option<Nanos>,
    /// When the iteration ended.
    pub finished_at: Nanos,
}

/// Counters since the engine started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    /// N now.
    pub n: u32,
    /// Slow-down pause now.
    pub pause: Nanos,
    /// End of a pause-for-period in force, if any.
    pub paused_until: Option<Nanos>,
    /// Pulses published.
    pub pulses: u64,
    /// Sum of receivers over all pulses.
    pub grants: u64,
    /// Erroring results received.
    pub errors: u64,
    /// Results received.
    pub results: u64,
    /// Results that arrived after their iteration had ended (dropped).
    pub late_results: u64,
    /// Iterations finished.
    pub iterations: u64,
    /// Workers waiting for admission now.
    pub queued: u64,
    /// Admission requests refused.
    pub refused: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Paused { until: Nanos },
    Gathering,
    Acting { deadline: Nanos, expected: u32 },
    Stopped,
}

#[derive(Debug, Clone)]
struct Iteration {
    number: u64,
    started_at: Nanos,
    n: u32,
    admitted: Vec<Ticket>,
    /// Admitted workers still expected: minus lost replies and early terminations.
    active: u32,
    /// Admitted workers that left (lost reply, early termination): their slots count as used unless someone
    /// from the queue takes them, so the pulse does not wait for a replacement that may never come.
    departed: u32,
    ready: u32,
    last_admission_at: Nanos,
    /// Since when the pulse has been held because more than N subscriptions are present.
    held_since: Option<Nanos>,
    published_at: Option<Nanos>,
    receivers: u32,
    imitated: u32,
    excess: u32,
    results: u32,
    errors: u32,
    first_error: Option<ReportedError>,
}

impl Iteration {
    fn new(number: u64, now: Nanos, n: u32) -> Self {
        Iteration {
            number,
            started_at: now,
            n,
            admitted: Vec::new(),
            active: 0,
            departed: 0,
            ready: 0,
            last_admission_at: now,
            held_since: None,
            published_at: None,
            receivers: 0,
            imitated: 0,
            excess: 0,
            results: 0,
            errors: 0,
            first_error: None,
        }
    }
}

/// The pulse engine. See the module docs for the rules.
#[derive(Debug, Clone)]
pub struct Engine {
    config: PulseConfig,
    adapt: AdaptationState,
    phase: Phase,
    iter: Iteration,
    queue: VecDeque<Ticket>,
    /// Subscriptions that arrived since the last publish: exactly who the next publish reaches, since every
    /// protocol worker unsubscribes after its pulse.
    fresh_subs: u32,
    /// Slots reserved for admitted workers whose subscription had not arrived when their pulse went out: each
    /// holds the moment it lapses (a worker that has not subscribed by then is taken for dead).
    reservations: Vec<Nanos>,
    /// Subscriptions that arrived since the last publish while no admission was going on: they cannot belong
    /// to this iteration's admitted workers, so they are stragglers (or strangers) who will certainly receive the
    /// next pulse and take a slot of it.
    standing_subs: u32,
    last_publish: Option<Nanos>,
    now: Nanos,
    actions: VecDeque<Action>,
    stats: Stats,
}

impl Engine {
    /// A new engine whose first iteration begins at `now`. The config must have passed
    /// [`PulseConfig::validate`]; out-of-range values are clamped to something usable rather than trusted.
    pub fn new(config: PulseConfig, now: Nanos) -> Engine {
        let adapt = AdaptationState::new(
            config.subscribers_per_iteration,
            config.slow_down_step,
            config.max_slow_down_pause,
        );
        let iter = Iteration::new(1, now, adapt.n);
        let mut engine = Engine {
            config,
            adapt,
            phase: Phase::Gathering,
            iter,
            queue: VecDeque::new(),
            fresh_subs: 0,
            reservations: Vec::new(),
            standing_subs: 0,
            last_publish: None,
            now,
            actions: VecDeque::new(),
            stats: Stats::default(),
        };
        engine.refresh_stats();
        engine
    }

    /// The configuration in force.
    pub fn config(&self) -> &PulseConfig {
        &self.config
    }

    /// Feeds one event that happened at `now`.
    pub fn handle(&mut self, now: Nanos, event: Event) {
        self.advance_clock(now);
        match event {
            Event::AdmissionRequested(ticket) => self.on_admission_request(ticket),
            Event::AdmissionLost(ticket) => self.on_admission_lost(ticket),
            Event::Subscribed => self.on_subscribed(),
            Event::Unsubscribed => {}
            Event::Ready => {
                if self.phase == Phase::Gathering {
                    self.iter.ready = self.iter.ready.saturating_add(1);
                }
            }
            Event::EarlyTerminated {
                stand_on_subscription,
            } => self.on_early_terminated(stand_on_subscription),
            Event::Result(outcome) => self.on_result(outcome),
            Event::PulseSent => {
                if let Some(last) = self.last_publish {
                    self.last_publish = Some(last.max(self.now));
                }
            }
        }
        self.step();
    }

    /// Lets time pass: call when [`Engine::next_deadline`] is reached (calling it early or often is harmless).
    pub fn handle_timeout(&mut self, now: Nanos) {
        self.advance_clock(now);
        self.step();
    }

    /// The next thing the driver must do, if any.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// The next moment at which time alone can change something; `None` if only an event can.
    pub fn next_deadline(&self) -> Option<Nanos> {
        let now = self.now;
        let future = |t: Nanos| (t > now).then_some(t);
        match self.phase {
            Phase::Stopped => None,
            Phase::Paused { until } => Some(until),
            Phase::Acting { deadline, .. } => Some(deadline),
            Phase::Gathering => [
                future(self.admission_deadline()),
                future(self.earliest_publish()),
                (self.iter.active > 0)
                    .then(|| self.ready_deadline())
                    .and_then(future),
                self.reservations.iter().copied().filter(|t| *t > now).min(),
                self.iter
                    .held_since
                    .map(|t| t.saturating_add(self.config.max_wait_all_subscribers_ready))
                    .and_then(future),
            ]
            .into_iter()
            .flatten()
            .min(),
        }
    }

    /// Whether the engine has stopped (`timerIterationsLimit` reached).
    pub fn is_stopped(&self) -> bool {
        self.phase == Phase::Stopped
    }

    /// Counters and the adaptive state now.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    fn advance_clock(&mut self, now: Nanos) {
        // A driver whose clock went backwards must not make the engine publish early: time only moves on.
        self.now = self.now.max(now);
    }

    fn on_subscribed(&mut self) {
        self.fresh_subs = self.fresh_subs.saturating_add(1);
        if self.phase != Phase::Gathering {
            self.standing_subs = self.standing_subs.saturating_add(1);
            // Most likely the straggler a reservation was kept for: it now holds its slot by subscribing.
            let now = self.now;
            if let Some(pos) = self
                .reservations
                .iter()
                .enumerate()
                .filter(|(_, t)| **t > now)
                .min_by_key(|(_, t)| **t)
                .map(|(i, _)| i)
            {
                self.reservations.swap_remove(pos);
            }
        }
    }

    fn on_admission_request(&mut self, ticket: Ticket) {
        if self.phase == Phase::Stopped || self.queue.len() >= self.config.max_admission_queue {
            self.stats.refused += 1;
            self.actions.push_back(Action::Refuse(ticket));
        } else {
            self.queue.push_back(ticket);
        }
    }

    fn on_admission_lost(&mut self, ticket: Ticket) {
        if let Some(pos) = self.iter.admitted.iter().position(|t| *t == ticket) {
            self.iter.admitted.swap_remove(pos);
            if self.phase == Phase::Gathering && self.iter.active > 0 {
                self.iter.active -= 1;
                self.iter.departed += 1;
            }
        }
        self.queue.retain(|t| *t != ticket);
    }

    fn on_early_terminated(&mut self, stand_on_subscription: bool) {
        if !stand_on_subscription {
            return;
        }
        match &mut self.phase {
            Phase::Gathering => {
                if self.iter.active > 0 {
                    self.iter.active -= 1;
                    self.iter.departed += 1;
                }
                // It was subscribed, and its subscription died with it: it will not receive the pulse.
                self.fresh_subs = self.fresh_subs.saturating_sub(1);
            }
            Phase::Acting { expected, .. } => *expected = expected.saturating_sub(1),
            Phase::Paused { .. } | Phase::Stopped => {}
        }
    }

    fn on_result(&mut self, outcome: Option<ReportedError>) {
        if !matches!(self.phase, Phase::Acting { .. }) {
            self.stats.late_results += 1;
            return;
        }
        self.stats.results += 1;
        self.iter.results = self.iter.results.saturating_add(1);
        if let Some(error) = outcome {
            self.stats.errors += 1;
            self.iter.errors = self.iter.errors.saturating_add(1);
            if self.iter.first_error.is_none() {
                self.iter.first_error = Some(error);
            }
        }
    }

    /// End of the admission window: after it the pulse goes out with whoever is admitted.
    fn admission_deadline(&self) -> Nanos {
        self.iter
            .started_at
            .saturating_add(self.config.max_wait_reply_stack_result)
    }

    /// The earliest moment the period and the slow-down pause allow a publish.
    fn earliest_publish(&self) -> Nanos {
        let after_pause = self.iter.started_at.saturating_add(self.adapt.pause);
        match self.last_publish {
            Some(t) => after_pause.max(t.saturating_add(self.config.pulsation_iteration_period)),
            None => after_pause,
        }
    }

    fn ready_deadline(&self) -> Nanos {
        self.iter
            .last_admission_at
            .saturating_add(self.config.max_wait_all_subscribers_ready)
    }

    /// Runs every transition that the current state and time allow.
    fn step(&mut self) {
        loop {
            let progressed = match self.phase {
                Phase::Stopped => false,
                Phase::Paused { until } => {
                    if self.now >= until {
                        self.start_iteration();
                        true
                    } else {
                        false
                    }
                }
                Phase::Gathering => {
                    self.admit_from_queue();
                    self.try_publish()
                }
                Phase::Acting { deadline, expected } => {
                    if self.iter.results >= expected || self.now >= deadline {
                        self.finish_iteration(self.iter.results < expected);
                        true
                    } else {
                        false
                    }
                }
            };
            if !progressed {
                break;
            }
        }
        self.refresh_stats();
    }

    /// Slots of the next pulse already taken by earlier workers: live reservations plus standing subscriptions.
    fn carry(&self) -> u32 {
        let live = self.reservations.iter().filter(|t| **t > self.now).count();
        u32::try_from(live)
            .unwrap_or(u32::MAX)
            .saturating_add(self.standing_subs)
    }

    fn admit_from_queue(&mut self) {
        let slots = self.iter.n.saturating_sub(self.carry());
        while self.iter.active < slots {
            let Some(ticket) = self.queue.pop_front() else {
                break;
            };
            self.iter.admitted.push(ticket);
            self.iter.active += 1;
            self.iter.last_admission_at = self.now;
            self.actions.push_back(Action::Admit(ticket));
        }
    }

    fn try_publish(&mut self) -> bool {
        let now = self.now;
        let carry = self.carry();
        let it = &self.iter;
        let slots = it.n.saturating_sub(carry);
        let admission_closed =
            it.active.saturating_add(it.departed) >= slots || now >= self.admission_deadline();
        if !admission_closed || (it.active == 0 && self.fresh_subs == 0) {
            return false;
        }
        if now < self.earliest_publish() {
            return false;
        }
        let all_in = it.ready >= it.active && self.fresh_subs >= it.active;
        if !all_in && now < self.ready_deadline() {
            return false;
        }
        let excess = self.fresh_subs.saturating_sub(it.n);
        if excess > 0 {
            let held_since = *self.iter.held_since.get_or_insert(now);
            let hold_until = held_since.saturating_add(self.config.max_wait_all_subscribers_ready);
            if now < hold_until {
                return false;
            }
        }
        self.publish(excess);
        true
    }

    fn publish(&mut self, excess: u32) {
        let receivers = self.fresh_subs;
        let owed = self.iter.active.saturating_add(self.carry());
        let it = &mut self.iter;
        it.receivers = receivers;
        it.excess = excess;
        it.imitated = it.n.saturating_sub(owed);
        it.published_at = Some(self.now);
        // Admitted workers whose subscription is still missing will receive the next pulse instead: keep their
        // slots reserved. Which of the owed workers are missing is unknowable (subscriptions carry no identity),
        // so keep the reservations that last longest; each lapses after twice the ready wait, so a dead worker
        // cannot hold a slot forever.
        let outstanding = owed.saturating_sub(receivers) as usize;
        let lapse = self
            .now
            .saturating_add(self.config.max_wait_all_subscribers_ready)
            .saturating_add(self.config.max_wait_all_subscribers_ready);
        let now = self.now;
        self.reservations.retain(|t| *t > now);
        self.reservations
            .extend(std::iter::repeat_n(lapse, it.active as usize));
        self.reservations.sort_unstable_by(|a, b| b.cmp(a));
        self.reservations.truncate(outstanding);
        self.standing_subs = 0;
        self.fresh_subs = 0;
        self.last_publish = Some(self.now);
        self.stats.pulses += 1;
        self.stats.grants += u64::from(receivers);
        let expected = receivers.min(owed);
        self.phase = Phase::Acting {
            deadline: self
                .now
                .saturating_add(self.config.performer_container_action_max_execution_time),
            expected,
        };
        self.actions.push_back(Action::Publish {
            iteration: it.number,
            receivers,
            at: self.now,
        });
    }

    fn finish_iteration(&mut self, results_timed_out: bool) {
        let adaptation = self.adapt.on_iteration(self.iter.first_error.as_ref());
        let it = &self.iter;
        let report = IterationReport {
            iteration: it.number,
            n: it.n,
            admitted: u32::try_from(it.admitted.len()).unwrap_or(u32::MAX),
            imitated: it.imitated,
            receivers: it.receivers,
            results: it.results,
            errors: it.errors,
            results_timed_out,
            first_error: it.first_error.clone(),
            adaptation,
            next_n: self.adapt.n,
            pause: self.adapt.pause,
            excess: it.excess,
            started_at: it.started_at,
            published_at: it.published_at,
            finished_at: self.now,
        };
        self.actions.push_back(Action::IterationFinished(report));
        self.stats.iterations += 1;
        let limit = self.config.timer_iterations_limit;
        if limit > 0 && self.stats.iterations >= limit {
            self.phase = Phase::Stopped;
            // Nobody will be admitted any more: tell the waiting workers now rather than let them hang.
            while let Some(ticket) = self.queue.pop_front() {
                self.stats.refused += 1;
                self.actions.push_back(Action::Refuse(ticket));
            }
            self.actions.push_back(Action::Stop);
            return;
        }
        match adaptation {
            Adaptation::PauseForPeriod(period) if period > Nanos::ZERO => {
                self.phase = Phase::Paused {
                    until: self.now.saturating_add(period),
                };
            }
            _ => self.start_iteration(),
        }
    }

    fn start_iteration(&mut self) {
        self.iter = Iteration::new(self.iter.number + 1, self.now, self.adapt.n);
        self.phase = Phase::Gathering;
    }

    fn refresh_stats(&mut self) {
        self.stats.n = self.adapt.n;
        self.stats.pause = self.adapt.pause;
        self.stats.paused_until = match self.phase {
            Phase::Paused { until } => Some(until),
            _ => None,
        };
        self.stats.queued = self.queue.len() as u64;
    }
}
