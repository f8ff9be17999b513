//! The daemon's settings, named as the original `PublisherPulsarDto` setters name them, read from JSON (a file
//! or a string) and checked before any socket is opened.
//!
//! A JSON configuration uses the camelCase names of the PHP setters (`setSubscribersPerIteration` →
//! `subscribersPerIteration`); every key is optional and takes the original's default, `null` means "the
//! default" too, and an unknown key is an error (a typo must not silently fall back to a default). Durations
//! are seconds and may be fractional.
//!
//! # Socket addresses: nested or flat
//! The five addresses are read from a nested object, as PHP users know it from `PulsarSocketsParamsDto`:
//! ```json
//! { "pulsarSocketsParams": { "publishSocketAddress": "tcp://127.0.0.1:6273" } }
//! ```
//! Each of the five keys may also be written at the top level (`{"publishSocketAddress": "..."}`), which is
//! handier for flags and environment-driven tools. Both forms may be mixed; giving the same address in both
//! places with different values is an error rather than a silent choice.
//!
//! # Settings the drop-in treats differently
//! - `replyStackCommandName` is accepted (so that an existing configuration loads) and ignored: the admission
//!   desk that the original started as a separate process runs inside the daemon.
//! - `publisherToSubscribersDto` is the PHP `serialize()` text of the object to publish (a user subclass of
//!   `PublisherToSubscribersDto`), carried byte for byte. It is parsed once at load to be sure it is one
//!   object, and never instantiated.
//! - `maxAdmissionQueue` is new: the most workers that may wait for admission before requests are refused.
//! - `maxActingPerformers` is new: how many released workers may act (hold a slot) at once; 0 means N.
//! - `maxPauseForPeriod` is new: the longest one pause-for-period may last, whatever a result asks for.
//! - Times have upper bounds (a period at most a day, waits and pauses at most a week), so that a typo such
//!   as `1e300` is refused at start instead of freezing the daemon.
//! - `metricsAddress` is new: `HOST:PORT` (an IP address and a port) where the daemon serves `GET /metrics`
//!   and `GET /healthz` over HTTP; absent or `null`, nothing is served (see [`crate::metrics`]).
//! - `allowFrom`, `maxConnections` and `curveSecretKey` are new: who may connect, how many connections may be
//!   open at once, and the daemon's CURVE secret key (see the README's "Security and failure model").
//! - `pulseGuardInterval` is new: seconds added to the period between pulses, capped at 2 % of the period,
//!   so that the workers' own clocks see at most N per exact period window.
//!
//! This module must never open a socket or read anything but the file it is given: it only describes and
//! checks settings.

use std::path::Path;

use pulsar_pulse::{Nanos, PulseConfig};
use pulsar_wire::{Limits, Pulse};
use serde::Deserialize;
use serde_json::Value as Json;

use crate::PulsarError;

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

/// The original's five socket addresses (`PulsarSocketsParamsDto`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PulsarSocketsParams {
    /// `replyToReplyStackSocketAddress`: the original's link to its separate admission desk. Validated only.
    pub reply_to_reply_stack_socket_address: String,
    /// `pushToReplyStackSocketAddress`: declared by the original but never used. Validated only.
    pub push_to_reply_stack_socket_address: String,
    /// `publishSocketAddress`: the publisher of pulses (performers' SUB connect here).
    pub publish_socket_address: String,
    /// `pullSocketAddress`: where performers PUSH `Ready`, results and early terminations.
    pub pull_socket_address: String,
    /// `replyStackSocketAddress`: the admission desk (performers' REQ connect here).
    pub reply_stack_socket_address: String,
}

impl Default for PulsarSocketsParams {
    fn default() -> Self {
        PulsarSocketsParams {
            reply_to_reply_stack_socket_address: DEFAULT_REPLY_TO_REPLY_STACK_ADDRESS.into(),
            push_to_reply_stack_socket_address: DEFAULT_PUSH_TO_REPLY_STACK_ADDRESS.into(),
            publish_socket_address: DEFAULT_PUBLISH_ADDRESS.into(),
            pull_socket_address: DEFAULT_PULL_ADDRESS.into(),
            reply_stack_socket_address: DEFAULT_REPLY_STACK_ADDRESS.into(),
        }
    }
}

