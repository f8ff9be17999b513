//! `pulse_bench`: how close the `pulsard` daemon comes to its configured rate, N workers per period, under
//! saturating load, and whether it ever releases more than N within one period.
//!
//! ```text
//! cargo build --release -p publisher-pulsar --bins --examples
//! cargo run --release -p publisher-pulsar --example pulse_bench -- [--case all|1|..|8] [--seconds S]
//!     [--warmup S] [--pulsard PATH]
//! ```
//! For each case it starts the `pulsard` binary as a child process on free loopback ports, then runs P
//! performer threads (each with its own [`Performer`], all sharing one ZeroMQ context) that loop
//! `wait_permission` → note the instant of receipt → `report_success`, for `--seconds` after a warm-up.
//! Cases (saturating unless said):
//! 1. N=10, period 1 s, 20 performers;
//! 2. N=10, period 0.25 s, 20 performers;
//! 3. N=100, period 10 ms, 200 performers;
//! 4. *small fleet*: N=10, period 1 s, 5 performers, default waits;
//! 5. *lone worker*: N=10, period 1 s, one performer asking every 1.1 s, default waits (the wait is the figure);
//! 6. *ghost*: N=3, period 0.25 s, 11 performers and one ghost that gets admitted and exits before subscribing,
//!    over and over (a new process each time, 20 ms apart), default waits;
//! 7. *killed after grant*: N=3, period 0.25 s, 11 performers and one worker killed (no goodbye, sockets gone)
//!    right after its first grant, default waits: its slot is held for the 7 s result timeout;
//! 8. *tail of a burst*: N=10, period 0.25 s, 20 performers that take 12 grants each and stop; utilisation is
//!    taken from the first grant to the last.
//!
//! Cases 1–3 give `maxWaitReplyStackResult` 1 s as before; the others run with the defaults.
//!
//! `pulsard` is looked for next to this example's executable (`target/release/pulsard` when this runs from
//! `target/release/examples/`), unless `--pulsard PATH` is given. It logs as JSON to a file in the temporary
//! folder, at info level plus `publisher_pulsar::daemon=debug`, which adds one "pulse published" line per pulse:
//! those timestamps show whether two pulses were ever closer than one period apart, which receipt times taken
//! on the worker threads cannot show on their own (thread wake-up jitter).
//!
//! Output: one `case=K <metric> ...` line per metric, `key=value` pairs, no other text. Metrics:
//! - `rate`: grants in the measured span per second, the configured limit N/period, utilisation.
//! - `window`: the most grants in any half-open window `[t, t+period)` over all receipt instants of the span
//!   (windows starting at every receipt, which is where the maximum is always found), and how many of those
//!   windows hold more than N.
//! - `wait`: time from calling `wait_permission` to its return, p50/p99/max.
//! - `window_by_count`: the same windows over the daemon's own count, each pulse's receivers placed at its send
//!   instant: what the daemon controls. `unowed_results` (the daemon's `late_results`, from its last log line)
//!   bounds the receivers that count missed; "unknown" for a daemon that does not log it.
//! - `window_by_pulse`: the same windows with every receipt placed at the instant of the latest pulse logged
//!   before it (half a period of slack for the log line's lag). When receipts lag their pulse by more than half a
//!   period (case 3 on a loaded machine) they are given to the next pulse and this figure overstates.
//! - `caution`: printed only then (some receipt lags its pulse by more than half a period), so that the
//!   overstated `window_by_pulse` is not read as a pulse over N.
//! - `daemon_pulses`: from the daemon's log, pulses, most receivers of one pulse, smallest gap between two
//!   consecutive pulses.
//! - `jitter`: receipt delay after the pulse's log line (p50/p99/max), and how many over-N windows contain
//!   receipts of two pulses that are at least one period apart (i.e. over N only because of receipt jitter).
//! - `clients`: the same CPU figure for this process, i.e. all performer threads and their libzmq I/O thread
//!   (the cost of asking on the workers' side), during the measured span and per grant; and the share of the
//!   whole machine's CPU left idle during the span (`/proc/stat`): near 0 means the run was bound by CPU.
//! - `daemon`: CPU time (utime+stime from `/proc/PID/stat`, clock ticks converted with `getconf CLK_TCK`,
//!   100 assumed and said so if that fails) during the measured span and in total, peak RSS (`VmHWM`), and the
//!   exit status after SIGTERM.
//!
//! It must never be taken for a test: it asserts nothing and its numbers depend on the machine.
//!
//! Layout: `cases` (the load cases), `load` (performer threads and misfits), `process` (the `pulsard` child),
//! `analysis` (figures from receipts and the daemon's log).

mod analysis;
mod cases;
mod load;
#[path = "../shared/machine.rs"]
mod machine;
mod process;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;

use clap::Parser;

/// Benchmark of pulsard's rate against N per period (see the example's docs).
use crate::analysis::{dump_receipts, read_publishes, read_stopped_field, report};
use crate::cases::{Case, CASES};
use crate::load::drive_case;
use crate::process::{clock_ticks, cpu_model, default_pulsard, free_ports, stop_daemon};

