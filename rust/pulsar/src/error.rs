//! The crate's one error type. Every variant says what failed in words a user of a rate limiter can act on.

use std::time::Duration;

use thiserror::Error;

/// Errors of the daemon, the Performer client and the configuration.
#[derive(Debug, Error)]
pub enum PulsarError {
    /// A setting has a value that cannot be used; names the setting as `PublisherPulsarDto` does.
    #[error("invalid setting {setting}: {message}")]
    InvalidSetting {
        /// The setting's camelCase name.
        setting: String,
        /// What is wrong with it.
        message: String,
    },
    /// The configuration file could not be read.
    #[error("cannot read configuration file {path}: {source}")]
    ConfigFile {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The configuration JSON is malformed or has unknown keys.
    #[error("invalid configuration JSON: {0}")]
    ConfigJson(#[from] serde_json::Error),
    /// A socket could not be bound (address in use, bad address).
    #[error("cannot bind {address}: {source}")]
    Bind {
        /// The address.
        address: String,
        /// libzmq's reason.
        source: zmq::Error,
    },
    /// A socket could not be connected (malformed address).
    #[error("cannot connect to {address}: {source}")]
    Connect {
        /// The address.
        address: String,
        /// libzmq's reason.
        source: zmq::Error,
    },
    /// Any other ZeroMQ failure.
    #[error("ZeroMQ error while {context}: {source}")]
    Zmq {
        /// What we were doing.
        context: &'static str,
        /// libzmq's reason.
        source: zmq::Error,
    },
    /// A wait ran out: the daemon is down or unreachable, or no pulse came.
    #[error("timed out after {after:?} while {what}")]
    Timeout {
        /// What we were waiting for.
        what: &'static str,
        /// The timeout that ran out.
        after: Duration,
    },
    /// The daemon answered the admission request with `allowToStartSubscription = false`.
    #[error("admission refused by the daemon (its queue is full or it is stopping)")]
    AdmissionRefused,
    /// The published object has `allowAction = false`.
    #[error("the pulse does not allow the action (allowAction is false)")]
    ActionNotAllowed,
    /// A call that does not fit the Performer's current step (e.g. reporting before any permission).
    #[error("out of order: {0}")]
    OutOfOrder(&'static str),
    /// A peer sent bytes that are not the expected protocol message.
    #[error("protocol error: {0}")]
    Protocol(#[from] pulsar_wire::WireError),
    /// Operating-system I/O failure (signals, files).
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

impl PulsarError {
    /// A `Zmq` error with its context; for `map_err`.
    pub fn zmq(context: &'static str) -> impl FnOnce(zmq::Error) -> PulsarError {
        move |source| PulsarError::Zmq { context, source }
    }
}
