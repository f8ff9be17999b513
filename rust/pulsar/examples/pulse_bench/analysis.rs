//! From receipts and the daemon's log to the printed figures: rate, windows, waits, jitter.
//!
//! Pure reading and arithmetic over what a case measured. It must never print anything but `case=K metric
//! key=value` lines: scripts parse them.

use std::path::Path;
use std::time::Instant;

/// Benchmark of pulsard's rate against N per period (see the example's docs).
use crate::cases::Case;
use crate::load::{Grant, Summary};

/// One "pulse published" line of the daemon's log.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Publish {
    /// Seconds since the Unix epoch (the log line's timestamp: used to place receipts, not to measure gaps).
    pub(crate) at: f64,
    pub(crate) receivers: u64,
    /// When the engine decided the publish, seconds since the daemon started.
    pub(crate) decided: f64,
    /// Read right after the send returned, seconds since the daemon started.
    pub(crate) sent: f64,
}

pub(crate) fn read_publishes(path: &Path) -> Result<Vec<Publish>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut publishes = Vec::new();
    for line in text.lines() {
        let Ok(json) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let fields = &json["fields"];
        if fields["message"] != "pulse published" {
            continue;
        }
        let (Some(at), Some(receivers), Some(decided), Some(sent)) = (
            json["timestamp"].as_str().and_then(parse_rfc3339),
            fields["receivers"].as_u64(),
            fields["decided_at_us"].as_u64(),
            fields["sent_at_us"].as_u64(),
        ) else {
            continue;
        };
        publishes.push(Publish {
            at,
            receivers,
            decided: decided as f64 / 1e6,
            sent: sent as f64 / 1e6,
        });
    }
    Ok(publishes)
}

