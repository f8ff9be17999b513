//! The engine's vocabulary with its driver: the events it is fed, the actions it asks for, and the report of
//! one pulse.
//!
//! Plain data only. It must never hold a rule: what an event changes and when an action is due is decided in
//! the engine (`super`), so that these types can be matched on by every driver without pulling logic along.

#[cfg(doc)]
use super::{Engine, Stats, READY_LAG};
use crate::adapt::{Adaptation, ReportedError};
use crate::time::Nanos;

/// An opaque handle for one admission request, chosen by the driver (e.g. an index for a ZeroMQ routing id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ticket(pub u64);

/// Something that happened, fed to [`Engine::handle`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A worker asks to be admitted to a pulse (`PreparingRequestDto`).
    AdmissionRequested(Ticket),
    /// The worker behind this ticket is gone: its admission reply could not be delivered or its connection
    /// closed.
    AdmissionLost(Ticket),
    /// The admitted worker behind this ticket asks for admission again, so it has subscribed and is done with
    /// that admission (workers subscribe right after being admitted). If its place is still tracked, a publish
    /// took another admitted worker for it; the place stays, anonymous, for that worker's subscription.
    AskedAgain(Ticket),
    /// A subscription reached the publisher.
    Subscribed,
    /// A subscription was cancelled, explicitly or because its connection ended. It takes one off the
    /// subscriptions the next pulse would reach: a receiver of an earlier pulse first (receivers unsubscribe after
    /// their pulse), else a waiting subscriber that gave up. One with no subscription present is ignored and
    /// counted ([`Stats::ignored_unsubscriptions`]), so a stray cannot make the next pulse larger than N.
    Unsubscribed,
    /// A worker reports it is subscribed (`ReadyToGetSubscriptionMsg`). Counted; the subscription itself is
    /// what makes a worker ready.
    Ready,
    /// A worker ends early (`PerformerEarlyTerminated`).
    EarlyTerminated {
        /// True: a released worker gives its permission back (no result will come). False: informational.
        stand_on_subscription: bool,
    },
    /// A released worker reports its action's result (`ActionResultingPushDto`); `None` means success.
    Result(Option<ReportedError>),
    /// A connection that pushed a Ready closed without a result or an early termination after it (the worker
    /// died), or is still silent at the result timeout of the first pulse sent after that Ready (it hangs). If
    /// a pulse had reached it, it holds that permission. The engine names the pulse: the first one sent after
    /// the Ready, else (none since) the one sent just before it if the Ready came within [`READY_LAG`] of it (a
    /// receiver pushes its Ready right after subscribing, and a due pulse goes out as soon as the subscription
    /// is counted), else none (a worker that died waiting). Its slot is given back at that pulse's result
    /// timeout even while results of later pulses keep coming (rule 3 of the engine's module docs). Ignored and
    /// counted ([`Stats::ignored_losses`]) when no pulse is named or that pulse owes nothing any more.
    ReceiverLost {
        /// [`Engine::pulses`] when the driver read the connection's last Ready.
        pulses_at_ready: u64,
        /// How long after pulse `pulses_at_ready` went out (the engine's instant) that Ready was read; `None`
        /// when no pulse had gone out.
        ready_lag: Option<Nanos>,
    },
    /// The driver finished sending the pulse just published: the next one is spaced from this instant, so that a
    /// slow send cannot bring two pulses closer than one period on the wire.
    PulseSent,
}

/// Something the driver must do, pulled with [`Engine::poll_action`].
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Tell this worker it is admitted (`BecomeTheSubscriberReplyDto{allowToStartSubscription: true}`). The
    /// driver keeps watching the worker's connection until [`Action::Forget`].
    Admit(Ticket),
    /// Tell this worker it is refused (`allowToStartSubscription: false`): the queue is full or the engine stops.
    Refuse(Ticket),
    /// The engine no longer tracks this admitted worker (released by a pulse, or its subscription wait ran out).
    Forget(Ticket),
    /// Publish the pulse now.
    Publish {
        /// Pulse number (1-based).
        iteration: u64,
        /// How many subscriptions will receive it.
        receivers: u32,
        /// The instant the engine published it at.
        at: Nanos,
    },
    /// More subscriptions are present than N: the pulse is held until some leave. Emitted once per episode.
    PulseHeld {
        /// Subscriptions present.
        subscriptions: u32,
        /// The most one pulse may reach.
        limit: u32,
    },
    /// An erroring result paused the engine: worth a warning with what was asked and what was applied.
    Paused {
        /// What paused it.
        cause: PauseCause,
        /// The pause the result asked for (pause-for-period) or the slow-down pause now in force.
        requested: Nanos,
        /// The pause applied: pause-for-period is capped at `maxPauseForPeriod`, the slow-down pause at its
        /// maximum.
        applied: Nanos,
    },
    /// A pulse's receivers all reported, or its result timeout ran out; one line for the log.
    IterationFinished(IterationReport),
    /// `timerIterationsLimit` reached: the driver should stop.
    Stop,
}

/// Why the engine paused (see [`Action::Paused`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PauseCause {
    /// A result asked for a pause-for-period (`sleepForPeriod`): no admission and no pulse until it ends.
    ForPeriod,
    /// Slow-down with N already 1: this pause now comes before each pulse.
    SlowDown,
}

/// What one pulse did, for the log line and for tests.
#[derive(Debug, Clone, PartialEq)]
pub struct IterationReport {
    /// Pulse number (1-based).
    pub iteration: u64,
    /// N in force when it went out.
    pub n: u32,
    /// Slots of N the pulse went without (N minus receivers).
    pub imitated: u32,
    /// Subscriptions that received it.
    pub receivers: u32,
    /// Results received.
    pub results: u32,
    /// Erroring results received.
    pub errors: u32,
    /// Whether some receivers had not reported when the result timeout ran out.
    pub results_timed_out: bool,
    /// Results owed that never came (their slots lapsed at the result timeout). Receivers of an earlier pulse
    /// that got this one too owe nothing here: their result belongs to their own pulse.
    pub unreported: u32,
    /// The first erroring result charged to this pulse.
    pub first_error: Option<ReportedError>,
    /// What the adaptation rule did because of this pulse.
    pub adaptation: Adaptation,
    /// N in force now.
    pub next_n: u32,
    /// Slow-down pause now.
    pub pause: Nanos,
    /// When the pulse went out.
    pub published_at: Nanos,
    /// When its last result arrived or its result timeout ran out.
    pub finished_at: Nanos,
}
