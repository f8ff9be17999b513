//! Errors at the PHP boundary: every failure becomes one `PublisherPulsarException`, and every entry point runs
//! behind a panic guard.
//!
//! The core's [`PulsarError`] is mapped here, once, to the exception's message constants and codes (declared in
//! `php/Inventory/Exceptions/PublisherPulsarException.php`; [`Kind::prefix`] and [`Kind::code`] must match them,
//! which the PHPUnit suite checks). This module must never decide anything about the protocol; it only words
//! failures.

use std::panic::{catch_unwind, AssertUnwindSafe};

use ext_php_rs::exception::PhpException;
use ext_php_rs::zend::{ce, ClassEntry};
use publisher_pulsar::PulsarError;

use crate::boundary;

/// The exception every failure is thrown as, from the class table.
pub use crate::classes::EXCEPTION_CLASS;

/// The kinds of failure, one per message constant of `PublisherPulsarException`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `INVALID_SETTING`: a DTO setting cannot be used.
    InvalidSetting,
    /// `DAEMON_UNREACHABLE`: a wait for the daemon ran out.
    DaemonUnreachable,
    /// `ADMISSION_REFUSED`: the daemon refused the admission request.
    AdmissionRefused,
    /// `ACTION_NOT_ALLOWED`: the pulse says allowAction = false.
    ActionNotAllowed,
    /// `OUT_OF_ORDER`: a Performer method called at the wrong step.
    OutOfOrder,
    /// `SOCKET_ERROR`: ZeroMQ failed (bind, connect, send).
    SocketError,
    /// `PROTOCOL_ERROR`: a peer sent bytes that are not the expected message.
    ProtocolError,
    /// `PULSE_CLASS_NOT_ALLOWED`: the pulse names a class we will not instantiate.
    PulseClassNotAllowed,
    /// `INTERNAL_ERROR`: a bug (a caught panic).
    InternalError,
}

impl Kind {
    /// The message constant's text: every message starts with it.
    pub fn prefix(self) -> &'static str {
        match self {
            Kind::InvalidSetting => "Invalid Publisher Pulsar setting",
            Kind::DaemonUnreachable => "The Pulsar did not answer in time",
            Kind::AdmissionRefused => "The Pulsar refused the admission",
            Kind::ActionNotAllowed => "The Pulsar does not allow the action",
            Kind::OutOfOrder => "Publisher Pulsar method called out of order",
            Kind::SocketError => "Publisher Pulsar socket error",
            Kind::ProtocolError => "Unexpected message from the peer",
            Kind::PulseClassNotAllowed => "The pulse carries a class that may not be instantiated",
            Kind::InternalError => "Publisher Pulsar internal error",
        }
    }

    /// The exception code (the `*_CODE` constant).
    pub fn code(self) -> i32 {
        match self {
            Kind::InvalidSetting => 1,
            Kind::DaemonUnreachable => 2,
            Kind::AdmissionRefused => 3,
            Kind::ActionNotAllowed => 4,
            Kind::OutOfOrder => 5,
            Kind::SocketError => 6,
            Kind::ProtocolError => 7,
            Kind::PulseClassNotAllowed => 8,
            Kind::InternalError => 9,
        }
    }
}

/// Why an entry point did not complete.
#[derive(Debug)]
pub enum Failure {
    /// Ours: thrown as `PublisherPulsarException` with `Kind::prefix(): detail`.
    Pulsar {
        /// Which constant.
        kind: Kind,
        /// What exactly, for a human.
        detail: String,
    },
    /// PHP code we called (a getter, the logger, an autoloader) threw: that exception is already pending in the
    /// engine and must reach the caller unchanged.
    PhpPending,
    /// PHP code we called caused a fatal error, caught at [`crate::boundary::call_php`]; the entry point hands it
    /// back to PHP once every Rust frame has returned.
    Bailout,
}

impl Failure {
    /// A failure of `kind` with its details.
    pub fn new(kind: Kind, detail: impl Into<String>) -> Failure {
        Failure::Pulsar {
            kind,
            detail: detail.into(),
        }
    }

