//! Reading the exposition text back: samples and histogram quantiles, for `pulsard status` and the tests.
//!
//! Pure functions of a string. It must never be trusted with more than reading what [`super::render`] writes:
//! a line it does not understand is skipped, never guessed at.

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
