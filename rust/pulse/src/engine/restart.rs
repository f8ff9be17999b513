//! Starting where a previous incarnation may have stopped.
//!
//! A daemon started on sockets where another one ran before cannot see when its predecessor sent its last
//! pulse, nor which workers it left subscribed. The driver tells the engine what it knows ([`Predecessor`], read
//! from the record the predecessor kept); the engine then guards against the rest:
//!
//! - **Window.** The first pulse waits until a full period (plus the guard) has passed since the predecessor's
//!   last pulse could have gone out: at once when that is long past, a whole period after the start when it is
//!   unknown (the predecessor died and may have pulsed just before). So no period window holds more than N across
//!   a restart, whenever the predecessor stopped.
//! - **Settle.** When a predecessor ran, admission opens [`RESTART_SETTLE`] after the start. Workers it left
//!   subscribed reconnect on their own (ZeroMQ retries every 100 ms by default) and hand their live subscriptions
//!   to the new publisher; counted before anyone is admitted, they take places of the first pulse (a subscription
//!   counts as an admitted worker, rule 4), so that they and the newly admitted together stay within N and the
//!   first pulse serves them instead of being held. The workers asking meanwhile keep their places in the queue.
//! - **No predecessor.** Nothing to guard against: the first pulse may go at once and admission is open, so a
//!   lone worker asking a freshly started daemon is served in a few round trips. When admitted workers are on
//!   their way to that first pulse, it waits for them up to `min(maxWaitReplyStackResult, period)` rather than
//!   the tenth of a period of later pulses: a fleet that starts with the daemon is still setting up its
//!   connections, and a first pulse of half of it would cost a whole period at the end of a burst. (The old rule
//!   waited a whole period before the first pulse whatever came.)
//!
//! It must never read a clock or a file: the start instant comes from [`super::Engine::after`], and what is known
//! of the predecessor from the driver.

use crate::time::Nanos;

/// How long after its start the engine admits nobody, so that subscriptions left behind by a previous
/// incarnation are counted first: five of ZeroMQ's default reconnection intervals (100 ms).
pub const RESTART_SETTLE: Nanos = Nanos::from_millis(500);

/// What a new engine knows about an incarnation that may have run before it on the same sockets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Predecessor {
    /// None ran (no trace of one): the first pulse may go at once, admission is open from the start.
    None,
    /// One ran and may have left subscribers behind; its last pulse went out at least `quiet_for` before the
    /// start ([`Nanos::ZERO`] when that is unknown: it may have pulsed just before).
    Ran {
        /// The least time since the predecessor's last pulse.
        quiet_for: Nanos,
    },
}

impl Predecessor {
    /// A predecessor about which nothing is known: the safe assumption when no better one can be made.
    pub const UNKNOWN: Predecessor = Predecessor::Ran {
        quiet_for: Nanos::ZERO,
    };
}

/// When the first pulse may go, for an engine started at `start` whose pulses are `spacing` apart.
pub(super) fn first_pulse_at(predecessor: Predecessor, start: Nanos, spacing: Nanos) -> Nanos {
    match predecessor {
        Predecessor::None => start,
        Predecessor::Ran { quiet_for } => start.saturating_add(spacing.saturating_sub(quiet_for)),
    }
}

/// When admission opens after a start at `start`.
pub(super) fn admission_opens(predecessor: Predecessor, start: Nanos) -> Nanos {
    match predecessor {
        Predecessor::None => start,
        Predecessor::Ran { .. } => start.saturating_add(RESTART_SETTLE),
    }
}
