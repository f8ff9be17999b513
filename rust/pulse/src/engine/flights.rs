//! Flights: pulses that went out and whose receivers have not all reported yet.
//!
//! Results, like subscriptions, carry no identity. A result is credited to the oldest flight still waiting for
//! one, which is the order in which receivers act when their actions take about the same time; the credit only
//! decides which pulse an error is charged to, never how many slots are held. A flight ends when each of its
//! receivers has reported (or given its permission back) or when its result timeout runs out; what was still
//! missing then lapses, and each missing result has held exactly one slot until then.
//!
//! It must never adapt N or the pause itself: it records what came back and hands finished flights to the engine.

use std::collections::VecDeque;

use crate::adapt::{Adaptation, ReportedError};
use crate::time::Nanos;

/// One pulse on its way: who received it and what they reported so far.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Flight {
    /// The pulse's number (1-based).
    pub seq: u64,
    /// N in force when it went out.
    pub n: u32,
    /// Subscriptions that received it.
    pub receivers: u32,
    /// Receivers whose result (or early termination) has not arrived.
    pub outstanding: u32,
    /// Results received.
    pub results: u32,
    /// Erroring results received.
    pub errors: u32,
    /// The first erroring result charged to this pulse.
    pub first_error: Option<ReportedError>,
    /// What the adaptation rule did when this pulse's first error arrived, if it decided anything.
    pub decision: Option<Adaptation>,
    /// When the engine decided to publish it.
    pub published_at: Nanos,
    /// When the missing results lapse.
    pub deadline: Nanos,
}

/// What a result or early termination found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Credit {
    /// Credited to the flight with this sequence number.
    Flight(u64),
    /// No released worker was outstanding: the message is ignored.
    Nobody,
}

/// Pulses still waiting for results, oldest first.
#[derive(Debug, Clone, Default)]
pub(crate) struct Flights {
    queue: VecDeque<Flight>,
    /// Sum of `outstanding` over the queue: slots held by released workers.
    acting: u32,
}

impl Flights {
    /// Slots held by released workers that have not reported.
    pub(crate) fn acting(&self) -> u32 {
        self.acting
    }

    /// Whether no pulse is waiting for results.
    pub(crate) fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// A pulse went out.
    pub(crate) fn launch(&mut self, flight: Flight) {
        self.acting = self.acting.saturating_add(flight.outstanding);
        self.queue.push_back(flight);
    }

    /// Credits one result (`Some(outcome)`, where `None` is a success) or one early termination (`None`) to the
    /// oldest flight still waiting.
    pub(crate) fn credit(&mut self, result: Option<Option<ReportedError>>) -> Credit {
        let Some(flight) = self.queue.iter_mut().find(|f| f.outstanding > 0) else {
            return Credit::Nobody;
        };
        flight.outstanding -= 1;
        self.acting = self.acting.saturating_sub(1);
        if let Some(outcome) = result {
            flight.results += 1;
            if let Some(error) = outcome {
                flight.errors += 1;
                if flight.first_error.is_none() {
                    flight.first_error = Some(error);
                }
            }
        }
        Credit::Flight(flight.seq)
    }

    /// The flight with this sequence number, if it is still waiting.
    pub(crate) fn get(&self, seq: u64) -> Option<&Flight> {
        self.queue.iter().find(|f| f.seq == seq)
    }

    /// Records the decision one of this flight's results led to.
    pub(crate) fn set_decision(&mut self, seq: u64, decision: Adaptation) {
        if let Some(flight) = self.queue.iter_mut().find(|f| f.seq == seq) {
            flight.decision = Some(decision);
        }
    }

    /// Takes the oldest flight if it is finished at `now`: every receiver reported, or its deadline passed (the
    /// missing results lapse and free their slots). Flights finish in order, so a later flight waits for an
    /// earlier one's verdict.
    pub(crate) fn land(&mut self, now: Nanos) -> Option<Flight> {
        let front = self.queue.front()?;
        if front.outstanding > 0 && now < front.deadline {
            return None;
        }
        let flight = self.queue.pop_front()?;
        self.acting = self.acting.saturating_sub(flight.outstanding);
        Some(flight)
    }

    /// The earliest result deadline.
    pub(crate) fn next_deadline(&self) -> Option<Nanos> {
        self.queue.front().map(|f| f.deadline)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flight(seq: u64, receivers: u32, deadline: u64) -> Flight {
        Flight {
            seq,
            n: receivers,
            receivers,
            outstanding: receivers,
            results: 0,
            errors: 0,
            first_error: None,
            decision: None,
            published_at: Nanos::ZERO,
            deadline: Nanos::from_millis(deadline),
        }
    }

    #[test]
    fn results_are_credited_oldest_first_and_extra_ones_to_nobody() {
        let mut f = Flights::default();
        f.launch(flight(1, 1, 100));
        f.launch(flight(2, 2, 200));
        assert_eq!(f.acting(), 3);
        assert_eq!(f.credit(Some(None)), Credit::Flight(1));
        assert_eq!(f.credit(None), Credit::Flight(2));
        assert_eq!(f.credit(Some(None)), Credit::Flight(2));
        assert_eq!(f.credit(Some(None)), Credit::Nobody);
        assert_eq!(f.acting(), 0);
        assert_eq!(f.land(Nanos::ZERO).map(|x| x.results), Some(1));
        assert_eq!(f.land(Nanos::ZERO).map(|x| x.results), Some(1));
        assert!(f.is_empty());
    }

    #[test]
    fn a_missing_result_holds_its_slot_until_the_deadline_then_lapses() {
        let mut f = Flights::default();
        f.launch(flight(1, 2, 100));
        f.credit(Some(None));
        assert!(f.land(Nanos::from_millis(99)).is_none());
        assert_eq!(f.acting(), 1);
        let landed = f.land(Nanos::from_millis(100)).expect("deadline passed");
        assert_eq!((landed.outstanding, f.acting()), (1, 0));
    }
}
