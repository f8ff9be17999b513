//! Flights: pulses that went out and whose receivers have not all reported yet.
//!
//! Results, like subscriptions, carry no identity. A result is credited to the oldest flight still waiting for
//! one, which is the order in which receivers act when their actions take about the same time. A flight ends
//! when each of its receivers has reported (or given its permission back) or when its result timeout runs out;
//! what was still missing then lapses, and each missing result has held exactly one slot until then.
//!
//! Crediting in order has one blind spot: a receiver that dies without reporting leaves its flight one result
//! short, the next pulse's first result is credited to it, and the debt moves on to the newest flight, from
//! flight to flight for as long as pulses keep coming: the slot would be held until the fleet goes quiet. The
//! counts cannot tell that from one slow worker per pulse, so the driver brings the only evidence there is: a
//! connection that pushed a Ready and closed without a result after a pulse went out, or is still silent at that
//! pulse's deadline ([`Flights::lose`]). That receiver's debt is then written off at *its* pulse's deadline,
//! wherever in-order crediting has moved it (from the newest flights that owe, which is where it went). A
//! write-off only ever takes a result still owed, so no report of a loss can free more slots than are held, and
//! none frees one before a result timeout.
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
    /// New receivers, each owing one result (or early termination); earlier receivers still subscribed owe
    /// theirs to their own pulse.
    pub owed: u32,
    /// Receivers whose result (or early termination) has not arrived.
    pub outstanding: u32,
    /// Results written off before the flight ended: debts of receivers reported lost, taken from this flight
    /// because in-order crediting had moved them here.
    pub written_off: u32,
    /// Receivers of this pulse reported lost (at most `owed`).
    pub lost: u32,
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

/// A flight that ended with every result credited before its deadline: a receiver of it reported lost after
/// that has its debt in a later flight. Kept for a result timeout past its deadline, so that a receiver reported
/// because it was still silent at that deadline (it hangs) is still recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Landed {
    seq: u64,
    deadline: Nanos,
    /// When it is forgotten: its deadline plus its result timeout.
    forget_at: Nanos,
    /// Receivers still allowed to be reported lost.
    unlost: u32,
}

/// Pulses still waiting for results, oldest first, and the debts of lost receivers.
#[derive(Debug, Clone, Default)]
pub(crate) struct Flights {
    queue: VecDeque<Flight>,
    /// Sum of `outstanding` over the queue: slots held by released workers.
    acting: u32,
    /// Flights landed before their deadline, until a result timeout after it (oldest first; at most the pulses
    /// of two result timeouts).
    landed: VecDeque<Landed>,
    /// Debts of lost receivers, written off at these deadlines (earliest first; at most one per lost receiver
    /// of a pulse not past its deadline).
    write_offs: VecDeque<(Nanos, u32)>,
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

