//! Time as plain numbers, so the engine never reads a clock.

use std::fmt;

/// A monotonic instant or a duration, in nanoseconds. The driver decides the epoch (usually its start).
///
/// The count is reached through [`Nanos::from_nanos`] and [`Nanos::as_nanos`] outside this crate, so that the
/// unit is always said where a number becomes a time (or a time a number).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Nanos(pub(crate) u64);

impl Nanos {
    /// Zero.
    pub const ZERO: Nanos = Nanos(0);
    /// The far future: used for "never".
    pub const MAX: Nanos = Nanos(u64::MAX);

    /// From whole nanoseconds.
    pub const fn from_nanos(ns: u64) -> Nanos {
        Nanos(ns)
    }
    /// As whole nanoseconds.
    pub const fn as_nanos(self) -> u64 {
        self.0
    }
    /// As whole microseconds, rounded down.
    pub const fn as_micros(self) -> u64 {
        self.0 / 1_000
    }
    /// From whole milliseconds.
    pub const fn from_millis(ms: u64) -> Nanos {
        Nanos(ms.saturating_mul(1_000_000))
    }
    /// From whole microseconds.
    pub const fn from_micros(us: u64) -> Nanos {
        Nanos(us.saturating_mul(1_000))
    }
    /// From whole seconds.
    pub const fn from_secs(s: u64) -> Nanos {
        Nanos(s.saturating_mul(1_000_000_000))
    }
    /// From fractional seconds; negative and NaN give zero, huge values saturate.
    pub fn from_secs_f64(s: f64) -> Nanos {
        if s.is_nan() || s <= 0.0 {
            Nanos::ZERO
        } else {
            // `as` saturates for floats out of range, which is the behaviour we want here.
            Nanos((s * 1e9) as u64)
        }
    }
    /// As fractional seconds (for logs and reports).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e9
    }
    /// `self + d`, saturating at [`Nanos::MAX`].
    pub const fn saturating_add(self, d: Nanos) -> Nanos {
        Nanos(self.0.saturating_add(d.0))
    }
    /// `self - d`, saturating at zero.
    pub const fn saturating_sub(self, d: Nanos) -> Nanos {
        Nanos(self.0.saturating_sub(d.0))
    }
}

impl fmt::Display for Nanos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.3}s", self.as_secs_f64())
    }
}

impl std::ops::Add for Nanos {
    type Output = Nanos;

    /// Saturating, like [`Nanos::saturating_add`]: "never" plus anything is still "never".
    fn add(self, d: Nanos) -> Nanos {
        self.saturating_add(d)
    }
}
