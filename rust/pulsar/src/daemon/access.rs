//! Who may connect: a ZAP handler (ZeroMQ's authentication protocol, RFC 27) that libzmq asks about every new
//! connection to the three bound sockets, before the peer can send a single message.
//!
//! It refuses a connection when
//! - its peer address is outside every `allowFrom` network (when `allowFrom` is given), or
//! - `maxConnections` connections are already open on the daemon's sockets (counted by the monitors, see
//!   `sockets::ConnectionGauge`), so that a flood of connections never runs the process out of descriptors.
//!
//! It works with the NULL mechanism that the original workers use, unchanged: the check is on the server side
//! only (the bound sockets carry a ZAP domain, which makes libzmq consult the handler for NULL too). With
//! `curveSecretKey` the sockets are CURVE servers and the same checks apply to CURVE clients; any client that
//! knows the daemon's public key may then connect (CURVE gives encryption and authenticates the daemon to its
//! clients; who may connect is still `allowFrom`'s business).
//!
//! It runs on its own thread with a REP socket on `inproc://zeromq.zap.01` in the daemon's context. It must
//! never block the pulse loop, and never let a connection through when it cannot decide (a malformed request
//! is answered with a refusal). It never logs itself: it tallies its refusals in [`Refusals`], which the pulse
//! loop reads and logs on its own thread, because a PHP host takes log records only from the thread that runs
//! `manage()` (php-ext/src/logging.rs); a record written here would never reach a PHP logger.

use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Instant;

use ipnet::IpNet;
use tracing::warn;

use super::report::WARN_INTERVAL;
use super::sockets::ConnectionGauge;
use super::LOG_TARGET;
use crate::PulsarError;

/// The ZAP domain set on every bound socket.
pub(crate) const ZAP_DOMAIN: &str = "pulsar";

/// The metadata property the handler gives every connection it allows: a number unique within the daemon, which
/// libzmq attaches to every message from that connection (the publisher uses it to tell one subscriber's
/// duplicate subscriptions from another subscriber's).
pub(crate) const CONNECTION_PROPERTY: &str = "X-Pulsar-Connection";

/// Where libzmq sends ZAP requests (fixed by RFC 27).
const ZAP_ENDPOINT: &str = "inproc://zeromq.zap.01";

/// How often the handler looks at its stop flag while no request comes.
const STOP_POLL_MS: i64 = 100;

/// Parses `allowFrom` entries: a network in CIDR form (`10.0.0.0/8`, `fd00::/8`) or one address (`10.1.2.3`).
pub fn parse_allow_from(entries: &[String]) -> Result<Vec<IpNet>, String> {
    entries
        .iter()
        .map(|entry| {
            let entry = entry.trim();
            entry
                .parse::<IpNet>()
                .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("{entry:?} is not an IP network (e.g. 10.0.0.0/8) or address"))
        })
        .collect()
}

/// Decodes a Z85 CURVE key (40 characters) into its 32 bytes.
pub fn decode_curve_key(z85: &str) -> Result<Vec<u8>, String> {
    match zmq::z85_decode(z85) {
        Ok(bytes) if bytes.len() == 32 => Ok(bytes),
        _ => Err("must be a Z85-encoded CURVE key of 40 characters".into()),
    }
}

/// What the handler checks.
#[derive(Debug, Clone)]
pub(super) struct Policy {
    /// Networks peers may connect from; empty allows every address.
    pub(super) allow_from: Vec<IpNet>,
    /// Most connections open at once on the daemon's sockets.
    pub(super) max_connections: u64,
}

/// The outcome for one connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Verdict {
    Allow,
    NotAllowed,
    TooManyConnections,
}

impl Policy {
    /// Decides about a connection from `address` (as libzmq gives it: an IP address for TCP, empty or a path
    /// for IPC) while `open` connections are open, this one included.
    pub(super) fn decide(&self, address: &str, open: u64) -> Verdict {
        if !self.allow_from.is_empty() {
            // IPC peers have no IP address: the socket file's permissions decide who reaches them.
            if let Ok(ip) = address.parse::<IpAddr>() {
                let ip = ip.to_canonical();
                if !self.allow_from.iter().any(|net| net.contains(&ip)) {
                    return Verdict::NotAllowed;
                }
            }
        }
        if open > self.max_connections {
            return Verdict::TooManyConnections;
        }
        Verdict::Allow
    }
}

