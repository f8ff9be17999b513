//! `pulsard`: the Publisher Pulsar daemon as a program.
//!
//! It reads the settings (a JSON file with `PublisherPulsarDto` names, then flags on top), sets up logging to
//! standard error, turns SIGTERM/SIGINT into a clean stop, binds and runs [`publisher_pulsar::daemon`]. It must
//! never hold coordination logic of its own: everything it runs is the library's daemon, exactly as tests and
//! the other bridges run it.
//!
//! `pulsard status` reads a running daemon's `/metrics` (see [`publisher_pulsar::metrics`]) and prints a short
//! summary, or JSON with `--json`; it exits 1 when the daemon cannot be reached.
//!
//! Every flag may also come from the environment (`PULSARD_` and the flag's name in capitals, e.g.
//! `PULSARD_SUBSCRIBERS_PER_ITERATION`): flags win over the environment, the environment over `--config`,
//! `--config` over the defaults.
//!
//! Exit status: 0 after a clean stop (a signal or `timerIterationsLimit`), 2 for a bad setting, a bad flag or
//! an unreadable configuration file, 1 when the daemon cannot run (an address in use, a ZeroMQ failure).

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Args, Parser, Subcommand, ValueEnum};
use publisher_pulsar::daemon::{Daemon, ShutdownHandle};
use publisher_pulsar::metrics::{self, MetricsServer, Sample};
use publisher_pulsar::{PulsarConfig, PulsarError};
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use tracing::{error, info};
use tracing_subscriber::EnvFilter;

/// Exit status for settings that cannot be used (the same as clap's usage errors).
const EXIT_BAD_SETTINGS: u8 = 2;
/// Exit status when the daemon could not run.
const EXIT_FAILURE: u8 = 1;

/// Publisher Pulsar daemon: releases at most N waiting workers per period ("pulses") over ZeroMQ and adapts
/// to the errors they report. Workers of the original PHP library work with it unchanged.
#[derive(Debug, Parser)]
#[command(
    name = "pulsard",
    version,
    args_conflicts_with_subcommands = true,
    after_help = "Settings come from the defaults, then --config, then the environment (PULSARD_*), then the \
                  flags (a flag wins).\n\
                  Logs go to standard error; RUST_LOG is honoured when --log-level is not given.\n\
                  Exit status: 0 after SIGTERM/SIGINT or timerIterationsLimit, 2 for a bad setting, \
                  1 when the daemon cannot run (e.g. an address in use)."
)]
struct Cli {
    /// JSON configuration file with PublisherPulsarDto setting names (e.g. "subscribersPerIteration",
    /// "pulsarSocketsParams": {"publishSocketAddress": ...}); flags override its values
    #[arg(long, env = "PULSARD_CONFIG", value_name = "FILE.json")]
    config: Option<PathBuf>,

    /// Most workers released by one pulse, N (subscribersPerIteration) [default: 10]
    #[arg(long, env = "PULSARD_SUBSCRIBERS_PER_ITERATION", value_name = "N")]
    subscribers_per_iteration: Option<u32>,

