//! What the daemon tells people: one log line per pulse, rate-limited warnings about bad input, and the
//! engine's view of a worker's result with its texts made safe for a log line.
//!
//! It must never decide anything: it formats what the engine and the driver already decided.

use std::time::{Duration, Instant};

use pulsar_pulse::adapt::ReportedError;
use pulsar_pulse::{IterationReport, Nanos, PauseCause, Stats};
use pulsar_wire::ActionResult;
use tracing::{debug, info, warn};

use super::LOG_TARGET;

/// At most one warning per this interval and kind of malformed input; the rest are counted.
pub(crate) const WARN_INTERVAL: Duration = Duration::from_secs(1);

/// Longest error message or reason kept from a worker's result (they go into log lines).
pub(crate) const MAX_REPORTED_TEXT: usize = 512;

/// Lets one warning through per [`WARN_INTERVAL`], counting the ones it holds back.
#[derive(Debug, Default)]
pub(crate) struct WarnGate {
    last: Option<Instant>,
    held_back: u64,
}

impl WarnGate {
    /// `Some(number held back since the last warning)` when a warning may be logged now.
    pub(crate) fn admit(&mut self) -> Option<u64> {
        let now = Instant::now();
        match self.last {
            Some(last) if now.duration_since(last) < WARN_INTERVAL => {
                self.held_back += 1;
                None
            }
            _ => {
                self.last = Some(now);
                Some(std::mem::take(&mut self.held_back))
            }
        }
    }
}

/// The engine's view of a result: `None` for success, the error's instructions otherwise.
pub(crate) fn reported_error(result: ActionResult) -> Option<ReportedError> {
    if !result.is_error() {
        return None;
    }
    Some(ReportedError {
        slow_down: result.slow_down.is_some(),
        sleep_for: result.sleep_for_period.map(Nanos::from_micros),
        message: log_text(result.error_message.as_deref()),
        reason: log_text(result.error_reason.as_deref()),
    })
}

/// Lossy UTF-8, cut to a length fit for a log line.
pub(crate) fn log_text(bytes: Option<&[u8]>) -> String {
    let text = String::from_utf8_lossy(bytes.unwrap_or_default());
    match text.char_indices().nth(MAX_REPORTED_TEXT) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.into_owned(),
    }
}

/// Bytes in hex, for routing ids in logs.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// One line per pulse at info (when its results are in), the whole report at debug. The engine's state at that
/// moment comes along (admission queue, admitted workers not yet released, subscriptions present, slots held by
/// acting workers), so a reader sees the backlog and where capacity went.
pub(crate) fn log_iteration(report: &IterationReport, now: &Stats) {
    let queued = now.queued;
    let admitted = now.admitted_waiting;
    let subscribed = now.subscriptions;
    let acting = now.acting;
    let adaptation = format!("{:?}", report.adaptation);
    // `late` counts released workers that did not report before the result timeout.
    let late = report.unreported;
    match &report.first_error {
        Some(error) => info!(
            target: LOG_TARGET,
            iteration = report.iteration,
            n = report.n,
            receivers = report.receivers,
            results = report.results,
            errors = report.errors,
            late,
            adaptation,
            next_n = report.next_n,
            pause = %report.pause,
            queued,
            admitted,
            subscribed,
            acting,
            error_message = %error.message,
            error_reason = %error.reason,
            "pulse iteration finished"
        ),
        None => info!(
            target: LOG_TARGET,
            iteration = report.iteration,
            n = report.n,
            receivers = report.receivers,
            results = report.results,
            errors = report.errors,
            late,
            adaptation,
            next_n = report.next_n,
            pause = %report.pause,
            queued,
            admitted,
            subscribed,
            acting,
            "pulse iteration finished"
        ),
    }
    debug!(target: LOG_TARGET, ?report, "pulse report");
}

/// A warning when an erroring result pauses the daemon: what was asked, what was applied (capped), and for a
/// pause-for-period the wall-clock time it ends, so that an operator sees at once why nobody is served.
pub(crate) fn log_pause(cause: PauseCause, requested: Nanos, applied: Nanos) {
    let (requested_s, applied_s) = (requested.as_secs_f64(), applied.as_secs_f64());
    match cause {
        PauseCause::ForPeriod => {
            let ends_at = std::time::SystemTime::now()
                .checked_add(Duration::from_nanos(applied.as_nanos()))
                .map_or_else(
                    || "beyond the clock's range".to_string(),
                    |t| humantime::format_rfc3339_seconds(t).to_string(),
                );
            warn!(
                target: LOG_TARGET,
                requested_s,
                applied_s,
                capped = requested > applied,
                %ends_at,
                "pausing admission and pulses for a period (a worker's result asked for it)"
            );
        }
        PauseCause::SlowDown => warn!(
            target: LOG_TARGET,
            pause_s = applied_s,
            "slow-down at one worker per pulse: pausing before each pulse"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_success_is_no_error_and_an_empty_message_is_no_error() {
        assert_eq!(reported_error(ActionResult::default()), None);
        let empty = ActionResult {
            error_message: Some(Vec::new()),
            slow_down: Some(true),
            ..ActionResult::default()
        };
        assert_eq!(reported_error(empty), None);
    }

    #[test]
    fn an_error_carries_its_instructions_and_lossy_text() {
        let result = ActionResult {
            action_complete_correctly: Some(false),
            error_message: Some(b"rate \xff limit".to_vec()),
            error_reason: Some(b"userRateLimitExceeded".to_vec()),
            sleep_for_period: Some(600_000),
            slow_down: Some(false),
        };
        let error = reported_error(result).expect("an error");
        assert!(
            error.slow_down,
            "slowDown set, even false, asks for a slow-down"
        );
        assert_eq!(error.sleep_for, Some(Nanos::from_millis(600)));
        assert_eq!(error.message, "rate \u{fffd} limit");
        assert_eq!(error.reason, "userRateLimitExceeded");
    }

    #[test]
    fn long_error_texts_are_cut_for_the_log() {
        let long = "я".repeat(MAX_REPORTED_TEXT * 3);
        let text = log_text(Some(long.as_bytes()));
        assert_eq!(text.chars().count(), MAX_REPORTED_TEXT + 1);
        assert!(text.ends_with('…'));
    }

    #[test]
    fn the_warning_gate_lets_one_through_per_interval_and_counts_the_rest() {
        let mut gate = WarnGate::default();
        assert_eq!(gate.admit(), Some(0));
        assert_eq!(gate.admit(), None);
        assert_eq!(gate.admit(), None);
        gate.last = gate.last.and_then(|t| t.checked_sub(WARN_INTERVAL));
        assert_eq!(gate.admit(), Some(2));
    }
}