    /// A receiver of pulse `seq` is gone without a result (see the module docs): its debt lapses at that pulse's
    /// deadline (at once when that has passed). False when nothing is owed for it: the pulse lapsed at its
    /// deadline still owing (its debts went then), nothing has been owed since, or more of its receivers were
    /// reported lost than it had.
    pub(crate) fn lose(&mut self, seq: u64) -> bool {
        if let Some(flight) = self.queue.iter_mut().find(|f| f.seq == seq) {
            if flight.lost >= flight.owed {
                return false;
            }
            // Written off when the flight ends: nothing if it lapses still owing it, else at its deadline.
            flight.lost += 1;
            return true;
        }
        let Some(landed) = self.landed.iter_mut().find(|l| l.seq == seq) else {
            return false;
        };
        if landed.unlost == 0 {
            return false;
        }
        landed.unlost -= 1;
        let deadline = landed.deadline;
        self.schedule_write_off(deadline, 1);
        true
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
    /// earlier one's verdict. Debts of lost receivers due by `now` are written off first.
    pub(crate) fn land(&mut self, now: Nanos) -> Option<Flight> {
        self.write_off_due(now);
        while self.landed.front().is_some_and(|l| l.forget_at <= now) {
            self.landed.pop_front();
        }
        let front = self.queue.front()?;
        if front.outstanding > 0 && now < front.deadline {
            return None;
        }
        let flight = self.queue.pop_front()?;
        self.acting = self.acting.saturating_sub(flight.outstanding);
        // A lost receiver whose debt was still here lapses with it; one whose debt moved on is written off at
        // this flight's deadline (at once when that has passed).
        let moved_on = flight.lost.saturating_sub(flight.outstanding);
        if moved_on > 0 {
            self.schedule_write_off(flight.deadline, moved_on);
        }
        if now < flight.deadline {
            let timeout = flight.deadline.saturating_sub(flight.published_at);
            self.landed.push_back(Landed {
                seq: flight.seq,
                deadline: flight.deadline,
                forget_at: flight.deadline.saturating_add(timeout),
                unlost: flight.owed.saturating_sub(flight.lost),
            });
        }
        if self.queue.is_empty() {
            // Nothing is owed any more, so no lost receiver's debt is left anywhere: a write-off would now take
            // a slot of a later pulse's receiver.
            self.write_offs.clear();
            self.landed.clear();
        }
        Some(flight)
    }

    /// The earliest moment time alone changes something here: a result deadline or a write-off.
    pub(crate) fn next_deadline(&self) -> Option<Nanos> {
        let result = self.queue.front().map(|f| f.deadline);
        let write_off = self
            .write_offs
            .front()
            .filter(|_| !self.queue.is_empty())
            .map(|w| w.0);
        result.into_iter().chain(write_off).min()
    }

    fn schedule_write_off(&mut self, deadline: Nanos, count: u32) {
        let at = self.write_offs.partition_point(|w| w.0 <= deadline);
        self.write_offs.insert(at, (deadline, count));
    }

    /// Writes off the debts due by `now` from the newest flights that still owe (where in-order crediting moved
    /// them), never more than is owed.
    fn write_off_due(&mut self, now: Nanos) {
        while self.write_offs.front().is_some_and(|w| w.0 <= now) {
            let Some((_, mut count)) = self.write_offs.pop_front() else {
                break;
            };
            for flight in self.queue.iter_mut().rev() {
                if count == 0 {
                    break;
                }
                let take = flight.outstanding.min(count);
                flight.outstanding -= take;
                flight.written_off += take;
                self.acting = self.acting.saturating_sub(take);
                count -= take;
            }
        }
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
            owed: receivers,
            outstanding: receivers,
            written_off: 0,
            lost: 0,
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

    /// One receiver of flight 1 dies. Each later pulse's first result pays the oldest debt, so the debt moves on
    /// to the newest flight: without the loss report it would be held for as long as pulses keep coming.
    fn dead_receiver_in_a_stream(report_loss: bool) -> (Flights, Vec<Flight>) {
        let mut f = Flights::default();
        let mut landed = Vec::new();
        for seq in 1..=20u64 {
            // A pulse of two every second, each with a result timeout of 7 s.
            f.launch(flight(seq, 2, 7000 + (seq - 1) * 1000));
            if seq == 1 && report_loss {
                assert!(f.lose(1));
            }
            // Two results per pulse (in flight 1 only one receiver is alive; in later flights the extra one
            // pays the debt carried over).
            let results = if seq == 1 { 1 } else { 2 };
            for _ in 0..results {
                assert_ne!(f.credit(Some(None)), Credit::Nobody);
            }
            let now = Nanos::from_millis((seq - 1) * 1000 + 500);
            while let Some(done) = f.land(now) {
                landed.push(done);
            }
        }
        (f, landed)
    }

    #[test]
    fn a_dead_receivers_debt_moves_on_with_in_order_crediting() {
        // The defect the loss report mends: 20 s on, one slot is still held.
        let (f, landed) = dead_receiver_in_a_stream(false);
        assert_eq!(f.acting(), 1);
        assert!(landed
            .iter()
            .all(|x| x.written_off == 0 && x.outstanding == 0));
    }

    #[test]
    fn a_lost_receivers_debt_is_written_off_at_its_own_pulses_deadline() {
        let (f, landed) = dead_receiver_in_a_stream(true);
        assert_eq!(f.acting(), 0);
        // At 7.5 s (flight 1's deadline was 7 s) the debt sat in flight 8, the newest: written off there, once.
        let written: Vec<(u64, u32)> = landed
            .iter()
            .filter(|x| x.written_off > 0)
            .map(|x| (x.seq, x.written_off))
            .collect();
        assert_eq!(written, vec![(8, 1)]);
        assert_eq!(landed.len(), 20);
    }

    #[test]
    fn a_write_off_waits_for_the_deadline_and_takes_only_what_is_owed() {
        let mut f = Flights::default();
        f.launch(flight(1, 1, 100));
        assert!(f.lose(1));
        f.launch(flight(2, 2, 200));
        // Flight 2's first result pays flight 1: the debt moved on.
        assert_eq!(f.credit(Some(None)), Credit::Flight(1));
        assert_eq!(f.land(Nanos::from_millis(50)).map(|x| x.seq), Some(1));
        assert_eq!(f.acting(), 2);
        assert!(f.land(Nanos::from_millis(99)).is_none());
        assert_eq!(f.acting(), 2, "not before flight 1's deadline");
        assert!(f.land(Nanos::from_millis(100)).is_none());
        assert_eq!(f.acting(), 1, "written off at flight 1's deadline");
        // Flight 2's live receiver reports: flight 2 is done, one result written off.
        assert_eq!(f.credit(Some(None)), Credit::Flight(2));
        let landed = f.land(Nanos::from_millis(120)).expect("all in");
        assert_eq!((landed.results, landed.written_off), (1, 1));
    }

    #[test]
    fn a_lost_receiver_whose_debt_stayed_lapses_once() {
        let mut f = Flights::default();
        f.launch(flight(1, 2, 100));
        assert!(f.lose(1));
        f.credit(Some(None));
        let landed = f.land(Nanos::from_millis(100)).expect("deadline");
        assert_eq!((landed.outstanding, landed.written_off), (1, 0));
        assert!(f.is_empty());
        // Nothing is owed any more, so nothing is left to write off from a later pulse.
        f.launch(flight(2, 1, 300));
        assert!(f.land(Nanos::from_millis(200)).is_none());
        assert_eq!(f.acting(), 1);
    }

    #[test]
    fn loss_reports_beyond_a_pulses_receivers_or_past_its_deadline_are_refused() {
        let mut f = Flights::default();
        f.launch(flight(1, 1, 100));
        assert!(f.lose(1));
        assert!(!f.lose(1), "flight 1 had one new receiver");
        assert!(!f.lose(7), "no such pulse");
        f.launch(flight(2, 1, 200));
        f.credit(Some(None));
        f.credit(Some(None));
        // Flight 1 was paid (by flight 2's result, as far as counts go) and landed: kept until its deadline.
        while f.land(Nanos::from_millis(10)).is_some() {}
        assert!(f.is_empty());
        assert!(!f.lose(2), "nothing is owed any more");
        f.launch(flight(3, 3, 400));
        assert!(!f.lose(1), "flight 1 was forgotten when nothing was owed");
        assert!(f.land(Nanos::from_millis(150)).is_none());
        assert_eq!(
            f.acting(),
            3,
            "no write-off from a loss report that was refused"
        );
    }

    #[test]
    fn a_receiver_reported_after_its_pulses_deadline_is_written_off_at_once_if_its_debt_moved_on() {
        // A hung receiver of flight 1: flight 2's first result pays flight 1, the debt moves on to flight 2.
        let mut f = Flights::default();
        f.launch(flight(1, 1, 100));
        f.launch(flight(2, 2, 200));
        f.credit(Some(None));
        f.credit(Some(None));
        assert_eq!(f.land(Nanos::from_millis(50)).map(|x| x.seq), Some(1));
        f.launch(flight(3, 1, 300));
        // Reported at flight 1's deadline, as the driver does for a receiver still silent then.
        assert!(f.land(Nanos::from_millis(100)).is_none());
        assert_eq!(f.acting(), 2);
        assert!(f.lose(1));
        assert!(f.land(Nanos::from_millis(100)).is_none());
        assert_eq!(f.acting(), 1, "one debt written off at once");
        // Flight 3's live receiver reports: every debt is settled.
        f.credit(Some(None));
        let seqs: Vec<(u64, u32)> = std::iter::from_fn(|| f.land(Nanos::from_millis(110)))
            .map(|x| (x.seq, x.written_off))
            .collect();
        assert_eq!(seqs, vec![(2, 0), (3, 1)]);
        assert_eq!(f.acting(), 0);
        assert!(!f.lose(1), "nothing is owed any more");
    }
}