impl PulsarSocketsParams {
    /// The five addresses with their setting names, in the original's order.
    pub fn named(&self) -> [(&'static str, &str); 5] {
        [
            (
                "replyToReplyStackSocketAddress",
                &self.reply_to_reply_stack_socket_address,
            ),
            (
                "pushToReplyStackSocketAddress",
                &self.push_to_reply_stack_socket_address,
            ),
            ("publishSocketAddress", &self.publish_socket_address),
            ("pullSocketAddress", &self.pull_socket_address),
            ("replyStackSocketAddress", &self.reply_stack_socket_address),
        ]
    }
}

/// Every setting of the daemon. [`Default`] gives the original's defaults; [`PulsarConfig::validate`] must pass
/// before the daemon uses it (`Daemon::bind` checks it again).
///
/// Deserializing (serde, or [`PulsarConfig::from_json_str`]) reads the JSON form described in the module docs;
/// it checks types, not ranges.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "RawConfig")]
pub struct PulsarConfig {
    /// `subscribersPerIteration`: N, the most workers released by one pulse (default 10).
    pub subscribers_per_iteration: u32,
    /// `pulsationIterationPeriod`: seconds between pulses, at least (default 1; fractions allowed).
    pub pulsation_iteration_period: f64,
    /// `performerContainerActionMaxExecutionTime`: seconds released workers get to report (default 7, the
    /// original's minimum: smaller values are rejected as the original rejects them).
    pub performer_container_action_max_execution_time: f64,
    /// `maxWaitReplyStackResult`: seconds a ready worker may wait for admitted company still subscribing,
    /// never more than a tenth of the period; the original waited this long for N workers (default 5).
    pub max_wait_reply_stack_result: f64,
    /// `maxWaitAllSubscribersReadyBeforePublish`: seconds admitted workers get to subscribe (default 7).
    pub max_wait_all_subscribers_ready_before_publish: f64,
    /// `timerIterationsLimit`: stop after this many iterations; 0 = never (default 0).
    pub timer_iterations_limit: u64,
    /// `moduleName`: shown in every log line (default `pulsar`).
    pub module_name: String,
    /// `replyStackCommandName`: accepted for compatibility and ignored (the admission desk runs inside the
    /// daemon).
    pub reply_stack_command_name: Option<String>,
    /// `publisherToSubscribersDto`: the exact `serialize()` bytes of the object to publish; `None` publishes
    /// the default `PublisherToSubscribersDto{allowAction: true}`.
    pub publisher_to_subscribers_dto: Option<Vec<u8>>,
    /// `maxAdmissionQueue`: most workers waiting for admission; beyond it requests are refused (default
    /// 65 536).
    pub max_admission_queue: u64,
    /// `maxActingPerformers`: most released workers acting at once, each holding its slot until its result,
    /// its early termination or the result timeout; 0 means N, the original's bound (default 0).
    pub max_acting_performers: u32,
    /// `pulseGuardInterval`: seconds added to the period between two pulses, never more than 2 % of the
    /// period, so that workers that receive a pulse a little late still see at most N per exact period window
    /// on their own clocks (default 0.005).
    pub pulse_guard_interval: f64,
    /// `maxPauseForPeriod`: seconds one pause-for-period lasts at most, whatever `sleepPeriod` a result asks
    /// for (default 86 400: the longest quota day).
    pub max_pause_for_period: f64,
    /// `pulsarSocketsParams`: the five socket addresses.
    pub pulsar_sockets_params: PulsarSocketsParams,
    /// `metricsAddress`: `IP:PORT` for the HTTP metrics and health endpoints (`GET /metrics`, `GET /healthz`);
    /// `None` (the default) serves nothing. Port 0 lets the system choose.
    pub metrics_address: Option<String>,
    /// `allowFrom`: networks (`10.0.0.0/8`) or addresses peers may connect from; empty (the default) allows
    /// every address that reaches the bound sockets (loopback only with the default addresses).
    pub allow_from: Vec<String>,
    /// `maxConnections`: most connections open at once on the three sockets; beyond it new connections are
    /// refused (default 1024; lowered at start to fit the process's descriptor limit).
    pub max_connections: u64,
    /// `curveSecretKey`: the daemon's CURVE secret key (Z85, 40 characters). Given, every socket is a CURVE
    /// server: traffic is encrypted and only clients configured with the matching public key can talk to it
    /// (the original PHP workers cannot). `None` (the default): NULL mechanism, as the original.
    pub curve_secret_key: Option<String>,
}

impl Default for PulsarConfig {
    fn default() -> Self {
        PulsarConfig {
            subscribers_per_iteration: 10,
            pulsation_iteration_period: 1.0,
            performer_container_action_max_execution_time: 7.0,
            max_wait_reply_stack_result: 5.0,
            max_wait_all_subscribers_ready_before_publish: 7.0,
            timer_iterations_limit: 0,
            module_name: "pulsar".into(),
            reply_stack_command_name: None,
            publisher_to_subscribers_dto: None,
            max_admission_queue: 65_536,
            max_acting_performers: 0,
            pulse_guard_interval: 0.005,
            max_pause_for_period: 86_400.0,
            pulsar_sockets_params: PulsarSocketsParams::default(),
            metrics_address: None,
            allow_from: Vec::new(),
            max_connections: DEFAULT_MAX_CONNECTIONS,
            curve_secret_key: None,
        }
    }
}

/// Default `maxConnections`.
pub const DEFAULT_MAX_CONNECTIONS: u64 = 1024;

/// The longest `pulsationIterationPeriod` accepted, in seconds.
pub const DAY_SECS: f64 = 86_400.0;
/// The longest wait, result timeout or pause-for-period cap accepted, in seconds.
pub const WEEK_SECS: f64 = 7.0 * DAY_SECS;

/// The original's minimum for `performerContainerActionMaxExecutionTime`, in seconds.
pub const MIN_ACTION_MAX_EXECUTION_SECS: f64 = pulsar_pulse::config::MIN_ACTION_MAX_EXECUTION_SECS;

impl PulsarConfig {
    /// Reads the JSON form (see the module docs). Types are checked here, ranges by
    /// [`PulsarConfig::validate`], so that later overrides (flags) can still fix a value.
    pub fn from_json_str(json: &str) -> Result<PulsarConfig, PulsarError> {
        // serde would also read a struct from a JSON array (by position); a configuration is an object.
        serde_json::from_str::<serde_json::Map<String, Json>>(json)?;
        let raw: RawConfig = serde_json::from_str(json)?;
        raw.into_config()
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

    /// Checks every setting; the first bad one is reported as [`PulsarError::InvalidSetting`] with its name.
    pub fn validate(&self) -> Result<(), PulsarError> {
        if self.subscribers_per_iteration == 0 {
            return Err(invalid(
                "subscribersPerIteration",
                "must be at least 1 (got 0)",
            ));
        }
        positive_secs("pulsationIterationPeriod", self.pulsation_iteration_period)?;
        let exec = self.performer_container_action_max_execution_time;
        finite_secs("performerContainerActionMaxExecutionTime", exec)?;
        if exec < MIN_ACTION_MAX_EXECUTION_SECS {
            return Err(invalid(
                "performerContainerActionMaxExecutionTime",
                format!(
                    "must be at least {MIN_ACTION_MAX_EXECUTION_SECS} seconds, as in the original (got {exec})"
                ),
            ));
        }
        finite_secs("maxWaitReplyStackResult", self.max_wait_reply_stack_result)?;
        positive_secs(
            "maxWaitAllSubscribersReadyBeforePublish",
            self.max_wait_all_subscribers_ready_before_publish,
        )?;
        if self.max_admission_queue == 0 {
            return Err(invalid("maxAdmissionQueue", "must be at least 1 (got 0)"));
        }
        finite_secs("pulseGuardInterval", self.pulse_guard_interval)?;
        positive_secs("maxPauseForPeriod", self.max_pause_for_period)?;
        // Upper bounds: beyond them a value is a typo, and a typo must not freeze the daemon for centuries.
        for (setting, value, max) in [
            (
                "pulsationIterationPeriod",
                self.pulsation_iteration_period,
                DAY_SECS,
            ),
            (
                "performerContainerActionMaxExecutionTime",
                self.performer_container_action_max_execution_time,
                WEEK_SECS,
            ),
            (
                "maxWaitReplyStackResult",
                self.max_wait_reply_stack_result,
                WEEK_SECS,
            ),
            (
                "maxWaitAllSubscribersReadyBeforePublish",
                self.max_wait_all_subscribers_ready_before_publish,
                WEEK_SECS,
            ),
            ("pulseGuardInterval", self.pulse_guard_interval, 1.0),
            ("maxPauseForPeriod", self.max_pause_for_period, WEEK_SECS),
        ] {
            if value > max {
                return Err(invalid(
                    setting,
                    format!("must be at most {max} seconds (got {value})"),
                ));
            }
        }
        let named = self.pulsar_sockets_params.named();
        for (setting, address) in named {
            check_address(setting, address)?;
        }
        // Two sockets cannot share an address; wildcard ports are exempt since each gets its own port.
        for (i, (setting, address)) in named.iter().enumerate() {
            if is_wildcard_port(address) {
                continue;
            }
            if let Some((other, _)) = named[..i].iter().find(|(_, a)| a == address) {
                return Err(invalid(
                    setting,
                    format!("{address} is already used by {other}"),
                ));
            }
        }
        if let Some(address) = &self.metrics_address {
            address.parse::<std::net::SocketAddr>().map_err(|_| {
                invalid(
                    "metricsAddress",
                    format!("{address:?} is not IP:PORT (e.g. 127.0.0.1:9464 or [::1]:9464)"),
                )
            })?;
        }
        if let Some(bytes) = &self.publisher_to_subscribers_dto {
            Pulse::decode(bytes, &Limits::default()).map_err(|e| {
                invalid(
                    "publisherToSubscribersDto",
                    format!("not the serialize() text of one PHP object: {e}"),
                )
            })?;
        }
        crate::daemon::parse_allow_from(&self.allow_from).map_err(|e| invalid("allowFrom", e))?;
        if self.max_connections == 0 {
            return Err(invalid("maxConnections", "must be at least 1 (got 0)"));
        }
        if let Some(key) = &self.curve_secret_key {
            crate::daemon::decode_curve_key(key).map_err(|e| invalid("curveSecretKey", e))?;
        }
        // The engine has its own checks; they must agree with ours, but a mismatch must still be an error.
        self.to_pulse_config()
            .validate()
            .map_err(|e| invalid("pulse engine settings", e.to_string()))?;
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

fn invalid(setting: &str, message: impl Into<String>) -> PulsarError {
    PulsarError::InvalidSetting {
        setting: setting.into(),
        message: message.into(),
    }
}

fn finite_secs(setting: &str, secs: f64) -> Result<(), PulsarError> {
    if !secs.is_finite() || secs < 0.0 {
        return Err(invalid(
            setting,
            format!("must be a finite, non-negative number of seconds (got {secs})"),
        ));
    }
    Ok(())
}

fn positive_secs(setting: &str, secs: f64) -> Result<(), PulsarError> {
    finite_secs(setting, secs)?;
    // Below one nanosecond the engine would see zero, which means "no wait at all".
    if Nanos::from_secs_f64(secs) == Nanos::ZERO {
        return Err(invalid(
            setting,
            format!("must be a positive number of seconds (got {secs})"),
        ));
    }
    Ok(())
}

/// Whether a tcp address asks for a port chosen by the system (`:*` or `:0`).
fn is_wildcard_port(address: &str) -> bool {
    address.starts_with("tcp://") && (address.ends_with(":*") || address.ends_with(":0"))
}

/// Checks the shape libzmq needs, so that a typo is reported by setting name rather than as a bind error.
fn check_address(setting: &str, address: &str) -> Result<(), PulsarError> {
    if address.is_empty() {
        return Err(invalid(setting, "must not be empty"));
    }
    if address.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid(
            setting,
            format!("{address:?} contains whitespace or control characters"),
        ));
    }
    if let Some(rest) = address.strip_prefix("tcp://") {
        let Some((host, port)) = rest.rsplit_once(':') else {
            return Err(invalid(
                setting,
                format!("{address} has no port (expected tcp://HOST:PORT)"),
            ));
        };
        if host.is_empty() {
            return Err(invalid(setting, format!("{address} has no host")));
        }
        if port != "*" && port.parse::<u16>().is_err() {
            return Err(invalid(
                setting,
                format!("{address} has an invalid port (expected 0-65535 or *)"),
            ));
        }
        return Ok(());
    }
    for scheme in ["ipc://", "inproc://"] {
        if let Some(rest) = address.strip_prefix(scheme) {
            if rest.is_empty() {
                return Err(invalid(setting, format!("{address} has no path or name")));
            }
            return Ok(());
        }
    }
    Err(invalid(
        setting,
        format!("{address} must start with tcp://, ipc:// or inproc://"),
    ))
}

/// The JSON form as written: every key optional, values kept loose so that a wrong type is reported with the
/// setting's name rather than as a bare serde position.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
struct RawConfig {
    subscribers_per_iteration: Option<Json>,
    pulsation_iteration_period: Option<Json>,
    performer_container_action_max_execution_time: Option<Json>,
    max_wait_reply_stack_result: Option<Json>,
    max_wait_all_subscribers_ready_before_publish: Option<Json>,
    timer_iterations_limit: Option<Json>,
    module_name: Option<Json>,
    reply_stack_command_name: Option<Json>,
    publisher_to_subscribers_dto: Option<Json>,
    max_admission_queue: Option<Json>,
    max_acting_performers: Option<Json>,
    pulse_guard_interval: Option<Json>,
    max_pause_for_period: Option<Json>,
    metrics_address: Option<Json>,
    allow_from: Option<Json>,
    max_connections: Option<Json>,
    curve_secret_key: Option<Json>,
    pulsar_sockets_params: Option<RawSocketsParams>,
    reply_to_reply_stack_socket_address: Option<Json>,
    push_to_reply_stack_socket_address: Option<Json>,
    publish_socket_address: Option<Json>,
    pull_socket_address: Option<Json>,
    reply_stack_socket_address: Option<Json>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
struct RawSocketsParams {
    reply_to_reply_stack_socket_address: Option<Json>,
    push_to_reply_stack_socket_address: Option<Json>,
    publish_socket_address: Option<Json>,
    pull_socket_address: Option<Json>,
    reply_stack_socket_address: Option<Json>,
}

impl TryFrom<RawConfig> for PulsarConfig {
    type Error = String;

