//! `pulsard` running the daemon: logging to standard error, SIGTERM/SIGINT turned into a clean stop, the metrics
//! endpoint, and one log line when it starts and one when it stops.
//!
//! This module must never hold coordination logic: it binds and runs [`crate::daemon::Daemon`].

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Arg, ArgMatches};
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use tracing::{error, info};
use tracing_subscriber::EnvFilter;

use super::{EXIT_BAD_SETTINGS, EXIT_FAILURE};
use crate::daemon::{Daemon, ShutdownHandle};
use crate::human_log::HumanFields;
use crate::metrics::MetricsServer;
use crate::{PulsarConfig, PulsarError};

/// `--log-format` and `--log-level`: how `pulsard` logs (not daemon settings, so not in the table).
pub fn logging_args() -> [Arg; 2] {
    [
        Arg::new("log-format")
            .long("log-format")
            .env("PULSARD_LOG_FORMAT")
            .value_name("FORMAT")
            .value_parser(["human", "json"])
            .default_value("human")
            .help("Log line format: one readable line, or one JSON object, per event"),
        Arg::new("log-level")
            .long("log-level")
            .env("PULSARD_LOG_LEVEL")
            .value_name("FILTER")
            .help("Log filter, e.g. info, debug, or publisher_pulsar=debug [default: info, or RUST_LOG when set]"),
    ]
}

/// Sets up logging and signals, then runs the daemon until it stops; the exit status of `pulsard`.
pub fn main(matches: &ArgMatches, config: &PulsarConfig) -> ExitCode {
    if let Err(message) = init_logging(matches) {
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
    match run(config, shutdown) {
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

fn init_logging(matches: &ArgMatches) -> Result<(), String> {
    let filter = match matches.get_one::<String>("log-level") {
        Some(level) => EnvFilter::try_new(level).map_err(|e| e.to_string())?,
        None => EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
    };
    // Colours only for a person at a terminal: log files and collectors get plain text.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    match matches.get_one::<String>("log-format").map(String::as_str) {
        Some("json") => builder.json().init(),
        // Peer-supplied text (error messages, reasons, class names) and moduleName with their control
        // characters escaped: one record, one line. JSON keeps the exact text, escaped by JSON's rules.
        _ => builder.fmt_fields(HumanFields).init(),
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

/// Binds, serves metrics if configured, runs until the daemon stops.
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
        custom_pulse = config.publisher_to_subscribers_dto.is_some(),
        "pulsard listening"
    );
    let outcome = daemon.run();
    let totals = stats.snapshot();
    info!(
        uptime_secs = started.elapsed().as_secs_f64(),
        pulses = totals.engine.pulses,
        grants = totals.engine.grants,
        iterations = totals.engine.iterations,
        results = totals.engine.results,
        errors = totals.engine.errors,
        admitted = totals.admitted,
        refused = totals.engine.refused,
        dropped_messages = totals.dropped_messages,
        n = totals.engine.n,
        late_results = totals.engine.late_results,
        lapsed_results = totals.engine.lapsed_results,
        lost_receivers = totals.engine.lost_receivers,
        ignored_losses = totals.engine.ignored_losses,
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
