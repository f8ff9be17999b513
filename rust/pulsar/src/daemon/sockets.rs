//! The bound sockets' limits and their monitors: what each socket accepts from a peer, how much it queues, and
//! how the daemon learns that connections open and close.
//!
//! Memory must be bounded by these settings, not by what peers send. Each socket gets the largest message its
//! protocol needs ([`ADMISSION_MAX_MESSAGE`], [`SUBSCRIPTION_MAX_MESSAGE`], [`INBOX_MAX_MESSAGE`]; libzmq drops
//! the connection of a peer that sends more, before the bytes reach us) and small per-connection queues
//! ([`Role::queue`]). Every connection is counted ([`ConnectionGauge`]) from the monitors' "accepted" and
//! "disconnected" events, so that the access check (`access`) can refuse connections beyond `maxConnections`.
//!
//! It must never decide anything about workers: it sets up sockets and reports what libzmq saw.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;

use crate::PulsarError;

/// Largest admission frame accepted: a `PreparingRequestDto` is about 140 bytes; its optional
/// `preparingErrorOccurred` text gets the rest. A routing envelope's frames are bounded by it too.
pub const ADMISSION_MAX_MESSAGE: i64 = 4 * 1024;

/// Largest message accepted on the publisher. A protocol worker's subscription is the flag byte alone (the
/// empty topic), but the limit also applies to the ZMTP handshake's commands (a NULL `READY` from a SUB is
/// about 25 bytes), so it cannot be 1. libzmq keeps every distinct topic a subscriber sends until it
/// disconnects, at a cost that grows with the topic's length: the shorter the limit, the less one message can
/// make it hold.
pub const SUBSCRIPTION_MAX_MESSAGE: i64 = 64;

/// The same limit with CURVE: the handshake's `INITIATE` command with its metadata is about 300 bytes.
pub const CURVE_SUBSCRIPTION_MAX_MESSAGE: i64 = 512;

/// Largest push accepted on the inbox: results carry an error message and reason of the worker's choosing; the
/// log keeps 512 characters of each, and 16 KiB leaves room for any real API error text.
pub const INBOX_MAX_MESSAGE: i64 = 16 * 1024;

/// Most frames before a routing envelope's delimiter: the routing id the ROUTER adds, plus the request id a
/// `REQ_CORRELATE` socket sends. A plain REQ sends no envelope frame of its own.
pub const MAX_ENVELOPE_FRAMES: usize = 2;

/// Longest envelope frame after the routing id: a `REQ_CORRELATE` request id is 4 bytes.
pub const MAX_ENVELOPE_ID: usize = 4;

/// How long a new connection may take to complete its ZeroMQ handshake (and the access check) before libzmq
/// closes it: a peer that connects and says nothing holds a descriptor this long at most.
pub const HANDSHAKE_MS: i32 = 5_000;

/// How long closing a socket may wait to flush what is queued (the last refusals at shutdown).
const LINGER_MS: i32 = 100;

/// `ZMQ_EVENT_ACCEPTED` in a socket monitor's event frame.
const EVENT_ACCEPTED: u16 = 0x0020;
/// `ZMQ_EVENT_ACCEPT_FAILED`: the listener could not accept (at the descriptor limit: `EMFILE`).
const EVENT_ACCEPT_FAILED: u16 = 0x0040;
/// `ZMQ_EVENT_DISCONNECTED` in a socket monitor's event frame.
const EVENT_DISCONNECTED: u16 = 0x0200;

/// What a bound socket is for; each has its own limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Role {
    /// The admission desk (ROUTER).
    Admission,
    /// The publisher (XPUB).
    Publisher,
    /// The inbox (PULL).
    Inbox,
}

impl Role {
    /// The largest message a peer may send on this socket (`curve`: the socket is a CURVE server).
    pub(super) fn max_message(self, curve: bool) -> i64 {
        match self {
            Role::Admission => ADMISSION_MAX_MESSAGE,
            Role::Publisher if curve => CURVE_SUBSCRIPTION_MAX_MESSAGE,
            Role::Publisher => SUBSCRIPTION_MAX_MESSAGE,
            Role::Inbox => INBOX_MAX_MESSAGE,
        }
    }

    /// Messages queued per connection, (outgoing, incoming). A protocol worker has one admission request and
    /// one reply in flight, a pulse per period, and a Ready and a result per cycle; a peer that lets its queue
    /// fill up loses what does not fit (an admission reply that does not fit counts as a lost worker).
    pub(super) fn queue(self) -> (i32, i32) {
        match self {
            Role::Admission => (16, 16),
            Role::Publisher => (100, 100),
            Role::Inbox => (1, 32),
        }
    }

    /// The name used in log lines.
    pub(super) fn name(self) -> &'static str {
        match self {
            Role::Admission => "admission",
            Role::Publisher => "publisher",
            Role::Inbox => "inbox",
        }
    }
}

