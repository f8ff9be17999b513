//! Pushers: the push connections whose last message was a Ready, the only evidence that a released worker is
//! gone.
//!
//! Results carry no identity, and the engine credits each one to the oldest pulse still owed (rule 3 of the
//! engine's module docs), so a receiver that never reports would have its debt moved on from pulse to pulse
//! while others keep reporting. The connection a push came in on is the one thing that ties a Ready to its
//! result. A connection that pushed a Ready and then closes without a result or an early termination is a
//! worker that died; one that is still silent when the result timeout of the first pulse sent after its Ready
//! has run out is a worker that hangs (or acts for longer than it may). Either way the engine is told
//! ([`Lost::event`], [`crate::Event::ReceiverLost`]) and decides what, if anything, is owed.
//!
//! The driver keeps it beside the [`crate::Engine`], keyed by whatever names a connection (the daemon uses the
//! descriptor, `ZMQ_SRCFD`): it notes each Ready, result and early termination with the connection it came on,
//! each pulse the engine publishes, and each connection the socket monitor saw close.
//!
//! It must never decide what is owed (the engine does), read a clock or do I/O, nor hold more than one entry
//! per open connection: its size is bounded by the connections the driver lets in.

use std::collections::HashMap;
use std::hash::Hash;

use crate::engine::Event;
use crate::time::Nanos;

/// A push connection whose Ready went without a result: what the engine needs to name the pulse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lost {
    /// Pulses the engine had sent when the Ready was read.
    pub pulses_at_ready: u64,
    /// How long after the latest of those pulses the Ready was read (`None` before any pulse).
    pub ready_lag: Option<Nanos>,
}

impl Lost {
    /// The engine's event for this lost receiver.
    #[must_use]
    pub fn event(self) -> Event {
        Event::ReceiverLost {
            pulses_at_ready: self.pulses_at_ready,
            ready_lag: self.ready_lag,
        }
    }
}

/// One push connection's Ready still without a result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Pending {
    /// Which Ready this is (a descriptor can be reused by a later connection).
    seq: u64,
    lost: Lost,
    /// When the first pulse after the Ready went out: the worker's result timeout runs from there.
    pulsed_at: Option<Nanos>,
}

/// The push connections that owe a result, by the driver's connection key `K`.
#[derive(Debug)]
pub struct Pushers<K> {
    pending: HashMap<K, Pending>,
    /// `performerContainerActionMaxExecutionTime`.
    result_timeout: Nanos,
    /// The earliest moment an entry can become overdue (may be early, never late).
    next_overdue: Option<Nanos>,
    /// When the latest pulse went out (the engine's instant).
    last_pulse_at: Option<Nanos>,
    /// Readies noted so far (numbers each one).
    readies: u64,
    /// Connections seen closing while they owed a result, with the Ready they owed it for: settled once the
    /// inbox has been read to the end (see [`Pushers::closing`]). At most one per pending entry.
    closing: Vec<(K, u64)>,
}

impl<K: Copy + Eq + Hash> Pushers<K> {
    /// No connection known yet; a worker is overdue `result_timeout` after the first pulse after its Ready.
    pub fn new(result_timeout: Nanos) -> Pushers<K> {
        Pushers {
            pending: HashMap::new(),
            result_timeout,
            next_overdue: None,
            last_pulse_at: None,
            readies: 0,
            closing: Vec::new(),
        }
    }

    /// A Ready came on `connection` at `now`, when the engine had sent `pulses` pulses. A later Ready on the same
    /// connection replaces an earlier one: a worker waits for one pulse at a time.
    pub fn ready(&mut self, connection: K, pulses: u64, now: Nanos) {
        let ready_lag = self.last_pulse_at.map(|at| now.saturating_sub(at));
        self.readies += 1;
        self.pending.insert(
            connection,
            Pending {
                seq: self.readies,
                lost: Lost {
                    pulses_at_ready: pulses,
                    ready_lag,
                },
                pulsed_at: None,
            },
        );
    }

    /// A result or early termination came on `connection`: that worker owes nothing more.
    pub fn reported(&mut self, connection: K) {
        self.pending.remove(&connection);
    }

    /// The driver saw `connection` close. Its last messages may still wait to be read (libzmq queues a
    /// connection's messages before its monitor reports the close, but the two travel separately): whether it
    /// owed a result is settled by [`Pushers::settle_closed`] once the pushes have been read to the end.
    pub fn closing(&mut self, connection: K) {
        if let Some(p) = self.pending.get(&connection) {
            if !self.closing.contains(&(connection, p.seq)) {
                self.closing.push((connection, p.seq));
            }
        }
    }

    /// Whether closed connections wait to be settled (the inbox must then be read to the end first).
    pub fn has_closing(&self) -> bool {
        !self.closing.is_empty()
    }

    /// Call with the inbox read to the end: the closed connections whose Ready is still without a result. A
    /// result read meanwhile settled its connection, and a later connection on the same descriptor has a Ready
    /// of its own, which stays.
    pub fn settle_closed(&mut self) -> Vec<Lost> {
        let mut lost = Vec::new();
        for (connection, seq) in std::mem::take(&mut self.closing) {
            if self.pending.get(&connection).is_some_and(|p| p.seq == seq) {
                if let Some(p) = self.pending.remove(&connection) {
                    lost.push(p.lost);
                }
            }
        }
        lost
    }

