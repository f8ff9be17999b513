//! `pulsard status`: a running daemon's state, read from its `/metrics` (see [`crate::metrics`]) and printed as
//! a short summary, as JSON with `--json`, or refreshed in place with `--watch`; exit 1 when the daemon cannot
//! be reached.
//!
//! This module must never talk to the daemon other than through its HTTP metrics endpoint.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::{EXIT_BAD_SETTINGS, EXIT_FAILURE};
use crate::metrics::{self, Sample};
use crate::PulsarConfig;

/// `pulsard status` options.
#[derive(Debug, Args)]
pub struct StatusArgs {
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

/// Largest `/metrics` answer `pulsard status` reads.
const MAX_METRICS_TEXT: usize = 4 << 20;

/// `pulsard status`: 0 with the summary, 1 when the daemon cannot be reached, 2 when no address is known.
pub fn status(args: &StatusArgs) -> ExitCode {
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
    open_connections: f64,
    max_connections: f64,
    refused_not_allowed: f64,
    refused_connection_limit: f64,
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
        let refused = |reason: &str| {
            samples
                .iter()
                .filter(|s| {
                    s.name == "pulsar_refused_connections_total"
                        && s.label("reason") == Some(reason)
                })
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
            open_connections: one("pulsar_open_connections"),
            max_connections: one("pulsar_max_connections"),
            refused_not_allowed: refused("not_allowed"),
            refused_connection_limit: refused("connection_limit"),
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
             connections open / max:  {} / {} (refused: {} not in allowFrom, {} at the limit)\n\
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
            self.open_connections,
            self.max_connections,
            self.refused_not_allowed,
            self.refused_connection_limit,
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
            "open_connections": self.open_connections,
            "max_connections": self.max_connections,
            "refused_connections_not_allowed_total": self.refused_not_allowed,
            "refused_connections_limit_total": self.refused_connection_limit,
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
