//! The lobby: admission requests from strangers wait here, so that a flood of strangers cannot take the places
//! of the workers the daemon already knows.
//!
//! A peer (an admission connection) is *known* once it has proven a protocol cycle: it was admitted and then
//! asked again on the same connection (a REQ socket can only ask again after reading its reply, and a worker
//! asks again once it has subscribed, had its pulse and reported). Known peers' requests go to the engine's
//! queue at once. A stranger's request waits here, first come first served, and goes to the engine only while
//! the engine holds fewer than `cap` strangers' tickets (waiting or admitted). An admitted stranger then has a
//! proof window (the subscription wait, the result timeout and a period): asking again adds one to the cap (at
//! most N); closing its connection (a one-shot worker done with its cycle) changes nothing; staying connected
//! and silent halves the cap, at once if it never even subscribed (the engine dropped it when its subscription
//! wait ran out), else when the window ends. The cap starts at N, so a cold start fills whole pulses, and never drops below 1,
//! so newcomers always get in. A flood of strangers that never complete a cycle therefore holds at most a few
//! places in the engine at once, and known workers keep the rest. The lobby holds at most `capacity` peers (`maxAdmissionQueue`); beyond it a stranger is refused at
//! once.
//!
//! The driver keeps it beside the [`crate::Engine`]: it offers each stranger's request here, hands what
//! [`Lobby::let_in`] gives to the engine, and tells the lobby what became of the tickets. Requests are the driver's
//! own type (anything that names its peer, [`Peered`]).
//!
//! It must never touch a socket, read a clock or decide whom the engine admits: it only decides when a
//! stranger's request is handed to the engine (time comes in with the calls).

use std::collections::{HashMap, VecDeque};

use crate::{Nanos, Ticket};

/// A request that names the peer (the connection) it came from: the lobby keeps one request per peer.
pub trait Peered {
    /// The peer's identity (e.g. a routing id); equal bytes, same peer.
    fn peer(&self) -> &[u8];
}

/// Strangers waiting to be handed to the engine, and those handed over and not yet proven.
#[derive(Debug)]
pub struct Lobby<R> {
    /// Waiting peers' routing ids, oldest first.
    order: VecDeque<Vec<u8>>,
    /// Each waiting peer's latest request.
    waiting: HashMap<Vec<u8>, R>,
    /// Admitted strangers, by routing id, with the end of their proof window.
    unproven: HashMap<Vec<u8>, Nanos>,
    /// The tickets the engine holds for strangers, with their routing ids.
    tickets: HashMap<u64, Vec<u8>>,
    cap: usize,
    max_cap: usize,
    capacity: usize,
    proof_window: Nanos,
}

/// Whether a stranger's request found room.
#[derive(Debug, PartialEq, Eq)]
pub enum Offer<R> {
    /// It waits (or replaced the peer's earlier request, keeping its place).
    Waiting,
    /// The lobby is full: refuse it.
    Full(R),
}

impl<R: Peered> Lobby<R> {
    /// A lobby for a daemon with `n` workers per pulse, `capacity` waiting peers at most, and `proof_window` for
    /// an admitted stranger to ask again.
    pub fn new(n: u32, capacity: usize, proof_window: Nanos) -> Lobby<R> {
        let max_cap = usize::try_from(n).unwrap_or(usize::MAX).max(1);
        Lobby {
            order: VecDeque::new(),
            waiting: HashMap::new(),
            unproven: HashMap::new(),
            tickets: HashMap::new(),
            cap: max_cap,
            max_cap,
            capacity: capacity.max(1),
            proof_window,
        }
    }

    /// Strangers waiting here.
    pub fn waiting(&self) -> usize {
        self.waiting.len()
    }

    /// Strangers' tickets the engine holds.
    pub fn in_engine(&self) -> usize {
        self.tickets.len()
    }

    /// How many strangers' tickets the engine may hold now.
    pub fn cap(&self) -> usize {
        self.cap
    }

    /// A stranger asks for admission.
    pub fn offer(&mut self, request: R) -> Offer<R> {
        let peer = request.peer().to_vec();
        if let Some(slot) = self.waiting.get_mut(&peer) {
            *slot = request;
            return Offer::Waiting;
        }
        if self.waiting.len() >= self.capacity {
            return Offer::Full(request);
        }
        self.order.push_back(peer.clone());
        self.waiting.insert(peer, request);
        Offer::Waiting
    }

    /// The next stranger's request to hand to the engine, if the cap allows one more.
    pub fn let_in(&mut self) -> Option<R> {
        if self.tickets.len() >= self.cap {
            return None;
        }
        while let Some(peer) = self.order.pop_front() {
            if let Some(request) = self.waiting.remove(&peer) {
                return Some(request);
            }
        }
        None
    }

    /// The engine holds `ticket` for the stranger `peer` just handed over.
    pub fn entered(&mut self, ticket: Ticket, peer: &[u8]) {
        self.tickets.insert(ticket.0, peer.to_vec());
    }

    /// A stranger's ticket was admitted at `now`: its proof window starts.
    pub fn admitted(&mut self, ticket: Ticket, now: Nanos) {
        if let Some(peer) = self.tickets.get(&ticket.0) {
            self.unproven
                .insert(peer.clone(), now.saturating_add(self.proof_window));
        }
    }

    /// The engine no longer holds `ticket` (released, forgotten, lost or refused): its place is free. An
    /// admitted stranger stays under judgement until it asks again, leaves or its window ends.
    pub fn ticket_gone(&mut self, ticket: Ticket) {
        self.tickets.remove(&ticket.0);
    }