/// The running handler; stopping it (drop) joins its thread, which must happen before the context ends.
pub(super) struct Access {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// Refusals of one kind since the pulse loop last took them.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(super) struct Tally {
    /// How many connections were refused.
    pub(super) refused: u64,
    /// The address of the last one.
    pub(super) last_peer: String,
}

/// The handler's refusals, by kind, shared with the pulse loop: the handler adds, the loop takes. Its size is
/// fixed (two counters and two addresses, each cut to [`PEER_TEXT_MAX`]), whatever the peers do.
#[derive(Debug, Default, Clone)]
pub(super) struct Refusals(Arc<Mutex<[Tally; 2]>>);

/// Longest peer address kept for the log line (an IPv6 address with a zone fits).
const PEER_TEXT_MAX: usize = 64;

impl Refusals {
    fn add(&self, verdict: &Verdict, peer: &str) {
        let index = match verdict {
            Verdict::Allow => return,
            Verdict::NotAllowed => 0,
            Verdict::TooManyConnections => 1,
        };
        // A poisoned lock only means a panic elsewhere while counting: the counts are still plain numbers.
        let mut tallies = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let tally = &mut tallies[index];
        tally.refused += 1;
        tally.last_peer.clear();
        tally
            .last_peer
            .extend(peer.escape_debug().take(PEER_TEXT_MAX));
    }

    /// Takes what was refused since the last call: (not in `allowFrom`, over `maxConnections`).
    pub(super) fn take(&self) -> (Tally, Tally) {
        let mut tallies = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let [not_allowed, too_many] = std::mem::take(&mut *tallies);
        (not_allowed, too_many)
    }
}

/// The pulse loop's side of [`Refusals`]: logs them on its thread, one WARN line per kind per [`WARN_INTERVAL`]
/// at most, each with how many connections it stands for.
#[derive(Debug, Default)]
pub(super) struct RefusalLog {
    pending: [Tally; 2],
    last_line: [Option<Instant>; 2],
}

impl RefusalLog {
    /// Takes the handler's refusals and logs what is held back, whatever the interval: for the loop's end, so
    /// that no refusal goes unlogged. Returns what [`RefusalLog::log`] returns.
    pub(super) fn flush(
        &mut self,
        refusals: &Refusals,
        open: u64,
        max_connections: u64,
    ) -> (u64, u64) {
        self.last_line = [None, None];
        self.log(refusals, open, max_connections)
    }

    /// Takes the handler's refusals and logs those due; `open` and `max_connections` complete the limit's line.
    /// Returns how many were taken: (not in `allowFrom`, over `maxConnections`), for the counters.
    pub(super) fn log(
        &mut self,
        refusals: &Refusals,
        open: u64,
        max_connections: u64,
    ) -> (u64, u64) {
        let (not_allowed, too_many) = refusals.take();
        let taken = (not_allowed.refused, too_many.refused);
        for (index, fresh) in [not_allowed, too_many].into_iter().enumerate() {
            let pending = &mut self.pending[index];
            if fresh.refused > 0 {
                pending.refused += fresh.refused;
                pending.last_peer = fresh.last_peer;
            }
            if pending.refused == 0
                || self.last_line[index].is_some_and(|at| at.elapsed() < WARN_INTERVAL)
            {
                continue;
            }
            self.last_line[index] = Some(Instant::now());
            let Tally { refused, last_peer } = std::mem::take(pending);
            if index == 0 {
                warn!(
                    target: LOG_TARGET,
                    peer = %last_peer,
                    refused,
                    "refusing a connection: its address is not in allowFrom"
                );
            } else {
                warn!(
                    target: LOG_TARGET,
                    peer = %last_peer,
                    refused,
                    open,
                    max_connections,
                    "connection limit reached (maxConnections): refusing new connections until some close"
                );
            }
        }
        taken
    }
}