    /// Pulse `iteration` went out at `at`: the result timeout of every worker whose Ready came before it (and
    /// that has none running yet) starts now. A worker whose Ready was read just after the pulse that reached it
    /// is timed from the next pulse: later, never earlier, than its own.
    pub fn published(&mut self, iteration: u64, at: Nanos) {
        self.last_pulse_at = Some(at);
        let mut started = false;
        for pending in self.pending.values_mut() {
            if pending.pulsed_at.is_none() && pending.lost.pulses_at_ready < iteration {
                pending.pulsed_at = Some(at);
                started = true;
            }
        }
        if started {
            let due = at.saturating_add(self.result_timeout);
            self.next_overdue = Some(self.next_overdue.map_or(due, |t| t.min(due)));
        }
    }

    /// Takes the workers whose result timeout has run out by `now`.
    pub fn overdue(&mut self, now: Nanos) -> Vec<Lost> {
        if self.next_overdue.is_none_or(|t| t > now) {
            return Vec::new();
        }
        let timeout = self.result_timeout;
        let mut overdue = Vec::new();
        let mut next: Option<Nanos> = None;
        self.pending.retain(|_, p| {
            let Some(at) = p.pulsed_at else {
                return true;
            };
            let due = at.saturating_add(timeout);
            if due <= now {
                overdue.push(p.lost);
                false
            } else {
                next = Some(next.map_or(due, |t| t.min(due)));
                true
            }
        });
        self.next_overdue = next;
        overdue
    }

    /// When [`Pushers::overdue`] may next have something.
    pub fn next_deadline(&self) -> Option<Nanos> {
        self.next_overdue
    }

    /// Connections that owe a result now.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.pending.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: u64) -> Nanos {
        Nanos::from_millis(v)
    }

    fn pulses(lost: Vec<Lost>) -> Vec<u64> {
        lost.into_iter().map(|l| l.pulses_at_ready).collect()
    }

    #[test]
    fn a_connection_closed_after_its_ready_owed_a_result_and_one_that_reported_did_not() {
        let mut p = Pushers::new(ms(7000));
        p.ready(5, 0, ms(10));
        p.ready(6, 0, ms(10));
        p.reported(6);
        p.closing(5);
        p.closing(6);
        let lost = Lost {
            pulses_at_ready: 0,
            ready_lag: None,
        };
        assert_eq!(p.settle_closed(), vec![lost], "no pulse before its Ready");
        assert!(!p.has_closing());
        p.closing(5);
        assert!(p.settle_closed().is_empty(), "reported once");
        assert_eq!(p.len(), 0);
    }

    #[test]
    fn a_result_read_after_the_close_was_seen_settles_the_connection() {
        // The monitor's close can be read before the connection's last message, its result.
        let mut p = Pushers::new(ms(7000));
        p.ready(5, 2, ms(10));
        p.closing(5);
        assert!(p.has_closing());
        p.reported(5);
        assert!(p.settle_closed().is_empty());
        assert!(!p.has_closing());
    }

    #[test]
    fn a_new_connection_on_a_reused_descriptor_keeps_its_own_ready() {
        let mut p = Pushers::new(ms(7000));
        p.ready(5, 2, ms(10));
        p.closing(5);
        p.reported(5);
        p.ready(5, 3, ms(20));
        assert!(
            p.settle_closed().is_empty(),
            "the new connection owes its result"
        );
        assert_eq!(p.len(), 1);
    }

    #[test]
    fn a_silent_worker_is_overdue_a_result_timeout_after_the_first_pulse_after_its_ready() {
        let mut p = Pushers::new(ms(7000));
        p.ready(5, 3, ms(10));
        assert!(p.overdue(ms(60_000)).is_empty(), "no pulse yet");
        p.published(3, ms(900));
        assert_eq!(p.next_deadline(), None, "pulse 3 went out before its Ready");
        p.published(4, ms(1000));
        p.ready(6, 4, ms(1030));
        p.published(5, ms(2000));
        assert_eq!(p.next_deadline(), Some(ms(8000)));
        assert!(p.overdue(ms(7999)).is_empty());
        assert_eq!(pulses(p.overdue(ms(8000))), vec![3]);
        assert_eq!(p.next_deadline(), Some(ms(9000)));
        let late = p.overdue(ms(9000));
        let expected = Lost {
            pulses_at_ready: 4,
            ready_lag: Some(ms(30)),
        };
        assert_eq!(late, vec![expected], "read 30 ms after pulse 4");
        assert_eq!((p.len(), p.next_deadline()), (0, None));
    }

    #[test]
    fn a_new_ready_on_the_same_connection_starts_over() {
        let mut p = Pushers::new(ms(7000));
        p.ready(5, 1, ms(50));
        p.published(2, ms(100));
        p.ready(5, 2, ms(120));
        assert!(p.overdue(ms(7100)).is_empty(), "no pulse since");
        assert_eq!(p.len(), 1);
    }
}