    fn try_from(raw: RawConfig) -> Result<Self, Self::Error> {
        raw.into_config().map_err(|e| e.to_string())
    }
}

/// `null` is read as "not given": the default applies.
fn given(value: Option<Json>) -> Option<Json> {
    value.filter(|v| !v.is_null())
}

fn uint(setting: &str, value: Option<Json>, default: u64, max: u64) -> Result<u64, PulsarError> {
    match given(value) {
        None => Ok(default),
        Some(v) => v.as_u64().filter(|n| *n <= max).ok_or_else(|| {
            invalid(
                setting,
                format!("must be a whole number from 0 to {max} (got {v})"),
            )
        }),
    }
}

fn secs(setting: &str, value: Option<Json>, default: f64) -> Result<f64, PulsarError> {
    match given(value) {
        None => Ok(default),
        Some(v) => v
            .as_f64()
            .ok_or_else(|| invalid(setting, format!("must be a number of seconds (got {v})"))),
    }
}

fn text(setting: &str, value: Option<Json>) -> Result<Option<String>, PulsarError> {
    match given(value) {
        None => Ok(None),
        Some(Json::String(s)) => Ok(Some(s)),
        Some(v) => Err(invalid(setting, format!("must be a string (got {v})"))),
    }
}

/// A list of strings; one string is read as a list of one.
fn texts(setting: &str, value: Option<Json>) -> Result<Vec<String>, PulsarError> {
    match given(value) {
        None => Ok(Vec::new()),
        Some(Json::String(s)) => Ok(vec![s]),
        Some(Json::Array(items)) => items
            .into_iter()
            .map(|item| match item {
                Json::String(s) => Ok(s),
                v => Err(invalid(setting, format!("must hold strings (got {v})"))),
            })
            .collect(),
        Some(v) => Err(invalid(
            setting,
            format!("must be a list of strings (got {v})"),
        )),
    }
}

/// One address from its flat key, its nested key, or the default; both given and different is an error.
fn address(
    setting: &str,
    flat: Option<Json>,
    nested: Option<Json>,
    default: &str,
) -> Result<String, PulsarError> {
    let flat = text(setting, flat)?;
    let nested = text(&format!("pulsarSocketsParams.{setting}"), nested)?;
    match (flat, nested) {
        (Some(f), Some(n)) if f != n => Err(invalid(
            setting,
            format!("given twice with different values: {f} at the top level, {n} in pulsarSocketsParams"),
        )),
        (Some(a), _) | (None, Some(a)) => Ok(a),
        (None, None) => Ok(default.into()),
    }
}

impl RawConfig {
    fn into_config(self) -> Result<PulsarConfig, PulsarError> {
        let d = PulsarConfig::default();
        let nested = self.pulsar_sockets_params.unwrap_or_default();
        let dp = d.pulsar_sockets_params;
        Ok(PulsarConfig {
            subscribers_per_iteration: u32::try_from(uint(
                "subscribersPerIteration",
                self.subscribers_per_iteration,
                u64::from(d.subscribers_per_iteration),
                u64::from(u32::MAX),
            )?)
            .expect("bounded by u32::MAX above"),
            pulsation_iteration_period: secs(
                "pulsationIterationPeriod",
                self.pulsation_iteration_period,
                d.pulsation_iteration_period,
            )?,
            performer_container_action_max_execution_time: secs(
                "performerContainerActionMaxExecutionTime",
                self.performer_container_action_max_execution_time,
                d.performer_container_action_max_execution_time,
            )?,
            max_wait_reply_stack_result: secs(
                "maxWaitReplyStackResult",
                self.max_wait_reply_stack_result,
                d.max_wait_reply_stack_result,
            )?,
            max_wait_all_subscribers_ready_before_publish: secs(
                "maxWaitAllSubscribersReadyBeforePublish",
                self.max_wait_all_subscribers_ready_before_publish,
                d.max_wait_all_subscribers_ready_before_publish,
            )?,
            timer_iterations_limit: uint(
                "timerIterationsLimit",
                self.timer_iterations_limit,
                d.timer_iterations_limit,
                u64::MAX,
            )?,
            module_name: text("moduleName", self.module_name)?.unwrap_or(d.module_name),
            reply_stack_command_name: text("replyStackCommandName", self.reply_stack_command_name)?,
            publisher_to_subscribers_dto: text(
                "publisherToSubscribersDto",
                self.publisher_to_subscribers_dto,
            )?
            .map(String::into_bytes),
            max_admission_queue: uint(
                "maxAdmissionQueue",
                self.max_admission_queue,
                d.max_admission_queue,
                u64::MAX,
            )?,
            max_acting_performers: u32::try_from(uint(
                "maxActingPerformers",
                self.max_acting_performers,
                u64::from(d.max_acting_performers),
                u64::from(u32::MAX),
            )?)
            .unwrap_or(u32::MAX),
            pulse_guard_interval: secs(
                "pulseGuardInterval",
                self.pulse_guard_interval,
                d.pulse_guard_interval,
            )?,
            max_pause_for_period: secs(
                "maxPauseForPeriod",
                self.max_pause_for_period,
                d.max_pause_for_period,
            )?,
            pulsar_sockets_params: PulsarSocketsParams {
                reply_to_reply_stack_socket_address: address(
                    "replyToReplyStackSocketAddress",
                    self.reply_to_reply_stack_socket_address,
                    nested.reply_to_reply_stack_socket_address,
                    &dp.reply_to_reply_stack_socket_address,
                )?,
                push_to_reply_stack_socket_address: address(
                    "pushToReplyStackSocketAddress",
                    self.push_to_reply_stack_socket_address,
                    nested.push_to_reply_stack_socket_address,
                    &dp.push_to_reply_stack_socket_address,
                )?,
                publish_socket_address: address(
                    "publishSocketAddress",
                    self.publish_socket_address,
                    nested.publish_socket_address,
                    &dp.publish_socket_address,
                )?,
                pull_socket_address: address(
                    "pullSocketAddress",
                    self.pull_socket_address,
                    nested.pull_socket_address,
                    &dp.pull_socket_address,
                )?,
                reply_stack_socket_address: address(
                    "replyStackSocketAddress",
                    self.reply_stack_socket_address,
                    nested.reply_stack_socket_address,
                    &dp.reply_stack_socket_address,
                )?,
            },
            metrics_address: text("metricsAddress", self.metrics_address)?,
            allow_from: texts("allowFrom", self.allow_from)?,
            max_connections: uint(
                "maxConnections",
                self.max_connections,
                d.max_connections,
                u64::MAX,
            )?,
            curve_secret_key: text("curveSecretKey", self.curve_secret_key)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setting_of(result: Result<(), PulsarError>) -> String {
        match result {
            Err(PulsarError::InvalidSetting { setting, .. }) => setting,
            other => panic!("expected InvalidSetting, got {other:?}"),
        }
    }

    fn parse_err_setting(json: &str) -> String {
        match PulsarConfig::from_json_str(json) {
            Err(PulsarError::InvalidSetting { setting, .. }) => setting,
            other => panic!("expected InvalidSetting for {json}, got {other:?}"),
        }
    }

    fn rejected(edit: impl FnOnce(&mut PulsarConfig)) -> String {
        let mut c = PulsarConfig::default();
        edit(&mut c);
        setting_of(c.validate())
    }

    #[test]
    fn defaults_are_the_originals() {
        let c = PulsarConfig::default();
        assert_eq!(c.subscribers_per_iteration, 10);
        assert_eq!(c.pulsation_iteration_period, 1.0);
        assert_eq!(c.performer_container_action_max_execution_time, 7.0);
        assert_eq!(c.max_wait_reply_stack_result, 5.0);
        assert_eq!(c.max_wait_all_subscribers_ready_before_publish, 7.0);
        assert_eq!(c.timer_iterations_limit, 0);
        assert_eq!(c.module_name, "pulsar");
        assert_eq!(c.max_admission_queue, 65_536);
        assert_eq!(c.publisher_to_subscribers_dto, None);
        let p = &c.pulsar_sockets_params;
        assert_eq!(
            p.reply_to_reply_stack_socket_address,
            "tcp://127.0.0.1:6271"
        );
        assert_eq!(p.push_to_reply_stack_socket_address, "tcp://127.0.0.1:6272");
        assert_eq!(p.publish_socket_address, "tcp://127.0.0.1:6273");
        assert_eq!(p.pull_socket_address, "tcp://127.0.0.1:6274");
        assert_eq!(p.reply_stack_socket_address, "tcp://127.0.0.1:6275");
    }

    #[test]
    fn an_empty_object_gives_the_defaults_and_they_are_valid() {
        let c = PulsarConfig::from_json_str("{}").expect("empty object");
        assert_eq!(c, PulsarConfig::default());
        c.validate().expect("defaults are valid");
    }

    #[test]
    fn the_engine_config_carries_every_setting() {
        let c = PulsarConfig::from_json_str(
            r#"{"subscribersPerIteration": 3, "pulsationIterationPeriod": 0.25,
                "performerContainerActionMaxExecutionTime": 9, "maxWaitReplyStackResult": 0.5,
                "maxWaitAllSubscribersReadyBeforePublish": 2, "timerIterationsLimit": 4,
                "maxAdmissionQueue": 12, "maxActingPerformers": 5, "pulseGuardInterval": 0.002}"#,
        )
        .expect("valid JSON");
        let p = c.to_pulse_config();
        assert_eq!(p.max_acting_performers, 5);
        assert_eq!(p.pulse_guard_interval, Nanos::from_millis(2));
        assert_eq!(p.subscribers_per_iteration, 3);
        assert_eq!(p.pulsation_iteration_period, Nanos::from_millis(250));
        assert_eq!(
            p.performer_container_action_max_execution_time,
            Nanos::from_secs(9)
        );
        assert_eq!(p.max_wait_reply_stack_result, Nanos::from_millis(500));
        assert_eq!(p.max_wait_all_subscribers_ready, Nanos::from_secs(2));
        assert_eq!(p.timer_iterations_limit, 4);
        assert_eq!(p.max_admission_queue, 12);
        assert_eq!(p.slow_down_step, PulseConfig::default().slow_down_step);
    }

    #[test]
    fn every_key_is_read_nested_addresses_and_all() {
        let c = PulsarConfig::from_json_str(
            r#"{"moduleName": "react:pulsar-ga", "replyStackCommandName": "php artisan x",
                "publisherToSubscribersDto": "O:1:\"X\":0:{}",
                "pulsarSocketsParams": {
                  "replyToReplyStackSocketAddress": "tcp://127.0.0.1:6261",
                  "pushToReplyStackSocketAddress": "tcp://127.0.0.1:6262",
                  "publishSocketAddress": "tcp://127.0.0.1:6263",
                  "pullSocketAddress": "tcp://127.0.0.1:6264",
                  "replyStackSocketAddress": "tcp://127.0.0.1:6265"}}"#,
        )
        .expect("valid JSON");
        assert_eq!(c.module_name, "react:pulsar-ga");
        assert_eq!(c.reply_stack_command_name.as_deref(), Some("php artisan x"));
        assert_eq!(
            c.publisher_to_subscribers_dto.as_deref(),
            Some(&b"O:1:\"X\":0:{}"[..])
        );
        let p = &c.pulsar_sockets_params;
        assert_eq!(
            p.reply_to_reply_stack_socket_address,
            "tcp://127.0.0.1:6261"
        );
        assert_eq!(p.push_to_reply_stack_socket_address, "tcp://127.0.0.1:6262");
        assert_eq!(p.publish_socket_address, "tcp://127.0.0.1:6263");
        assert_eq!(p.pull_socket_address, "tcp://127.0.0.1:6264");
        assert_eq!(p.reply_stack_socket_address, "tcp://127.0.0.1:6265");
    }

    #[test]
    fn flat_address_keys_are_read_and_may_mix_with_nested_ones() {
        let c = PulsarConfig::from_json_str(
            r#"{"publishSocketAddress": "ipc:///tmp/pulse",
                "pulsarSocketsParams": {"pullSocketAddress": "inproc://results"}}"#,
        )
        .expect("valid JSON");
        assert_eq!(
            c.pulsar_sockets_params.publish_socket_address,
            "ipc:///tmp/pulse"
        );
        assert_eq!(
            c.pulsar_sockets_params.pull_socket_address,
            "inproc://results"
        );
        assert_eq!(
            c.pulsar_sockets_params.reply_stack_socket_address,
            DEFAULT_REPLY_STACK_ADDRESS
        );
        // The same value in both places is not a conflict.
        PulsarConfig::from_json_str(
            r#"{"pullSocketAddress": "tcp://127.0.0.1:1",
                "pulsarSocketsParams": {"pullSocketAddress": "tcp://127.0.0.1:1"}}"#,
        )
        .expect("same value twice");
    }