/// Writes `caseK.csv`: a `# n=.. period_s=..` line, then one receipt per line, seconds since the measured span
/// started (receipts of the warm-up are negative).
pub(crate) fn dump_receipts(dir: &Path, case: Case, s: &Summary) -> Result<(), String> {
    use std::fmt::Write as _;
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let mut text = format!("# n={} period_s={}\n", case.n, case.period);
    let mut times: Vec<f64> = s
        .grants
        .iter()
        .map(|g| {
            if g.received >= s.span_start {
                g.received.duration_since(s.span_start).as_secs_f64()
            } else {
                -s.span_start.duration_since(g.received).as_secs_f64()
            }
        })
        .collect();
    times.sort_by(f64::total_cmp);
    for t in times {
        let _ = writeln!(text, "{t:.6}");
    }
    let path = dir.join(format!("case{}.csv", case.id));
    std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// One numeric field of the daemon's "pulsard stopped" line.
pub(crate) fn read_stopped_field(path: &Path, name: &str) -> Option<u64> {
    let text = std::fs::read_to_string(path).ok()?;
    text.lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .find(|json| json["fields"]["message"] == "pulsard stopped")
        .and_then(|json| json["fields"][name].as_u64())
}

/// `2026-11-25T16:45:37.038344Z` → seconds since the Unix epoch (UTC only, which is what the daemon writes).
pub(crate) fn parse_rfc3339(s: &str) -> Option<f64> {
    let s = s.strip_suffix('Z')?;
    let (date, time) = s.split_once('T')?;
    let mut d = date.split('-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let mut t = time.split(':');
    let (h, min) = (
        t.next()?.parse::<i64>().ok()?,
        t.next()?.parse::<i64>().ok()?,
    );
    let sec = t.next()?.parse::<f64>().ok()?;
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((days * 86_400 + h * 3_600 + min * 60) as f64 + sec)
}

pub(crate) fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

pub(crate) fn report(case: Case, s: &Summary, publishes: &[Publish], unowed: Option<u64>) {
    let k = case.id;
    let period = case.period;
    let span = s.span_end.duration_since(s.span_start).as_secs_f64();
    let secs = |t: Instant| s.base_system + t.duration_since(s.base_instant).as_secs_f64();
    let mut in_span: Vec<Grant> = s
        .grants
        .iter()
        .copied()
        .filter(|g| {
            case.grants_each.is_some() || g.received >= s.span_start && g.received < s.span_end
        })
        .collect();
    in_span.sort_by_key(|g| g.received);
    let receipts: Vec<f64> = in_span.iter().map(|g| secs(g.received)).collect();
    // A burst is measured from its first grant to its last: the span is the pulses it took, each one period.
    let span = match (case.grants_each, receipts.first(), receipts.last()) {
        (Some(_), Some(first), Some(last)) => last - first + period,
        _ => span,
    };

    let rate = receipts.len() as f64 / span;
    let limit = f64::from(case.n) / period;
    println!(
        "case={k} rate grants={} grants_per_s={rate:.2} limit_per_s={limit:.2} utilisation_pct={:.1} span_s={span:.3} misfit_admissions={}",
        receipts.len(),
        100.0 * rate / limit,
        s.misfit_admissions
    );

    // Sliding half-open windows [t_i, t_i + period), one starting at every receipt.
    let mut window_ends = Vec::with_capacity(receipts.len());
    let mut j = 0;
    let mut max_in_window = 0;
    let mut over: Vec<usize> = Vec::new();
    for (i, &t) in receipts.iter().enumerate() {
        j = j.max(i);
        while j < receipts.len() && receipts[j] < t + period {
            j += 1;
        }
        window_ends.push(j);
        max_in_window = max_in_window.max(j - i);
        if j - i > case.n as usize {
            over.push(i);
        }
    }
    println!(
        "case={k} window max_in_window={max_in_window} n={} windows_over_n={} windows={} windows_over_n_pct={:.2}",
        case.n,
        over.len(),
        receipts.len(),
        100.0 * over.len() as f64 / receipts.len().max(1) as f64
    );

    let mut waits: Vec<f64> = in_span
        .iter()
        .map(|g| g.received.duration_since(g.asked).as_secs_f64() * 1e3)
        .collect();
    waits.sort_by(f64::total_cmp);
    println!(
        "case={k} wait p50_ms={:.2} p99_ms={:.2} max_ms={:.2}",
        percentile(&waits, 0.50),
        percentile(&waits, 0.99),
        waits.last().copied().unwrap_or(f64::NAN)
    );

    let errors = s.errors.len();
    let mut kinds: Vec<&String> = s.errors.iter().collect();
    kinds.sort();
    kinds.dedup();
    println!("case={k} errors count={errors} kinds={kinds:?}");

    // The daemon's own pulses during the measured span (with one period of margin on each side, so that the
    // receipts at the edges find their pulse).
    let (from, to) = (secs(s.span_start) - period, secs(s.span_end) + period);
    let pulses: Vec<Publish> = publishes
        .iter()
        .copied()
        .filter(|p| p.at >= from && p.at < to)
        .collect();
    let min_gap_by = |f: fn(&Publish) -> f64| {
        pulses
            .windows(2)
            .map(|w| f(&w[1]) - f(&w[0]))
            .min_by(f64::total_cmp)
            .unwrap_or(f64::NAN)
    };
    let min_gap = min_gap_by(|p| p.sent);
    let min_gap_decided = min_gap_by(|p| p.decided);
    let max_receivers = pulses.iter().map(|p| p.receivers).max().unwrap_or(0);
    println!(
        "case={k} daemon_pulses pulses_total={} pulses_near_span={} max_receivers={max_receivers} min_gap_decided_ms={:.3} min_gap_sent_ms={:.3} period_ms={:.3}",
        publishes.len(),
        pulses.len(),
        min_gap_decided * 1e3,
        min_gap * 1e3,
        period * 1e3
    );

    // What the daemon counted: each pulse's receivers at its send instant, in exact period windows on the daemon's
    // clock. Results that no pulse owed (the daemon's `late_results`) bound the receivers its count missed.
    let (mut max_by_count, mut over_by_count, mut last) = (0u64, 0usize, 0usize);
    for i in 0..pulses.len() {
        last = last.max(i);
        while last < pulses.len() && pulses[last].sent < pulses[i].sent + period {
            last += 1;
        }
        let sum: u64 = pulses[i..last].iter().map(|p| p.receivers).sum();
        max_by_count = max_by_count.max(sum);
        if sum > u64::from(case.n) {
            over_by_count += 1;
        }
    }
    let unowed = unowed.map_or_else(|| "unknown".to_string(), |v| v.to_string());
    println!(
        "case={k} window_by_count max_in_window={max_by_count} n={} windows_over_n={over_by_count} windows={} unowed_results={unowed}",
        case.n,
        pulses.len()
    );

    // Give each receipt to the latest pulse logged before it. The log line is written just after the send, and a
    // loaded machine can delay it by milliseconds, so a receiver may see the pulse before its line's timestamp:
    // allow half a period, which pulses (at least one period apart) cannot be confused within.
    let slack = period / 2.0;
    let pulse_of = |t: f64| -> Option<usize> {
        let idx = pulses.partition_point(|p| p.at <= t + slack);
        idx.checked_sub(1)
    };
    let owners: Vec<Option<usize>> = receipts.iter().map(|&t| pulse_of(t)).collect();
    let mut delays: Vec<f64> = receipts
        .iter()
        .zip(&owners)
        .filter_map(|(&t, o)| o.map(|i| (t - pulses[i].at) * 1e3))
        .collect();
    delays.sort_by(f64::total_cmp);
    let unowned = owners.iter().filter(|o| o.is_none()).count();
    // The same windows with each grant placed at the instant its pulse left the daemon (read on the daemon's
    // clock right after the send): what the daemon controls, free of the receivers' wake-up jitter.
    let mut per_pulse = vec![0usize; pulses.len()];
    for &o in owners.iter().flatten() {
        per_pulse[o] += 1;
    }
    let (mut max_by_pulse, mut over_by_pulse, mut end) = (0usize, 0usize, 0usize);
    for i in 0..pulses.len() {
        end = end.max(i);
        while end < pulses.len() && pulses[end].sent < pulses[i].sent + period {
            end += 1;
        }
        let sum: usize = per_pulse[i..end].iter().sum();
        max_by_pulse = max_by_pulse.max(sum);
        if sum > case.n as usize {
            over_by_pulse += 1;
        }
    }
    println!(
        "case={k} window_by_pulse max_in_window={max_by_pulse} n={} windows_over_n={over_by_pulse} windows={}",
        case.n,
        pulses.len()
    );
    // An over-N window is jitter when it holds receipts of several pulses that are each at least one period
    // apart: the daemon kept the rate, the receipts just moved.
    let mut jitter_only = 0;
    for &i in &over {
        let mut owned: Vec<usize> = owners[i..window_ends[i]]
            .iter()
            .flatten()
            .copied()
            .collect();
        owned.dedup();
        let spaced = owned.len() >= 2
            && owned
                .windows(2)
                .all(|w| pulses[w[1]].sent - pulses[w[0]].sent >= period - 1e-6);
        if spaced {
            jitter_only += 1;
        }
    }
    println!(
        "case={k} jitter receipt_delay_p50_ms={:.3} receipt_delay_p99_ms={:.3} receipt_delay_max_ms={:.3} receipts_without_pulse={unowned} over_n_windows_explained_by_jitter={jitter_only}/{}",
        percentile(&delays, 0.50),
        percentile(&delays, 0.99),
        delays.last().copied().unwrap_or(f64::NAN),
        over.len()
    );
    // Receipts are given to pulses by time alone (the pulse bytes are the same every time). When some lag their
    // pulse by more than half a period, a late receipt of one pulse may be given to the next: window_by_pulse and
    // the jitter split are then not to be trusted, and the daemon's own count (window_by_count) is the figure.
    let max_delay_ms = delays.last().copied().unwrap_or(0.0);
    if max_delay_ms > slack * 1e3 {
        println!(
            "case={k} caution by_pulse_attribution=ambiguous receipt_delay_max_ms={max_delay_ms:.3} half_period_ms={:.3} (a late receipt may be given to the next pulse: read window_by_count)",
            slack * 1e3
        );
    }
}
