//! When the driver's loop wakes and which sockets it reads then.
//!
//! libzmq gives each socket a descriptor (`ZMQ_FD`) that becomes readable when commands for that socket are
//! waiting: a connection's first message into an empty queue, a new or closed connection. Once the socket has
//! been read until it has nothing more (`EAGAIN`), which processes those commands, the descriptor stays quiet until
//! something new happens. The loop therefore waits with one `ppoll` on the six descriptors (three sockets, three
//! monitors) and reads only the sockets that signalled, instead of `zmq_poll`, which asks every socket for its
//! events twice per call (two system calls each) and counts its timeout in whole milliseconds.
//!
//! Two cases make a socket worth reading without a signal, and the loop does not sleep while either holds:
//! - its last read stopped at the per-turn budget, so messages are left;
//! - the driver sent on it (an admission reply, a pulse): sending processes the socket's commands too, which can
//!   consume the signal of messages that arrived meanwhile.
//!
//! (The driver reads the publisher on every turn all the same, signalled or not: see `driver`.)
//!
//! It must never read or send on a socket itself, nor decide anything: it only keeps the flags and waits.

use std::os::fd::RawFd;
use std::time::Duration;

/// The sockets, in the order the driver reads them: closed connections first (a descriptor reused by a new peer
/// is then seen in order), then admission requests, pushes, and last the publisher's subscriptions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Source {
    /// The three monitors (admission, publisher, inbox): one flag for all.
    Monitors,
    /// The admission ROUTER.
    Admission,
    /// The PULL socket for performers' pushes.
    Inbox,
    /// The XPUB.
    Publisher,
}

#[cfg(test)]
const SOURCES: [Source; 4] = [
    Source::Monitors,
    Source::Admission,
    Source::Inbox,
    Source::Publisher,
];

impl Source {
    fn index(self) -> usize {
        match self {
            Source::Monitors => 0,
            Source::Admission => 1,
            Source::Inbox => 2,
            Source::Publisher => 3,
        }
    }
}

/// The descriptors to wait on and which sources to read on the next turn.
#[derive(Debug)]
pub(super) struct Wakeup {
    /// `ZMQ_FD` of each descriptor waited on, with the source it belongs to.
    fds: Vec<(RawFd, Source)>,
    /// The same descriptors alone, as the wait takes them.
    raw_fds: Vec<RawFd>,
    /// Sources to read on the next turn: signalled, left over, or sent on.
    due: [bool; 4],
    /// Scratch space for the wait's result, one flag per descriptor.
    readable: Vec<bool>,
}

impl Wakeup {
    /// Waits on `fds`; every source is due on the first turn (commands may have arrived before the loop began).
    pub(super) fn new(fds: Vec<(RawFd, Source)>) -> Wakeup {
        let readable = vec![false; fds.len()];
        let raw_fds = fds.iter().map(|(fd, _)| *fd).collect();
        Wakeup {
            fds,
            raw_fds,
            due: [true; 4],
            readable,
        }
    }

    /// Whether `source` is to be read on this turn.
    pub(super) fn is_due(&self, source: Source) -> bool {
        self.due[source.index()]
    }

    /// Records the outcome of reading `source`: `more_left` when the read stopped at its budget.
    pub(super) fn read(&mut self, source: Source, more_left: bool) {
        self.due[source.index()] = more_left;
    }

    /// The driver sent on `source`: read it on the next turn whatever the descriptor says.
    pub(super) fn sent_on(&mut self, source: Source) {
        self.due[source.index()] = true;
    }

    /// Waits until a descriptor signals or `timeout` passes, without waiting at all while a source is already
    /// due. Afterwards, the sources due are those signalled or due before.
    pub(super) fn wait(&mut self, timeout: Duration) -> std::io::Result<()> {
        let pending = self.due.iter().any(|d| *d);
        let timeout = if pending { Duration::ZERO } else { timeout };
        pulsar_sockopt::wait_readable(&self.raw_fds, Some(timeout), &mut self.readable)?;
        for ((_, source), readable) in self.fds.iter().zip(&self.readable) {
            if *readable {
                self.due[source.index()] = true;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real socket's descriptor signals a message sent to it, and stays quiet once that message was read.
    #[test]
    fn a_socket_is_due_when_its_descriptor_signals_and_not_after_it_was_read() {
        let ctx = zmq::Context::new();
        let pull = ctx.socket(zmq::PULL).expect("pull");
        pull.bind("inproc://wakeup").expect("bind");
        let push = ctx.socket(zmq::PUSH).expect("push");
        push.connect("inproc://wakeup").expect("connect");
        let mut wakeup = Wakeup::new(vec![(pull.get_fd().expect("fd"), Source::Inbox)]);
        assert!(SOURCES.iter().all(|s| wakeup.is_due(*s)));
        for source in SOURCES {
            wakeup.read(source, false);
        }
        // Read until EAGAIN: the descriptor is then quiet.
        while pull.recv_bytes(zmq::DONTWAIT).is_ok() {}
        wakeup.wait(Duration::from_millis(20)).expect("wait");
        assert!(!wakeup.is_due(Source::Inbox), "nothing arrived");

        push.send(&b"ready"[..], 0).expect("send");
        wakeup.wait(Duration::from_secs(5)).expect("wait");
        assert!(wakeup.is_due(Source::Inbox));
        assert_eq!(
            pull.recv_bytes(zmq::DONTWAIT).expect("the message"),
            b"ready"
        );
        assert!(pull.recv_bytes(zmq::DONTWAIT).is_err());
        wakeup.read(Source::Inbox, false);
        wakeup.wait(Duration::from_millis(20)).expect("wait");
        assert!(!wakeup.is_due(Source::Inbox), "read to the end: quiet");
    }

    #[test]
    fn a_source_left_over_or_sent_on_is_due_without_waiting() {
        let mut wakeup = Wakeup::new(Vec::new());
        for source in SOURCES {
            wakeup.read(source, false);
        }
        wakeup.read(Source::Admission, true);
        let started = std::time::Instant::now();
        wakeup.wait(Duration::from_secs(5)).expect("wait");
        assert!(started.elapsed() < Duration::from_secs(1), "no sleep");
        assert!(wakeup.is_due(Source::Admission));
        wakeup.read(Source::Admission, false);
        wakeup.sent_on(Source::Publisher);
        wakeup.wait(Duration::from_secs(5)).expect("wait");
        assert!(wakeup.is_due(Source::Publisher));
        assert!(!wakeup.is_due(Source::Inbox));
    }
}
