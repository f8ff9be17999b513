//! Prometheus metrics and a health check over HTTP, read from the daemon's [`StatsHandle`] snapshot.
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

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;

use crate::daemon::{DaemonStats, ShutdownHandle, StatsHandle, ADMISSION_WAIT_BUCKETS};
use crate::PulsarError;

/// The longest request head (request line and headers) read from one client; longer requests get `431`.
pub const MAX_REQUEST_HEAD: usize = 8 * 1024;

/// How long one client may take to send its request and read the answer, in all.
pub const CONNECTION_DEADLINE: Duration = Duration::from_secs(2);

/// How often the server thread looks at its stop flag while no client connects.
const ACCEPT_POLL: Duration = Duration::from_millis(50);

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
    if let Some(until) = stats.paused_until {
        return (
            503,
            format!(
                "paused for period until {}\n",
                humantime::format_rfc3339_seconds(
                    std::time::UNIX_EPOCH
                        + Duration::from_nanos(stats.started_unix.saturating_add(until).0)
                )
            ),
        );
    }
    (200, "ok\n".into())
}

/// One sample as read back from the text format: name, labels, value.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The sample's name (e.g. `pulsar_grants_total`).
    pub name: String,
    /// Its labels, in order.
    pub labels: Vec<(String, String)>,
    /// Its value.
    pub value: f64,
}

impl Sample {
    /// The value of one label, if present.
    pub fn label(&self, key: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Reads the samples of a text exposition (comments skipped; lines that do not parse are skipped too).
pub fn parse_samples(text: &str) -> Vec<Sample> {
    text.lines().filter_map(parse_sample).collect()
}

fn parse_sample(line: &str) -> Option<Sample> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let (name, labels, rest) = match line.find('{') {
        Some(open) => {
            let close = line.rfind('}')?;
            (
                &line[..open],
                parse_labels(line.get(open + 1..close)?)?,
                &line[close + 1..],
            )
        }
        None => {
            let (name, rest) = line.split_once(' ')?;
            (name, Vec::new(), rest)
        }
    };
    let value = rest.split_whitespace().next()?;
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        v => v.parse().ok()?,
    };
    Some(Sample {
        name: name.to_string(),
        labels,
        value,
    })
}

/// `k="v",k2="v2"`; our label values hold no quotes or commas.
fn parse_labels(text: &str) -> Option<Vec<(String, String)>> {
    text.split(',')
        .filter(|part| !part.trim().is_empty())
        .map(|part| {
            let (k, v) = part.split_once('=')?;
            let v = v.trim().strip_prefix('"')?.strip_suffix('"')?;
            Some((k.trim().to_string(), v.to_string()))
        })
        .collect()
}

/// Estimates the `q` quantile (0..=1) from cumulative `(upper bound, count)` buckets as Prometheus's
/// `histogram_quantile` does: linear interpolation inside the bucket that holds it. `None` without
/// observations; the highest finite bound when the quantile falls in the `+Inf` bucket.
pub fn histogram_quantile(q: f64, buckets: &[(f64, f64)]) -> Option<f64> {
    let mut buckets = buckets.to_vec();
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total = buckets.last()?.1;
    if total <= 0.0 {
        return None;
    }
    let rank = q.clamp(0.0, 1.0) * total;
    let (mut lower, mut below) = (0.0, 0.0);
    for (bound, count) in &buckets {
        if *count >= rank {
            if bound.is_infinite() {
                return Some(lower);
            }
            let inside = count - below;
            if inside <= 0.0 {
                return Some(*bound);
            }
            return Some(lower + (bound - lower) * (rank - below) / inside);
        }
        lower = *bound;
        below = *count;
    }
    Some(lower)
}

/// The collector that encodes one snapshot.
#[derive(Debug)]
struct Snapshot(DaemonStats);

impl Snapshot {
    fn counter(
        encoder: &mut DescriptorEncoder,
        name: &str,
        help: &str,
        value: u64,
    ) -> Result<(), std::fmt::Error> {
        let metric = encoder.encode_descriptor(name, help, None, MetricType::Counter)?;
        ConstCounter::new(value).encode(metric)
    }

    fn gauge(
        encoder: &mut DescriptorEncoder,
        name: &str,
        help: &str,
        value: f64,
    ) -> Result<(), std::fmt::Error> {
        let metric = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
        ConstGauge::new(value).encode(metric)
    }
}

