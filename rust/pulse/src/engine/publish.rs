//! When a pulse goes out and to how many (rules 1, 2, 5 and 9 of the engine's module docs): the period, the
//! guard and the slow-down pause between pulses, the short wait for admitted company, the hold when more
//! subscriptions are present than N, and what a publish releases.
//!
//! It must never send a pulse to more than N subscriptions, nor bring two pulses closer than one period plus
//! the guard: those two properties are what keeps every period window at N or fewer.

use super::flights::Flight;
use super::{Action, Engine};
use crate::config::MAX_GUARD_SHARE_OF_PERIOD;
use crate::time::Nanos;

impl Engine {
    /// `pulsationIterationPeriod`.
    pub(super) fn period(&self) -> Nanos {
        self.config.pulsation_iteration_period
    }

    /// The guard added to the period: `min(pulseGuardInterval, period / 50)`.
    pub(super) fn guard(&self) -> Nanos {
        let cap = Nanos(self.period().0 / MAX_GUARD_SHARE_OF_PERIOD);
        self.config.pulse_guard_interval.min(cap)
    }

    /// The longest a ready worker waits for admitted company: `min(maxWaitReplyStackResult, period / 10)`; for
    /// the first pulse of a first daemon, `min(maxWaitReplyStackResult, period)` (see `restart`).
    pub(super) fn company_wait(&self) -> Nanos {
        let share = if self.first_gathers && self.last_sent.is_none() {
            self.period()
        } else {
            Nanos(self.period().0 / 10)
        };
        self.config.max_wait_reply_stack_result.min(share)
    }

    /// The earliest moment the period, the guard and the slow-down pause allow the next pulse (and, before the
    /// first one, what a predecessor may have sent: see `restart`).
    pub(super) fn earliest_publish(&self) -> Nanos {
        match self.last_sent {
            Some(t) => t
                .saturating_add(self.period())
                .saturating_add(self.guard())
                .saturating_add(self.adapt.pause),
            None => self.first_pulse_at,
        }
    }

    /// Whether a pulse due now that would reach `receivers` waits for admitted workers still on their way to
    /// subscribing (rule 1; `docs/protocol.md`, rule 3). Only tickets count as on their way, not anonymous
    /// places: an anonymous place stands for a subscription that may already have come (a receiver counted in
    /// another's stead) or, after a race in the count, one that never will. It keeps its place in the count
    /// (admission errs towards fewer), but a pulse never waits for it, or such a phantom would cost every pulse
    /// the whole company wait until the ready wait ends.
    fn waits_for_company(&self, receivers: u32) -> bool {
        let anonymous = u32::try_from(self.roster.anonymous()).unwrap_or(u32::MAX);
        receivers < self.adapt.n && self.joiners() > anonymous
    }

    /// Publishes if time, the pause, N and the company wait allow; true if it did.
    pub(super) fn try_publish(&mut self) -> bool {
        if self.waiting == 0 {
            self.due_since = None;
            return false;
        }
        if self.paused_until.is_some() || self.now < self.earliest_publish() {
            return false;
        }
        let receivers = self.waiting.saturating_add(self.departing);
        let limit = self.config.subscribers_per_iteration;
        if receivers > limit {
            if !self.holding {
                self.holding = true;
                self.stats.held_pulses += 1;
                self.actions.push_back(Action::PulseHeld {
                    subscriptions: receivers,
                    limit,
                });
            }
            return false;
        }
        self.holding = false;
        let due_since = *self.due_since.get_or_insert(self.now);
        if self.waits_for_company(receivers)
            && self.now < due_since.saturating_add(self.company_wait())
        {
            // Company is on its way: wait a little for it.
            return false;
        }
        self.publish(receivers);
        true
    }

    /// Sends a pulse to `receivers` now: one flight, the oldest admitted workers released.
    fn publish(&mut self, receivers: u32) {
        self.pulses += 1;
        let seq = self.pulses;
        self.flights.launch(Flight {
            seq,
            n: self.adapt.n,
            receivers,
            // Earlier receivers still subscribed get this pulse too (it counts towards N) but owe their one
            // result to their own pulse: only the new receivers owe one here.
            owed: self.waiting,
            outstanding: self.waiting,
            written_off: 0,
            lost: 0,
            results: 0,
            errors: 0,
            first_error: None,
            decision: None,
            published_at: self.now,
            deadline: self
                .now
                .saturating_add(self.config.performer_container_action_max_execution_time),
        });
        // Strays are receivers no tracked worker owed: only the other subscriptions release tracked workers, or
        // a worker still on its way would lose its place to a stray and admission would fill it a second time.
        let released = self
            .waiting
            .saturating_sub(self.strays)
            .min(u32::try_from(self.roster.len()).unwrap_or(u32::MAX));
        let actions = &mut self.actions;
        self.roster
            .release_oldest(released as usize, |t| actions.push_back(Action::Forget(t)));
        self.departing = self.departing.saturating_add(self.waiting);
        self.waiting = 0;
        self.strays = 0;
        self.ready_owed = self
            .ready_owed
            .min(u32::try_from(self.roster.len()).unwrap_or(u32::MAX));
        self.last_sent = Some(self.now);
        self.due_since = None;
        self.stats.pulses += 1;
        self.stats.grants += u64::from(receivers);
        self.actions.push_back(Action::Publish {
            iteration: seq,
            receivers,
            at: self.now,
        });
        let limit = self.config.timer_iterations_limit;
        if limit > 0 && self.pulses >= limit {
            // No pulse will follow: tell the waiting workers now rather than let them hang.
            self.stopping = true;
            while let Some(ticket) = self.queue.pop_front() {
                self.stats.refused += 1;
                self.actions.push_back(Action::Refuse(ticket));
            }
            let actions = &mut self.actions;
            self.roster.clear(|t| actions.push_back(Action::Forget(t)));
        }
    }

    /// The last pulse's results are in after `timerIterationsLimit`: the driver should stop.
    pub(super) fn stop(&mut self) {
        self.stopped = true;
        self.actions.push_back(Action::Stop);
    }
}
