//! A Performer's settings: the original `PerformerSocketsParamsDto` addresses, the module name, the timeouts the
//! original did not have, and their JSON form (the C ABI and the PHP extension pass settings as JSON).
//!
//! It must never open a socket: it only says what a Performer will connect to and how long it may wait.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::socket::MAX_TIMEOUT;
use crate::error::PulsarError;

/// Settings of one Performer: the original `PerformerSocketsParamsDto` addresses, the module name, and the
/// timeouts the original did not have.
///
/// In JSON (the C ABI and the PHP extension pass this) the keys are the original setters' names,
/// `publisherPulsarSocketAddress`, `pushPulsarSocketAddress`, `requestPulsarRsSocketAddress`, `moduleName`,
/// and the timeouts in seconds as numbers: `admissionTimeout`, `pulseTimeout`, `sendTimeout`. Missing keys
/// take the defaults, unknown keys are an error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "PerformerConfigJson", into = "PerformerConfigJson")]
pub struct PerformerConfig {
    /// Where the daemon publishes pulses (SUB connects here). Default `tcp://127.0.0.1:6273`.
    pub publisher_pulsar_address: String,
    /// Where the daemon pulls readiness and results (PUSH connects here). Default `tcp://127.0.0.1:6274`.
    pub push_pulsar_address: String,
    /// The admission desk (REQ connects here). Default `tcp://127.0.0.1:6275`.
    pub request_pulsar_rs_address: String,
    /// The worker's name, for logs only. Default `performer`.
    pub module_name: String,
    /// Longest wait for admission. Default 60 s. Admission is legitimately slow when many workers queue:
    /// with W workers ahead and N per period, the wait is about W / N periods, so raise it for large queues.
    pub admission_timeout: Duration,
    /// Longest wait for the pulse once admitted. Default 30 s: the daemon publishes within one period plus
    /// its ready wait (7 s by default); but a slow-down pause (up to 300 s) delays the pulse too, so raise it
    /// if your daemon may slow down that far.
    pub pulse_timeout: Duration,
    /// Longest wait for a message to be handed to ZeroMQ (readiness, results). Default 5 s; it only runs out
    /// when the daemon is unreachable.
    pub send_timeout: Duration,
    /// The daemon's CURVE public key (Z85, 40 characters), when the daemon runs with `curveSecretKey`: the
    /// three sockets then use CURVE (encrypted, and only a daemon holding the matching secret key can answer),
    /// each with a fresh client key pair. `None` (the default): the NULL mechanism, as the original.
    pub curve_server_key: Option<String>,
}

impl Default for PerformerConfig {
    fn default() -> Self {
        PerformerConfig {
            publisher_pulsar_address: "tcp://127.0.0.1:6273".into(),
            push_pulsar_address: "tcp://127.0.0.1:6274".into(),
            request_pulsar_rs_address: "tcp://127.0.0.1:6275".into(),
            module_name: "performer".into(),
            admission_timeout: Duration::from_secs(60),
            pulse_timeout: Duration::from_secs(30),
            send_timeout: Duration::from_secs(5),
            curve_server_key: None,
        }
    }
}

impl PerformerConfig {
    /// Parses the JSON form (see the type's docs) and validates it.
    pub fn from_json(json: &str) -> Result<PerformerConfig, PulsarError> {
        let raw: PerformerConfigJson = serde_json::from_str(json)?;
        PerformerConfig::try_from(raw)
    }

    /// Checks every setting; the first bad one is reported by its JSON name.
    pub fn validate(&self) -> Result<(), PulsarError> {
        for (setting, address) in [
            (
                "publisherPulsarSocketAddress",
                &self.publisher_pulsar_address,
            ),
            ("pushPulsarSocketAddress", &self.push_pulsar_address),
            (
                "requestPulsarRsSocketAddress",
                &self.request_pulsar_rs_address,
            ),
        ] {
            if address.trim().is_empty() {
                return Err(invalid(
                    setting,
                    "must be a ZeroMQ address such as tcp://127.0.0.1:6273",
                ));
            }
        }
        for (setting, timeout) in [
            ("admissionTimeout", self.admission_timeout),
            ("pulseTimeout", self.pulse_timeout),
            ("sendTimeout", self.send_timeout),
        ] {
            if timeout.is_zero() {
                return Err(invalid(setting, "must be a positive number of seconds"));
            }
            if timeout > MAX_TIMEOUT {
                return Err(invalid(
                    setting,
                    "must be at most 2147483 seconds (ZeroMQ's limit)",
                ));
            }
        }
        if let Some(key) = &self.curve_server_key {
            crate::daemon::decode_curve_key(key).map_err(|e| invalid("curveServerKey", &e))?;
        }
        Ok(())
    }
}

pub(super) fn invalid(setting: &str, message: &str) -> PulsarError {
    PulsarError::InvalidSetting {
        setting: setting.to_owned(),
        message: message.to_owned(),
    }
}

/// Seconds as a JSON number to a [`Duration`]; zero, negative, NaN, infinite or oversized values are refused.
fn seconds(setting: &str, value: f64) -> Result<Duration, PulsarError> {
    // Written so that NaN fails too: every comparison with NaN is false.
    if !(value > 0.0 && value <= MAX_TIMEOUT.as_secs_f64()) {
        return Err(PulsarError::InvalidSetting {
            setting: setting.to_owned(),
            message: format!("must be a positive number of seconds up to 2147483 (got {value})"),
        });
    }
    Ok(Duration::from_secs_f64(value))
}

/// The JSON shape of [`PerformerConfig`]: the original's setting names, timeouts as seconds.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
struct PerformerConfigJson {
    #[serde(rename = "publisherPulsarSocketAddress")]
    publisher_pulsar_address: String,
    #[serde(rename = "pushPulsarSocketAddress")]
    push_pulsar_address: String,
    #[serde(rename = "requestPulsarRsSocketAddress")]
    request_pulsar_rs_address: String,
    module_name: String,
    admission_timeout: f64,
    pulse_timeout: f64,
    send_timeout: f64,
    curve_server_key: Option<String>,
}

impl Default for PerformerConfigJson {
    fn default() -> Self {
        PerformerConfig::default().into()
    }
}

impl From<PerformerConfig> for PerformerConfigJson {
    fn from(c: PerformerConfig) -> Self {
        PerformerConfigJson {
            publisher_pulsar_address: c.publisher_pulsar_address,
            push_pulsar_address: c.push_pulsar_address,
            request_pulsar_rs_address: c.request_pulsar_rs_address,
            module_name: c.module_name,
            admission_timeout: c.admission_timeout.as_secs_f64(),
            pulse_timeout: c.pulse_timeout.as_secs_f64(),
            send_timeout: c.send_timeout.as_secs_f64(),
            curve_server_key: c.curve_server_key,
        }
    }
}

impl TryFrom<PerformerConfigJson> for PerformerConfig {
    type Error = PulsarError;

    fn try_from(j: PerformerConfigJson) -> Result<Self, PulsarError> {
        let config = PerformerConfig {
            publisher_pulsar_address: j.publisher_pulsar_address,
            push_pulsar_address: j.push_pulsar_address,
            request_pulsar_rs_address: j.request_pulsar_rs_address,
            module_name: j.module_name,
            admission_timeout: seconds("admissionTimeout", j.admission_timeout)?,
            pulse_timeout: seconds("pulseTimeout", j.pulse_timeout)?,
            send_timeout: seconds("sendTimeout", j.send_timeout)?,
            curve_server_key: j.curve_server_key,
        };
        config.validate()?;
        Ok(config)
    }
}