impl Collector for Snapshot {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let s = &self.0;
        let e = &s.engine;
        let secs = |n: pulsar_pulse::Nanos| n.0 as f64 / 1e9;
        // Counters: the crate adds the `_total` suffix.
        Self::counter(
            &mut encoder,
            "pulsar_grants",
            "Workers released by pulses (sum of receivers).",
            s.grants,
        )?;
        Self::counter(&mut encoder, "pulsar_pulses", "Pulses published.", s.pulses)?;
        {
            let mut family = encoder.encode_descriptor(
                "pulsar_results",
                "Results received, by outcome: credited successes and errors by what they asked for, and late \
                 results that no released worker owed.",
                None,
                MetricType::Counter,
            )?;
            for (outcome, value) in [
                ("success", e.successes),
                ("slow_down", e.slow_down_results),
                ("sleep_for_period", e.sleep_for_period_results),
                ("late", e.late_results),
                ("ignored", e.ignored_errors),
            ] {
                let labels = [("outcome", outcome)];
                ConstCounter::new(value).encode(family.encode_family(&labels)?)?;
            }
        }
        {
            let mut family = encoder.encode_descriptor(
                "pulsar_rejected_messages",
                "Messages rejected, by socket (admission, publisher, inbox) and reason.",
                None,
                MetricType::Counter,
            )?;
            for (kind, value) in s.rejected.iter() {
                let (socket, reason) = kind.labels();
                let labels = [("socket", socket), ("reason", reason)];
                ConstCounter::new(value).encode(family.encode_family(&labels)?)?;
            }
        }
        Self::gauge(
            &mut encoder,
            "pulsar_subscribers_per_iteration",
            "N in force: the most workers the next pulse may release, after adaptation.",
            f64::from(s.n),
        )?;
        Self::gauge(
            &mut encoder,
            "pulsar_configured_subscribers_per_iteration",
            "N as configured (subscribersPerIteration).",
            f64::from(s.configured_n),
        )?;
        Self::gauge(
            &mut encoder,
            "pulsar_slow_down_pause_seconds",
            "Slow-down pause added before each pulse now.",
            secs(s.pause),
        )?;
        let paused_until = s.paused_until_unix().map_or(0.0, secs);
        Self::gauge(
            &mut encoder,
            "pulsar_paused_until_timestamp_seconds",
            "Unix time at which the pause-for-period in force ends; 0 when not paused.",
            paused_until,
        )?;
        Self::gauge(
            &mut encoder,
            "pulsar_admission_queue_length",
            "Workers waiting for admission.",
            s.queued as f64,
        )?;
        Self::gauge(
            &mut encoder,
            "pulsar_connected_peers",
            "Admission connections the daemon knows (workers that asked at least once and are still connected).",
            s.admission_connections as f64,
        )?;
        let histogram = &s.admission_wait;
        let buckets: Vec<(f64, u64)> = ADMISSION_WAIT_BUCKETS
            .iter()
            .copied()
            .chain([f64::MAX])
            .zip(histogram.buckets.iter().copied())
            .collect();
        let mut metric = encoder.encode_descriptor(
            "pulsar_admission_wait_seconds",
            "Time from a worker's admission request to the pulse that released it.",
            None,
            MetricType::Histogram,
        )?;
        metric.encode_histogram::<prometheus_client::encoding::NoLabelSet>(
            secs(histogram.sum),
            histogram.count,
            &buckets,
            None,
        )
    }
}

/// The HTTP endpoints, served from a thread of their own until dropped or [`MetricsServer::stop`]ped.
#[derive(Debug)]
pub struct MetricsServer {
    address: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl MetricsServer {
    /// Binds `address` (`IP:PORT`) and starts serving `stats`; `shutdown` tells the health check the daemon is
    /// stopping.
    pub fn start(
        address: &str,
        stats: StatsHandle,
        shutdown: ShutdownHandle,
    ) -> Result<MetricsServer, PulsarError> {
        let invalid = |message: String| PulsarError::InvalidSetting {
            setting: "metricsAddress".into(),
            message,
        };
        let wanted: SocketAddr = address
            .parse()
            .map_err(|_| invalid(format!("{address:?} is not IP:PORT")))?;
        let listener = TcpListener::bind(wanted).map_err(|e| {
            PulsarError::Io(std::io::Error::new(
                e.kind(),
                format!("cannot listen on {address} (metricsAddress): {e}"),
            ))
        })?;
        listener.set_nonblocking(true)?;
        let bound = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("pulsard-metrics".into())
            .spawn(move || serve(&listener, &flag, &stats, &shutdown))?;
        Ok(MetricsServer {
            address: bound,
            stop,
            thread: Some(thread),
        })
    }

    /// The address actually bound (port 0 shows its chosen port here).
    pub fn local_addr(&self) -> SocketAddr {
        self.address
    }

    /// Stops serving and waits for the thread (at most about [`CONNECTION_DEADLINE`]).
    pub fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for MetricsServer {
    fn drop(&mut self) {
        self.halt();
    }
}

fn serve(
    listener: &TcpListener,
    stop: &AtomicBool,
    stats: &StatsHandle,
    shutdown: &ShutdownHandle,
) {
    while !stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, _)) => {
                // A client's failure (reset, timeout) concerns that client alone.
                let _ = answer(stream, stats, shutdown);
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => std::thread::sleep(ACCEPT_POLL),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            // Out of descriptors and the like: wait rather than spin.
            Err(_) => std::thread::sleep(ACCEPT_POLL),
        }
    }
}

