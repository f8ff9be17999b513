//! What a setting's value is: its [`Kind`] (how it is read from JSON and from flag/environment text, and which
//! range it must lie in) and the loose [`Value`] every front-end hands to the table.
//!
//! Reading only checks the type (a whole number, a number, a string); ranges are checked by
//! [`PulsarConfig::validate`](super::PulsarConfig::validate), once, so that a later source (a flag over a file)
//! can still fix a value. This module must never open a file or a socket.

use std::fmt::Write as _;

use pulsar_pulse::Nanos;
use pulsar_wire::{Limits, Pulse};
use serde_json::Value as Json;

/// How a setting is read, written and checked.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    /// A whole number from `min` to `max` (the field's type may be narrower: then its maximum applies too).
    Count {
        /// Smallest accepted value.
        min: u64,
        /// Largest accepted value.
        max: u64,
    },
    /// Seconds, fractions allowed: finite, from `min` to `max`; with `positive`, also at least one nanosecond
    /// (the engine reads zero as "no wait at all").
    Seconds {
        /// Smallest accepted value.
        min: f64,
        /// Largest accepted value.
        max: f64,
        /// Whether zero is refused.
        positive: bool,
    },
    /// Free text (a name).
    Text,
    /// A ZeroMQ endpoint libzmq can bind: `tcp://HOST:PORT` (port `*` or 0 lets the system choose),
    /// `ipc://PATH` or `inproc://NAME`.
    ZmqAddress,
    /// An optional `IP:PORT` socket address; absent means "off".
    SocketAddress,
    /// An optional `serialize()` text of one PHP object, kept as bytes; on the command line a file holding them.
    PhpObject,
    /// An optional string (e.g. a key); absent means none.
    OptionalText,
    /// A list of strings; on the command line and in the environment separated by commas.
    TextList,
    /// A list of IP networks (`10.0.0.0/8`) or addresses, read like [`Kind::TextList`].
    Networks,
    /// An optional CURVE key in Z85 (40 characters), read like [`Kind::OptionalText`].
    CurveKey,
}

/// A setting's value on its way between a front-end and a [`PulsarConfig`](super::PulsarConfig) field.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// No value: an optional setting that is off.
    Absent,
    /// A whole number.
    Count(u64),
    /// A number of seconds.
    Seconds(f64),
    /// A string.
    Text(String),
    /// Raw bytes (the published object).
    Bytes(Vec<u8>),
    /// A list of strings.
    List(Vec<String>),
}

/// A field type of [`PulsarConfig`](super::PulsarConfig) that the table can read and write.
pub trait Field: Sized {
    /// The value as the table carries it.
    fn to_value(&self) -> Value;
    /// The field from a value of the right kind; `Err` says what was expected.
    fn from_value(value: Value) -> Result<Self, String>;
}

impl Field for u64 {
    fn to_value(&self) -> Value {
        Value::Count(*self)
    }
    fn from_value(value: Value) -> Result<Self, String> {
        match value {
            Value::Count(n) => Ok(n),
            other => Err(format!("must be a whole number (got {})", other.describe())),
        }
    }
}

impl Field for u32 {
    fn to_value(&self) -> Value {
        Value::Count(u64::from(*self))
    }
    fn from_value(value: Value) -> Result<Self, String> {
        let n = u64::from_value(value)?;
        u32::try_from(n)
            .map_err(|_| format!("must be a whole number from 0 to {} (got {n})", u32::MAX))
    }
}

impl Field for f64 {
    fn to_value(&self) -> Value {
        Value::Seconds(*self)
    }
    fn from_value(value: Value) -> Result<Self, String> {
        match value {
            Value::Seconds(s) => Ok(s),
            // Exact for every count a user writes; large counts are beyond every time bound anyway.
            Value::Count(n) => Ok(n as f64),
            other => Err(format!(
                "must be a number of seconds (got {})",
                other.describe()
            )),
        }
    }
}

impl Field for String {
    fn to_value(&self) -> Value {
        Value::Text(self.clone())
    }
    fn from_value(value: Value) -> Result<Self, String> {
        match value {
            Value::Text(s) => Ok(s),
            other => Err(format!("must be a string (got {})", other.describe())),
        }
    }
}

impl Field for Option<String> {
    fn to_value(&self) -> Value {
        self.clone().map_or(Value::Absent, Value::Text)
    }
    fn from_value(value: Value) -> Result<Self, String> {
        match value {
            Value::Absent => Ok(None),
            other => String::from_value(other).map(Some),
        }
    }
}

impl Field for Option<Vec<u8>> {
    fn to_value(&self) -> Value {
        self.clone().map_or(Value::Absent, Value::Bytes)
    }
    fn from_value(value: Value) -> Result<Self, String> {
        match value {
            Value::Absent => Ok(None),
            Value::Bytes(b) => Ok(Some(b)),
            Value::Text(s) => Ok(Some(s.into_bytes())),
            other => Err(format!("must be a string (got {})", other.describe())),
        }
    }
}