#[derive(Debug, Parser)]
pub(crate) struct Args {
    /// Which case to run: all, 1, 2 or 3
    #[arg(long, default_value = "all")]
    pub(crate) case: String,
    /// Measured seconds per case
    #[arg(long, default_value_t = 10.0)]
    pub(crate) seconds: f64,
    /// Warm-up seconds per case, not measured
    #[arg(long, default_value_t = 1.0)]
    pub(crate) warmup: f64,
    /// The pulsard binary [default: next to this executable's folder, i.e. target/release/pulsard]
    #[arg(long)]
    pub(crate) pulsard: Option<PathBuf>,
    /// Also write each case's grant receipt times to DIR/caseK.csv (for `tests/bench/plot_grants.py`)
    #[arg(long, value_name = "DIR")]
    pub(crate) dump_dir: Option<PathBuf>,
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("pulse_bench: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<(), String> {
    let usable = args.seconds > 0.0
        && args.seconds.is_finite()
        && args.warmup >= 0.0
        && args.warmup.is_finite();
    if !usable {
        return Err("--seconds must be positive and --warmup non-negative".into());
    }
    let cases: Vec<Case> = match args.case.as_str() {
        "all" => CASES.to_vec(),
        id => {
            let case = CASES
                .iter()
                .find(|c| c.id.to_string() == id)
                .ok_or_else(|| format!("unknown case {id:?}: use all or 1 to 8"))?;
            vec![*case]
        }
    };
    let pulsard = match &args.pulsard {
        Some(path) => path.clone(),
        None => default_pulsard()?,
    };
    if !pulsard.is_file() {
        return Err(format!(
            "{} not found: build it first (cargo build --release -p publisher-pulsar --bins --examples) or pass --pulsard PATH",
            pulsard.display()
        ));
    }
    let (clk_tck, clk_source) = clock_ticks();
    println!(
        "machine nproc={} cpu_model={:?} clk_tck={clk_tck} clk_tck_source={clk_source} pulsard={}",
        thread::available_parallelism().map_or(0, |n| n.get()),
        cpu_model(),
        pulsard.display()
    );
    for case in cases {
        run_case(case, args, &pulsard, clk_tck)?;
    }
    Ok(())
}

fn run_case(case: Case, args: &Args, pulsard: &Path, clk_tck: u64) -> Result<(), String> {
    let k = case.id;
    let [admission_port, publish_port, pull_port] = free_ports()?;
    let admission = format!("tcp://127.0.0.1:{admission_port}");
    let publish = format!("tcp://127.0.0.1:{publish_port}");
    let pull = format!("tcp://127.0.0.1:{pull_port}");
    let log_path =
        std::env::temp_dir().join(format!("pulse_bench_case{k}_{}.log", std::process::id()));
    let log = std::fs::File::create(&log_path)
        .map_err(|e| format!("cannot create {}: {e}", log_path.display()))?;
    println!(
        "case={k} config n={} period_s={} performers={} ghosts={} killed={} ask_every_s={:?} grants_each={:?} seconds={} warmup_s={} max_wait_reply_stack_result_s={} daemon_log={}",
        case.n,
        case.period,
        case.performers,
        case.ghosts,
        case.killed,
        case.ask_every,
        case.grants_each,
        args.seconds,
        args.warmup,
        case.max_wait,
        log_path.display()
    );
    let mut child = Command::new(pulsard)
        .args(["--subscribers-per-iteration", &case.n.to_string()])
        .args(["--pulsation-iteration-period", &case.period.to_string()])
        .args(["--max-wait-reply-stack-result", &case.max_wait.to_string()])
        .args(["--reply-stack-address", &admission])
        .args(["--publish-address", &publish])
        .args(["--pull-address", &pull])
        .args(["--reply-to-reply-stack-address", "tcp://127.0.0.1:*"])
        .args(["--push-to-reply-stack-address", "tcp://127.0.0.1:*"])
        .args(["--log-format", "json"])
        .args(["--log-level", "info,publisher_pulsar::daemon=debug"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", pulsard.display()))?;
    let pid = child.id();
    let outcome = drive_case(case, args, &admission, &publish, &pull, pid, clk_tck);
    let exit = stop_daemon(&mut child);
    let (summary, exit_text) = match (outcome, exit) {
        (Ok(summary), Ok(status)) => (summary, status.to_string()),
        (Err(e), _) | (Ok(_), Err(e)) => return Err(format!("case {k}: {e}")),
    };
    let publishes = read_publishes(&log_path)?;
    let unowed = read_stopped_field(&log_path, "late_results");
    report(case, &summary, &publishes, unowed);
    if let Some(dir) = &args.dump_dir {
        dump_receipts(dir, case, &summary)?;
    }
    let span_grants = summary
        .grants
        .iter()
        .filter(|g| g.received >= summary.span_start && g.received < summary.span_end)
        .count();
    println!(
        "case={k} daemon cpu_span_ms={} cpu_total_ms={} cpu_per_grant_us={:.1} peak_rss_kib={} exit={:?}",
        summary.cpu_span_ms,
        summary.cpu_total_ms,
        summary.cpu_span_ms as f64 * 1000.0 / span_grants.max(1) as f64,
        summary.peak_rss_kib,
        exit_text
    );
    println!(
        "case={k} clients cpu_span_ms={} cpu_per_grant_us={:.1} machine_idle_pct={:.1}",
        summary.clients_cpu_span_ms,
        summary.clients_cpu_span_ms as f64 * 1000.0 / span_grants.max(1) as f64,
        summary.machine_idle_pct,
    );
    Ok(())
}