/// Reads one request head (bounded in size and time) and answers it; the connection is then closed.
fn answer(
    mut stream: TcpStream,
    stats: &StatsHandle,
    shutdown: &ShutdownHandle,
) -> std::io::Result<()> {
    let started = Instant::now();
    stream.set_nonblocking(false)?;
    stream.set_write_timeout(Some(CONNECTION_DEADLINE))?;
    let mut head = [0u8; MAX_REQUEST_HEAD];
    let mut len = 0;
    let complete = loop {
        if head[..len].windows(4).any(|w| w == b"\r\n\r\n") {
            break true;
        }
        if len == head.len() {
            break false;
        }
        let left = CONNECTION_DEADLINE.saturating_sub(started.elapsed());
        if left.is_zero() {
            return Ok(());
        }
        stream.set_read_timeout(Some(left))?;
        match stream.read(&mut head[len..]) {
            Ok(0) => return Ok(()),
            Ok(n) => len += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return Ok(()),
        }
    };
    if !complete {
        return respond(&mut stream, 431, "text/plain", "request head too large\n");
    }
    let request_line = head[..len]
        .split(|b| *b == b'\r')
        .next()
        .map(String::from_utf8_lossy)
        .unwrap_or_default();
    let mut parts = request_line.split(' ');
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let path = target.split('?').next().unwrap_or("");
    if method != "GET" {
        return respond(&mut stream, 405, "text/plain", "only GET\n");
    }
    let snapshot = stats.snapshot();
    let wants_openmetrics = String::from_utf8_lossy(&head[..len])
        .to_ascii_lowercase()
        .lines()
        .any(|h| h.starts_with("accept:") && h.contains("application/openmetrics-text"));
    match path {
        "/metrics" => {
            let (text, content_type) = if wants_openmetrics {
                (render_openmetrics(&snapshot), OPENMETRICS_CONTENT_TYPE)
            } else {
                (render(&snapshot), METRICS_CONTENT_TYPE)
            };
            match text {
                Ok(text) => respond(&mut stream, 200, content_type, &text),
                Err(_) => respond(&mut stream, 500, "text/plain", "encoding failed\n"),
            }
        }
        "/healthz" => {
            let (status, body) = health(&snapshot, shutdown.is_shutdown());
            respond(&mut stream, status, "text/plain; charset=utf-8", &body)
        }
        _ => respond(
            &mut stream,
            404,
            "text/plain",
            "not found: try /metrics or /healthz\n",
        ),
    }
}

fn respond(
    stream: &mut TcpStream,
    status: u16,
    content_type: &str,
    body: &str,
) -> std::io::Result<()> {
    let reason = match status {
        200 => "OK",
        404 => "Not Found",
        405 => "Method Not Allowed",
        431 => "Request Header Fields Too Large",
        503 => "Service Unavailable",
        _ => "Internal Server Error",
    };
    let mut head = String::new();
    let _ = write!(
        head,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(body.as_bytes())?;
    stream.flush()
}

/// Fetches `path` from `address` (`IP:PORT`) over HTTP/1.0 within `timeout`, reading at most `max_body`
/// bytes: the status code and the body. For `pulsard status` and tests.
pub fn http_get(
    address: &str,
    path: &str,
    timeout: Duration,
    max_body: usize,
) -> std::io::Result<(u16, String)> {
    let target: SocketAddr = address.parse().map_err(|_| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{address:?} is not IP:PORT"),
        )
    })?;
    let mut stream = TcpStream::connect_timeout(&target, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {address}\r\n\r\n")?;
    let mut raw = Vec::new();
    stream
        .take(u64::try_from(max_body).unwrap_or(u64::MAX))
        .read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw);
    let bad = || std::io::Error::new(std::io::ErrorKind::InvalidData, "not an HTTP response");
    let (head, body) = text.split_once("\r\n\r\n").ok_or_else(bad)?;
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(bad)?;
    Ok((status, body.to_string()))
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
            grants: 7,
            pulses: 3,
            n: 4,
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
        stats.paused_until = Some(pulsar_pulse::Nanos::from_secs(5));
        assert!(health(&stats, false)
            .1
            .starts_with("paused for period until"));
    }
}
