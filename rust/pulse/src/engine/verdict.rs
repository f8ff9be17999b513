//! What results change (rules 6 and 7 of the engine's module docs): crediting a result to the pulse that owes
//! it, the adaptation it drives (slow-down, pause-for-period, recovery), and the report of a finished pulse.
//!
//! It must never let a result free a slot that no pulse holds, nor let a result of a pulse sent before the last
//! decision decide again: results carry no identity, so everything here is counted against what is owed.

use super::flights::{Credit, Flight};
use super::{Action, Engine, IterationReport, PauseCause};
use crate::adapt::{Adaptation, ReportedError};

impl Engine {
    /// Credits a result to the oldest pulse that owes one; the first error since the last decision decides.
    pub(super) fn on_result(&mut self, outcome: Option<ReportedError>) {
        let error = outcome.clone();
        let seq = match self.flights.credit(Some(outcome)) {
            Credit::Flight(seq) => seq,
            Credit::Nobody => {
                self.stats.late_results += 1;
                // See `Event::AskedAgain`: an uncounted receiver may already have asked again and left an
                // anonymous place that stands for nobody. Bounded by N so that a flood of fake results cannot
                // pile up credit.
                if !self.roster.drop_oldest_anonymous() {
                    self.unowed_results = (self.unowed_results + 1).min(self.adapt.n);
                }
                return;
            }
        };
        self.stats.results += 1;
        let Some(error) = error else {
            self.stats.successes += 1;
            return;
        };
        self.stats.errors += 1;
        // The same precedence as the adaptation rule: slow-down wins over a pause-for-period.
        if error.slow_down {
            self.stats.slow_down_results += 1;
        } else if error.sleep_for.is_some() {
            self.stats.sleep_for_period_results += 1;
        } else {
            self.stats.ignored_errors += 1;
        }
        let undecided = seq > self.decided_through
            && self
                .flights
                .get(seq)
                .is_some_and(|f| f.errors == 1 && f.first_error.is_some());
        if undecided {
            let mut adaptation = self.adapt.on_verdict(Some(&error));
            self.decided_through = self.pulses;
            match adaptation {
                Adaptation::PauseForPeriod(requested) => {
                    // The length is a number a peer sent: never more than the configured cap.
                    let applied = requested.min(self.config.max_pause_for_period);
                    adaptation = Adaptation::PauseForPeriod(applied);
                    let until = self.now.saturating_add(applied);
                    self.paused_until = Some(self.paused_until.map_or(until, |t| t.max(until)));
                    self.actions.push_back(Action::Paused {
                        cause: PauseCause::ForPeriod,
                        requested,
                        applied,
                    });
                }
                Adaptation::PauseGrown => self.actions.push_back(Action::Paused {
                    cause: PauseCause::SlowDown,
                    requested: self.adapt.pause,
                    applied: self.adapt.pause,
                }),
                _ => {}
            }
            self.flights.set_decision(seq, adaptation);
        }
    }

    /// A pulse's results are all in, or its result timeout ran out: its verdict, then one report.
    pub(super) fn finish(&mut self, flight: Flight) {
        self.stats.iterations += 1;
        // Missing results: lapsed at the deadline, or written off as a lost receiver's debt before it.
        let unreported = flight.outstanding.saturating_add(flight.written_off);
        self.stats.lapsed_results += u64::from(unreported);
        let adaptation = match flight.decision {
            Some(decided) => decided,
            None if flight.seq <= self.decided_through => Adaptation::Superseded,
            None if flight.errors > 0 => Adaptation::Superseded,
            None if unreported > 0 => Adaptation::Unproven,
            None => self.adapt.on_verdict(None),
        };
        self.actions
            .push_back(Action::IterationFinished(IterationReport {
                iteration: flight.seq,
                n: flight.n,
                imitated: flight.n.saturating_sub(flight.receivers),
                receivers: flight.receivers,
                results: flight.results,
                errors: flight.errors,
                results_timed_out: unreported > 0,
                unreported,
                first_error: flight.first_error,
                adaptation,
                next_n: self.adapt.n,
                pause: self.adapt.pause,
                published_at: flight.published_at,
                finished_at: self.now,
            }));
    }
}
