//! The engine's counters and its state now ([`Stats`]), as every front-end reads them.
//!
//! The engine keeps the counters as it goes and refreshes the "now" figures after each step. This module must
//! never count anything itself nor be written to by a driver: a driver that counts more keeps those figures
//! beside these (see the daemon's statistics), never in them.

use super::Engine;
#[cfg(doc)]
use super::Event;
use crate::time::Nanos;

/// Counters since the engine started, and its state now.
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
    /// Results credited to a released worker.
    pub results: u64,
    /// Credited results without error. `successes + slow_down_results + sleep_for_period_results +
    /// ignored_errors == results`.
    pub successes: u64,
    /// Credited erroring results that asked to slow down (slow-down wins when a result asks for both).
    pub slow_down_results: u64,
    /// Credited erroring results that asked for a pause-for-period and not to slow down.
    pub sleep_for_period_results: u64,
    /// Credited erroring results that asked for nothing (neither slow-down nor a pause-for-period).
    pub ignored_errors: u64,
    /// Results that found no released worker owed (late, or not from a worker): ignored.
    pub late_results: u64,
    /// Pulses whose results are all in (or timed out).
    pub iterations: u64,
    /// Workers waiting for admission now.
    pub queued: u64,
    /// Admission requests refused.
    pub refused: u64,
    /// Workers admitted and not yet released now.
    pub admitted_waiting: u32,
    /// Subscriptions present now.
    pub subscriptions: u32,
    /// Released workers whose result is owed now (slots held by acting workers).
    pub acting: u32,
    /// Admitted workers whose tracked place was dropped: found gone before their pulse (connection closed, or
    /// their admission reply could not be delivered), or asking again after a pulse they were not counted for
    /// (see [`Event::AskedAgain`]).
    pub departed: u64,
    /// Admitted workers that asked again while still tracked: their place stayed, anonymous, for the
    /// subscription a publish took them for (see [`Event::AskedAgain`]).
    pub anonymized: u64,
    /// Admitted workers dropped because their subscription never came within the ready wait.
    pub subscription_timeouts: u64,
    /// Results owed that never came (their slot lapsed at the result timeout).
    pub lapsed_results: u64,
    /// Receivers the driver reported lost ([`Event::ReceiverLost`]) whose debt is written off at their pulse's
    /// result timeout.
    pub lost_receivers: u64,
    /// Reports of lost receivers for a pulse that owed nothing more: ignored.
    pub ignored_losses: u64,
    /// Readies beyond the admitted workers: ignored.
    pub ignored_readies: u64,
    /// Early terminations that free nothing: informational ones (`standOnSubscription` false), and those with
    /// no released worker owed.
    pub ignored_early_terminations: u64,
    /// Unsubscriptions with no subscription present: ignored.
    pub ignored_unsubscriptions: u64,
    /// Times a pulse was held because more than N subscriptions were present.
    pub held_pulses: u64,
}

impl Engine {
    /// Copies the state now (N, pause, queue, slots, subscriptions) into the counters after a step.
    pub(super) fn refresh_stats(&mut self) {
        let s = &mut self.stats;
        s.n = self.adapt.n;
        s.pause = self.adapt.pause;
        s.paused_until = self.paused_until;
        s.queued = self.queue.len() as u64;
        s.admitted_waiting = u32::try_from(self.roster.len()).unwrap_or(u32::MAX);
        s.subscriptions = self.waiting.saturating_add(self.departing);
        s.acting = self.flights.acting();
    }
}
