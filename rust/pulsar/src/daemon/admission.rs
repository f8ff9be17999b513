//! The admission desk's books: who waits for a reply, who was admitted and may be probed, and the framing of
//! the ROUTER socket's messages.
//!
//! Performers' REQ sockets send `[identity, "", body]` (one 4-byte request id before the delimiter with
//! `REQ_CORRELATE`; nothing deeper is accepted); a reply must carry the same envelope. A peer that asks again while it waits (a
//! relaxed REQ resending, or a DEALER) keeps its one place in the queue, and the reply goes with its latest
//! request. A peer that asks again after it was admitted has moved on: its old ticket is handed back to the
//! engine as gone. The desk also knows which connection (file descriptor) each peer uses, so that when the
//! socket monitor reports a connection closed, the tickets of the worker behind it are handed back at once:
//! an admitted worker that died before subscribing frees its slot, a waiting one leaves the queue.
//!
//! It must never touch a socket or decide whom to admit: it keeps the books the driver and the engine need.

use std::collections::{HashMap, HashSet};

use pulsar_pulse::Ticket;

use super::report::hex;
use super::sockets::{MAX_ENVELOPE_FRAMES, MAX_ENVELOPE_ID};

/// The frames a ROUTER reply must carry before the empty delimiter: the routing id first, then whatever
/// envelope frame the peer's side added (a `REQ_CORRELATE` request id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Envelope(pub(crate) Vec<Vec<u8>>);

impl Envelope {
    pub(crate) fn routing_id(&self) -> &[u8] {
        self.0.first().map(Vec::as_slice).unwrap_or_default()
    }

    /// The routing id in hex, for logs.
    pub(crate) fn peer(&self) -> String {
        hex(self.routing_id())
    }
}

/// The lobby keeps one request per admission connection: the routing id names it.
impl pulsar_pulse::Peered for Envelope {
    fn peer(&self) -> &[u8] {
        self.routing_id()
    }
}

/// Splits `[envelope.., "", body]`: the envelope ends at the first empty frame, and exactly one body frame
/// must follow it. Anything else (e.g. a DEALER without the delimiter) cannot be answered in a way the peer
/// would understand. An envelope deeper than [`MAX_ENVELOPE_FRAMES`] or with an id longer than
/// [`MAX_ENVELOPE_ID`] after the routing id is refused too: echoing it would let a peer make the daemon hold and
/// send back whatever it likes.
pub(crate) fn split_request(mut frames: Vec<Vec<u8>>) -> Option<(Envelope, Vec<u8>)> {
    let delimiter = frames.iter().position(Vec::is_empty)?;
    if delimiter == 0 || frames.len() != delimiter + 2 || delimiter > MAX_ENVELOPE_FRAMES {
        return None;
    }
    if frames[1..delimiter]
        .iter()
        .any(|f| f.len() > MAX_ENVELOPE_ID)
    {
        return None;
    }
    let body = frames.pop()?;
    frames.pop(); // the delimiter
    Some((Envelope(frames), body))
}

/// What a valid admission request became.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Enqueued {
    /// The peer already waits: it keeps its ticket, its latest envelope will get the reply.
    AlreadyWaiting,
    /// A new place in the queue; `moved_on` is the peer's earlier ticket if it was admitted and still tracked.
    New {
        ticket: Ticket,
        moved_on: Option<Ticket>,
    },
}

/// The desk's books. Every map is bounded by the peers that hold a ticket or an open connection (at most
/// `maxConnections` connections, one place each).
#[derive(Debug, Default)]
pub(crate) struct Desk {
    /// Envelopes of the requests that await their reply, by ticket.
    pending: HashMap<u64, Envelope>,
    /// The ticket each waiting peer holds, by routing id: one place in the queue per peer.
    waiting_peers: HashMap<Vec<u8>, u64>,
    /// Envelopes of admitted workers the engine still tracks, by ticket.
    admitted: HashMap<u64, Envelope>,
    /// The tracked ticket of each admitted peer, by routing id.
    admitted_peers: HashMap<Vec<u8>, u64>,
    /// The peer last seen on each connection, by file descriptor.
    connections: HashMap<i32, Vec<u8>>,
    /// Peers (admission connections) that completed a protocol cycle: admitted, then asked again.
    known: HashSet<Vec<u8>>,
    /// Connections known closed (their descriptor was reused) whose "disconnected" event has not arrived yet.
    stale_disconnects: HashMap<i32, u32>,
    next_ticket: u64,
}

