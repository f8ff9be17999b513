//! The daemon's counters as Prometheus metric families, encoded by `prometheus-client` from one snapshot.
//!
//! Every metric name and help text lives here. It must never rename a metric (the Grafana dashboard in
//! `packaging/grafana` and users' alerts read them) nor count anything: it only reads a [`DaemonStats`] copy.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;

use crate::daemon::{DaemonStats, ADMISSION_WAIT_BUCKETS};

/// The collector that encodes one snapshot.
#[derive(Debug)]
pub(super) struct Snapshot(pub(super) DaemonStats);

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

    /// A counter family with one label: one sample per `(label value, count)`.
    fn labelled_counters<const K: usize>(
        encoder: &mut DescriptorEncoder,
        name: &str,
        help: &str,
        label: &'static str,
        samples: [(&'static str, u64); K],
    ) -> Result<(), std::fmt::Error> {
        let mut family = encoder.encode_descriptor(name, help, None, MetricType::Counter)?;
        for (value, count) in samples {
            ConstCounter::new(count).encode(family.encode_family(&[(label, value)])?)?;
        }
        Ok(())
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
        let secs = pulsar_pulse::Nanos::as_secs_f64;
        // Counters: the crate adds the `_total` suffix.
        Self::counter(
            &mut encoder,
            "pulsar_grants",
            "Workers released by pulses (sum of receivers).",
            e.grants,
        )?;
        Self::counter(&mut encoder, "pulsar_pulses", "Pulses published.", e.pulses)?;
        Self::labelled_counters(
            &mut encoder,
            "pulsar_results",
            "Results received, by outcome: credited successes and errors by what they asked for, and late \
             results that no released worker owed.",
            "outcome",
            [
                ("success", e.successes),
                ("slow_down", e.slow_down_results),
                ("sleep_for_period", e.sleep_for_period_results),
                ("late", e.late_results),
                ("ignored", e.ignored_errors),
            ],
        )?;
        Self::counter(
            &mut encoder,
            "pulsar_lost_receivers",
            "Released workers whose push connection closed without a result, or was still silent at their \
             pulse's result timeout: each one's slot comes back at that timeout.",
            e.lost_receivers,
        )?;
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
        Self::labelled_counters(
            &mut encoder,
            "pulsar_refused_connections",
            "New connections the access check refused, by reason: not_allowed (address not in allowFrom), \
             connection_limit (maxConnections open).",
            "reason",
            [
                ("not_allowed", s.refused_not_allowed),
                ("connection_limit", s.refused_connection_limit),
            ],
        )?;
        Self::gauge(
            &mut encoder,
            "pulsar_open_connections",
            "Connections open now on the three sockets.",
            s.open_connections as f64,
        )?;
        Self::gauge(
            &mut encoder,
            "pulsar_max_connections",
            "maxConnections as applied (lowered at start to fit the descriptor limit).",
            s.max_connections as f64,
        )?;
        Self::gauge(
            &mut encoder,
            "pulsar_subscribers_per_iteration",
            "N in force: the most workers the next pulse may release, after adaptation.",
            f64::from(e.n),
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
            secs(e.pause),
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
            e.queued as f64,
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