impl Access {
    /// Binds the ZAP endpoint in `context` and starts the handler, which tallies its refusals in `refusals`.
    /// Call before binding the daemon's sockets, so that no connection is accepted unchecked.
    pub(super) fn start(
        context: &zmq::Context,
        policy: Policy,
        gauge: ConnectionGauge,
        refusals: Refusals,
    ) -> Result<Access, PulsarError> {
        let socket = context
            .socket(zmq::REP)
            .map_err(PulsarError::zmq("creating the access handler's socket"))?;
        socket
            .set_linger(0)
            .map_err(PulsarError::zmq("setting LINGER"))?;
        socket
            .bind(ZAP_ENDPOINT)
            .map_err(PulsarError::zmq("binding the access handler (ZAP)"))?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("pulsar-access".into())
            .spawn(move || serve(&socket, &policy, &gauge, &refusals, &flag))
            .map_err(PulsarError::Io)?;
        Ok(Access {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for Access {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            // The thread only polls with a short timeout; a panic there has been reported by the panic hook.
            let _ = thread.join();
        }
    }
}

/// The handler's loop: answers ZAP requests until `stop`.
fn serve(
    socket: &zmq::Socket,
    policy: &Policy,
    gauge: &ConnectionGauge,
    refusals: &Refusals,
    stop: &AtomicBool,
) {
    let mut connections: u64 = 0;
    while !stop.load(Ordering::SeqCst) {
        match socket.poll(zmq::POLLIN, STOP_POLL_MS) {
            Ok(0) | Err(zmq::Error::EINTR) => continue,
            Ok(_) => {}
            // The context is ending.
            Err(_) => return,
        }
        let frames = match socket.recv_multipart(zmq::DONTWAIT) {
            Ok(frames) => frames,
            Err(zmq::Error::EAGAIN) | Err(zmq::Error::EINTR) => continue,
            Err(_) => return,
        };
        // [version, request id, domain, address, identity, mechanism, credentials...]
        let request_id = frames.get(1).cloned().unwrap_or_default();
        let address = frames
            .get(3)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .unwrap_or_default();
        let verdict = if frames.len() < 6 || frames[0] != b"1.0" {
            Verdict::NotAllowed
        } else {
            policy.decide(&address, gauge.open())
        };
        refusals.add(&verdict, &address);
        let mut metadata = Vec::new();
        let (code, text): (&[u8], &[u8]) = match verdict {
            Verdict::Allow => {
                connections += 1;
                metadata = connection_metadata(connections);
                (b"200", b"OK")
            }
            Verdict::NotAllowed => (b"400", b"address not allowed"),
            Verdict::TooManyConnections => (b"400", b"too many connections"),
        };
        let reply: [&[u8]; 6] = [b"1.0", &request_id, code, text, b"", &metadata];
        if socket.send_multipart(reply, 0).is_err() {
            return;
        }
    }
}

/// The ZAP reply's metadata frame (ZMTP property encoding: name length, name, 4-byte value length, value) with
/// [`CONNECTION_PROPERTY`] = `id`.
fn connection_metadata(id: u64) -> Vec<u8> {
    let value = id.to_string();
    let mut frame = Vec::with_capacity(1 + CONNECTION_PROPERTY.len() + 4 + value.len());
    frame.push(CONNECTION_PROPERTY.len() as u8);
    frame.extend_from_slice(CONNECTION_PROPERTY.as_bytes());
    frame.extend_from_slice(&(value.len() as u32).to_be_bytes());
    frame.extend_from_slice(value.as_bytes());
    frame
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_from_takes_networks_and_single_addresses() {
        let nets =
            parse_allow_from(&["10.0.0.0/8".into(), " 127.0.0.1 ".into(), "fd00::/8".into()])
                .expect("valid entries");
        assert_eq!(nets.len(), 3);
        assert!(parse_allow_from(&["10.0.0.0/33".into()]).is_err());
        assert!(parse_allow_from(&["localhost".into()]).is_err());
    }

    #[test]
    fn a_connection_is_checked_against_the_networks_then_the_limit() {
        let policy = Policy {
            allow_from: parse_allow_from(&["10.0.0.0/8".into(), "::1".into()]).expect("valid"),
            max_connections: 2,
        };
        assert_eq!(policy.decide("10.1.2.3", 1), Verdict::Allow);
        assert_eq!(policy.decide("::1", 2), Verdict::Allow);
        assert_eq!(policy.decide("::ffff:10.9.9.9", 1), Verdict::Allow);
        assert_eq!(policy.decide("192.168.1.1", 1), Verdict::NotAllowed);
        assert_eq!(policy.decide("10.1.2.3", 3), Verdict::TooManyConnections);
        // IPC peers carry no address: only the limit applies.
        assert_eq!(policy.decide("", 1), Verdict::Allow);
        let open = Policy {
            allow_from: Vec::new(),
            max_connections: 10,
        };
        assert_eq!(open.decide("192.168.1.1", 10), Verdict::Allow);
    }

    #[test]
    fn curve_keys_are_forty_z85_characters() {
        let pair = zmq::CurveKeyPair::new().expect("libzmq with CURVE");
        let z85 = zmq::z85_encode(&pair.secret_key).expect("z85");
        assert_eq!(
            decode_curve_key(&z85).expect("valid"),
            pair.secret_key.to_vec()
        );
        assert!(decode_curve_key("short").is_err());
    }

    #[test]
    fn refusals_are_tallied_by_kind_until_the_loop_takes_them() {
        let refusals = Refusals::default();
        refusals.add(&Verdict::Allow, "127.0.0.1");
        refusals.add(&Verdict::NotAllowed, "10.0.0.1");
        refusals.add(&Verdict::NotAllowed, "10.0.0.2");
        refusals.add(&Verdict::TooManyConnections, "10.0.0.3");
        let (not_allowed, too_many) = refusals.take();
        assert_eq!(
            (not_allowed.refused, not_allowed.last_peer.as_str()),
            (2, "10.0.0.2")
        );
        assert_eq!(
            (too_many.refused, too_many.last_peer.as_str()),
            (1, "10.0.0.3")
        );
        assert_eq!(refusals.take(), (Tally::default(), Tally::default()));
        // A peer's address is cut to a bounded, printable text.
        refusals.add(&Verdict::NotAllowed, &"\n".repeat(1000));
        let (not_allowed, _) = refusals.take();
        assert_eq!(not_allowed.last_peer.len(), PEER_TEXT_MAX);
        assert!(!not_allowed.last_peer.contains('\n'));
    }

    #[test]
    fn the_log_keeps_what_it_holds_back_for_the_next_line() {
        let refusals = Refusals::default();
        let mut log = RefusalLog::default();
        refusals.add(&Verdict::NotAllowed, "10.0.0.1");
        log.log(&refusals, 1, 10);
        // The first refusal makes a line at once.
        assert_eq!(log.pending[0], Tally::default());
        assert!(log.last_line[0].is_some());
        // Within the interval, refusals wait for the next line, counted.
        refusals.add(&Verdict::NotAllowed, "10.0.0.2");
        refusals.add(&Verdict::NotAllowed, "10.0.0.3");
        log.log(&refusals, 1, 10);
        assert_eq!(log.pending[0].refused, 2);
        assert_eq!(log.pending[0].last_peer, "10.0.0.3");
        // Once the interval has passed, the next turn logs them even with no new refusal.
        log.last_line[0] = log.last_line[0].and_then(|at| at.checked_sub(WARN_INTERVAL));
        log.log(&refusals, 1, 10);
        assert_eq!(log.pending[0], Tally::default());
        // The other kind has its own interval.
        assert!(log.last_line[1].is_none());
        // At the loop's end what is held back is logged at once, and counted.
        refusals.add(&Verdict::NotAllowed, "10.0.0.4");
        assert_eq!(log.log(&refusals, 1, 10), (1, 0));
        assert_eq!(log.pending[0].refused, 1, "held back within the interval");
        refusals.add(&Verdict::TooManyConnections, "10.0.0.5");
        assert_eq!(log.flush(&refusals, 1, 10), (0, 1));
        assert_eq!(log.pending, [Tally::default(), Tally::default()]);
    }
}
