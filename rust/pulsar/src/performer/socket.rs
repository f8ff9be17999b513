//! The socket plumbing every Performer step shares: option values, connecting, and bounded receives.
//!
//! It must never wait without a bound, and never panic on what a peer sends.

use std::time::{Duration, Instant};

use pulsar_wire::WireError;

use crate::error::PulsarError;

/// How long a closing socket may still try to deliver what it queued. Small so that dropping a Performer or
/// replacing a socket never blocks a worker noticeably.
pub(super) const LINGER: Duration = Duration::from_millis(100);

/// Longest timeout ZeroMQ's socket options can hold (a C `int` of milliseconds, about 24.8 days).
pub(super) const MAX_TIMEOUT: Duration = Duration::from_millis(i32::MAX as u64);

/// Milliseconds for a ZeroMQ option, rounded up so that a sub-millisecond timeout never becomes "no wait"
/// (0) or "forever" (-1); [`super::PerformerConfig::validate`] keeps it in range.
pub(super) fn millis(d: Duration) -> i32 {
    let ms = d.as_nanos().div_ceil(1_000_000).max(1);
    i32::try_from(ms).unwrap_or(i32::MAX)
}

/// Makes `socket` a CURVE client of the daemon when `curve_server_key` is set, with a fresh key pair (the
/// daemon does not check client keys; the pair only carries the encryption).
pub(super) fn curve_client(
    socket: &zmq::Socket,
    config: &super::PerformerConfig,
) -> Result<(), PulsarError> {
    let Some(server) = &config.curve_server_key else {
        return Ok(());
    };
    let server = crate::daemon::decode_curve_key(server)
        .map_err(|e| super::config::invalid("curveServerKey", &e))?;
    let pair = zmq::CurveKeyPair::new().map_err(PulsarError::zmq("making a CURVE key pair"))?;
    socket
        .set_curve_serverkey(&server)
        .map_err(PulsarError::zmq("setting CURVE_SERVERKEY"))?;
    socket
        .set_curve_publickey(&pair.public_key)
        .map_err(PulsarError::zmq("setting CURVE_PUBLICKEY"))?;
    socket
        .set_curve_secretkey(&pair.secret_key)
        .map_err(PulsarError::zmq("setting CURVE_SECRETKEY"))
}

/// Connects `socket`; the error names the address.
pub(super) fn connect(socket: &zmq::Socket, address: &str) -> Result<(), PulsarError> {
    socket
        .connect(address)
        .map_err(|source| PulsarError::Connect {
            address: address.to_owned(),
            source,
        })
}

/// Receives one whole message (all its frames) within `timeout`; `Ok(None)` if none came.
pub(super) fn recv_within(
    socket: &zmq::Socket,
    timeout: Duration,
) -> Result<Option<Vec<Vec<u8>>>, PulsarError> {
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let left_ms = i64::try_from(left.as_nanos().div_ceil(1_000_000)).unwrap_or(i64::MAX);
        match socket.poll(zmq::POLLIN, left_ms) {
            Ok(0) => {
                if left.is_zero() {
                    return Ok(None);
                }
            }
            Ok(_) => {
                if let Some(frames) = recv_if_ready(socket, "receiving")? {
                    return Ok(Some(frames));
                }
            }
            Err(zmq::Error::EINTR) => {}
            Err(source) => {
                return Err(PulsarError::Zmq {
                    context: "polling",
                    source,
                })
            }
        }
        if Instant::now() >= deadline {
            // One last non-blocking look, so that a message that arrived just at the deadline is not lost.
            return match socket.recv_multipart(zmq::DONTWAIT) {
                Ok(frames) => Ok(Some(frames)),
                Err(_) => Ok(None),
            };
        }
    }
}

/// Receives one whole message that a poll said is ready; `Ok(None)` when it is not there after all (readiness
/// can be spurious, and a signal can interrupt): the caller keeps waiting for the rest of its time.
pub(super) fn recv_if_ready(
    socket: &zmq::Socket,
    context: &'static str,
) -> Result<Option<Vec<Vec<u8>>>, PulsarError> {
    match socket.recv_multipart(zmq::DONTWAIT) {
        Ok(frames) => Ok(Some(frames)),
        Err(zmq::Error::EAGAIN) | Err(zmq::Error::EINTR) => Ok(None),
        Err(source) => Err(PulsarError::Zmq { context, source }),
    }
}

/// The protocol sends one frame per message (REQ strips the empty delimiter before us).
pub(super) fn one_frame(mut frames: Vec<Vec<u8>>) -> Result<Vec<u8>, PulsarError> {
    if frames.len() != 1 {
        return Err(WireError::Unexpected(format!(
            "expected a message of one frame, got {} frames",
            frames.len()
        ))
        .into());
    }
    Ok(frames.pop().expect("length checked just above"))
}
