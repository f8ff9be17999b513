//! Prometheus metrics and a health check over HTTP, read from the daemon's [`StatsHandle`](crate::daemon::StatsHandle) snapshot.
//!
//! [`MetricsServer::start`] binds `metricsAddress` and serves, from one thread of its own:
//! - `GET /metrics`: the daemon's counters, encoded by the `prometheus-client` crate, in the Prometheus text
//!   exposition format 0.0.4 ([`render`]), or in OpenMetrics 1.0 text ([`render_openmetrics`]) when the request's
//!   `Accept` header asks for `application/openmetrics-text` (as Prometheus itself does);
//! - `GET /healthz`: `200 ok` while the daemon serves; `503` with the reason while a pause-for-period is in
//!   force, while the daemon stops, or when its loop is not running.
//!
//! The metric names and what they count are listed in the README ("Metrics and health"). [`render`] and
//! [`health`] are pure functions of a [`DaemonStats`]; [`parse_samples`] and [`histogram_quantile`] read the
//! text back (for `pulsard status`).
//!
//! It must never block or slow the pulse loop: it only copies the snapshot the loop publishes (one short lock
//! of a plain-data copy) and never counts anything itself. Nor may a slow or hostile HTTP client make it grow:
//! connections are served one at a time, each request head is read into a buffer of at most
//! [`MAX_REQUEST_HEAD`] bytes within [`CONNECTION_DEADLINE`], and further clients wait in the kernel's listen
//! backlog, so the server's memory is bounded whatever clients do (a client that holds its connection open
//! delays other scrapes by at most the deadline).
//!
//! # Layout
//! - this file: [`render`], [`render_openmetrics`] and [`health`], pure functions of a snapshot;
//! - `collector`: the metric families (names, help texts) encoded from one snapshot;
//! - `server`: [`MetricsServer`] and [`http_get`];
//! - `text`: [`parse_samples`] and [`histogram_quantile`], reading the text back.

mod collector;
mod server;
mod text;

use std::time::Duration;

use prometheus_client::registry::Registry;

use crate::daemon::DaemonStats;
use collector::Snapshot;

pub use server::{http_get, MetricsServer, CONNECTION_DEADLINE, MAX_REQUEST_HEAD};
pub use text::{histogram_quantile, parse_samples, Sample};

/// The `Content-Type` of `/metrics` in the Prometheus text format.
pub const METRICS_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The `Content-Type` of `/metrics` in OpenMetrics text.
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The daemon's metrics in OpenMetrics 1.0 text, as `prometheus-client` encodes them (a counter family is named
/// without its `_total` suffix; the text ends with `# EOF`).
pub fn render_openmetrics(stats: &DaemonStats) -> Result<String, std::fmt::Error> {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(Snapshot(*stats)));
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry)?;
    Ok(text)
}

/// The daemon's metrics in the Prometheus text exposition format 0.0.4: the OpenMetrics text with each counter's
/// `# HELP`/`# TYPE` lines naming its samples (`pulsar_grants_total`), and without `# EOF`. The samples are the
/// same.
pub fn render(stats: &DaemonStats) -> Result<String, std::fmt::Error> {
    let open = render_openmetrics(stats)?;
    let counters: Vec<&str> = open
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.strip_suffix(" counter"))
        .collect();
    let mut text = String::with_capacity(open.len() + 64);
    for line in open.lines() {
        if line == "# EOF" {
            continue;
        }
        let renamed = ["# HELP ", "# TYPE "].iter().find_map(|tag| {
            let rest = line.strip_prefix(tag)?;
            let (name, tail) = rest.split_once(' ')?;
            counters
                .contains(&name)
                .then(|| format!("{tag}{name}_total {tail}"))
        });
        match renamed {
            Some(line) => text.push_str(&line),
            None => text.push_str(line),
        }
        text.push('\n');
    }
    Ok(text)
}

/// The health check: `(200, "ok")` while the daemon serves, `(503, reason)` otherwise.
pub fn health(stats: &DaemonStats, stopping: bool) -> (u16, String) {
    if stopping {
        return (503, "stopping\n".into());
    }
    if !stats.running {
        return (503, "not running (starting or stopped)\n".into());
    }
    if let Some(until) = stats.engine.paused_until {
        return (
            503,
            format!(
                "paused for period until {}\n",
                humantime::format_rfc3339_seconds(
                    std::time::UNIX_EPOCH
                        + Duration::from_nanos(stats.started_unix.saturating_add(until).as_nanos())
                )
            ),
        );
    }
    (200, "ok\n".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_inside_buckets() {
        let buckets = [(0.1, 0.0), (1.0, 10.0), (f64::INFINITY, 10.0)];
        let p50 = histogram_quantile(0.5, &buckets).expect("observations");
        assert!((p50 - 0.55).abs() < 1e-9, "{p50}");
        assert_eq!(
            histogram_quantile(0.5, &[(1.0, 0.0), (f64::INFINITY, 0.0)]),
            None
        );
        assert_eq!(
            histogram_quantile(0.99, &[(1.0, 0.0), (f64::INFINITY, 5.0)]),
            Some(1.0)
        );
    }

    #[test]
    fn rendered_text_reads_back() {
        let mut stats = DaemonStats {
            engine: pulsar_pulse::Stats {
                grants: 7,
                pulses: 3,
                n: 4,
                ..pulsar_pulse::Stats::default()
            },
            configured_n: 5,
            running: true,
            ..DaemonStats::default()
        };
        stats
            .admission_wait
            .observe(pulsar_pulse::Nanos::from_millis(30));
        let text = render(&stats).expect("encodes");
        let samples = parse_samples(&text);
        let value = |name: &str| {
            samples
                .iter()
                .find(|s| s.name == name)
                .map(|s| s.value)
                .unwrap_or(f64::NAN)
        };
        assert_eq!(value("pulsar_grants_total"), 7.0);
        assert_eq!(value("pulsar_pulses_total"), 3.0);
        assert_eq!(value("pulsar_subscribers_per_iteration"), 4.0);
        assert_eq!(value("pulsar_configured_subscribers_per_iteration"), 5.0);
        assert_eq!(value("pulsar_admission_wait_seconds_count"), 1.0);
        assert!(text.contains("pulsar_results_total{outcome=\"sleep_for_period\"} 0"));
        assert!(text
            .contains("pulsar_rejected_messages_total{socket=\"inbox\",reason=\"malformed\"} 0"));
        assert!(text.contains("# TYPE pulsar_grants_total counter\n"));
        assert!(!text.contains("# EOF"));
        let open = render_openmetrics(&stats).expect("encodes");
        assert!(open.contains("# TYPE pulsar_grants counter\n") && open.ends_with("# EOF\n"));
        assert_eq!(parse_samples(&open), samples);
        assert_eq!(health(&stats, false), (200, "ok\n".into()));
        assert_eq!(health(&stats, true).0, 503);
        stats.engine.paused_until = Some(pulsar_pulse::Nanos::from_secs(5));
        assert!(health(&stats, false)
            .1
            .starts_with("paused for period until"));
    }
}