impl Desk {
    /// Admission connections known now (by descriptor).
    pub(crate) fn connections(&self) -> usize {
        self.connections.len()
    }

    /// Whether `peer` completed a protocol cycle on its connection.
    pub(crate) fn is_known(&self, peer: &[u8]) -> bool {
        self.known.contains(peer)
    }

    /// Whether `peer` holds a place in the engine's queue.
    pub(crate) fn is_waiting(&self, peer: &[u8]) -> bool {
        self.waiting_peers.contains_key(peer)
    }

    /// Notes that `peer` completed a cycle (it was admitted and asked again on the same connection).
    pub(crate) fn mark_known(&mut self, peer: Vec<u8>) {
        self.known.insert(peer);
    }

    /// Books a valid request.
    pub(crate) fn enqueue(&mut self, envelope: Envelope) -> Enqueued {
        let peer = envelope.routing_id().to_vec();
        if let Some(ticket) = self.waiting_peers.get(&peer) {
            self.pending.insert(*ticket, envelope);
            return Enqueued::AlreadyWaiting;
        }
        let moved_on = self.admitted_peers.remove(&peer).map(|t| {
            self.admitted.remove(&t);
            Ticket(t)
        });
        let ticket = self.next_ticket;
        self.next_ticket += 1;
        self.pending.insert(ticket, envelope);
        self.waiting_peers.insert(peer, ticket);
        Enqueued::New {
            ticket: Ticket(ticket),
            moved_on,
        }
    }

    /// Takes the envelope a reply for `ticket` must go to.
    pub(crate) fn take_pending(&mut self, ticket: Ticket) -> Option<Envelope> {
        let envelope = self.pending.remove(&ticket.0)?;
        if self.waiting_peers.get(envelope.routing_id()) == Some(&ticket.0) {
            self.waiting_peers.remove(envelope.routing_id());
        }
        Some(envelope)
    }

    /// Keeps an admitted worker's envelope, to know it by its connection, until [`Desk::forget`].
    pub(crate) fn track(&mut self, ticket: Ticket, envelope: Envelope) {
        self.admitted_peers
            .insert(envelope.routing_id().to_vec(), ticket.0);
        self.admitted.insert(ticket.0, envelope);
    }

    /// The envelope of a tracked admitted worker.
    #[cfg(test)]
    pub(crate) fn tracked(&self, ticket: Ticket) -> Option<&Envelope> {
        self.admitted.get(&ticket.0)
    }

    /// Drops a tracked admitted worker; returns its routing id.
    pub(crate) fn forget(&mut self, ticket: Ticket) -> Option<Vec<u8>> {
        let envelope = self.admitted.remove(&ticket.0)?;
        if self.admitted_peers.get(envelope.routing_id()) == Some(&ticket.0) {
            self.admitted_peers.remove(envelope.routing_id());
        }
        Some(envelope.routing_id().to_vec())
    }

    /// Notes that `peer` sent on connection `fd`. If another peer was last seen there, that one's connection
    /// has closed (the descriptor was reused): it and its tickets are returned, to be handed back as gone.
    pub(crate) fn connection(&mut self, fd: i32, peer: &[u8]) -> (Option<Vec<u8>>, Vec<Ticket>) {
        match self.connections.get(&fd) {
            Some(known) if known == peer => (None, Vec::new()),
            Some(_) => {
                let old = self
                    .connections
                    .insert(fd, peer.to_vec())
                    .unwrap_or_default();
                *self.stale_disconnects.entry(fd).or_default() += 1;
                let tickets = self.peer_gone(&old);
                (Some(old), tickets)
            }
            None => {
                self.connections.insert(fd, peer.to_vec());
                (None, Vec::new())
            }
        }
    }

    /// The socket monitor reports connection `fd` closed: the peer behind it (if known) and its tickets, to be
    /// handed back.
    pub(crate) fn disconnected(&mut self, fd: i32) -> (Option<Vec<u8>>, Vec<Ticket>) {
        if let Some(stale) = self.stale_disconnects.get_mut(&fd) {
            // This event is about the connection that used the descriptor before: already handled.
            *stale -= 1;
            if *stale == 0 {
                self.stale_disconnects.remove(&fd);
            }
            return (None, Vec::new());
        }
        match self.connections.remove(&fd) {
            Some(peer) => {
                let tickets = self.peer_gone(&peer);
                (Some(peer), tickets)
            }
            None => (None, Vec::new()),
        }
    }

