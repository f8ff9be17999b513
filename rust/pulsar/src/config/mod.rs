//! The daemon's settings, defined once in a table ([`SETTINGS`], written in `table.rs`), named as the original
//! `PublisherPulsarDto` setters name them, read from JSON, flags, the environment or the PHP DTOs, and checked
//! once before any socket is opened.
//!
//! # One definition, many front-ends
//! Each row of the table gives a [`PulsarConfig`] field (type, default, doc comment) and its [`Setting`]: the
//! original camelCase JSON key, the `pulsard` flag and `PULSARD_*` environment variable, the [`Kind`] (how it
//! is read and which range it must lie in), the getter of the original PHP DTO if it has one, and an example
//! value. From it come:
//! - the struct and its `Default` (the macro in `table.rs`);
//! - JSON reading and writing ([`PulsarConfig::from_json_str`], [`PulsarConfig::to_json`]);
//! - validation, here and only here ([`PulsarConfig::validate`]; front-ends convert types, never ranges);
//! - `pulsard`'s flags, environment variables and `--help` ([`crate::cli`]);
//! - the README's configuration table ([`markdown_table`], checked by `tests/settings_frontends.rs`);
//! - the table as JSON ([`settings_json`]): `pulsard settings --json` and the C ABI's `pulsar_settings_json()`,
//!   which the PHP FFI route reads to map `PublisherPulsarDto`; the PHP extension iterates [`SETTINGS`].
//!
//! # How to add a setting
//! 1. Add one entry to the `settings!` list in `table.rs`: a doc comment (the help text), the field's name,
//!    type and default, and its row: `key` (camelCase, as a PHP setter would name it), `flag` and `env` (or
//!    leave them out for JSON-only settings), `php` (the getter, only if the original `PublisherPulsarDto` has
//!    one), `kind` with its range, and an `example` other than the default. Types the table knows:
//!    whole numbers with a range (`u32`/`u64` with [`Kind::Count`]), seconds (`f64` with [`Kind::Seconds`]),
//!    text (`String`, [`Kind::Text`]), optional text such as a key (`Option<String>`, [`Kind::OptionalText`]),
//!    lists of strings such as CIDRs (`Vec<String>`, [`Kind::TextList`]), addresses ([`Kind::ZmqAddress`],
//!    [`Kind::SocketAddress`]). A check the kind does not cover (e.g. that each list item is a CIDR) is a new
//!    [`Kind`] variant with its arm in `Kind::check`, so that it runs with validation, once.
//! 2. Write its behaviour where it acts (the daemon reads `config.your_field`).
//! 3. Regenerate the README's table: `PULSAR_BLESS=1 cargo test -p publisher-pulsar --test settings_frontends`.
//!
//! The front-end tests then set your example through every front-end (flags, environment, JSON file, C ABI,
//! both PHP routes) and fail if one of them does not reach the field.
//!
//! # The JSON form
//! Every key is optional and takes the original's default, `null` means "the default" too, and an unknown key is
//! an error (a typo must not silently fall back to a default). Durations are seconds and may be fractional. The
//! five addresses are read from a nested object, as PHP users know it from `PulsarSocketsParamsDto`
//! (`{"pulsarSocketsParams": {"publishSocketAddress": "tcp://127.0.0.1:6273"}}`), or each at the top level;
//! both forms may be mixed, and the same address given in both places with different values is an error.
//!
//! # Settings the drop-in treats differently
//! - `replyStackCommandName` is accepted (so that an existing configuration loads) and ignored.
//! - `publisherToSubscribersDto` is the PHP `serialize()` text of the object to publish, carried byte for byte;
//!   it is parsed once at start to be sure it is one object, and never instantiated.
//! - `maxAdmissionQueue`, `maxActingPerformers`, `maxPauseForPeriod`, `pulseGuardInterval`, `metricsAddress`,
//!   `allowFrom`, `maxConnections` and `curveSecretKey` are new (see their help texts).
//! - Times have upper bounds (a period at most a day, waits and pauses at most a week), so that a typo such as
//!   `1e300` is refused at start instead of freezing the daemon.
//!
//! This module must never open a socket or read anything but the file it is given: it only describes and
//! checks settings.

use std::path::Path;

use pulsar_pulse::{Nanos, PulseConfig};
use pulsar_wire::Pulse;
use serde::Deserialize;
use serde_json::Value as Json;

use crate::PulsarError;

mod docs;
mod json;
mod kind;
mod setting;
mod table;

pub use docs::{markdown_table, settings_json};
pub use json::SOCKETS_KEY;
pub use kind::{Field, Kind, Value};
pub use setting::Setting;
pub use table::{by_key, PulsarConfig, PulsarSocketsParams, SETTINGS};

/// Default `maxConnections`.
pub const DEFAULT_MAX_CONNECTIONS: u64 = 1024;