    /// The engine dropped `ticket` because its admitted worker never subscribed within the subscription wait
    /// (and no pulse was taken for it): a stranger that did this halves the cap at once and is judged no further.
    pub fn timed_out(&mut self, ticket: Ticket) {
        if let Some(peer) = self.tickets.remove(&ticket.0) {
            if self.unproven.remove(&peer).is_some() {
                self.cap = (self.cap / 2).max(1);
            }
        }
    }

    /// `peer` asks again: true if it was an unproven stranger, now proven (the cap grows by one).
    pub fn proven(&mut self, peer: &[u8]) -> bool {
        if self.unproven.remove(peer).is_none() {
            return false;
        }
        self.cap = (self.cap + 1).min(self.max_cap);
        true
    }

    /// Admitted strangers whose proof window ended at `now` while they stayed connected and silent: each halves
    /// the cap.
    pub fn expire(&mut self, now: Nanos) -> usize {
        let before = self.unproven.len();
        self.unproven.retain(|_, deadline| *deadline > now);
        let expired = before - self.unproven.len();
        for _ in 0..expired {
            self.cap = (self.cap / 2).max(1);
        }
        expired
    }

    /// A stranger's connection closed: it leaves, and the cap stays.
    pub fn gone(&mut self, peer: &[u8]) {
        self.waiting.remove(peer);
        self.unproven.remove(peer);
    }

    /// Every waiting stranger's request; the lobby is emptied.
    pub fn drain(&mut self) -> Vec<R> {
        let mut all = Vec::new();
        while let Some(peer) = self.order.pop_front() {
            if let Some(request) = self.waiting.remove(&peer) {
                all.push(request);
            }
        }
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A request as the tests need it: only its peer.
    #[derive(Debug, PartialEq, Eq)]
    struct Request(Vec<u8>);

    impl Peered for Request {
        fn peer(&self) -> &[u8] {
            &self.0
        }
    }

    fn env(id: &[u8]) -> Request {
        Request(id.to_vec())
    }

    const WINDOW: Nanos = Nanos::from_secs(15);

    #[test]
    fn strangers_wait_in_order_and_a_full_lobby_refuses() {
        let mut lobby = Lobby::new(2, 2, WINDOW);
        assert_eq!(lobby.offer(env(b"a")), Offer::Waiting);
        assert_eq!(lobby.offer(env(b"b")), Offer::Waiting);
        assert_eq!(
            lobby.offer(env(b"a")),
            Offer::Waiting,
            "asking again keeps the place"
        );
        assert_eq!(lobby.offer(env(b"c")), Offer::Full(env(b"c")));
        assert_eq!(lobby.let_in(), Some(env(b"a")));
        lobby.entered(Ticket(1), b"a");
        lobby.gone(b"b");
        assert_eq!(lobby.let_in(), None, "b left");
        assert_eq!(lobby.waiting(), 0);
    }

    #[test]
    fn strangers_that_never_ask_again_shrink_their_share_to_one() {
        let mut lobby = Lobby::new(8, 100, WINDOW);
        for i in 0..20u8 {
            lobby.offer(env(&[i]));
        }
        let mut n = 0u64;
        while let Some(envelope) = lobby.let_in() {
            lobby.entered(Ticket(n), envelope.peer());
            lobby.admitted(Ticket(n), Nanos::ZERO);
            n += 1;
        }
        assert_eq!(n, 8, "a cold start fills a whole pulse");
        for t in 0..8 {
            lobby.ticket_gone(Ticket(t)); // their subscription wait ran out: places free, still under judgement
        }
        assert_eq!(lobby.expire(Nanos::from_nanos(WINDOW.as_nanos() - 1)), 0);
        assert_eq!(lobby.expire(WINDOW), 8);
        assert_eq!(lobby.cap(), 1);
        let first = lobby.let_in().expect("one stranger at a time");
        lobby.admitted(Ticket(99), Nanos::ZERO); // not a stranger's ticket: ignored
        lobby.entered(Ticket(100), first.peer());
        assert!(lobby.let_in().is_none());
        lobby.admitted(Ticket(100), WINDOW);
        lobby.ticket_gone(Ticket(100));
        assert!(lobby.proven(first.peer()), "it asked again");
        assert_eq!(lobby.cap(), 2, "a completed cycle earns one more place");
        assert!(!lobby.proven(b"someone else"));
    }

    #[test]
    fn a_stranger_that_leaves_frees_its_place_without_a_penalty() {
        let mut lobby = Lobby::new(1, 10, WINDOW);
        lobby.offer(env(b"a"));
        lobby.offer(env(b"b"));
        let a = lobby.let_in().expect("a");
        lobby.entered(Ticket(1), a.peer());
        lobby.ticket_gone(Ticket(1));
        assert_eq!(lobby.in_engine(), 0);
        let b = lobby.let_in().expect("b gets in");
        lobby.entered(Ticket(2), b.peer());
        lobby.admitted(Ticket(2), Nanos::ZERO);
        lobby.ticket_gone(Ticket(2));
        lobby.gone(b"b");
        assert_eq!(lobby.expire(WINDOW), 0, "a peer that left is not judged");
        assert_eq!(lobby.cap(), 1);
    }

    #[test]
    fn a_stranger_that_never_subscribed_halves_the_cap_at_once() {
        let mut lobby = Lobby::new(8, 10, WINDOW);
        lobby.offer(env(b"a"));
        let a = lobby.let_in().expect("a");
        lobby.entered(Ticket(1), a.peer());
        lobby.admitted(Ticket(1), Nanos::ZERO);
        lobby.timed_out(Ticket(1));
        assert_eq!((lobby.cap(), lobby.in_engine()), (4, 0));
        assert_eq!(lobby.expire(WINDOW), 0, "judged once");
        lobby.timed_out(Ticket(7));
        assert_eq!(lobby.cap(), 4, "not a stranger's ticket");
    }
}
