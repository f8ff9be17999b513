//! The one result type of the C ABI and the mapping of the core's errors onto it.
//!
//! Numbers are grouped by area (0 success, 1xx the caller's arguments, 2xx what happened at run time, 9xx
//! defects) with gaps, and a number once published is never reused or renumbered: C programs compile them in,
//! and bindings read them from the header or from `pulsar_abi_description()`. This module must never hold any
//! logic beyond the mapping.

use publisher_pulsar::PulsarError;

/// The result of every `pulsar_*` function that can fail. `PULSAR_STATUS_OK` (0) is success; any other value
/// is an error, and `pulsar_last_error_message()` then says what went wrong, in words.
///
/// Numbers are stable: grouped by area (1xx: the caller's arguments; 2xx: run time; 9xx: defects of the
/// library) and never reused.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PulsarStatus {
    /// Success.
    Ok = 0,

    /// A pointer argument that must not be NULL was NULL (the message names it).
    NullPointer = 100,
    /// A string argument is not valid UTF-8 (JSON configurations must be UTF-8).
    InvalidUtf8 = 101,
    /// A value is out of range or unusable: a setting of a JSON configuration (the message names it, e.g. a
    /// zero or negative timeout) or a function argument (e.g. an empty error message).
    InvalidArgument = 102,
    /// A JSON configuration is malformed, has a value of the wrong type, or has an unknown key.
    InvalidJson = 103,

    /// A wait ran out: the daemon is not running or not reachable, the admission queue is longer than the
    /// timeout allows, or no pulse came. The next call starts afresh.
    Timeout = 200,
    /// The daemon refused admission (its queue is full, or it is stopping).
    AdmissionRefused = 201,
    /// The pulse said `allowAction = false`: the worker must not act.
    ActionNotAllowed = 202,
    /// A call that does not fit the current step: reporting without holding a permission, running a daemon
    /// that already ran.
    OutOfOrder = 203,
    /// A peer sent bytes that are not the expected protocol message.
    ProtocolError = 204,
    /// ZeroMQ failed (the message has libzmq's reason).
    ZmqError = 205,
    /// The daemon could not bind one of its addresses (in use, or not a valid local address).
    BindError = 206,
    /// A performer could not connect one of its addresses (malformed address).
    ConnectError = 207,
    /// An operating-system I/O error.
    IoError = 208,

    /// A defect inside the library: a Rust panic was caught at the boundary. The handle involved may be in
    /// an unexpected state; free it. Please report the message.
    Panic = 900,
}

impl PulsarStatus {
    /// The status for an error of the core crate. Exhaustive on purpose: a new error variant must be given its
    /// own place here, not fall into a catch-all.
    pub fn of(error: &PulsarError) -> PulsarStatus {
        match error {
            PulsarError::InvalidSetting { .. } => PulsarStatus::InvalidArgument,
            PulsarError::ConfigJson(_) => PulsarStatus::InvalidJson,
            PulsarError::ConfigFile { .. } | PulsarError::Io(_) => PulsarStatus::IoError,
            PulsarError::Bind { .. } => PulsarStatus::BindError,
            PulsarError::Connect { .. } => PulsarStatus::ConnectError,
            PulsarError::Zmq { .. } => PulsarStatus::ZmqError,
            PulsarError::Timeout { .. } => PulsarStatus::Timeout,
            PulsarError::AdmissionRefused => PulsarStatus::AdmissionRefused,
            PulsarError::ActionNotAllowed => PulsarStatus::ActionNotAllowed,
            PulsarError::OutOfOrder(_) => PulsarStatus::OutOfOrder,
            PulsarError::Protocol(_) => PulsarStatus::ProtocolError,
        }
    }
}