impl Field for Vec<String> {
    fn to_value(&self) -> Value {
        Value::List(self.clone())
    }
    fn from_value(value: Value) -> Result<Self, String> {
        match value {
            Value::List(items) => Ok(items),
            Value::Absent => Ok(Vec::new()),
            other => Err(format!(
                "must be a list of strings (got {})",
                other.describe()
            )),
        }
    }
}

impl Value {
    /// A few words about the value for messages.
    fn describe(&self) -> String {
        match self {
            Value::Absent => "nothing".into(),
            Value::Count(n) => n.to_string(),
            Value::Seconds(s) => s.to_string(),
            Value::Text(s) => format!("{s:?}"),
            Value::Bytes(b) => format!("{} bytes", b.len()),
            Value::List(items) => format!("{items:?}"),
        }
    }

    /// The value as JSON, as `pulsard --config` writes it (bytes as text, lossily where they are not UTF-8).
    pub fn to_json(&self) -> Json {
        match self {
            Value::Absent => Json::Null,
            Value::Count(n) => Json::from(*n),
            Value::Seconds(s) => serde_json::Number::from_f64(*s).map_or(Json::Null, Json::Number),
            Value::Text(s) => Json::from(s.as_str()),
            Value::Bytes(b) => Json::from(String::from_utf8_lossy(b).into_owned()),
            Value::List(items) => Json::from(items.clone()),
        }
    }
}

impl Kind {
    /// Reads a JSON value (never `null`: that means "the default" and is handled by the caller). Only the type is
    /// checked here.
    pub fn from_json(&self, json: &Json) -> Result<Value, String> {
        match self {
            Kind::Count { .. } => json.as_u64().map(Value::Count).ok_or_else(|| {
                format!("must be a whole number from 0 to {} (got {json})", u64::MAX)
            }),
            Kind::Seconds { .. } => json
                .as_f64()
                .map(Value::Seconds)
                .ok_or_else(|| format!("must be a number of seconds (got {json})")),
            Kind::Text
            | Kind::ZmqAddress
            | Kind::SocketAddress
            | Kind::OptionalText
            | Kind::CurveKey => match json {
                Json::String(s) => Ok(Value::Text(s.clone())),
                other => Err(format!("must be a string (got {other})")),
            },
            Kind::PhpObject => match json {
                Json::String(s) => Ok(Value::Bytes(s.clone().into_bytes())),
                other => Err(format!("must be a string (got {other})")),
            },
            Kind::TextList | Kind::Networks => match json {
                Json::Array(items) => items
                    .iter()
                    .map(|item| item.as_str().map(str::to_owned))
                    .collect::<Option<Vec<_>>>()
                    .map(Value::List)
                    .ok_or_else(|| format!("must be a list of strings (got {json})")),
                other => Err(format!("must be a list of strings (got {other})")),
            },
        }
    }

    /// Reads the text of a flag or an environment variable. For [`Kind::PhpObject`] the text is the object
    /// itself; the command line passes a file instead (see `crate::cli`).
    pub fn from_text(&self, text: &str) -> Result<Value, String> {
        match self {
            Kind::Count { .. } => text
                .trim()
                .parse::<u64>()
                .map(Value::Count)
                .map_err(|_| format!("must be a whole number (got {text:?})")),
            Kind::Seconds { .. } => text
                .trim()
                .parse::<f64>()
                .map(Value::Seconds)
                .map_err(|_| format!("must be a number of seconds (got {text:?})")),
            Kind::Text
            | Kind::ZmqAddress
            | Kind::SocketAddress
            | Kind::OptionalText
            | Kind::CurveKey => Ok(Value::Text(text.to_owned())),
            Kind::PhpObject => Ok(Value::Bytes(text.as_bytes().to_vec())),
            Kind::TextList | Kind::Networks => Ok(Value::List(
                text.split(',')
                    .map(str::trim)
                    .filter(|item| !item.is_empty())
                    .map(str::to_owned)
                    .collect(),
            )),
        }
    }

    /// Checks a value against the kind's range and shape; the message completes "invalid setting NAME: ".
    pub fn check(&self, value: &Value) -> Result<(), String> {
        match (self, value) {
            (Kind::Count { min, max }, Value::Count(n)) => {
                if n < min || n > max {
                    return Err(format!(
                        "must be a whole number from {min} to {max} (got {n})"
                    ));
                }
                Ok(())
            }
            (Kind::Seconds { min, max, positive }, Value::Seconds(s)) => {
                check_seconds(*s, *min, *max, *positive)
            }
            (Kind::ZmqAddress, Value::Text(address)) => check_zmq_address(address),
            (Kind::SocketAddress, Value::Text(address)) => address
                .parse::<std::net::SocketAddr>()
                .map(|_| ())
                .map_err(|_| {
                    format!("{address:?} is not IP:PORT (e.g. 127.0.0.1:9464 or [::1]:9464)")
                }),
            (Kind::Networks, Value::List(items)) => {
                crate::daemon::parse_allow_from(items).map(|_| ())
            }
            (Kind::CurveKey, Value::Text(key)) => crate::daemon::decode_curve_key(key).map(|_| ()),
            (Kind::PhpObject, Value::Bytes(bytes)) => Pulse::decode(bytes, &Limits::default())
                .map(|_| ())
                .map_err(|e| format!("not the serialize() text of one PHP object: {e}")),
            _ => Ok(()),
        }
    }

