//! Property tests of the lobby (`pulsar_pulse::Lobby`): whatever strangers do, in any order (ask, ask again, leave,
//! get admitted, time out, stay silent past their proof window), the lobby stays inside its bounds:
//! - it never holds more than `capacity` waiting requests, one per peer;
//! - it never lets a request in while the engine holds `cap` strangers' tickets, so the engine never holds more
//!   than the cap it had when each ticket entered;
//! - the cap stays between 1 and N, so newcomers always get in and never take more than a pulse's worth;
//! - every request offered is either refused at once (`Offer::Full`), let in, replaced by its peer's newer one,
//!   dropped because its peer left, or still waiting: none is lost or let in twice.

use std::collections::{HashMap, HashSet};

use proptest::prelude::*;
use pulsar_pulse::{Lobby, Nanos, Offer, Peered, Ticket};

/// A stranger's request: its peer and a serial number, so that each one can be followed.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Request {
    peer: Vec<u8>,
    serial: u64,
}

impl Peered for Request {
    fn peer(&self) -> &[u8] {
        &self.peer
    }
}

/// One thing that may happen, with the peer or ticket it concerns picked from a small range so that they meet.
#[derive(Debug, Clone)]
enum Step {
    /// A peer asks (again, if it already waits).
    Offer(u8),
    /// The driver lets in as many as the lobby allows; each gets a fresh ticket.
    LetIn,
    /// The engine admits the ticket at this index of those it holds.
    Admit(usize),
    /// The engine lets go of the ticket at this index (released, refused, lost).
    TicketGone(usize),
    /// The engine drops the ticket at this index: its worker never subscribed.
    TimedOut(usize),
    /// A peer asks again after its cycle.
    Proven(u8),
    /// A peer's connection closes.
    Gone(u8),
    /// Time passes by this many milliseconds; proof windows may end.
    Wait(u16),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0u8..24).prop_map(Step::Offer),
        3 => Just(Step::LetIn),
        2 => (0usize..16).prop_map(Step::Admit),
        2 => (0usize..16).prop_map(Step::TicketGone),
        1 => (0usize..16).prop_map(Step::TimedOut),
        1 => (0u8..24).prop_map(Step::Proven),
        1 => (0u8..24).prop_map(Step::Gone),
        1 => (1u16..20_000).prop_map(Step::Wait),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn the_lobby_stays_within_its_bounds(
        n in 1u32..12,
        capacity in 1usize..10,
        steps in proptest::collection::vec(step(), 1..300),
    ) {
        let window = Nanos::from_secs(15);
        let mut lobby: Lobby<Request> = Lobby::new(n, capacity, window);
        let mut now = Nanos::ZERO;
        let mut serial = 0u64;
        // What the model expects: the latest request of each waiting peer, and the tickets the engine holds.
        let mut waiting: HashMap<Vec<u8>, u64> = HashMap::new();
        let mut held: Vec<Ticket> = Vec::new();
        let mut next_ticket = 0u64;
        let mut let_in: HashSet<u64> = HashSet::new();
        for step in steps {
            match step {
                Step::Offer(p) => {
                    serial += 1;
                    let peer = vec![p];
                    let fresh = !waiting.contains_key(&peer);
                    match lobby.offer(Request { peer: peer.clone(), serial }) {
                        Offer::Waiting => {
                            prop_assert!(!fresh || waiting.len() < capacity, "took a peer beyond capacity");
                            waiting.insert(peer, serial);
                        }
                        Offer::Full(back) => {
                            prop_assert!(fresh, "a waiting peer's new request was refused");
                            prop_assert_eq!(waiting.len(), capacity, "refused with room left");
                            prop_assert_eq!(back.serial, serial, "refused another request than the one offered");
                        }
                    }
                }
                Step::LetIn => {
                    while let Some(request) = lobby.let_in() {
                        prop_assert!(held.len() < lobby.cap(), "let in with the cap reached");
                        // Only a waiting peer's latest request comes out, once.
                        prop_assert_eq!(waiting.remove(&request.peer), Some(request.serial));
                        prop_assert!(let_in.insert(request.serial), "let in twice");
                        let ticket = Ticket(next_ticket);
                        next_ticket += 1;
                        lobby.entered(ticket, &request.peer);
                        held.push(ticket);
                    }
                }
                Step::Admit(i) => {
                    if let Some(&ticket) = held.get(i) {
                        lobby.admitted(ticket, now);
                    }
                }
                Step::TicketGone(i) => {
                    if i < held.len() {
                        lobby.ticket_gone(held.remove(i));
                    }
                }
                Step::TimedOut(i) => {
                    if i < held.len() {
                        lobby.timed_out(held.remove(i));
                    }
                }
                Step::Proven(p) => {
                    lobby.proven(&[p]);
                }
                Step::Gone(p) => {
                    lobby.gone(&[p]);
                    waiting.remove(&vec![p]);
                }
                Step::Wait(millis) => {
                    now = now.saturating_add(Nanos::from_millis(u64::from(millis)));
                    lobby.expire(now);
                }
            }
            prop_assert!(lobby.waiting() <= capacity);
            prop_assert_eq!(lobby.waiting(), waiting.len());
            prop_assert_eq!(lobby.in_engine(), held.len());
            let max_cap = usize::try_from(n).unwrap_or(usize::MAX);
            prop_assert!((1..=max_cap).contains(&lobby.cap()), "cap {} outside 1..={}", lobby.cap(), max_cap);
        }
        // Whoever still waits comes out of a drain, each with its latest request.
        let drained: HashMap<Vec<u8>, u64> =
            lobby.drain().into_iter().map(|r| (r.peer, r.serial)).collect();
        prop_assert_eq!(drained, waiting);
        prop_assert_eq!(lobby.waiting(), 0);
    }
}
