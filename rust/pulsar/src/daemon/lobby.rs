//! The lobby: admission requests from strangers wait here, so that a flood of strangers cannot take the places
//! of the workers the daemon already knows.
//!
//! A peer (an admission connection) is *known* once a pulse released it: it was admitted, subscribed and got
//! its pulse, a whole protocol cycle. Known peers' requests go to the engine's queue at once. A stranger's
//! request waits here, first come first served, and goes to the engine only while fewer than `cap` strangers'
//! tickets are in the engine (waiting or admitted). The cap adapts like TCP's window: it starts at N (so a cold
//! start fills whole pulses), grows by one for each stranger a pulse released, and halves for each stranger that
//! was admitted and never subscribed while staying connected (its slot was held until the subscription wait
//! ran out); it never drops below 1, so newcomers always get in. A stranger whose connection closes frees its
//! slot at once (the engine hears of it) and leaves the cap as it was. A flood of strangers that never complete a cycle therefore holds at most one place in the
//! engine for long, and known workers keep the rest. The lobby holds at most `capacity` peers
//! (`maxAdmissionQueue`); beyond it a stranger is refused at once.
//!
//! It must never touch a socket or decide whom the engine admits: it only decides when a stranger's request is
//! handed to the engine.

use std::collections::{HashMap, HashSet, VecDeque};

use pulsar_pulse::Ticket;

use super::admission::Envelope;

/// Strangers waiting to be handed to the engine, and the strangers' tickets the engine holds.
#[derive(Debug)]
pub(crate) struct Lobby {
    /// Waiting peers' routing ids, oldest first.
    order: VecDeque<Vec<u8>>,
    /// Each waiting peer's latest request.
    waiting: HashMap<Vec<u8>, Envelope>,
    /// Strangers' tickets in the engine.
    in_engine: HashSet<u64>,
    cap: usize,
    max_cap: usize,
    capacity: usize,
}

/// Whether a stranger's request found room.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Offer {
    /// It waits (or replaced the peer's earlier request, keeping its place).
    Waiting,
    /// The lobby is full: refuse it.
    Full(Envelope),
}

impl Lobby {
    /// A lobby for a daemon with `n` workers per pulse and `capacity` waiting peers at most.
    pub(crate) fn new(n: u32, capacity: usize) -> Lobby {
        let max_cap = usize::try_from(n).unwrap_or(usize::MAX).max(1);
        Lobby {
            order: VecDeque::new(),
            waiting: HashMap::new(),
            in_engine: HashSet::new(),
            cap: max_cap,
            max_cap,
            capacity: capacity.max(1),
        }
    }

    /// Strangers waiting here.
    pub(crate) fn len(&self) -> usize {
        self.waiting.len()
    }

    /// How many strangers' tickets the engine may hold now.
    pub(crate) fn cap(&self) -> usize {
        self.cap
    }

    /// A stranger asks for admission.
    pub(crate) fn offer(&mut self, envelope: Envelope) -> Offer {
        let peer = envelope.routing_id().to_vec();
        if let Some(slot) = self.waiting.get_mut(&peer) {
            *slot = envelope;
            return Offer::Waiting;
        }
        if self.waiting.len() >= self.capacity {
            return Offer::Full(envelope);
        }
        self.order.push_back(peer.clone());
        self.waiting.insert(peer, envelope);
        Offer::Waiting
    }

    /// The next stranger's request to hand to the engine, if the cap allows one more.
    pub(crate) fn next(&mut self) -> Option<Envelope> {
        if self.in_engine.len() >= self.cap {
            return None;
        }
        while let Some(peer) = self.order.pop_front() {
            if let Some(envelope) = self.waiting.remove(&peer) {
                return Some(envelope);
            }
        }
        None
    }

    /// The engine holds `ticket` for the stranger just handed over.
    pub(crate) fn entered(&mut self, ticket: Ticket) {
        self.in_engine.insert(ticket.0);
    }

    /// A ticket's story ended: `released` by a pulse (the cap grows) or otherwise (it halves). Tickets of known
    /// peers are ignored.
    pub(crate) fn ended(&mut self, ticket: Ticket, released: bool) {
        if !self.in_engine.remove(&ticket.0) {
            return;
        }
        self.cap = if released {
            (self.cap + 1).min(self.max_cap)
        } else {
            (self.cap / 2).max(1)
        };
    }

    /// A stranger's ticket left the engine without holding a slot for long (its connection closed, it asked
    /// again, or the engine refused it): its place is free, the cap stays.
    pub(crate) fn left(&mut self, ticket: Ticket) {
        self.in_engine.remove(&ticket.0);
    }

    /// A waiting stranger's connection closed.
    pub(crate) fn gone(&mut self, peer: &[u8]) {
        self.waiting.remove(peer);
    }

    /// Every waiting stranger's request; the lobby is emptied.
    pub(crate) fn drain(&mut self) -> Vec<Envelope> {
        let mut all = Vec::new();
        while let Some(peer) = self.order.pop_front() {
            if let Some(envelope) = self.waiting.remove(&peer) {
                all.push(envelope);
            }
        }
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(id: &[u8]) -> Envelope {
        Envelope(vec![id.to_vec()])
    }

    #[test]
    fn strangers_wait_in_order_and_a_full_lobby_refuses() {
        let mut lobby = Lobby::new(2, 2);
        assert_eq!(lobby.offer(env(b"a")), Offer::Waiting);
        assert_eq!(lobby.offer(env(b"b")), Offer::Waiting);
        assert_eq!(
            lobby.offer(env(b"a")),
            Offer::Waiting,
            "asking again keeps the place"
        );
        assert_eq!(lobby.offer(env(b"c")), Offer::Full(env(b"c")));
        assert_eq!(lobby.next(), Some(env(b"a")));
        lobby.entered(Ticket(1));
        lobby.gone(b"b");
        assert_eq!(lobby.next(), None, "b left");
        assert_eq!(lobby.len(), 0);
    }

    #[test]
    fn strangers_that_never_complete_a_cycle_shrink_their_share_to_one() {
        let mut lobby = Lobby::new(8, 100);
        for i in 0..20u8 {
            lobby.offer(env(&[i]));
        }
        let mut tickets = Vec::new();
        while let Some(_envelope) = lobby.next() {
            let t = Ticket(tickets.len() as u64);
            lobby.entered(t);
            tickets.push(t);
        }
        assert_eq!(tickets.len(), 8, "a cold start fills a whole pulse");
        for t in &tickets {
            lobby.ended(*t, false);
        }
        assert_eq!(lobby.cap(), 1);
        assert!(lobby.next().is_some());
        lobby.entered(Ticket(100));
        assert!(lobby.next().is_none(), "one stranger at a time");
        lobby.ended(Ticket(100), true);
        assert_eq!(lobby.cap(), 2, "a completed cycle earns one more place");
        lobby.ended(Ticket(999), false);
        assert_eq!(lobby.cap(), 2, "known peers' tickets do not count");
    }
}