    /// An `INVALID_SETTING` failure.
    pub fn setting(detail: impl Into<String>) -> Failure {
        Failure::new(Kind::InvalidSetting, detail)
    }

    /// The full exception message, or `None` for a pending PHP exception.
    pub fn message(&self) -> Option<String> {
        match self {
            Failure::Pulsar { kind, detail } => Some(format!("{}: {detail}", kind.prefix())),
            Failure::PhpPending | Failure::Bailout => None,
        }
    }
}

impl From<PulsarError> for Failure {
    fn from(error: PulsarError) -> Failure {
        let kind = match &error {
            PulsarError::InvalidSetting { setting, message } => {
                return Failure::setting(format!("{} {message}", setter_of(setting)));
            }
            PulsarError::ConfigFile { .. } | PulsarError::ConfigJson(_) => Kind::InvalidSetting,
            PulsarError::Bind { .. } | PulsarError::Connect { .. } | PulsarError::Zmq { .. } => {
                Kind::SocketError
            }
            PulsarError::Timeout { .. } => Kind::DaemonUnreachable,
            PulsarError::AdmissionRefused => Kind::AdmissionRefused,
            PulsarError::ActionNotAllowed => Kind::ActionNotAllowed,
            PulsarError::OutOfOrder(_) => Kind::OutOfOrder,
            PulsarError::Protocol(_) => Kind::ProtocolError,
            // Operating-system errors (signals, files) and variants added to the core later.
            #[allow(unreachable_patterns)]
            _ => Kind::InternalError,
        };
        Failure::new(kind, error.to_string())
    }
}

/// The PHP setter that sets a setting the core names in camelCase (for the daemon's settings, the one its row of
/// the settings table names), with its class where it is not on the main DTO: `subscribersPerIteration` → `setSubscribersPerIteration()`, `publishSocketAddress` (also written
/// `pulsarSocketsParams.publishSocketAddress`) → `PulsarSocketsParamsDto::setPublishSocketAddress()`; settings
/// without a setter are quoted as they are.
pub fn setter_of(setting: &str) -> String {
    let name = setting.rsplit_once('.').map_or(setting, |(_, name)| name);
    // The daemon's settings name their setter in the core's table; the Performer's are named here.
    if let Some(setter) = publisher_pulsar::config::by_key(name).and_then(|s| s.php_setter()) {
        return setter;
    }
    let class = match name {
        "publisherPulsarSocketAddress"
        | "pushPulsarSocketAddress"
        | "requestPulsarRsSocketAddress"
        | "curveServerKey" => "PerformerSocketsParamsDto::",
        "admissionTimeout" | "pulseTimeout" | "sendTimeout" => "PerformerDto::",
        _ => "",
    };
    let mut chars = name.chars();
    match chars.next() {
        Some(first)
            if first.is_ascii_lowercase() && name.chars().all(|c| c.is_ascii_alphanumeric()) =>
        {
            format!(
                "{class}set{}{}()",
                first.to_ascii_uppercase(),
                chars.as_str()
            )
        }
        _ => format!("'{setting}'"),
    }
}

/// The result of an entry point's body.
pub type Outcome<T> = Result<T, Failure>;

/// Runs an entry point's body: a Rust panic becomes `PublisherPulsarException` (`INTERNAL_ERROR`) instead of
/// ext-php-rs's generic `Error`, so that callers catching the documented exception see it; a [`Failure`] is
/// thrown as `PublisherPulsarException`, or left as the pending PHP exception; a fatal error caught in PHP code we
/// called is handed back to PHP ([`boundary::finish_fatal`]) after the body has returned.
pub fn guard<T>(body: impl FnOnce() -> Outcome<T>) -> Result<T, PhpException> {
    let outcome = catch_panic(body).map_err(|failure| to_exception(&failure));
    if boundary::bailed_out() {
        boundary::finish_fatal();
        // Never thrown: the engine does not throw over the pending unwind_exit.
        return Err(PhpException::new(String::new(), 0, ce::exception()));
    }
    outcome
}