    /// Seconds between pulses, at least; fractions allowed (pulsationIterationPeriod) [default: 1]
    #[arg(
        long,
        env = "PULSARD_PULSATION_ITERATION_PERIOD",
        value_name = "SECONDS",
        allow_negative_numbers = true
    )]
    pulsation_iteration_period: Option<f64>,

    /// Seconds released workers get to report their result, at least 7
    /// (performerContainerActionMaxExecutionTime) [default: 7]
    #[arg(
        long,
        env = "PULSARD_PERFORMER_CONTAINER_ACTION_MAX_EXECUTION_TIME",
        value_name = "SECONDS",
        allow_negative_numbers = true
    )]
    performer_container_action_max_execution_time: Option<f64>,

    /// Seconds a ready worker may wait for admitted company still subscribing, at most a tenth of the period
    /// (maxWaitReplyStackResult) [default: 5]
    #[arg(
        long,
        env = "PULSARD_MAX_WAIT_REPLY_STACK_RESULT",
        value_name = "SECONDS",
        allow_negative_numbers = true
    )]
    max_wait_reply_stack_result: Option<f64>,

    /// Seconds admitted workers get to subscribe before the pulse goes anyway
    /// (maxWaitAllSubscribersReadyBeforePublish) [default: 7]
    #[arg(
        long,
        env = "PULSARD_MAX_WAIT_ALL_SUBSCRIBERS_READY",
        value_name = "SECONDS",
        allow_negative_numbers = true,
        alias = "max-wait-all-subscribers-ready-before-publish"
    )]
    max_wait_all_subscribers_ready: Option<f64>,

    /// Stop after this many iterations, 0 = never (timerIterationsLimit) [default: 0]
    #[arg(long, env = "PULSARD_TIMER_ITERATIONS_LIMIT", value_name = "COUNT")]
    timer_iterations_limit: Option<u64>,

    /// Name shown in every log line (moduleName) [default: pulsar]
    #[arg(long, env = "PULSARD_MODULE_NAME", value_name = "NAME")]
    module_name: Option<String>,

    /// The original's internal ReplyStack link; validated, not bound (replyToReplyStackSocketAddress)
    /// [default: tcp://127.0.0.1:6271]
    #[arg(
        long,
        env = "PULSARD_REPLY_TO_REPLY_STACK_ADDRESS",
        value_name = "ADDRESS"
    )]
    reply_to_reply_stack_address: Option<String>,

    /// Declared by the original and unused; validated, not bound (pushToReplyStackSocketAddress)
    /// [default: tcp://127.0.0.1:6272]
    #[arg(
        long,
        env = "PULSARD_PUSH_TO_REPLY_STACK_ADDRESS",
        value_name = "ADDRESS"
    )]
    push_to_reply_stack_address: Option<String>,

    /// Where pulses are published, workers' SUB connect here (publishSocketAddress)
    /// [default: tcp://127.0.0.1:6273]
    #[arg(long, env = "PULSARD_PUBLISH_ADDRESS", value_name = "ADDRESS")]
    publish_address: Option<String>,

    /// Where workers push readiness and results (pullSocketAddress) [default: tcp://127.0.0.1:6274]
    #[arg(long, env = "PULSARD_PULL_ADDRESS", value_name = "ADDRESS")]
    pull_address: Option<String>,

    /// Where workers ask for admission, their REQ connect here (replyStackSocketAddress)
    /// [default: tcp://127.0.0.1:6275]
    #[arg(long, env = "PULSARD_REPLY_STACK_ADDRESS", value_name = "ADDRESS")]
    reply_stack_address: Option<String>,

    /// File holding the exact PHP serialize() bytes of the object to publish, e.g. a subclass of
    /// PublisherToSubscribersDto (publisherToSubscribersDto) [default: PublisherToSubscribersDto with
    /// allowAction true]
    #[arg(
        long,
        env = "PULSARD_PUBLISHER_TO_SUBSCRIBERS_FILE",
        value_name = "FILE"
    )]
    publisher_to_subscribers_file: Option<PathBuf>,

    /// Most workers waiting for admission; beyond it requests are refused (maxAdmissionQueue)
    /// [default: 65536]
    #[arg(long, env = "PULSARD_MAX_ADMISSION_QUEUE", value_name = "COUNT")]
    max_admission_queue: Option<u64>,

    /// Networks (CIDR) or addresses peers may connect from, comma-separated or repeated; none given allows
    /// every address that reaches the bound sockets (allowFrom)
    #[arg(
        long,
        env = "PULSARD_ALLOW_FROM",
        value_name = "CIDR",
        value_delimiter = ','
    )]
    allow_from: Vec<String>,

    /// Most connections open at once on the three sockets; beyond it new ones are refused (maxConnections)
    /// [default: 1024]
    #[arg(long, env = "PULSARD_MAX_CONNECTIONS", value_name = "COUNT")]
    max_connections: Option<u64>,

    /// The daemon's CURVE secret key (Z85); all sockets become CURVE servers, which the original PHP workers
    /// cannot use. Prefer the environment variable or the JSON file: flags show in `ps` (curveSecretKey)
    #[arg(
        long,
        env = "PULSARD_CURVE_SECRET_KEY",
        value_name = "Z85",
        hide_env_values = true
    )]
    curve_secret_key: Option<String>,

    /// Most released workers acting at once, each holding its slot until its result, early termination or
    /// the result timeout; 0 means N (maxActingPerformers) [default: 0]
    #[arg(long, env = "PULSARD_MAX_ACTING_PERFORMERS", value_name = "COUNT")]
    max_acting_performers: Option<u32>,

    /// Seconds added to the period between pulses, at most 2 % of the period, so that workers' own clocks
    /// see at most N per exact period window (pulseGuardInterval) [default: 0.005]
    #[arg(long, env = "PULSARD_PULSE_GUARD_INTERVAL", value_name = "SECONDS")]
    pulse_guard_interval: Option<f64>,

    /// Seconds one pause-for-period lasts at most, whatever a result asks for (maxPauseForPeriod)
    /// [default: 86400]
    #[arg(long, env = "PULSARD_MAX_PAUSE_FOR_PERIOD", value_name = "SECONDS")]
    max_pause_for_period: Option<f64>,

    /// Log line format
    #[arg(long, env = "PULSARD_LOG_FORMAT", value_enum, default_value_t = LogFormat::Human)]
    log_format: LogFormat,

    /// Log filter, e.g. info, debug, or publisher_pulsar=debug [default: info, or RUST_LOG when set]
    #[arg(long, env = "PULSARD_LOG_LEVEL", value_name = "FILTER")]
    log_level: Option<String>,

    /// Serve GET /metrics (Prometheus) and GET /healthz over HTTP at IP:PORT (metricsAddress) [default: off]
    #[arg(long, env = "PULSARD_METRICS_ADDRESS", value_name = "IP:PORT")]
    metrics_address: Option<String>,

    #[command(subcommand)]
    command: Option<Command>,
}

