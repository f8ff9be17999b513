//! The roster: admitted workers the engine still tracks by ticket, from admission until a pulse releases them,
//! they are found gone, or their subscription wait runs out.
//!
//! Subscriptions carry no identity, so the roster never knows *which* of its workers has subscribed: it knows
//! how many workers it tracks and in which order they were admitted. At a publish the
//! oldest tracked workers are taken for the released ones, since workers mostly subscribe in the order they
//! were admitted. A wrong guess releases a worker whose subscription is still owed and keeps one that already
//! received its pulse. When that one asks again its place becomes *anonymous* rather than being dropped: it
//! stands for the subscription still owed, so the count the limit depends on never falls short. An anonymous
//! place leaves like any other (taken for a released worker at a publish, or at the subscription wait).
//!
//! It must never decide anything about pulses or slots: it only keeps the list, in admission order.

use std::collections::VecDeque;

use crate::engine::Ticket;
use crate::time::Nanos;

/// One admitted worker the engine still tracks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Tracked {
    /// `None` once the place is anonymous: it stands for some admitted worker's subscription still owed.
    ticket: Option<Ticket>,
    admitted_at: Nanos,
}

/// Admitted workers not yet released, oldest first.
#[derive(Debug, Clone, Default)]
pub(crate) struct Roster {
    entries: VecDeque<Tracked>,
    /// How many entries are anonymous (kept so that the engine need not count them at every step).
    anonymous: usize,
}

impl Roster {
    /// How many workers are tracked.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// How many places are anonymous.
    pub(crate) fn anonymous(&self) -> usize {
        self.anonymous
    }

    /// Starts tracking a worker admitted at `now`.
    pub(crate) fn admit(&mut self, ticket: Ticket, now: Nanos) {
        self.entries.push_back(Tracked {
            ticket: Some(ticket),
            admitted_at: now,
        });
    }

    /// Stops tracking `ticket` (its worker is gone or asked again); false if it was not tracked.
    pub(crate) fn remove(&mut self, ticket: Ticket) -> bool {
        match self.entries.iter().position(|t| t.ticket == Some(ticket)) {
            Some(pos) => {
                self.entries.remove(pos);
                true
            }
            None => false,
        }
    }

    /// `ticket`'s worker has subscribed (it asked again, which it does only after subscribing), yet its place
    /// is still here: a publish released another worker in its stead. The place stays, without a ticket, for
    /// that other worker's subscription. False if `ticket` was not tracked.
    pub(crate) fn anonymize(&mut self, ticket: Ticket) -> bool {
        match self.entries.iter_mut().find(|t| t.ticket == Some(ticket)) {
            Some(place) => {
                place.ticket = None;
                self.anonymous += 1;
                true
            }
            None => false,
        }
    }

    /// Stops tracking `count` workers released by a pulse and hands their tickets to `forget`: the oldest
    /// tickets first, anonymous places only when no ticket is left. A ticket kept by mistake comes back as
    /// [`Roster::anonymize`] when its worker asks again, so releasing tickets first keeps such mistakes from
    /// rolling on from one pulse to the next; an anonymous place kept by mistake simply runs out at the wait.
    pub(crate) fn release_oldest(&mut self, count: usize, mut forget: impl FnMut(Ticket)) {
        let mut left = count.min(self.entries.len());
        let mut kept = VecDeque::with_capacity(self.entries.len());
        for place in self.entries.drain(..) {
            match place.ticket {
                Some(ticket) if left > 0 => {
                    left -= 1;
                    forget(ticket);
                }
                _ => kept.push_back(place),
            }
        }
        // Not enough tickets: the oldest anonymous places go.
        while left > 0 {
            match kept.iter().position(|p| p.ticket.is_none()) {
                Some(pos) => {
                    kept.remove(pos);
                    self.anonymous -= 1;
                    left -= 1;
                }
                None => break,
            }
        }
        self.entries = kept;
    }

    /// Drops the oldest anonymous place; false if there is none.
    pub(crate) fn drop_oldest_anonymous(&mut self) -> bool {
        match self.entries.iter().position(|p| p.ticket.is_none()) {
            Some(pos) => {
                self.entries.remove(pos);
                self.anonymous -= 1;
                true
            }
            None => false,
        }
    }

    /// Stops tracking every worker admitted at or before `cutoff` (its subscription wait ran out).
    pub(crate) fn expire(&mut self, cutoff: Nanos, mut forget: impl FnMut(Ticket)) -> usize {
        let mut expired = 0;
        while let Some(front) = self.entries.front() {
            if front.admitted_at > cutoff {
                break;
            }
            match front.ticket {
                Some(ticket) => forget(ticket),
                None => self.anonymous -= 1,
            }
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
            t.ticket.into_iter().for_each(&mut forget);
        }
        self.anonymous = 0;
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

    #[test]
    fn an_anonymous_place_counts_until_released_and_forgets_nobody() {
        let mut r = Roster::default();
        r.admit(Ticket(0), ms(0));
        r.admit(Ticket(1), ms(1));
        assert!(r.anonymize(Ticket(1)));
        assert!(!r.anonymize(Ticket(1)));
        assert_eq!(r.anonymous(), 1);
        assert!(!r.remove(Ticket(1)));
        assert_eq!(r.len(), 2);
        r.admit(Ticket(2), ms(2));
        let mut forgotten = Vec::new();
        r.release_oldest(2, |t| forgotten.push(t));
        assert_eq!(
            forgotten,
            vec![Ticket(0), Ticket(2)],
            "tickets go before places"
        );
        assert_eq!(r.len(), 1);
        assert_eq!(r.anonymous(), 1);
        r.release_oldest(5, |t| forgotten.push(t));
        assert_eq!(forgotten.len(), 2, "an anonymous place forgets nobody");
        assert_eq!(r.len(), 0);
        assert_eq!(r.anonymous(), 0);
    }
}
