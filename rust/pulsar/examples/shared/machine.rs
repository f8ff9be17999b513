//! Readings of the whole machine shared by the benchmark examples (`pulse_bench`, `io_floor`), included by path.
//! It must never be taken for a measurement of one process: it reads `/proc/stat`, all CPUs.

/// (busy, total) jiffies of all CPUs, from the first line of `/proc/stat`; idle and iowait are not busy. The
/// share of idle time over a measured span tells a run bound by CPU from one bound by latency.
pub(crate) fn machine_jiffies() -> Result<(u64, u64), String> {
    let text = std::fs::read_to_string("/proc/stat")
        .map_err(|e| format!("cannot read /proc/stat: {e}"))?;
    let fields: Vec<u64> = text
        .lines()
        .next()
        .ok_or("empty /proc/stat")?
        .split_whitespace()
        .skip(1)
        .filter_map(|f| f.parse().ok())
        .collect();
    if fields.len() < 5 {
        return Err("malformed /proc/stat".into());
    }
    // guest and guest_nice (fields 9 and 10) are already counted in user and nice.
    let total: u64 = fields.iter().take(8).sum();
    Ok((total - fields[3] - fields[4], total))
}

/// The share of the machine's CPU time left idle between two [`machine_jiffies`] readings, in percent.
pub(crate) fn idle_pct(start: (u64, u64), end: (u64, u64)) -> f64 {
    let busy = end.0.saturating_sub(start.0);
    let total = end.1.saturating_sub(start.1);
    100.0 * (1.0 - busy as f64 / total.max(1) as f64)
}
