//! The daemon's counters: the engine's [`Stats`] plus what only the driver sees, readable from any thread.
//!
//! The engine's counters are copied from one place ([`DaemonStats::absorb`]); the driver adds its own. It must
//! never count what the engine counts: an engine figure is read from the engine.

use std::sync::{Arc, Mutex, PoisonError};

use pulsar_pulse::{Nanos, Stats};

/// Counters of a daemon: the engine's [`pulsar_pulse::Stats`] plus what only the driver sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DaemonStats {
    /// Everything the engine counts and its state now (slots, subscriptions, ignored messages…).
    pub engine: Stats,
    /// N now (workers per pulse after adaptation).
    pub n: u32,
    /// Slow-down pause before each publish now.
    pub pause: Nanos,
    /// End of a pause-for-period in force, if any (daemon time: since [`super::Daemon::run`] began).
    pub paused_until: Option<Nanos>,
    /// Pulses published.
    pub pulses: u64,
    /// Sum of receivers over all pulses.
    pub grants: u64,
    /// Erroring results received.
    pub errors: u64,
    /// Results credited to a released worker.
    pub results: u64,
    /// Results that found no released worker owed (late, or not from a worker): ignored.
    pub late_results: u64,
    /// Pulses whose results are all in (or timed out).
    pub iterations: u64,
    /// Workers waiting for admission now.
    pub queued: u64,
    /// Admission requests refused by the engine (queue full, stopping).
    pub refused: u64,
    /// Admission replies `allowToStartSubscription = true` delivered.
    pub admitted: u64,
    /// Admissions whose worker had gone when its reply was due.
    pub lost_admissions: u64,
    /// Admitted or waiting workers whose admission connection closed (seen by the socket monitor).
    pub disconnected_workers: u64,
    /// Malformed admission requests (answered with a refusal).
    pub rejected_requests: u64,
    /// Messages dropped: malformed, wrongly framed or unexpected, on any socket.
    pub dropped_messages: u64,
    /// The most receivers any single pulse had.
    pub max_receivers: u32,
    /// Whether the loop is running (false before [`super::Daemon::run`] and after it returned).
    pub running: bool,
}

impl DaemonStats {
    /// Takes the engine's figures; the driver's own stay as they are.
    pub(crate) fn absorb(&mut self, e: Stats) {
        self.engine = e;
        self.n = e.n;
        self.pause = e.pause;
        self.paused_until = e.paused_until;
        self.pulses = e.pulses;
        self.grants = e.grants;
        self.errors = e.errors;
        self.results = e.results;
        self.late_results = e.late_results;
        self.iterations = e.iterations;
        self.queued = e.queued;
        self.refused = e.refused;
    }
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

    pub(crate) fn store(&self, stats: DaemonStats) {
        *self.shared.lock().unwrap_or_else(PoisonError::into_inner) = stats;
    }
}