    #[test]
    fn an_address_given_flat_and_nested_with_different_values_is_rejected() {
        let setting = parse_err_setting(
            r#"{"pullSocketAddress": "tcp://127.0.0.1:1",
                "pulsarSocketsParams": {"pullSocketAddress": "tcp://127.0.0.1:2"}}"#,
        );
        assert_eq!(setting, "pullSocketAddress");
    }

    #[test]
    fn null_means_the_default() {
        let c = PulsarConfig::from_json_str(
            r#"{"subscribersPerIteration": null, "publisherToSubscribersDto": null}"#,
        )
        .expect("nulls");
        assert_eq!(c, PulsarConfig::default());
    }

    #[test]
    fn fractional_and_integer_seconds_are_both_accepted() {
        let c = PulsarConfig::from_json_str(r#"{"pulsationIterationPeriod": 2}"#).expect("int");
        assert_eq!(c.pulsation_iteration_period, 2.0);
        let c = PulsarConfig::from_json_str(r#"{"pulsationIterationPeriod": 0.1}"#).expect("f");
        assert_eq!(c.pulsation_iteration_period, 0.1);
        c.validate().expect("fractional period is valid");
    }

    #[test]
    fn unknown_keys_and_malformed_json_are_rejected() {
        assert!(matches!(
            PulsarConfig::from_json_str(r#"{"subscribersPerIteraton": 3}"#),
            Err(PulsarError::ConfigJson(_))
        ));
        assert!(matches!(
            PulsarConfig::from_json_str(r#"{"pulsarSocketsParams": {"publish": "tcp://a:1"}}"#),
            Err(PulsarError::ConfigJson(_))
        ));
        assert!(matches!(
            PulsarConfig::from_json_str("{"),
            Err(PulsarError::ConfigJson(_))
        ));
        assert!(matches!(
            PulsarConfig::from_json_str("[]"),
            Err(PulsarError::ConfigJson(_))
        ));
    }

    #[test]
    fn wrong_types_name_the_setting() {
        assert_eq!(
            parse_err_setting(r#"{"subscribersPerIteration": -1}"#),
            "subscribersPerIteration"
        );
        assert_eq!(
            parse_err_setting(r#"{"subscribersPerIteration": 4294967296}"#),
            "subscribersPerIteration"
        );
        assert_eq!(
            parse_err_setting(r#"{"subscribersPerIteration": 2.5}"#),
            "subscribersPerIteration"
        );
        assert_eq!(
            parse_err_setting(r#"{"pulsationIterationPeriod": "1"}"#),
            "pulsationIterationPeriod"
        );
        assert_eq!(
            parse_err_setting(r#"{"timerIterationsLimit": -3}"#),
            "timerIterationsLimit"
        );
        assert_eq!(parse_err_setting(r#"{"moduleName": 5}"#), "moduleName");
        assert_eq!(
            parse_err_setting(r#"{"pulsarSocketsParams": {"publishSocketAddress": 6273}}"#),
            "pulsarSocketsParams.publishSocketAddress"
        );
        assert_eq!(
            parse_err_setting(r#"{"maxAdmissionQueue": true}"#),
            "maxAdmissionQueue"
        );
    }

    #[test]
    fn from_file_reads_json_and_names_a_missing_file() {
        let dir = std::env::temp_dir();
        let path = dir.join(format!("pulsar-config-test-{}.json", std::process::id()));
        std::fs::write(&path, r#"{"subscribersPerIteration": 4}"#).expect("temp file");
        let c = PulsarConfig::from_file(&path).expect("readable");
        assert_eq!(c.subscribers_per_iteration, 4);
        std::fs::remove_file(&path).expect("cleanup");
        match PulsarConfig::from_file(&path) {
            Err(PulsarError::ConfigFile { path: p, .. }) => {
                assert!(p.contains("pulsar-config-test"))
            }
            other => panic!("expected ConfigFile, got {other:?}"),
        }
    }

    #[test]
    fn zero_subscribers_per_iteration_is_rejected() {
        assert_eq!(
            rejected(|c| c.subscribers_per_iteration = 0),
            "subscribersPerIteration"
        );
    }

    #[test]
    fn bad_periods_are_rejected() {
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY, 1e-12] {
            assert_eq!(
                rejected(|c| c.pulsation_iteration_period = bad),
                "pulsationIterationPeriod",
                "{bad}"
            );
        }
    }

    #[test]
    fn action_max_execution_time_below_seven_seconds_is_rejected_as_in_the_original() {
        for bad in [6.999, 0.0, -7.0, f64::NAN, f64::INFINITY] {
            assert_eq!(
                rejected(|c| c.performer_container_action_max_execution_time = bad),
                "performerContainerActionMaxExecutionTime",
                "{bad}"
            );
        }
        let c = PulsarConfig {
            performer_container_action_max_execution_time: 7.5,
            ..PulsarConfig::default()
        };
        c.validate().expect("7.5 s is fine");
    }

    #[test]
    fn bad_reply_stack_wait_is_rejected_but_zero_is_allowed() {
        for bad in [-0.5, f64::NAN, f64::NEG_INFINITY, f64::INFINITY] {
            assert_eq!(
                rejected(|c| c.max_wait_reply_stack_result = bad),
                "maxWaitReplyStackResult",
                "{bad}"
            );
        }
        let c = PulsarConfig {
            max_wait_reply_stack_result: 0.0,
            ..PulsarConfig::default()
        };
        c.validate().expect("zero: pulse with whoever is there");
    }

    #[test]
    fn bad_ready_wait_is_rejected() {
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert_eq!(
                rejected(|c| c.max_wait_all_subscribers_ready_before_publish = bad),
                "maxWaitAllSubscribersReadyBeforePublish",
                "{bad}"
            );
        }
    }

    #[test]
    fn a_guard_that_is_not_a_finite_non_negative_time_is_rejected() {
        for bad in [-0.001, f64::NAN, f64::INFINITY] {
            assert_eq!(
                rejected(|c| c.pulse_guard_interval = bad),
                "pulseGuardInterval"
            );
        }
        assert_eq!(
            parse_err_setting(r#"{"maxActingPerformers": -1}"#),
            "maxActingPerformers"
        );
    }

    #[test]
    fn absurd_times_are_refused_by_name() {
        assert_eq!(
            rejected(|c| c.pulsation_iteration_period = 1e300),
            "pulsationIterationPeriod"
        );
        assert_eq!(
            rejected(|c| c.max_wait_reply_stack_result = 1e300),
            "maxWaitReplyStackResult"
        );
        assert_eq!(
            rejected(|c| c.max_wait_all_subscribers_ready_before_publish = 8.0 * 86_400.0),
            "maxWaitAllSubscribersReadyBeforePublish"
        );
        assert_eq!(
            rejected(|c| c.performer_container_action_max_execution_time = 1e9),
            "performerContainerActionMaxExecutionTime"
        );
        assert_eq!(
            rejected(|c| c.pulse_guard_interval = 2.0),
            "pulseGuardInterval"
        );
        assert_eq!(
            rejected(|c| c.max_pause_for_period = 0.0),
            "maxPauseForPeriod"
        );
        assert_eq!(
            rejected(|c| c.metrics_address = Some("localhost".into())),
            "metricsAddress"
        );
        assert_eq!(
            rejected(|c| c.metrics_address = Some("127.0.0.1:99999".into())),
            "metricsAddress"
        );
        let from_json = PulsarConfig::from_json_str(r#"{"metricsAddress": "127.0.0.1:0"}"#)
            .expect("a metrics address in JSON");
        assert_eq!(from_json.metrics_address.as_deref(), Some("127.0.0.1:0"));
        from_json.validate().expect("an IP and a port");
        let mut fine = PulsarConfig {
            pulsation_iteration_period: DAY_SECS,
            max_pause_for_period: WEEK_SECS,
            ..PulsarConfig::default()
        };
        fine.validate().expect("the bounds themselves are accepted");
        fine.max_pause_for_period = 60.0;
        assert_eq!(
            fine.to_pulse_config().max_pause_for_period,
            Nanos::from_secs(60)
        );
    }

    #[test]
    fn zero_admission_queue_is_rejected() {
        assert_eq!(rejected(|c| c.max_admission_queue = 0), "maxAdmissionQueue");
    }

    #[test]
    fn malformed_addresses_are_rejected_by_name() {
        let bad = [
            "",
            "127.0.0.1:6273",
            "http://127.0.0.1:6273",
            "tcp://127.0.0.1",
            "tcp://:6273",
            "tcp://127.0.0.1:70000",
            "tcp://127.0.0.1:port",
            "tcp://127.0.0.1 :6273",
            "ipc://",
            "inproc://",
        ];
        for address in bad {
            assert_eq!(
                rejected(|c| c.pulsar_sockets_params.publish_socket_address = address.into()),
                "publishSocketAddress",
                "{address:?}"
            );
            assert_eq!(
                rejected(|c| {
                    c.pulsar_sockets_params.push_to_reply_stack_socket_address = address.into()
                }),
                "pushToReplyStackSocketAddress",
                "{address:?}"
            );
        }
    }

    #[test]
    fn good_address_forms_are_accepted() {
        let mut c = PulsarConfig::default();
        let p = &mut c.pulsar_sockets_params;
        p.publish_socket_address = "tcp://*:6273".into();
        p.pull_socket_address = "ipc:///tmp/pulsar-pull".into();
        p.reply_stack_socket_address = "inproc://admission".into();
        p.reply_to_reply_stack_socket_address = "tcp://[::1]:6271".into();
        c.validate().expect("all forms libzmq binds");
    }

    /// The custom subclass of the golden vector 04, as a user would paste it into JSON.
    const CUSTOM_DTO: &str = "O:45:\"PulsarHarness\\CustomPublisherToSubscribersDto\":3:{s:14:\"\0*\0allowAction\";b:1;s:7:\"command\";s:16:\"slow-down-please\";s:14:\"\0*\0secretToken\";s:5:\"t0ken\";}";

    #[test]
    fn the_default_pulse_is_published_when_no_object_is_configured() {
        let c = PulsarConfig::default();
        let pulse = Pulse::decode(&c.pulse_bytes(), &Limits::default()).expect("default pulse");
        assert!(pulse
            .object
            .class_is("React\\PublisherPulsar\\Inventory\\PublisherToSubscribersDto"));
        assert!(pulse.allow_action());
    }

    #[test]
    fn a_configured_subclass_is_published_byte_for_byte() {
        let json = serde_json::json!({ "publisherToSubscribersDto": CUSTOM_DTO }).to_string();
        let c = PulsarConfig::from_json_str(&json).expect("valid JSON");
        c.validate().expect("a well-formed object");
        assert_eq!(c.pulse_bytes(), CUSTOM_DTO.as_bytes());
    }

    #[test]
    fn a_publisher_dto_that_is_not_one_object_is_rejected() {
        for bad in [
            &b""[..],
            b"garbage",
            b"i:1;",
            b"s:3:\"abc\";",
            b"O:1:\"X\":1:{s:1:\"a\";",
            b"O:1:\"X\":0:{}trailing",
        ] {
            assert_eq!(
                rejected(|c| c.publisher_to_subscribers_dto = Some(bad.to_vec())),
                "publisherToSubscribersDto",
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn two_equal_addresses_are_rejected_but_wildcard_ports_may_repeat() {
        assert_eq!(
            rejected(|c| {
                c.pulsar_sockets_params.pull_socket_address = DEFAULT_PUBLISH_ADDRESS.into()
            }),
            "pullSocketAddress"
        );
        let mut c = PulsarConfig::default();
        let p = &mut c.pulsar_sockets_params;
        for a in [
            &mut p.reply_to_reply_stack_socket_address,
            &mut p.push_to_reply_stack_socket_address,
            &mut p.publish_socket_address,
            &mut p.pull_socket_address,
            &mut p.reply_stack_socket_address,
        ] {
            *a = "tcp://127.0.0.1:*".into();
        }
        c.validate().expect("each wildcard gets its own port");
    }
}