    /// The type as the README and `pulsard settings --json` name it.
    pub fn type_name(&self) -> &'static str {
        match self {
            Kind::Count { .. } => "integer",
            Kind::Seconds { .. } => "seconds",
            Kind::Text => "string",
            Kind::ZmqAddress => "zmq-address",
            Kind::SocketAddress => "ip-port",
            Kind::PhpObject => "php-serialized",
            // The front-ends read these as their base types; the range text says what more is checked.
            Kind::OptionalText | Kind::CurveKey => "optional-string",
            Kind::TextList | Kind::Networks => "string-list",
        }
    }

    /// The placeholder of the flag's value in `--help`.
    pub fn value_name(&self) -> &'static str {
        match self {
            Kind::Count { .. } => "COUNT",
            Kind::Seconds { .. } => "SECONDS",
            Kind::Text | Kind::OptionalText => "TEXT",
            Kind::ZmqAddress => "ADDRESS",
            Kind::SocketAddress => "IP:PORT",
            Kind::PhpObject => "FILE",
            Kind::TextList => "LIST",
            Kind::Networks => "CIDR,...",
            Kind::CurveKey => "Z85",
        }
    }

    /// The accepted range in words, for `--help` and the README; empty when any value of the type goes.
    pub fn range_text(&self) -> String {
        match self {
            Kind::Count { min, max } => format!("{min} to {max}"),
            Kind::Seconds { min, max, positive } => {
                let mut text = String::new();
                if *positive && *min <= 0.0 {
                    text.push_str("more than 0");
                } else {
                    let _ = write!(text, "at least {min}");
                }
                let _ = write!(text, ", at most {max}");
                text
            }
            Kind::ZmqAddress => "tcp://HOST:PORT, ipc://PATH or inproc://NAME".into(),
            Kind::SocketAddress => "IP:PORT".into(),
            Kind::PhpObject => "one serialize()d object".into(),
            Kind::Networks => "IP networks (10.0.0.0/8) or addresses".into(),
            Kind::CurveKey => "40 Z85 characters".into(),
            Kind::Text | Kind::OptionalText | Kind::TextList => String::new(),
        }
    }
}

fn check_seconds(secs: f64, min: f64, max: f64, positive: bool) -> Result<(), String> {
    if !secs.is_finite() || secs < 0.0 {
        return Err(format!(
            "must be a finite, non-negative number of seconds (got {secs})"
        ));
    }
    if secs < min {
        return Err(format!("must be at least {min} seconds (got {secs})"));
    }
    // Below one nanosecond the engine would see zero, which means "no wait at all".
    if positive && Nanos::from_secs_f64(secs) == Nanos::ZERO {
        return Err(format!("must be a positive number of seconds (got {secs})"));
    }
    // Beyond the bound a value is a typo, and a typo must not freeze the daemon for centuries.
    if secs > max {
        // A huge typo such as 1e300 is shown as written, not as three hundred digits.
        let shown = if secs >= 1e15 {
            format!("{secs:e}")
        } else {
            secs.to_string()
        };
        return Err(format!("must be at most {max} seconds (got {shown})"));
    }
    Ok(())
}

/// Whether a tcp address asks for a port chosen by the system (`:*` or `:0`).
pub fn is_wildcard_port(address: &str) -> bool {
    address.starts_with("tcp://") && (address.ends_with(":*") || address.ends_with(":0"))
}

/// Checks the shape libzmq needs, so that a typo is reported by setting name rather than as a bind error.
fn check_zmq_address(address: &str) -> Result<(), String> {
    if address.is_empty() {
        return Err("must not be empty".into());
    }
    if address.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "{address:?} contains whitespace or control characters"
        ));
    }
    if let Some(rest) = address.strip_prefix("tcp://") {
        let Some((host, port)) = rest.rsplit_once(':') else {
            return Err(format!("{address} has no port (expected tcp://HOST:PORT)"));
        };
        if host.is_empty() {
            return Err(format!("{address} has no host"));
        }
        if port != "*" && port.parse::<u16>().is_err() {
            return Err(format!(
                "{address} has an invalid port (expected 0-65535 or *)"
            ));
        }
        return Ok(());
    }
    for scheme in ["ipc://", "inproc://"] {
        if let Some(rest) = address.strip_prefix(scheme) {
            if rest.is_empty() {
                return Err(format!("{address} has no path or name"));
            }
            return Ok(());
        }
    }
    Err(format!(
        "{address} must start with tcp://, ipc:// or inproc://"
    ))
}
