//! The engine's settings: the original `PublisherPulsarDto` values that shape a pulse, with its defaults.

use crate::time::Nanos;
use thiserror::Error;

/// A setting that cannot be used; the message names the setting as `PublisherPulsarDto` does.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConfigError {
    /// `subscribersPerIteration` must be at least 1.
    #[error("subscribersPerIteration must be at least 1 (got {0})")]
    SubscribersPerIteration(u64),
    /// `pulsationIterationPeriod` must be a positive number of seconds.
    #[error("pulsationIterationPeriod must be a positive number of seconds (got {0})")]
    PulsationIterationPeriod(String),
    /// `performerContainerActionMaxExecutionTime` below the original's minimum of 7 s.
    #[error("performerContainerActionMaxExecutionTime must be at least 7 seconds (got {0})")]
    PerformerContainerActionMaxExecutionTime(String),
    /// `maxWaitReplyStackResult` must be a non-negative number of seconds.
    #[error("maxWaitReplyStackResult must be a non-negative number of seconds (got {0})")]
    MaxWaitReplyStackResult(String),
    /// `maxWaitAllSubscribersReadyBeforePublish` must be a positive number of seconds.
    #[error(
        "maxWaitAllSubscribersReadyBeforePublish must be a positive number of seconds (got {0})"
    )]
    MaxWaitAllSubscribersReady(String),
    /// `maxAdmissionQueue` must be at least 1.
    #[error("maxAdmissionQueue must be at least 1 (got {0})")]
    MaxAdmissionQueue(u64),
    /// `maxPauseForPeriod` must be positive.
    #[error("maxPauseForPeriod must be positive (got {0} s)")]
    MaxPauseForPeriod(String),
}

/// The original's minimum (and default) for `performerContainerActionMaxExecutionTime`, in seconds.
pub const MIN_ACTION_MAX_EXECUTION_SECS: f64 = 7.0;

/// Settings of one pulse engine. Build with [`PulseConfig::default`] and the setters in `config` of the daemon,
/// then call [`PulseConfig::validate`].
#[derive(Debug, Clone, PartialEq)]
pub struct PulseConfig {
    /// `subscribersPerIteration`: N, the most workers released per pulse (default 10).
    pub subscribers_per_iteration: u32,
    /// `pulsationIterationPeriod`: publishes are at least this far apart (default 1 s).
    pub pulsation_iteration_period: Nanos,
    /// `performerContainerActionMaxExecutionTime`: how long released workers get to report (default 7 s).
    pub performer_container_action_max_execution_time: Nanos,
    /// `maxWaitReplyStackResult`: the longest a ready worker waits for admitted company that is still
    /// subscribing, never more than a tenth of the period (the original waited this long for N workers;
    /// default 5 s).
    pub max_wait_reply_stack_result: Nanos,
    /// `maxWaitAllSubscribersReadyBeforePublish`: how long admitted workers get to subscribe (default 7 s).
    pub max_wait_all_subscribers_ready: Nanos,
    /// `timerIterationsLimit`: stop after this many iterations; 0 = run forever (default 0).
    pub timer_iterations_limit: u64,
    /// How much the slow-down pause grows or shrinks per iteration (the original's 1 s step).
    pub slow_down_step: Nanos,
    /// The slow-down pause never exceeds this (the original's 300 s).
    pub max_slow_down_pause: Nanos,
    /// Most workers waiting for admission; beyond it requests are refused at once (default 65 536).
    pub max_admission_queue: usize,
    /// `maxActingPerformers`: the concurrency bound, i.e. how many workers may hold a slot at once, from their
    /// admission until their result, early termination or the result timeout. 0 (the default) follows the N in
    /// force, which is the original's meaning (an iteration's N workers act before the next N are admitted).
    pub max_acting_performers: u32,
    /// `pulseGuardInterval`: extra spacing between pulses so that the workers' own clocks, which receive a pulse
    /// a little later and a little apart, still see at most N per period window. The engine applies at most
    /// [`MAX_GUARD_SHARE_OF_PERIOD`] of the period (default 5 ms).
    pub pulse_guard_interval: Nanos,
    /// `maxPauseForPeriod`: the longest one pause-for-period may last, whatever a result asks for (a peer's
    /// `sleepPeriod` is only a number on the wire; default 24 h, the longest quota day).
    pub max_pause_for_period: Nanos,
}

/// The guard between pulses never takes more than this share of the period (1/50 = 2 %), so that its cost in
/// throughput stays small at every period.
pub const MAX_GUARD_SHARE_OF_PERIOD: u64 = 50;

impl Default for PulseConfig {
    fn default() -> Self {
        PulseConfig {
            subscribers_per_iteration: 10,
            pulsation_iteration_period: Nanos::from_secs(1),
            performer_container_action_max_execution_time: Nanos::from_secs(7),
            max_wait_reply_stack_result: Nanos::from_secs(5),
            max_wait_all_subscribers_ready: Nanos::from_secs(7),
            timer_iterations_limit: 0,
            slow_down_step: Nanos::from_secs(1),
            max_slow_down_pause: Nanos::from_secs(300),
            max_admission_queue: 65_536,
            max_acting_performers: 0,
            pulse_guard_interval: Nanos::from_millis(5),
            max_pause_for_period: Nanos::from_secs(24 * 3600),
        }
    }
}

impl PulseConfig {
    /// Checks every setting; the first bad one is reported by name.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.subscribers_per_iteration == 0 {
            return Err(ConfigError::SubscribersPerIteration(0));
        }
        if self.pulsation_iteration_period == Nanos::ZERO {
            return Err(ConfigError::PulsationIterationPeriod("0".into()));
        }
        let min_exec = Nanos::from_secs_f64(MIN_ACTION_MAX_EXECUTION_SECS);
        if self.performer_container_action_max_execution_time < min_exec {
            return Err(ConfigError::PerformerContainerActionMaxExecutionTime(
                format!(
                    "{}",
                    self.performer_container_action_max_execution_time
                        .as_secs_f64()
                ),
            ));
        }
        if self.max_wait_all_subscribers_ready == Nanos::ZERO {
            return Err(ConfigError::MaxWaitAllSubscribersReady("0".into()));
        }
        if self.max_admission_queue == 0 {
            return Err(ConfigError::MaxAdmissionQueue(0));
        }
        if self.max_pause_for_period == Nanos::ZERO {
            return Err(ConfigError::MaxPauseForPeriod("0".into()));
        }
        Ok(())
    }
}
