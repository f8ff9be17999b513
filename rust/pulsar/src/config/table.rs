//! The one table of the daemon's settings: the one place where a setting is defined. Each entry gives the
//! [`PulsarConfig`] field (type, default, doc comment = help text) and its [`Setting`] row (JSON key, flag,
//! environment variable, kind and range, PHP getter, an example value for the front-end tests). Everything else
//! (the struct, its `Default`, JSON reading, flags, validation, `--help`, the README table, the C ABI's and the
//! PHP routes' mapping) is derived from it. See the module docs of [`crate::config`] for how to add a setting.
//!
//! This module must never hold logic: only the list.

use super::kind::{Field, Kind};
use super::setting::{Setting, BASE};
use super::{
    DAY_SECS, DEFAULT_MAX_CONNECTIONS, DEFAULT_PUBLISH_ADDRESS, DEFAULT_PULL_ADDRESS,
    DEFAULT_PUSH_TO_REPLY_STACK_ADDRESS, DEFAULT_REPLY_STACK_ADDRESS,
    DEFAULT_REPLY_TO_REPLY_STACK_ADDRESS, MIN_ACTION_MAX_EXECUTION_SECS, WEEK_SECS,
};

/// Defines [`PulsarConfig`], [`PulsarSocketsParams`], their `Default` and [`SETTINGS`] from one list of entries.
/// The entries of the second block live in `pulsarSocketsParams` (nested, or flat at the top level of JSON).
macro_rules! settings {
    (
        $( $(#[doc = $doc:literal])* $field:ident : $ty:ty = $default:expr => { $($meta:tt)* } )*
        ;
        $( $(#[doc = $sdoc:literal])* $sfield:ident : $sty:ty = $sdefault:expr => { $($smeta:tt)* } )*
    ) => {
        /// Every setting of the daemon, as [`SETTINGS`] defines it. [`Default`] gives the original's defaults;
        /// [`PulsarConfig::validate`] must pass before the daemon uses it (`Daemon::bind` checks it).
        #[derive(Debug, Clone, PartialEq)]
        pub struct PulsarConfig {
            $( $(#[doc = $doc])* pub $field: $ty, )*
            /// `pulsarSocketsParams`: the five socket addresses.
            pub pulsar_sockets_params: PulsarSocketsParams,
        }

        /// The original's five socket addresses (`PulsarSocketsParamsDto`).
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct PulsarSocketsParams {
            $( $(#[doc = $sdoc])* pub $sfield: $sty, )*
        }

        impl Default for PulsarConfig {
            fn default() -> Self {
                PulsarConfig {
                    $( $field: $default, )*
                    pulsar_sockets_params: PulsarSocketsParams::default(),
                }
            }
        }

        impl Default for PulsarSocketsParams {
            fn default() -> Self {
                PulsarSocketsParams { $( $sfield: $sdefault, )* }
            }
        }

        /// Every setting, in the order `--help` and the README list them.
        pub static SETTINGS: &[Setting] = &[
            $( Setting {
                doc: &[$($doc),*],
                get: |c| Field::to_value(&c.$field),
                set: |c, v| { c.$field = Field::from_value(v)?; Ok(()) },
                $($meta)*
                ..BASE
            }, )*
            $( Setting {
                doc: &[$($sdoc),*],
                nested: true,
                get: |c| Field::to_value(&c.pulsar_sockets_params.$sfield),
                set: |c, v| { c.pulsar_sockets_params.$sfield = Field::from_value(v)?; Ok(()) },
                $($smeta)*
                ..BASE
            }, )*
        ];
    };
}

settings! {
    /// N: the most workers released by one pulse.
    subscribers_per_iteration: u32 = 10 => {
        key: "subscribersPerIteration", flag: Some("subscribers-per-iteration"),
        env: Some("PULSARD_SUBSCRIBERS_PER_ITERATION"), php: Some("getSubscribersPerIteration"),
        kind: Kind::Count { min: 1, max: u32::MAX as u64 }, example: "3",
    }
    /// Seconds between pulses, at least; fractions allowed.
    pulsation_iteration_period: f64 = 1.0 => {
        key: "pulsationIterationPeriod", flag: Some("pulsation-iteration-period"),
        env: Some("PULSARD_PULSATION_ITERATION_PERIOD"), php: Some("getPulsationIterationPeriod"),
        kind: Kind::Seconds { min: 0.0, max: DAY_SECS, positive: true }, example: "0.25",
    }
    /// Seconds released workers get to report their result; less than 7 is refused, as in the original.
    performer_container_action_max_execution_time: f64 = MIN_ACTION_MAX_EXECUTION_SECS => {
        key: "performerContainerActionMaxExecutionTime", flag: Some("performer-container-action-max-execution-time"),
        env: Some("PULSARD_PERFORMER_CONTAINER_ACTION_MAX_EXECUTION_TIME"),
        php: Some("getPerformerContainerActionMaxExecutionTime"),
        kind: Kind::Seconds { min: MIN_ACTION_MAX_EXECUTION_SECS, max: WEEK_SECS, positive: true }, example: "9.5",
    }
    /// Seconds a ready worker may wait for admitted company still subscribing; never more than a tenth of the
    /// period (the original waited this long for N workers).
    max_wait_reply_stack_result: f64 = 5.0 => {
        key: "maxWaitReplyStackResult", flag: Some("max-wait-reply-stack-result"),
        env: Some("PULSARD_MAX_WAIT_REPLY_STACK_RESULT"), php: Some("getMaxWaitReplyStackResult"),
        kind: Kind::Seconds { min: 0.0, max: WEEK_SECS, positive: false }, example: "0.5",
    }
    /// Seconds admitted workers get to subscribe before the pulse goes anyway.
    max_wait_all_subscribers_ready_before_publish: f64 = 7.0 => {
        key: "maxWaitAllSubscribersReadyBeforePublish", flag: Some("max-wait-all-subscribers-ready"),
        flag_alias: Some("max-wait-all-subscribers-ready-before-publish"),
        env: Some("PULSARD_MAX_WAIT_ALL_SUBSCRIBERS_READY"), php: Some("getMaxWaitAllSubscribersReadyBeforePublish"),
        kind: Kind::Seconds { min: 0.0, max: WEEK_SECS, positive: true }, example: "2",
    }
    /// Stop after this many iterations; 0 means never.
    timer_iterations_limit: u64 = 0 => {
        key: "timerIterationsLimit", flag: Some("timer-iterations-limit"),
        env: Some("PULSARD_TIMER_ITERATIONS_LIMIT"), php: Some("getTimerIterationsLimit"),
        kind: Kind::Count { min: 0, max: u64::MAX }, example: "4",
    }
    /// Name shown in every log line.
    module_name: String = "pulsar".into() => {
        key: "moduleName", flag: Some("module-name"), env: Some("PULSARD_MODULE_NAME"),
        php: Some("getModuleName"), kind: Kind::Text, example: "react:pulsar-ga",
    }
    /// Accepted so that an existing configuration loads, and ignored: the admission desk that the original
    /// started as a separate process runs inside the daemon.
    reply_stack_command_name: Option<String> = None => {
        key: "replyStackCommandName", php: Some("getReplyStackCommandName"), kind: Kind::OptionalText,
        example: "php artisan react:pulsar-reply-stack",
    }
    /// The exact PHP serialize() bytes of the object every pulse publishes (e.g. a subclass of
    /// PublisherToSubscribersDto); on the command line, a file holding them.
    publisher_to_subscribers_dto: Option<Vec<u8>> = None => {
        key: "publisherToSubscribersDto", flag: Some("publisher-to-subscribers-file"),
        env: Some("PULSARD_PUBLISHER_TO_SUBSCRIBERS_FILE"), php: Some("getPublisherToSubscribersDto"),
        kind: Kind::PhpObject,
        default_text: Some("PublisherToSubscribersDto with allowAction true"),
        example: "O:57:\"React\\PublisherPulsar\\Inventory\\PublisherToSubscribersDto\":1:{s:14:\"\0*\0allowAction\";b:1;}",
    }
    /// Most workers waiting for admission; beyond it requests are refused at once.
    max_admission_queue: u64 = 65_536 => {
        key: "maxAdmissionQueue", flag: Some("max-admission-queue"), env: Some("PULSARD_MAX_ADMISSION_QUEUE"),
        php: Some("getMaxAdmissionQueue"), kind: Kind::Count { min: 1, max: u64::MAX }, example: "12",
    }
    /// Most released workers acting at once, each holding its slot until its result, its early termination or
    /// the result timeout; 0 means N, the original's bound.
    max_acting_performers: u32 = 0 => {
        key: "maxActingPerformers", flag: Some("max-acting-performers"), env: Some("PULSARD_MAX_ACTING_PERFORMERS"),
        php: Some("getMaxActingPerformers"),
        kind: Kind::Count { min: 0, max: u32::MAX as u64 }, example: "5",
    }
    /// Seconds added to the period between pulses, at most 2 % of the period, so that workers' own clocks see at
    /// most N per exact period window.
    pulse_guard_interval: f64 = 0.005 => {
        key: "pulseGuardInterval", flag: Some("pulse-guard-interval"), env: Some("PULSARD_PULSE_GUARD_INTERVAL"),
        php: Some("getPulseGuardInterval"),
        kind: Kind::Seconds { min: 0.0, max: 1.0, positive: false }, example: "0.002",
    }
    /// Seconds one pause-for-period lasts at most, whatever sleepPeriod a result asks for (the default is the
    /// longest quota day); each pause is a WARN line with the requested and applied length.
    max_pause_for_period: f64 = DAY_SECS => {
        key: "maxPauseForPeriod", flag: Some("max-pause-for-period"), env: Some("PULSARD_MAX_PAUSE_FOR_PERIOD"),
        php: Some("getMaxPauseForPeriod"),
        kind: Kind::Seconds { min: 0.0, max: WEEK_SECS, positive: true }, example: "60",
    }
    /// Networks (10.0.0.0/8) or addresses peers may connect from; none allows every address that reaches the
    /// bound sockets (loopback only with the default addresses). Checked for each new connection, NULL
    /// mechanism included.
    allow_from: Vec<String> = Vec::new() => {
        key: "allowFrom", flag: Some("allow-from"), env: Some("PULSARD_ALLOW_FROM"), php: Some("getAllowFrom"),
        kind: Kind::Networks, default_text: Some("any"), example: "127.0.0.0/8,10.0.0.0/8",
    }
    /// Most connections open at once on the three sockets; beyond it new ones are refused (with a WARN line).
    /// Lowered at start to fit the process's descriptor limit.
    max_connections: u64 = DEFAULT_MAX_CONNECTIONS => {
        key: "maxConnections", flag: Some("max-connections"), env: Some("PULSARD_MAX_CONNECTIONS"),
        php: Some("getMaxConnections"),
        kind: Kind::Count { min: 1, max: u64::MAX }, example: "500",
    }
    /// The daemon's CURVE secret key (Z85): every socket becomes a CURVE server, which the original PHP
    /// workers cannot use; its public key is logged at start. Prefer the environment or the JSON file to the
    /// flag, which shows in ps.
    curve_secret_key: Option<String> = None => {
        key: "curveSecretKey", flag: Some("curve-secret-key"), env: Some("PULSARD_CURVE_SECRET_KEY"),
        php: Some("getCurveSecretKey"),
        kind: Kind::CurveKey, default_text: Some("off"), example: "EJ}9:vfjcknUX4s418qCs0*j>FMM%}01TRn*W%Ei",
    }
    /// The file where the daemon records whether it runs and when it last pulsed, for the next daemon on the same
    /// sockets: a restart then waits only what the limit needs (a whole period after a crash, nothing after a
    /// long stop, no settle on a first start). One file per daemon; the directory must be writable.
    state_file: Option<String> = None => {
        key: "stateFile", flag: Some("state-file"), env: Some("PULSARD_STATE_FILE"), php: Some("getStateFile"),
        kind: Kind::OptionalText, default_text: Some("pulsard-ENDPOINT.state in the temporary folder"),
        example: "/var/lib/pulsard/state.json",
    }
    /// IP:PORT where the daemon serves GET /metrics (Prometheus) and GET /healthz over HTTP; port 0 lets the
    /// system choose.
    metrics_address: Option<String> = None => {
        key: "metricsAddress", flag: Some("metrics-address"), env: Some("PULSARD_METRICS_ADDRESS"),
        kind: Kind::SocketAddress, default_text: Some("off"), example: "127.0.0.1:0",
    }
    ;
    /// Where pulses are published (XPUB); workers' SUB connect here.
    publish_socket_address: String = DEFAULT_PUBLISH_ADDRESS.into() => {
        key: "publishSocketAddress", flag: Some("publish-address"), env: Some("PULSARD_PUBLISH_ADDRESS"),
        php: Some("getPublishSocketAddress"), kind: Kind::ZmqAddress, example: "tcp://127.0.0.1:6263",
    }
    /// Where workers push readiness, results and early terminations (PULL).
    pull_socket_address: String = DEFAULT_PULL_ADDRESS.into() => {
        key: "pullSocketAddress", flag: Some("pull-address"), env: Some("PULSARD_PULL_ADDRESS"),
        php: Some("getPullSocketAddress"), kind: Kind::ZmqAddress, example: "tcp://127.0.0.1:6264",
    }
    /// Where workers ask for admission (ROUTER, REQ-compatible).
    reply_stack_socket_address: String = DEFAULT_REPLY_STACK_ADDRESS.into() => {
        key: "replyStackSocketAddress", flag: Some("reply-stack-address"), env: Some("PULSARD_REPLY_STACK_ADDRESS"),
        php: Some("getReplyStackSocketAddress"), kind: Kind::ZmqAddress, example: "tcp://127.0.0.1:6265",
    }
    /// The original's link to its separate admission process; validated, not bound.
    reply_to_reply_stack_socket_address: String = DEFAULT_REPLY_TO_REPLY_STACK_ADDRESS.into() => {
        key: "replyToReplyStackSocketAddress", flag: Some("reply-to-reply-stack-address"),
        env: Some("PULSARD_REPLY_TO_REPLY_STACK_ADDRESS"), php: Some("getReplyToReplyStackSocketAddress"),
        kind: Kind::ZmqAddress, example: "tcp://127.0.0.1:6261",
    }
    /// Declared by the original and never used; validated, not bound.
    push_to_reply_stack_socket_address: String = DEFAULT_PUSH_TO_REPLY_STACK_ADDRESS.into() => {
        key: "pushToReplyStackSocketAddress", flag: Some("push-to-reply-stack-address"),
        env: Some("PULSARD_PUSH_TO_REPLY_STACK_ADDRESS"), php: Some("getPushToReplyStackSocketAddress"),
        kind: Kind::ZmqAddress, example: "tcp://127.0.0.1:6262",
    }
}

/// The setting named `key` (its camelCase JSON key).
pub fn by_key(key: &str) -> Option<&'static Setting> {
    SETTINGS.iter().find(|s| s.key == key)
}