/// Runs `body`; a panic in it becomes an `INTERNAL_ERROR` failure carrying the panic message.
pub fn catch_panic<T>(body: impl FnOnce() -> Outcome<T>) -> Outcome<T> {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(outcome) => outcome,
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic without a message".to_owned());
            Err(Failure::new(
                Kind::InternalError,
                format!("{what} (this is a bug in the pulsar extension; please report it)"),
            ))
        }
    }
}

fn to_exception(failure: &Failure) -> PhpException {
    let (kind, message) = match failure {
        Failure::Pulsar { kind, .. } => (*kind, failure.message().unwrap_or_default()),
        // ext-php-rs does not throw over a pending exception, so this one is never seen: the user's exception
        // propagates with its own class and trace (or the request ends, after a fatal error).
        Failure::PhpPending | Failure::Bailout => {
            return PhpException::new(String::new(), 0, ce::exception())
        }
    };
    // The class is declared by the prelude at request start-up; fall back to \Exception if user code somehow
    // runs without it rather than losing the error. Finding it may run autoloaders.
    let class = boundary::call_php(|| ClassEntry::try_find(EXCEPTION_CLASS))
        .ok()
        .flatten()
        .unwrap_or_else(ce::exception);
    PhpException::new(message, kind.code(), class)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_named_by_their_setter() {
        assert_eq!(
            setter_of("subscribersPerIteration"),
            "setSubscribersPerIteration()"
        );
        assert_eq!(
            setter_of("pulsarSocketsParams.publishSocketAddress"),
            "PulsarSocketsParamsDto::setPublishSocketAddress()"
        );
        assert_eq!(
            setter_of("curveServerKey"),
            "PerformerSocketsParamsDto::setCurveServerKey()"
        );
        assert_eq!(
            setter_of("pulse engine settings"),
            "'pulse engine settings'"
        );
        assert_eq!(setter_of(""), "''");
    }

    #[test]
    fn messages_start_with_the_constant() {
        let f = Failure::new(Kind::DaemonUnreachable, "waited 5 s");
        assert_eq!(
            f.message().as_deref(),
            Some("The Pulsar did not answer in time: waited 5 s")
        );
        assert_eq!(Failure::PhpPending.message(), None);
    }

    #[test]
    fn a_panic_becomes_an_internal_error_with_its_message() {
        let outcome: Outcome<()> = catch_panic(|| panic!("boom {}", 42));
        match outcome {
            Err(
                failure @ Failure::Pulsar {
                    kind: Kind::InternalError,
                    ..
                },
            ) => {
                let message = failure.message().expect("ours");
                assert!(
                    message.starts_with("Publisher Pulsar internal error: boom 42"),
                    "{message}"
                );
            }
            other => panic!("expected an internal error, got {other:?}"),
        }
        assert_eq!(catch_panic(|| Ok(7)).ok(), Some(7));
        assert!(matches!(
            catch_panic::<()>(|| Err(Failure::PhpPending)),
            Err(Failure::PhpPending)
        ));
    }

    #[test]
    fn core_errors_map_to_their_kind() {
        let kind = |e: PulsarError| match Failure::from(e) {
            Failure::Pulsar { kind, .. } => kind,
            other => panic!("not ours: {other:?}"),
        };
        assert_eq!(kind(PulsarError::AdmissionRefused), Kind::AdmissionRefused);
        assert_eq!(kind(PulsarError::ActionNotAllowed), Kind::ActionNotAllowed);
        assert_eq!(kind(PulsarError::OutOfOrder("x")), Kind::OutOfOrder);
        assert_eq!(
            kind(PulsarError::Timeout {
                what: "waiting",
                after: std::time::Duration::from_secs(1)
            }),
            Kind::DaemonUnreachable
        );
        let invalid = Failure::from(PulsarError::InvalidSetting {
            setting: "subscribersPerIteration".into(),
            message: "must be at least 1 (got 0)".into(),
        });
        assert_eq!(
            invalid.message().as_deref(),
            Some("Invalid Publisher Pulsar setting: setSubscribersPerIteration() must be at least 1 (got 0)")
        );
    }
}