/// Default `replyToReplyStackSocketAddress` (validated, not bound: see [`crate::daemon`]).
pub const DEFAULT_REPLY_TO_REPLY_STACK_ADDRESS: &str = "tcp://127.0.0.1:6271";
/// Default `pushToReplyStackSocketAddress` (validated, not bound: the original never used it either).
pub const DEFAULT_PUSH_TO_REPLY_STACK_ADDRESS: &str = "tcp://127.0.0.1:6272";
/// Default `publishSocketAddress`: where pulses are published.
pub const DEFAULT_PUBLISH_ADDRESS: &str = "tcp://127.0.0.1:6273";
/// Default `pullSocketAddress`: where performers push `Ready`, results and early terminations.
pub const DEFAULT_PULL_ADDRESS: &str = "tcp://127.0.0.1:6274";
/// Default `replyStackSocketAddress`: where performers ask for admission.
pub const DEFAULT_REPLY_STACK_ADDRESS: &str = "tcp://127.0.0.1:6275";

/// The longest `pulsationIterationPeriod` accepted, in seconds.
pub const DAY_SECS: f64 = 86_400.0;
/// The longest wait, result timeout or pause-for-period cap accepted, in seconds.
pub const WEEK_SECS: f64 = 7.0 * DAY_SECS;

/// The original's minimum for `performerContainerActionMaxExecutionTime`, in seconds.
pub const MIN_ACTION_MAX_EXECUTION_SECS: f64 = pulsar_pulse::config::MIN_ACTION_MAX_EXECUTION_SECS;

impl<'de> Deserialize<'de> for PulsarConfig {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let json = Json::deserialize(deserializer)?;
        json::read(&json).map_err(serde::de::Error::custom)
    }
}

impl PulsarConfig {
    /// Reads the JSON form (see the module docs). Types are checked here, ranges by
    /// [`PulsarConfig::validate`], so that later overrides (flags) can still fix a value.
    pub fn from_json_str(text: &str) -> Result<PulsarConfig, PulsarError> {
        let json: Json = serde_json::from_str(text)?;
        json::read(&json)
    }

    /// Reads an already parsed JSON value, as [`PulsarConfig::from_json_str`] does.
    pub fn from_json_value(json: &Json) -> Result<PulsarConfig, PulsarError> {
        json::read(json)
    }

    /// Reads a JSON file with [`PulsarConfig::from_json_str`].
    pub fn from_file(path: impl AsRef<Path>) -> Result<PulsarConfig, PulsarError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| PulsarError::ConfigFile {
            path: path.display().to_string(),
            source,
        })?;
        PulsarConfig::from_json_str(&text)
    }

    /// Every setting as JSON, in the form [`PulsarConfig::from_json_str`] reads (the effective configuration
    /// that `pulsard --print-config` prints).
    pub fn to_json(&self) -> Json {
        json::write(self)
    }

    /// Checks every setting against its row of the table, then what involves several settings; the first bad
    /// one is reported as [`PulsarError::InvalidSetting`] with its name. This is the only validation: every
    /// front-end reaches it (`Daemon::bind` calls it).
    pub fn validate(&self) -> Result<(), PulsarError> {
        for setting in SETTINGS {
            setting.check(self)?;
        }
        // Two sockets cannot share an address; wildcard ports are exempt since each gets its own port.
        let mut addresses: Vec<(&str, String)> = Vec::new();
        for s in SETTINGS.iter().filter(|s| s.kind == Kind::ZmqAddress) {
            let Value::Text(address) = s.value(self) else {
                continue;
            };
            if kind::is_wildcard_port(&address) {
                continue;
            }
            if let Some((other, _)) = addresses.iter().find(|(_, a)| *a == address) {
                return Err(s.invalid(format!("{address} is already used by {other}")));
            }
            addresses.push((s.key, address));
        }
        // The engine has its own checks; they must agree with ours, but a mismatch must still be an error.
        self.to_pulse_config()
            .validate()
            .map_err(|e| setting::invalid("pulse engine settings", e.to_string()))?;
        Ok(())
    }

    /// The engine's view of these settings (durations in nanoseconds).
    pub fn to_pulse_config(&self) -> PulseConfig {
        PulseConfig {
            subscribers_per_iteration: self.subscribers_per_iteration,
            pulsation_iteration_period: Nanos::from_secs_f64(self.pulsation_iteration_period),
            performer_container_action_max_execution_time: Nanos::from_secs_f64(
                self.performer_container_action_max_execution_time,
            ),
            max_wait_reply_stack_result: Nanos::from_secs_f64(self.max_wait_reply_stack_result),
            max_wait_all_subscribers_ready: Nanos::from_secs_f64(
                self.max_wait_all_subscribers_ready_before_publish,
            ),
            timer_iterations_limit: self.timer_iterations_limit,
            max_admission_queue: usize::try_from(self.max_admission_queue).unwrap_or(usize::MAX),
            max_acting_performers: self.max_acting_performers,
            pulse_guard_interval: Nanos::from_secs_f64(self.pulse_guard_interval),
            max_pause_for_period: Nanos::from_secs_f64(self.max_pause_for_period),
            ..PulseConfig::default()
        }
    }

    /// The bytes every pulse publishes: the configured object, or the default `PublisherToSubscribersDto`.
    pub fn pulse_bytes(&self) -> Vec<u8> {
        match &self.publisher_to_subscribers_dto {
            Some(bytes) => bytes.clone(),
            None => Pulse::default_pulse().bytes,
        }
    }
}

#[cfg(test)]
mod tests;