/// What to do instead of running the daemon.
#[derive(Debug, Subcommand)]
enum Command {
    /// Print a running daemon's state, read from its /metrics; exit 1 when it cannot be reached
    Status(StatusArgs),
}

/// `pulsard status` options.
#[derive(Debug, Args)]
struct StatusArgs {
    /// The daemon's metrics address, IP:PORT [default: metricsAddress from --config]
    #[arg(long, env = "PULSARD_METRICS_ADDRESS", value_name = "IP:PORT")]
    metrics_address: Option<String>,

    /// The daemon's JSON configuration file, read for its metricsAddress
    #[arg(long, env = "PULSARD_CONFIG", value_name = "FILE.json")]
    config: Option<PathBuf>,

    /// Print one JSON object instead of the summary
    #[arg(long)]
    json: bool,

    /// Seconds to wait for the daemon's answer
    #[arg(long, value_name = "SECONDS", default_value_t = 3.0)]
    timeout: f64,

    /// Refresh the summary in place every SECONDS, with grants and errors per second since the last refresh,
    /// until interrupted (an unreachable daemon is shown, not fatal)
    #[arg(long, value_name = "SECONDS", conflicts_with = "json")]
    watch: Option<f64>,
}

/// How log lines look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum LogFormat {
    /// One readable line per event.
    Human,
    /// One JSON object per line.
    Json,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Status(args)) = &cli.command {
        return status(args);
    }
    let config = match build_config(&cli) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("pulsard: {e}");
            return ExitCode::from(EXIT_BAD_SETTINGS);
        }
    };
    if let Err(message) = init_logging(&cli) {
        eprintln!("pulsard: invalid setting log-level: {message}");
        return ExitCode::from(EXIT_BAD_SETTINGS);
    }
    // Signals are wired before binding, so that a SIGTERM arriving as soon as we are reachable is clean.
    let shutdown = ShutdownHandle::new();
    if let Err(e) = watch_signals(shutdown.clone()) {
        error!(error = %e, "cannot install the signal handlers");
        eprintln!("pulsard: cannot install the signal handlers: {e}");
        return ExitCode::from(EXIT_FAILURE);
    }
    match run(&config, shutdown) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e @ PulsarError::InvalidSetting { .. }) => {
            eprintln!("pulsard: {e}");
            ExitCode::from(EXIT_BAD_SETTINGS)
        }
        Err(e) => {
            error!(error = %e, "pulsard failed");
            eprintln!("pulsard: {e}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

/// Defaults, then the file, then the flags; validated.
fn build_config(cli: &Cli) -> Result<PulsarConfig, PulsarError> {
    let mut c = match &cli.config {
        Some(path) => PulsarConfig::from_file(path)?,
        None => PulsarConfig::default(),
    };
    if let Some(v) = cli.subscribers_per_iteration {
        c.subscribers_per_iteration = v;
    }
    if let Some(v) = cli.pulsation_iteration_period {
        c.pulsation_iteration_period = v;
    }
    if let Some(v) = cli.performer_container_action_max_execution_time {
        c.performer_container_action_max_execution_time = v;
    }
    if let Some(v) = cli.max_wait_reply_stack_result {
        c.max_wait_reply_stack_result = v;
    }
    if let Some(v) = cli.max_wait_all_subscribers_ready {
        c.max_wait_all_subscribers_ready_before_publish = v;
    }
    if let Some(v) = cli.timer_iterations_limit {
        c.timer_iterations_limit = v;
    }
    if let Some(v) = &cli.module_name {
        c.module_name = v.clone();
    }
    let addresses = &mut c.pulsar_sockets_params;
    for (flag, target) in [
        (
            &cli.reply_to_reply_stack_address,
            &mut addresses.reply_to_reply_stack_socket_address,
        ),
        (
            &cli.push_to_reply_stack_address,
            &mut addresses.push_to_reply_stack_socket_address,
        ),
        (&cli.publish_address, &mut addresses.publish_socket_address),
        (&cli.pull_address, &mut addresses.pull_socket_address),
        (
            &cli.reply_stack_address,
            &mut addresses.reply_stack_socket_address,
        ),
    ] {
        if let Some(v) = flag {
            *target = v.clone();
        }
    }
    if let Some(path) = &cli.publisher_to_subscribers_file {
        let bytes = std::fs::read(path).map_err(|e| PulsarError::InvalidSetting {
            setting: "publisherToSubscribersDto".into(),
            message: format!("cannot read {}: {e}", path.display()),
        })?;
        c.publisher_to_subscribers_dto = Some(bytes);
    }
    if let Some(v) = cli.max_admission_queue {
        c.max_admission_queue = v;
    }
    if let Some(v) = cli.max_acting_performers {
        c.max_acting_performers = v;
    }
    if !cli.allow_from.is_empty() {
        c.allow_from = cli.allow_from.clone();
    }
    if let Some(v) = cli.max_connections {
        c.max_connections = v;
    }
    if let Some(v) = &cli.curve_secret_key {
        c.curve_secret_key = Some(v.clone());
    }
    if let Some(v) = cli.pulse_guard_interval {
        c.pulse_guard_interval = v;
    }
    if let Some(v) = cli.max_pause_for_period {
        c.max_pause_for_period = v;
    }
    if let Some(v) = &cli.metrics_address {
        c.metrics_address = Some(v.clone());
    }
    c.validate()?;
    Ok(c)
}

fn init_logging(cli: &Cli) -> Result<(), String> {
    let filter = match &cli.log_level {
        Some(level) => EnvFilter::try_new(level).map_err(|e| e.to_string())?,
        None => EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
    };
    // Colours only for a person at a terminal: log files and collectors get plain text.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    match cli.log_format {
        LogFormat::Human => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
    Ok(())
}

/// The first SIGTERM/SIGINT asks for a clean stop; a second one ends the process at once.
fn watch_signals(shutdown: ShutdownHandle) -> std::io::Result<()> {
    let mut signals = Signals::new([SIGTERM, SIGINT])?;
    std::thread::Builder::new()
        .name("pulsard-signals".into())
        .spawn(move || {
            for signal in signals.forever() {
                if shutdown.is_shutdown() {
                    eprintln!("pulsard: second signal {signal}, exiting at once");
                    std::process::exit(130);
                }
                info!(signal, "signal received, stopping");
                shutdown.shutdown();
            }
        })?;
    Ok(())
}

fn run(config: &PulsarConfig, shutdown: ShutdownHandle) -> Result<(), PulsarError> {
    let started = Instant::now();
    let daemon = Daemon::bind(config)?.with_shutdown_handle(shutdown.clone());
    let endpoints = daemon.endpoints();
    let stats = daemon.stats_handle();
    let metrics_server = match &config.metrics_address {
        Some(address) => Some(MetricsServer::start(address, stats.clone(), shutdown)?),
        None => None,
    };
    let metrics_address = metrics_server
        .as_ref()
        .map(|m| m.local_addr().to_string())
        .unwrap_or_default();
    info!(
        module = %config.module_name,
        reply_stack = %endpoints.reply_stack,
        publish = %endpoints.publish,
        pull = %endpoints.pull,
        metrics = %metrics_address,
        subscribers_per_iteration = config.subscribers_per_iteration,
        pulsation_iteration_period = config.pulsation_iteration_period,
        performer_container_action_max_execution_time =
            config.performer_container_action_max_execution_time,
        max_wait_reply_stack_result = config.max_wait_reply_stack_result,
        max_wait_all_subscribers_ready_before_publish =
            config.max_wait_all_subscribers_ready_before_publish,
        timer_iterations_limit = config.timer_iterations_limit,
        max_admission_queue = config.max_admission_queue,
        max_acting_performers = config.max_acting_performers,
        pulse_guard_interval = config.pulse_guard_interval,
        max_pause_for_period = config.max_pause_for_period,
        max_connections = config.max_connections,
        allow_from = ?config.allow_from,
        curve = config.curve_secret_key.is_some(),
        custom_pulse = config.publisher_to_subscribers_dto.is_some(),
        "pulsard listening"
    );
    let outcome = daemon.run();
    let totals = stats.snapshot();
    info!(
        uptime_secs = started.elapsed().as_secs_f64(),
        pulses = totals.pulses,
        grants = totals.grants,
        iterations = totals.iterations,
        results = totals.results,
        errors = totals.errors,
        admitted = totals.admitted,
        refused = totals.refused,
        dropped_messages = totals.dropped_messages,
        n = totals.n,
        late_results = totals.engine.late_results,
        lapsed_results = totals.engine.lapsed_results,
        departed = totals.engine.departed,
        anonymized = totals.engine.anonymized,
        subscription_timeouts = totals.engine.subscription_timeouts,
        ignored_readies = totals.engine.ignored_readies,
        ignored_early_terminations = totals.engine.ignored_early_terminations,
        ignored_unsubscriptions = totals.engine.ignored_unsubscriptions,
        held_pulses = totals.engine.held_pulses,
        "pulsard stopped"
    );
    if let Some(server) = metrics_server {
        server.stop();
    }
    outcome
}

/// Largest `/metrics` answer `pulsard status` reads.
const MAX_METRICS_TEXT: usize = 4 << 20;

/// `pulsard status`: 0 with the summary, 1 when the daemon cannot be reached, 2 when no address is known.
fn status(args: &StatusArgs) -> ExitCode {
    let address = match (&args.metrics_address, &args.config) {
        (Some(address), _) => address.clone(),
        (None, Some(path)) => match PulsarConfig::from_file(path) {
            Ok(PulsarConfig {
                metrics_address: Some(address),
                ..
            }) => address,
            Ok(_) => {
                eprintln!("pulsard status: {} has no metricsAddress", path.display());
                return ExitCode::from(EXIT_BAD_SETTINGS);
            }
            Err(e) => {
                eprintln!("pulsard status: {e}");
                return ExitCode::from(EXIT_BAD_SETTINGS);
            }
        },
        (None, None) => {
            eprintln!(
                "pulsard status: no metrics address: give --metrics-address, PULSARD_METRICS_ADDRESS or a \
                 --config file with metricsAddress"
            );
            return ExitCode::from(EXIT_BAD_SETTINGS);
        }
    };
    let timeout = if args.timeout.is_finite() && args.timeout > 0.0 {
        std::time::Duration::from_secs_f64(args.timeout.min(3600.0))
    } else {
        std::time::Duration::from_secs(3)
    };
    if let Some(every) = args.watch {
        watch(&address, timeout, every);
    }
    let summary = match fetch_summary(&address, timeout) {
        Ok(summary) => summary,
        Err(e) => {
            eprintln!("pulsard status: {e}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    if args.json {
        println!("{}", summary.to_json(&address));
    } else {
        print!("{}", summary.to_text(&address));
    }
    ExitCode::SUCCESS
}

/// Reads the daemon's `/metrics` and sums it up.
fn fetch_summary(address: &str, timeout: std::time::Duration) -> Result<Summary, String> {
    match metrics::http_get(address, "/metrics", timeout, MAX_METRICS_TEXT) {
        Ok((200, text)) => Ok(Summary::from_samples(&metrics::parse_samples(&text))),
        Ok((code, _)) => Err(format!("{address}/metrics answered HTTP {code}")),
        Err(e) => Err(format!(
            "cannot reach the daemon's metrics at {address}: {e}"
        )),
    }
}

/// `pulsard status --watch`: the summary redrawn in place (ANSI home + clear) every `every` seconds, with rates
/// since the previous refresh; runs until interrupted.
fn watch(address: &str, timeout: std::time::Duration, every: f64) -> ! {
    let every = if every.is_finite() && every >= 0.1 {
        std::time::Duration::from_secs_f64(every.min(3600.0))
    } else {
        std::time::Duration::from_millis(100)
    };
    let mut last: Option<(std::time::Instant, f64, f64)> = None;
    loop {
        let now = std::time::Instant::now();
        let mut screen = String::from("\x1b[H\x1b[2J");
        match fetch_summary(address, timeout) {
            Ok(summary) => {
                screen.push_str(&summary.to_text(address));
                if let Some((then, grants, errors)) = last {
                    let secs = now.duration_since(then).as_secs_f64().max(1e-9);
                    screen.push_str(&format!(
                        "since last refresh: {:.2} grants/s, {:.2} errors/s\n",
                        (summary.grants - grants) / secs,
                        (summary.errors - errors) / secs
                    ));
                }
                last = Some((now, summary.grants, summary.errors));
            }
            Err(e) => {
                screen.push_str(&format!("pulsard status: {e}\n"));
                last = None;
            }
        }
        print!("{screen}");
        let _ = std::io::Write::flush(&mut std::io::stdout());
        std::thread::sleep(every);
    }
}

/// The figures `pulsard status` shows.
#[derive(Debug, Default)]
struct Summary {
    n: f64,
    configured_n: f64,
    pause_secs: f64,
    paused_until: f64,
    queue: f64,
    grants: f64,
    pulses: f64,
    errors: f64,
    late: f64,
    rejected: f64,
    peers: f64,
    waits: f64,
    wait_p50: Option<f64>,
    wait_p99: Option<f64>,
}

impl Summary {
    fn from_samples(samples: &[Sample]) -> Summary {
        let one = |name: &str| {
            samples
                .iter()
                .find(|s| s.name == name)
                .map_or(0.0, |s| s.value)
        };
        let outcome = |o: &str| {
            samples
                .iter()
                .filter(|s| s.name == "pulsar_results_total" && s.label("outcome") == Some(o))
                .map(|s| s.value)
                .sum::<f64>()
        };
        let buckets: Vec<(f64, f64)> = samples
            .iter()
            .filter(|s| s.name == "pulsar_admission_wait_seconds_bucket")
            .filter_map(|s| {
                let le = match s.label("le")? {
                    "+Inf" => f64::INFINITY,
                    v => v.parse().ok()?,
                };
                Some((le, s.value))
            })
            .collect();
        Summary {
            n: one("pulsar_subscribers_per_iteration"),
            configured_n: one("pulsar_configured_subscribers_per_iteration"),
            pause_secs: one("pulsar_slow_down_pause_seconds"),
            paused_until: one("pulsar_paused_until_timestamp_seconds"),
            queue: one("pulsar_admission_queue_length"),
            grants: one("pulsar_grants_total"),
            pulses: one("pulsar_pulses_total"),
            errors: outcome("slow_down") + outcome("sleep_for_period") + outcome("ignored"),
            late: outcome("late"),
            rejected: samples
                .iter()
                .filter(|s| s.name == "pulsar_rejected_messages_total")
                .map(|s| s.value)
                .sum(),
            peers: one("pulsar_connected_peers"),
            waits: one("pulsar_admission_wait_seconds_count"),
            wait_p50: metrics::histogram_quantile(0.5, &buckets),
            wait_p99: metrics::histogram_quantile(0.99, &buckets),
        }
    }

    fn paused_until_text(&self) -> String {
        if self.paused_until <= 0.0 {
            return "not paused".into();
        }
        let at =
            std::time::UNIX_EPOCH + std::time::Duration::from_secs_f64(self.paused_until.min(1e11));
        humantime::format_rfc3339_seconds(at).to_string()
    }

    fn to_text(&self, address: &str) -> String {
        let secs = |v: Option<f64>| v.map_or_else(|| "n/a".to_string(), |v| format!("{v:.3} s"));
        format!(
            "pulsard at {address}\n\
             N in force / configured: {} / {}\n\
             slow-down pause:         {} s\n\
             paused until:            {}\n\
             admission queue:         {}\n\
             connected peers:         {}\n\
             pulses total:            {}\n\
             grants total:            {}\n\
             errors total:            {} (late results {}, rejected messages {})\n\
             admission wait p50/p99:  {} / {} (estimated from {} observations in histogram buckets)\n",
            self.n,
            self.configured_n,
            self.pause_secs,
            self.paused_until_text(),
            self.queue,
            self.peers,
            self.pulses,
            self.grants,
            self.errors,
            self.late,
            self.rejected,
            secs(self.wait_p50),
            secs(self.wait_p99),
            self.waits,
        )
    }

    fn to_json(&self, address: &str) -> serde_json::Value {
        serde_json::json!({
            "address": address,
            "subscribers_per_iteration": self.n,
            "configured_subscribers_per_iteration": self.configured_n,
            "slow_down_pause_seconds": self.pause_secs,
            "paused_until_timestamp_seconds": self.paused_until,
            "admission_queue_length": self.queue,
            "connected_peers": self.peers,
            "pulses_total": self.pulses,
            "grants_total": self.grants,
            "errors_total": self.errors,
            "late_results_total": self.late,
            "rejected_messages_total": self.rejected,
            "admission_wait_count": self.waits,
            "admission_wait_p50_seconds": self.wait_p50,
            "admission_wait_p99_seconds": self.wait_p99,
        })
    }
}
