//! The daemon's counters: the engine's [`Stats`] plus what only the driver sees, readable from any thread.
//!
//! One type composed of two parts: [`DaemonStats::engine`] is the engine's [`Stats`] as it is (taken whole in
//! one place, [`DaemonStats::absorb`]); the other fields are what only the driver sees (sockets, admission
//! replies, rejected messages, waits). It must never copy or count an engine figure: read it from `engine`.

use std::sync::{Arc, Mutex, PoisonError};

use pulsar_pulse::{Nanos, Stats};

/// Counters of a daemon: the engine's [`pulsar_pulse::Stats`] plus what only the driver sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DaemonStats {
    /// Everything the engine counts and its state now: N, the pause, pulses, grants, results by outcome, the
    /// admission queue, slots, subscriptions, ignored messages. Read engine figures here, never copy them.
    pub engine: Stats,
    /// N as configured (`subscribersPerIteration`).
    pub configured_n: u32,
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
    /// When [`super::Daemon::run`] began, as nanoseconds since the Unix epoch (zero before): daemon times such as
    /// the engine's `paused_until` are relative to it.
    pub started_unix: Nanos,
    /// Admission connections the desk knows now (one per worker's REQ socket that has asked at least once and
    /// is still connected, as far as the socket monitor has told).
    pub admission_connections: u64,
    /// Time from an admission request to the pulse that released its worker.
    pub admission_wait: WaitHistogram,
    /// Messages rejected, by socket and reason.
    pub rejected: RejectedMessages,
    /// Connections open now on the three sockets (as the socket monitors have told).
    pub open_connections: u64,
    /// `maxConnections` as applied (lowered at start to fit the descriptor limit).
    pub max_connections: u64,
    /// New connections the access check refused because their address is not in `allowFrom`.
    pub refused_not_allowed: u64,
    /// New connections the access check refused because `maxConnections` were open.
    pub refused_connection_limit: u64,
}

impl DaemonStats {
    /// The end of the pause-for-period in force as wall-clock time (since the Unix epoch), if any.
    pub fn paused_until_unix(&self) -> Option<Nanos> {
        self.engine
            .paused_until
            .map(|until| self.started_unix.saturating_add(until))
    }
}

/// Upper bounds (seconds) of [`WaitHistogram`]'s buckets; one more bucket holds everything above the last.
pub const ADMISSION_WAIT_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 60.0,
];

/// A fixed-bucket histogram of durations: plain data, copied with every snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WaitHistogram {
    /// Observations per bucket (not cumulative); the last one is above every bound of
    /// [`ADMISSION_WAIT_BUCKETS`].
    pub buckets: [u64; ADMISSION_WAIT_BUCKETS.len() + 1],
    /// Number of observations.
    pub count: u64,
    /// Sum of the observations.
    pub sum: Nanos,
}

impl WaitHistogram {
    /// The `q` quantile (0..=1) estimated from the buckets as Prometheus's `histogram_quantile` does (linear inside
    /// a bucket); `None` without observations.
    pub fn quantile(&self, q: f64) -> Option<Nanos> {
        let mut cumulative = 0u64;
        let pairs: Vec<(f64, f64)> = ADMISSION_WAIT_BUCKETS
            .iter()
            .copied()
            .chain([f64::INFINITY])
            .zip(self.buckets)
            .map(|(bound, count)| {
                cumulative += count;
                (bound, cumulative as f64)
            })
            .collect();
        crate::metrics::histogram_quantile(q, &pairs).map(Nanos::from_secs_f64)
    }

    /// Records one duration.
    pub fn observe(&mut self, wait: Nanos) {
        let secs = wait.as_secs_f64();
        let index = ADMISSION_WAIT_BUCKETS
            .iter()
            .position(|bound| secs <= *bound)
            .unwrap_or(ADMISSION_WAIT_BUCKETS.len());
        self.buckets[index] += 1;
        self.count += 1;
        self.sum = self.sum.saturating_add(wait);
    }
}

/// Why a message was rejected, with the socket it came in on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// Admission socket: not `[identity, "", body]`.
    AdmissionFraming,
    /// Admission socket: a body that is not a `PreparingRequestDto` (answered with a refusal).
    AdmissionMalformed,
    /// Admission socket: `readyToAct = false` (answered with a refusal).
    AdmissionNotReady,
    /// Publisher socket: a message that is not a subscribe or unsubscribe.
    PublisherNotSubscription,
    /// Inbox socket: more than one frame.
    InboxFraming,
    /// Inbox socket: a body that is no protocol message.
    InboxMalformed,
}

impl Rejection {
    /// Every kind, in the order of [`RejectedMessages::counts`].
    pub const ALL: [Rejection; 6] = [
        Rejection::AdmissionFraming,
        Rejection::AdmissionMalformed,
        Rejection::AdmissionNotReady,
        Rejection::PublisherNotSubscription,
        Rejection::InboxFraming,
        Rejection::InboxMalformed,
    ];

    /// The `socket` and `reason` labels of `pulsar_rejected_messages_total`.
    pub fn labels(self) -> (&'static str, &'static str) {
        match self {
            Rejection::AdmissionFraming => ("admission", "framing"),
            Rejection::AdmissionMalformed => ("admission", "malformed"),
            Rejection::AdmissionNotReady => ("admission", "not_ready"),
            Rejection::PublisherNotSubscription => ("publisher", "not_subscription"),
            Rejection::InboxFraming => ("inbox", "framing"),
            Rejection::InboxMalformed => ("inbox", "malformed"),
        }
    }
}

/// Rejected messages counted by [`Rejection`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RejectedMessages {
    /// Counts in the order of [`Rejection::ALL`].
    pub counts: [u64; Rejection::ALL.len()],
}

impl RejectedMessages {
    /// Counts one rejection.
    pub fn add(&mut self, kind: Rejection) {
        if let Some(i) = Rejection::ALL.iter().position(|k| *k == kind) {
            self.counts[i] += 1;
        }
    }

    /// Each kind with its count.
    pub fn iter(&self) -> impl Iterator<Item = (Rejection, u64)> + '_ {
        Rejection::ALL
            .iter()
            .copied()
            .zip(self.counts.iter().copied())
    }
}

impl DaemonStats {
    /// Takes the engine's figures; the driver's own stay as they are.
    pub(crate) fn absorb(&mut self, e: Stats) {
        self.engine = e;
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
