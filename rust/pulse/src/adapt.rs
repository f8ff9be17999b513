//! The adaptation rule: how reported errors, and pulses that come back clean, change the next pulses.
//!
//! Kept apart from the slot machinery (like a congestion controller beside a transport) so that another
//! policy could sit beside it. The rule is the original's:
//! - the first erroring result since the last decision decides, as soon as it arrives;
//! - `slowDown` set: one worker fewer per pulse while more than one is allowed, else the pause before each
//!   publish grows by one step, up to the maximum;
//! - else `sleepForPeriod` set: the daemon pauses that long, from the moment the result arrives;
//! - else the error is logged and changes nothing;
//! - a pulse whose receivers all reported without error: a pause shrinks by one step, or when there is none, N
//!   grows by one up to the setting.
//!
//! It must never look at time or at individual workers: it sees one verdict at a time.

use crate::time::Nanos;

/// An error a worker reported (`ActionResultingPushDto` with a non-empty `errorMessage`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReportedError {
    /// `slowDown` was set (not null), whatever its value.
    pub slow_down: bool,
    /// `sleepForPeriod`, if present.
    pub sleep_for: Option<Nanos>,
    /// `errorMessage`, lossily decoded for logs.
    pub message: String,
    /// `errorReason`, lossily decoded for logs.
    pub reason: String,
}

/// What the rule did with one verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Adaptation {
    /// Slow-down: N went down by one.
    Narrowed,
    /// Slow-down with N already 1: the pause grew by one step (or stayed at its maximum).
    PauseGrown,
    /// Pause-for-period: admission and pulses stop for this long.
    PauseForPeriod(Nanos),
    /// An error that asks for nothing: logged, nothing changed.
    Ignored,
    /// No error: the pause shrank by one step.
    PauseShrunk,
    /// No error: N grew by one.
    Widened,
    /// No error and nothing to recover.
    Steady,
    /// The pulse went out before the last decision was taken: its results neither decide again nor recover
    /// (they describe the rate that was just corrected).
    Superseded,
    /// Some results never came (the result timeout ran out) and none that came was an error: silence proves
    /// nothing, so nothing recovers.
    Unproven,
}

/// The adaptive state: current N and slow-down pause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdaptationState {
    /// Workers per pulse now (1..=configured N).
    pub n: u32,
    /// Pause before each publish now.
    pub pause: Nanos,
    /// Configured N: recovery never goes above it.
    pub max_n: u32,
    /// Pause step.
    pub step: Nanos,
    /// Pause ceiling.
    pub max_pause: Nanos,
}

impl AdaptationState {
    /// Starts at full speed: N = `max_n`, no pause.
    pub fn new(max_n: u32, step: Nanos, max_pause: Nanos) -> Self {
        AdaptationState {
            n: max_n.max(1),
            pause: Nanos::ZERO,
            max_n: max_n.max(1),
            step,
            max_pause,
        }
    }

    /// Applies the rule to one verdict: an erroring result (`Some`) or a pulse that came back clean (`None`).
    pub fn on_verdict(&mut self, first_error: Option<&ReportedError>) -> Adaptation {
        match first_error {
            Some(e) if e.slow_down => {
                if self.n > 1 {
                    self.n -= 1;
                    Adaptation::Narrowed
                } else {
                    self.pause = self.pause.saturating_add(self.step).min(self.max_pause);
                    Adaptation::PauseGrown
                }
            }
            Some(ReportedError {
                sleep_for: Some(period),
                ..
            }) => Adaptation::PauseForPeriod(*period),
            Some(_) => Adaptation::Ignored,
            None => {
                if self.pause > Nanos::ZERO {
                    self.pause = self.pause.saturating_sub(self.step);
                    Adaptation::PauseShrunk
                } else if self.n < self.max_n {
                    self.n += 1;
                    Adaptation::Widened
                } else {
                    Adaptation::Steady
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(n: u32) -> AdaptationState {
        AdaptationState::new(n, Nanos::from_secs(1), Nanos::from_secs(300))
    }

    fn slow_down() -> ReportedError {
        ReportedError {
            slow_down: true,
            ..Default::default()
        }
    }

    #[test]
    fn slow_down_narrows_n_down_to_one_then_grows_the_pause() {
        let mut s = state(3);
        assert_eq!(s.on_verdict(Some(&slow_down())), Adaptation::Narrowed);
        assert_eq!(s.n, 2);
        assert_eq!(s.on_verdict(Some(&slow_down())), Adaptation::Narrowed);
        assert_eq!(s.n, 1);
        assert_eq!(s.on_verdict(Some(&slow_down())), Adaptation::PauseGrown);
        assert_eq!((s.n, s.pause), (1, Nanos::from_secs(1)));
        assert_eq!(s.on_verdict(Some(&slow_down())), Adaptation::PauseGrown);
        assert_eq!(s.pause, Nanos::from_secs(2));
    }

    #[test]
    fn pause_is_capped_at_the_maximum() {
        let mut s = state(1);
        for _ in 0..400 {
            s.on_verdict(Some(&slow_down()));
        }
        assert_eq!(s.pause, Nanos::from_secs(300));
    }

    #[test]
    fn recovery_shrinks_the_pause_first_then_widens_n_up_to_the_setting() {
        let mut s = state(2);
        s.on_verdict(Some(&slow_down())); // n 1
        s.on_verdict(Some(&slow_down())); // pause 1
        s.on_verdict(Some(&slow_down())); // pause 2
        assert_eq!(s.on_verdict(None), Adaptation::PauseShrunk);
        assert_eq!(s.pause, Nanos::from_secs(1));
        assert_eq!(s.on_verdict(None), Adaptation::PauseShrunk);
        assert_eq!(s.pause, Nanos::ZERO);
        assert_eq!(s.on_verdict(None), Adaptation::Widened);
        assert_eq!(s.n, 2);
        assert_eq!(s.on_verdict(None), Adaptation::Steady);
        assert_eq!(s.n, 2);
    }

    #[test]
    fn pause_shrinks_by_a_step_without_going_below_zero() {
        let mut s = AdaptationState::new(1, Nanos::from_millis(700), Nanos::from_secs(300));
        s.pause = Nanos::from_millis(500);
        assert_eq!(s.on_verdict(None), Adaptation::PauseShrunk);
        assert_eq!(s.pause, Nanos::ZERO);
    }

    #[test]
    fn slow_down_wins_over_sleep_for_period() {
        let mut s = state(5);
        let e = ReportedError {
            slow_down: true,
            sleep_for: Some(Nanos::from_secs(3600)),
            ..Default::default()
        };
        assert_eq!(s.on_verdict(Some(&e)), Adaptation::Narrowed);
        assert_eq!(s.n, 4);
    }

    #[test]
    fn sleep_for_period_changes_neither_n_nor_pause() {
        let mut s = state(5);
        s.n = 3;
        let e = ReportedError {
            sleep_for: Some(Nanos::from_secs(3600)),
            ..Default::default()
        };
        assert_eq!(
            s.on_verdict(Some(&e)),
            Adaptation::PauseForPeriod(Nanos::from_secs(3600))
        );
        assert_eq!((s.n, s.pause), (3, Nanos::ZERO));
    }

    #[test]
    fn an_error_without_instructions_is_ignored_and_does_not_count_as_recovery() {
        let mut s = state(5);
        s.n = 3;
        let e = ReportedError {
            message: "boom".into(),
            ..Default::default()
        };
        assert_eq!(s.on_verdict(Some(&e)), Adaptation::Ignored);
        assert_eq!(s.n, 3);
    }
}
