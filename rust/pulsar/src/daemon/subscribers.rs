//! Which connections the daemon counts as subscribed, so that one subscriber counts once.
//!
//! libzmq's XPUB (with `XPUB_VERBOSER`) passes up every subscription message, duplicates included, but when a
//! connection ends it reports one unsubscription per topic, not per message. Counting every message would let a
//! peer that subscribed twice and left stay counted for ever (and hold every pulse once more than N were left
//! over); counting every unsubscription would let a peer that was never subscribed lower the count. Each message
//! carries the number the access handler gave its connection (`access::CONNECTION_PROPERTY`): a connection
//! counts as subscribed once, and an explicit unsubscription counts only from a subscribed connection. The
//! anonymous unsubscription libzmq sends when a subscribed connection ends is passed on as it is.
//!
//! The set is bounded: a connection that ended while subscribed leaves its number behind (the anonymous
//! unsubscription does not say whose it was), so beyond [`Subscribers::new`]'s bound the oldest numbers are
//! forgotten, and messages from connections older than the oldest number kept are passed on uncounted, as
//! before this filter.
//!
//! It must never touch a socket or decide anything about a pulse: it only filters the engine's events.

use std::collections::BTreeSet;

/// The connections counted as subscribed to the empty topic.
#[derive(Debug)]
pub(crate) struct Subscribers {
    subscribed: BTreeSet<u64>,
    /// Connections numbered below this were forgotten: their messages pass unfiltered.
    floor: u64,
    bound: usize,
}

impl Subscribers {
    /// Remembers at most `bound` subscribed connections.
    pub(crate) fn new(bound: usize) -> Subscribers {
        Subscribers {
            subscribed: BTreeSet::new(),
            floor: 0,
            bound: bound.max(1),
        }
    }

    /// Whether a (un)subscription from `connection` (`None`: libzmq's own, at a connection's end) is passed on.
    pub(crate) fn passes(&mut self, connection: Option<u64>, subscribe: bool) -> bool {
        let Some(id) = connection.filter(|id| *id >= self.floor) else {
            return true;
        };
        if !subscribe {
            return self.subscribed.remove(&id);
        }
        if !self.subscribed.insert(id) {
            return false;
        }
        while self.subscribed.len() > self.bound {
            if let Some(oldest) = self.subscribed.pop_first() {
                self.floor = oldest + 1;
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_counts_once_and_only_a_subscribed_one_unsubscribes() {
        let mut s = Subscribers::new(10);
        assert!(s.passes(Some(1), true));
        assert!(!s.passes(Some(1), true), "a duplicate");
        assert!(!s.passes(Some(2), false), "never subscribed");
        assert!(s.passes(Some(1), false));
        assert!(!s.passes(Some(1), false), "already unsubscribed");
        assert!(s.passes(None, false), "a connection's end passes");
    }

    #[test]
    fn beyond_the_bound_the_oldest_are_forgotten_and_pass_unfiltered() {
        let mut s = Subscribers::new(2);
        for id in 1..=3 {
            assert!(s.passes(Some(id), true));
        }
        assert!(
            s.passes(Some(1), true),
            "forgotten: passes as before the filter"
        );
        assert!(s.passes(Some(1), false));
        assert!(!s.passes(Some(3), true), "still known");
    }
}
