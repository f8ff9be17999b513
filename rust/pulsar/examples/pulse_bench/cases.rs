//! The eight load cases: N, period, fleet and misfits of each (listed in the example's docs).
//!
//! Data only. It must never change a case silently: BENCHMARKS.md quotes figures by case number.

/// One load case.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Case {
    pub(crate) id: u32,
    pub(crate) n: u32,
    pub(crate) period: f64,
    pub(crate) performers: usize,
    /// `maxWaitReplyStackResult` given to the daemon, seconds (5 is the default).
    pub(crate) max_wait: f64,
    /// Each performer asks at most this often (seconds), instead of at once after its report.
    pub(crate) ask_every: Option<f64>,
    /// Ghost processes: admitted, then gone before subscribing, in a loop.
    pub(crate) ghosts: usize,
    /// Workers killed right after their first grant (no result, no goodbye).
    pub(crate) killed: usize,
    /// Each performer stops after this many grants (a burst); utilisation is then taken first to last grant.
    pub(crate) grants_each: Option<usize>,
}

pub(crate) const fn case(id: u32, n: u32, period: f64, performers: usize) -> Case {
    Case {
        id,
        n,
        period,
        performers,
        max_wait: 5.0,
        ask_every: None,
        ghosts: 0,
        killed: 0,
        grants_each: None,
    }
}

pub(crate) const CASES: [Case; 8] = [
    Case {
        max_wait: 1.0,
        ..case(1, 10, 1.0, 20)
    },
    Case {
        max_wait: 1.0,
        ..case(2, 10, 0.25, 20)
    },
    Case {
        max_wait: 1.0,
        ..case(3, 100, 0.01, 200)
    },
    case(4, 10, 1.0, 5),
    Case {
        ask_every: Some(1.1),
        ..case(5, 10, 1.0, 1)
    },
    Case {
        ghosts: 1,
        ..case(6, 3, 0.25, 11)
    },
    Case {
        killed: 1,
        ..case(7, 3, 0.25, 11)
    },
    Case {
        grants_each: Some(12),
        ..case(8, 10, 0.25, 20)
    },
];