/// Creates a socket with its role's limits. `curve_secret_key` (32 bytes) makes it a CURVE server.
pub(super) fn new_socket(
    context: &zmq::Context,
    kind: zmq::SocketType,
    role: Role,
    curve_secret_key: Option<&[u8]>,
) -> Result<zmq::Socket, PulsarError> {
    let socket = context
        .socket(kind)
        .map_err(PulsarError::zmq("creating a socket"))?;
    let (sndhwm, rcvhwm) = role.queue();
    socket
        .set_linger(LINGER_MS)
        .map_err(PulsarError::zmq("setting LINGER"))?;
    socket
        .set_maxmsgsize(role.max_message(curve_secret_key.is_some()))
        .map_err(PulsarError::zmq("setting MAXMSGSIZE"))?;
    socket
        .set_sndhwm(sndhwm)
        .map_err(PulsarError::zmq("setting SNDHWM"))?;
    socket
        .set_rcvhwm(rcvhwm)
        .map_err(PulsarError::zmq("setting RCVHWM"))?;
    socket
        .set_handshake_ivl(HANDSHAKE_MS)
        .map_err(PulsarError::zmq("setting HANDSHAKE_IVL"))?;
    // With a ZAP domain, libzmq asks the access check about every connection, NULL mechanism included.
    socket
        .set_zap_domain(super::access::ZAP_DOMAIN)
        .map_err(PulsarError::zmq("setting ZAP_DOMAIN"))?;
    if let Some(key) = curve_secret_key {
        socket
            .set_curve_server(true)
            .map_err(PulsarError::zmq("setting CURVE_SERVER"))?;
        socket
            .set_curve_secretkey(key)
            .map_err(PulsarError::zmq("setting CURVE_SECRETKEY"))?;
    }
    Ok(socket)
}

/// Binds `socket`; the error names the address.
pub(super) fn bind(socket: &zmq::Socket, address: &str) -> Result<(), PulsarError> {
    socket.bind(address).map_err(|source| PulsarError::Bind {
        address: address.to_string(),
        source,
    })
}

/// The address a socket is bound at (a wildcard port resolved).
pub(super) fn last_endpoint(socket: &zmq::Socket, configured: &str) -> Result<String, PulsarError> {
    match socket.get_last_endpoint() {
        Ok(Ok(endpoint)) => Ok(endpoint),
        // Not UTF-8 (an odd ipc path): the configured address is the best description we have.
        Ok(Err(_)) => Ok(configured.to_string()),
        Err(e) => Err(PulsarError::zmq("reading the bound endpoint")(e)),
    }
}

/// Open connections on every bound socket, counted from the monitors (accepted minus disconnected), shared with
/// the access check. It lags the sockets by at most one loop turn.
#[derive(Debug, Clone, Default)]
pub(crate) struct ConnectionGauge(Arc<AtomicI64>);

impl ConnectionGauge {
    /// Connections open now.
    pub(crate) fn open(&self) -> u64 {
        u64::try_from(self.0.load(Ordering::Relaxed)).unwrap_or(0)
    }

    fn add(&self, delta: i64) {
        self.0.fetch_add(delta, Ordering::Relaxed);
    }
}

/// A monitor's report about one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Seen {
    /// A connection was accepted.
    Accepted,
    /// The listener could not accept a connection (the value is the errno, e.g. `EMFILE`).
    AcceptFailed(i32),
    /// A connection closed; the value is its descriptor.
    Disconnected(i32),
}

/// A bound socket's monitor: a PAIR connected to the inproc endpoint libzmq reports on.
pub(super) struct Monitor {
    pub(super) role: Role,
    pub(super) socket: zmq::Socket,
}

impl Monitor {
    /// Starts monitoring `socket` for accepted, refused and closed connections.
    pub(super) fn start(
        context: &zmq::Context,
        socket: &zmq::Socket,
        role: Role,
    ) -> Result<Monitor, PulsarError> {
        // Each daemon in a process (tests, the C ABI) needs its own inproc names.
        static MONITORS: AtomicU64 = AtomicU64::new(0);
        let endpoint = format!(
            "inproc://pulsar-{}-monitor-{}",
            role.name(),
            MONITORS.fetch_add(1, Ordering::Relaxed)
        );
        let events = zmq::SocketEvent::ACCEPTED as i32
            | zmq::SocketEvent::ACCEPT_FAILED as i32
            | zmq::SocketEvent::DISCONNECTED as i32;
        socket
            .monitor(&endpoint, events)
            .map_err(PulsarError::zmq("monitoring a socket"))?;
        let pair = context
            .socket(zmq::PAIR)
            .map_err(PulsarError::zmq("creating a monitor socket"))?;
        pair.connect(&endpoint)
            .map_err(PulsarError::zmq("connecting a monitor socket"))?;
        Ok(Monitor { role, socket: pair })
    }

    /// Reads one event without waiting, counting connections in `gauge`; `Ok(None)` when none is queued.
    pub(super) fn next(&self, gauge: &ConnectionGauge) -> Result<Option<Seen>, PulsarError> {
        loop {
            let frames = match self.socket.recv_multipart(zmq::DONTWAIT) {
                Ok(frames) => frames,
                Err(zmq::Error::EAGAIN) | Err(zmq::Error::EINTR) => return Ok(None),
                Err(e) => return Err(PulsarError::zmq("reading a socket monitor")(e)),
            };
            // [event: u16 LE, value: u32 LE][endpoint]
            let Some(head) = frames.first().and_then(|f| f.get(..6)) else {
                continue;
            };
            let event = u16::from_le_bytes([head[0], head[1]]);
            let value = i32::from_le_bytes([head[2], head[3], head[4], head[5]]);
            return Ok(Some(match event {
                EVENT_ACCEPTED => {
                    gauge.add(1);
                    Seen::Accepted
                }
                EVENT_DISCONNECTED => {
                    gauge.add(-1);
                    Seen::Disconnected(value)
                }
                EVENT_ACCEPT_FAILED => Seen::AcceptFailed(value),
                _ => continue,
            }));
        }
    }
}