    /// Drops a peer's tracked and waiting tickets and returns them.
    fn peer_gone(&mut self, peer: &[u8]) -> Vec<Ticket> {
        self.known.remove(peer);
        let mut gone = Vec::new();
        if let Some(t) = self.admitted_peers.remove(peer) {
            self.admitted.remove(&t);
            gone.push(Ticket(t));
        }
        if let Some(t) = self.waiting_peers.remove(peer) {
            self.pending.remove(&t);
            gone.push(Ticket(t));
        }
        gone
    }

    /// Every request still awaiting its reply, oldest first; the books are emptied.
    pub(crate) fn drain_pending(&mut self) -> Vec<Envelope> {
        self.waiting_peers.clear();
        let mut waiting: Vec<(u64, Envelope)> = self.pending.drain().collect();
        waiting.sort_unstable_by_key(|(ticket, _)| *ticket);
        waiting.into_iter().map(|(_, e)| e).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(id: &[u8]) -> Envelope {
        Envelope(vec![id.to_vec()])
    }

    #[test]
    fn a_request_is_split_at_the_first_empty_frame() {
        let f = |frames: &[&[u8]]| split_request(frames.iter().map(|f| f.to_vec()).collect());
        let (envelope, body) = f(&[b"id", b"", b"body"]).expect("REQ shape");
        assert_eq!((envelope.0, body), (vec![b"id".to_vec()], b"body".to_vec()));
        let (envelope, _) = f(&[b"id", b"\0\0\0\x01", b"", b"body"]).expect("REQ_CORRELATE shape");
        assert_eq!(envelope.0.len(), 2);
        assert!(f(&[b"id", b"body"]).is_none(), "no delimiter");
        assert!(f(&[b"", b"body"]).is_none(), "no routing id");
        assert!(f(&[b"id", b"", b"body", b"more"]).is_none(), "two bodies");
        assert!(f(&[b"id", b""]).is_none(), "no body");
        assert!(
            f(&[b"id", b"12345", b"", b"body"]).is_none(),
            "an id longer than 4 bytes"
        );
        assert!(
            f(&[b"id", b"1", b"2", b"", b"body"]).is_none(),
            "an envelope too deep"
        );
        assert_eq!(
            f(&[b"id", b"", b""]).map(|(_, b)| b),
            Some(Vec::new()),
            "an empty body is a body"
        );
    }

    #[test]
    fn a_waiting_peer_keeps_its_place_and_an_admitted_one_that_asks_again_has_moved_on() {
        let mut desk = Desk::default();
        let Enqueued::New { ticket, moved_on } = desk.enqueue(env(b"a")) else {
            panic!("first request")
        };
        assert_eq!(moved_on, None);
        assert_eq!(desk.enqueue(env(b"a")), Enqueued::AlreadyWaiting);
        let envelope = desk.take_pending(ticket).expect("pending");
        desk.track(ticket, envelope);
        assert!(desk.tracked(ticket).is_some());
        let Enqueued::New { moved_on, .. } = desk.enqueue(env(b"a")) else {
            panic!("second request")
        };
        assert_eq!(moved_on, Some(ticket));
        assert!(desk.tracked(ticket).is_none());
        assert_eq!(desk.drain_pending().len(), 1);
    }

    #[test]
    fn a_closed_connection_hands_back_its_peers_tickets_once() {
        let mut desk = Desk::default();
        let Enqueued::New {
            ticket: admitted, ..
        } = desk.enqueue(env(b"a"))
        else {
            panic!("request")
        };
        assert!(desk.connection(7, b"a").1.is_empty());
        let envelope = desk.take_pending(admitted).expect("pending");
        desk.track(admitted, envelope);
        let Enqueued::New {
            ticket: waiting, ..
        } = desk.enqueue(env(b"b"))
        else {
            panic!("request")
        };
        assert!(desk.connection(8, b"b").1.is_empty());
        assert_eq!(desk.disconnected(7).1, vec![admitted]);
        assert!(desk.disconnected(7).1.is_empty());
        // Descriptor 8 is reused by peer c before its "disconnected" event is read: b is gone already, and the
        // late event must not touch c.
        assert_eq!(
            desk.connection(8, b"c"),
            (Some(b"b".to_vec()), vec![waiting])
        );
        assert!(desk.disconnected(8).1.is_empty());
        assert!(desk.drain_pending().is_empty());
    }
}
