//! Starting where a previous incarnation may have stopped: every start is treated as a restart.
//!
//! A daemon killed and started again on the same ports cannot know when its predecessor sent its last pulse,
//! nor which workers it left subscribed. So:
//!
//! - **Window.** The first pulse waits a full period (plus the guard) after the start, as if a pulse had just
//!   gone out: whatever the predecessor sent before it died, no period window holds more than N across the
//!   restart.
//! - **Settle.** Admission opens [`RESTART_SETTLE`] after the start. Workers the predecessor left subscribed
//!   reconnect on their own (ZeroMQ retries every 100 ms by default) and hand their live subscriptions to the
//!   new publisher; counted before anyone is admitted, they take places of the first pulse (a subscription
//!   counts as an admitted worker, rule 4), so that they and the newly admitted together stay within N and the
//!   first pulse serves them instead of being held. The workers asking meanwhile keep their places in the queue.
//!
//! It must never read a clock: the start instant comes from [`super::Engine::new`].

use crate::time::Nanos;

/// How long after its start the engine admits nobody, so that subscriptions left behind by a previous
/// incarnation are counted first: five of ZeroMQ's default reconnection intervals (100 ms).
pub const RESTART_SETTLE: Nanos = Nanos::from_millis(500);

/// The last pulse a predecessor may have sent, as far as a new engine can tell: at its own start.
pub(super) fn assumed_last_pulse(start: Nanos) -> Option<Nanos> {
    Some(start)
}

/// When admission opens after a start at `start`.
pub(super) fn admission_opens(start: Nanos) -> Nanos {
    start.saturating_add(RESTART_SETTLE)
}
