//! The roster: admitted workers the engine still tracks by ticket, from admission until a pulse releases them,
//! they are found gone, or their subscription wait runs out.
//!
//! Subscriptions carry no identity, so the roster never knows *which* of its workers has subscribed: it knows
//! how many workers it tracks and in which order they were admitted. At a publish the
//! oldest tracked workers are taken for the released ones, since workers subscribe in the order they were
//! admitted (a wrong guess changes which ticket is dropped later, never a count the limit depends on).
//!
//! It must never decide anything about pulses or slots: it only keeps the list, in admission order.

use std::collections::VecDeque;

use crate::engine::Ticket;
use crate::time::Nanos;

/// One admitted worker the engine still tracks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Tracked {
    ticket: Ticket,
    admitted_at: Nanos,
}

/// Admitted workers not yet released, oldest first.
#[derive(Debug, Clone, Default)]
pub(crate) struct Roster {
    entries: VecDeque<Tracked>,
}

impl Roster {
    /// How many workers are tracked.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Starts tracking a worker admitted at `now`.
    pub(crate) fn admit(&mut self, ticket: Ticket, now: Nanos) {
        self.entries.push_back(Tracked {
            ticket,
            admitted_at: now,
        });
    }

    /// Stops tracking `ticket` (its worker is gone or asked again); false if it was not tracked.
    pub(crate) fn remove(&mut self, ticket: Ticket) -> bool {
        match self.entries.iter().position(|t| t.ticket == ticket) {
            Some(pos) => {
                self.entries.remove(pos);
                true
            }
            None => false,
        }
    }

    /// Stops tracking the `count` oldest workers (released by a pulse) and hands their tickets to `forget`.
    pub(crate) fn release_oldest(&mut self, count: usize, mut forget: impl FnMut(Ticket)) {
        for _ in 0..count {
            match self.entries.pop_front() {
                Some(t) => forget(t.ticket),
                None => return,
            }
        }
    }

    /// Stops tracking every worker admitted at or before `cutoff` (its subscription wait ran out).
    pub(crate) fn expire(&mut self, cutoff: Nanos, mut forget: impl FnMut(Ticket)) -> usize {
        let mut expired = 0;
        while let Some(front) = self.entries.front() {
            if front.admitted_at > cutoff {
                break;
            }
            forget(front.ticket);
            self.entries.pop_front();
            expired += 1;
        }
        expired
    }

    /// When the oldest tracked worker was admitted.
    pub(crate) fn oldest_admission(&self) -> Option<Nanos> {
        self.entries.front().map(|t| t.admitted_at)
    }

    /// Stops tracking everyone, handing their tickets to `forget`.
    pub(crate) fn clear(&mut self, mut forget: impl FnMut(Ticket)) {
        for t in self.entries.drain(..) {
            forget(t.ticket);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: u64) -> Nanos {
        Nanos::from_millis(v)
    }

    #[test]
    fn release_takes_the_oldest_and_expire_the_overdue() {
        let mut r = Roster::default();
        for i in 0..4 {
            r.admit(Ticket(i), ms(i * 10));
        }
        let mut forgotten = Vec::new();
        r.release_oldest(2, |t| forgotten.push(t));
        assert_eq!(forgotten, vec![Ticket(0), Ticket(1)]);
        assert_eq!(r.expire(ms(20), |t| forgotten.push(t)), 1);
        assert_eq!(forgotten.last(), Some(&Ticket(2)));
        assert_eq!(r.len(), 1);
        assert_eq!(r.oldest_admission(), Some(ms(30)));
        assert!(r.remove(Ticket(3)));
        assert!(!r.remove(Ticket(3)));
        assert_eq!(r.len(), 0);
    }
}
