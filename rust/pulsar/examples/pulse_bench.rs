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
//! - `daemon_pulses`: from the daemon's log, pulses, most receivers of one pulse, smallest gap between two
//!   consecutive pulses.
//! - `jitter`: receipt delay after the pulse's log line (p50/p99/max), and how many over-N windows contain
//!   receipts of two pulses that are at least one period apart (i.e. over N only because of receipt jitter).
//! - `daemon`: CPU time (utime+stime from `/proc/PID/stat`, clock ticks converted with `getconf CLK_TCK`,
//!   100 assumed and said so if that fails) during the measured span and in total, peak RSS (`VmHWM`), and the
//!   exit status after SIGTERM.
//!
//! It must never be taken for a test: it asserts nothing and its numbers depend on the machine.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::Parser;
use publisher_pulsar::performer::{Performer, PerformerConfig};
use publisher_pulsar::PulsarError;

/// Benchmark of pulsard's rate against N per period (see the example's docs).
#[derive(Debug, Parser)]
struct Args {
    /// Which case to run: all, 1, 2 or 3
    #[arg(long, default_value = "all")]
    case: String,
    /// Measured seconds per case
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Warm-up seconds per case, not measured
    #[arg(long, default_value_t = 1.0)]
    warmup: f64,
    /// The pulsard binary [default: next to this executable's folder, i.e. target/release/pulsard]
    #[arg(long)]
    pulsard: Option<PathBuf>,
    /// Also write each case's grant receipt times to DIR/caseK.csv (for `tests/bench/plot_grants.py`)
    #[arg(long, value_name = "DIR")]
    dump_dir: Option<PathBuf>,
}

/// One load case.
#[derive(Debug, Clone, Copy)]
struct Case {
    id: u32,
    n: u32,
    period: f64,
    performers: usize,
    /// `maxWaitReplyStackResult` given to the daemon, seconds (5 is the default).
    max_wait: f64,
    /// Each performer asks at most this often (seconds), instead of at once after its report.
    ask_every: Option<f64>,
    /// Ghost processes: admitted, then gone before subscribing, in a loop.
    ghosts: usize,
    /// Workers killed right after their first grant (no result, no goodbye).
    killed: usize,
    /// Each performer stops after this many grants (a burst); utilisation is then taken first to last grant.
    grants_each: Option<usize>,
}

const fn case(id: u32, n: u32, period: f64, performers: usize) -> Case {
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

const CASES: [Case; 8] = [
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

/// One grant as a performer saw it.
#[derive(Debug, Clone, Copy)]
struct Grant {
    asked: Instant,
    received: Instant,
}

/// What one performer thread brings back.
#[derive(Debug, Default)]
struct ThreadOutcome {
    grants: Vec<Grant>,
    errors: Vec<String>,
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

/// `target/release/pulsard` when this runs as `target/release/examples/pulse_bench`.
fn default_pulsard() -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this executable: {e}"))?;
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .ok_or_else(|| format!("unexpected executable location {}", exe.display()))?;
    Ok(profile_dir.join("pulsard"))
}

fn free_port() -> Result<u16, String> {
    let listener =
        std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port: {e}"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

fn run_case(case: Case, args: &Args, pulsard: &Path, clk_tck: u64) -> Result<(), String> {
    let k = case.id;
    let (admission_port, publish_port, pull_port) = (free_port()?, free_port()?, free_port()?);
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
    Ok(())
}

/// What a case measured, before analysis.
struct Summary {
    /// Admissions the ghosts and killed workers got.
    misfit_admissions: usize,
    span_start: Instant,
    span_end: Instant,
    /// SystemTime of `base_instant`, to compare receipts with the daemon's log timestamps.
    base_system: f64,
    base_instant: Instant,
    grants: Vec<Grant>,
    errors: Vec<String>,
    cpu_span_ms: u64,
    cpu_total_ms: u64,
    peak_rss_kib: u64,
}

fn drive_case(
    case: Case,
    args: &Args,
    admission: &str,
    publish: &str,
    pull: &str,
    pid: u32,
    clk_tck: u64,
) -> Result<Summary, String> {
    let admission_port = admission
        .rsplit_once(':')
        .and_then(|(_, p)| p.parse::<u16>().ok())
        .ok_or("bad admission address")?;
    wait_listening(admission_port, Duration::from_secs(10))?;

    let base_instant = Instant::now();
    let base_system = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|e| format!("clock before 1970: {e}"))?
        .as_secs_f64();
    let config = PerformerConfig {
        publisher_pulsar_address: publish.to_owned(),
        push_pulsar_address: pull.to_owned(),
        request_pulsar_rs_address: admission.to_owned(),
        module_name: format!("pulse_bench_case{}", case.id),
        admission_timeout: Duration::from_secs(30),
        pulse_timeout: Duration::from_secs(30),
        send_timeout: Duration::from_secs(5),
        curve_server_key: None,
    };
    let context = zmq::Context::new();
    let barrier = Arc::new(Barrier::new(case.performers + 1));
    let start_slot: Arc<std::sync::OnceLock<Instant>> = Arc::new(std::sync::OnceLock::new());
    let measured = Duration::from_secs_f64(args.seconds);
    let warmup = Duration::from_secs_f64(args.warmup);
    let mut workers = Vec::with_capacity(case.performers);
    for _ in 0..case.performers {
        let config = config.clone();
        let context = context.clone();
        let barrier = Arc::clone(&barrier);
        let start_slot = Arc::clone(&start_slot);
        workers.push(thread::spawn(move || {
            let mut outcome = ThreadOutcome::default();
            let mut performer = match Performer::connect_in(config, &context) {
                Ok(p) => p,
                Err(e) => {
                    outcome.errors.push(format!("connect: {e}"));
                    barrier.wait();
                    return outcome;
                }
            };
            barrier.wait();
            let end = *start_slot
                .get()
                .expect("set before the barrier is released")
                + warmup
                + measured;
            let mut next_ask = Instant::now();
            while Instant::now() < end && case.grants_each.is_none_or(|k| outcome.grants.len() < k)
            {
                if let Some(every) = case.ask_every {
                    thread::sleep(next_ask.saturating_duration_since(Instant::now()));
                    next_ask += Duration::from_secs_f64(every);
                }
                let asked = Instant::now();
                match performer.wait_permission() {
                    Ok(_) => {
                        let received = Instant::now();
                        outcome.grants.push(Grant { asked, received });
                        if let Err(e) = performer.report_success() {
                            outcome.errors.push(error_kind(&e));
                        }
                    }
                    Err(e) => outcome.errors.push(error_kind(&e)),
                }
            }
            outcome
        }));
    }
    let stop_misfits = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut misfits = Vec::new();
    for _ in 0..case.ghosts {
        let (admission, stop) = (admission.to_owned(), Arc::clone(&stop_misfits));
        misfits.push(thread::spawn(move || ghost_loop(&admission, &stop)));
    }
    for _ in 0..case.killed {
        let (a, p, q) = (admission.to_owned(), publish.to_owned(), pull.to_owned());
        misfits.push(thread::spawn(move || {
            thread::sleep(Duration::from_secs(2));
            killed_after_grant(&a, &p, &q)
        }));
    }
    let start = Instant::now();
    start_slot.set(start).map_err(|_| "start set twice")?;
    barrier.wait();
    let span_start = start + warmup;
    let span_end = span_start + measured;
    thread::sleep(span_start.saturating_duration_since(Instant::now()));
    let cpu_at_start = cpu_ticks(pid)?;
    thread::sleep(span_end.saturating_duration_since(Instant::now()));
    let cpu_at_end = cpu_ticks(pid)?;
    stop_misfits.store(true, std::sync::atomic::Ordering::SeqCst);
    let mut misfit_admissions = 0;
    for misfit in misfits {
        misfit_admissions += misfit.join().map_err(|_| "a misfit thread panicked")?;
    }
    let mut grants = Vec::new();
    let mut errors = Vec::new();
    for worker in workers {
        let outcome = worker.join().map_err(|_| "a performer thread panicked")?;
        grants.extend(outcome.grants);
        errors.extend(outcome.errors);
    }
    let cpu_total = cpu_ticks(pid)?;
    let peak_rss_kib = peak_rss_kib(pid)?;
    let to_ms = |ticks: u64| ticks * 1000 / clk_tck.max(1);
    Ok(Summary {
        misfit_admissions,
        span_start,
        span_end,
        base_system,
        base_instant,
        grants,
        errors,
        cpu_span_ms: to_ms(cpu_at_end.saturating_sub(cpu_at_start)),
        cpu_total_ms: to_ms(cpu_total),
        peak_rss_kib,
    })
}

/// A process that asks for admission and exits as soon as it is admitted, before subscribing; a new one takes
/// its place 20 ms later (a crash loop). Returns how many admissions it got.
fn ghost_loop(admission: &str, stop: &std::sync::atomic::AtomicBool) -> usize {
    let mut admitted = 0;
    let request = pulsar_wire::PreparingRequest::default().encode();
    while !stop.load(std::sync::atomic::Ordering::SeqCst) {
        let context = zmq::Context::new();
        let Ok(req) = context.socket(zmq::REQ) else {
            return admitted;
        };
        let _ = req.set_linger(0);
        let _ = req.set_rcvtimeo(1000);
        if req.connect(admission).is_ok()
            && req.send(&request[..], 0).is_ok()
            && req.recv_bytes(0).is_ok()
        {
            admitted += 1;
        }
        drop(req);
        drop(context);
        thread::sleep(Duration::from_millis(20));
    }
    admitted
}

/// A worker that follows the protocol up to its first pulse and is then killed: its sockets close with no
/// result and no goodbye. Returns 1 once it got its pulse.
fn killed_after_grant(admission: &str, publish: &str, pull: &str) -> usize {
    let context = zmq::Context::new();
    let sockets = (
        context.socket(zmq::REQ),
        context.socket(zmq::SUB),
        context.socket(zmq::PUSH),
    );
    let (Ok(req), Ok(sub), Ok(push)) = sockets else {
        return 0;
    };
    for s in [&req, &sub, &push] {
        let _ = s.set_linger(0);
        let _ = s.set_rcvtimeo(10_000);
    }
    let ok = req.connect(admission).is_ok()
        && sub.connect(publish).is_ok()
        && push.connect(pull).is_ok()
        && req
            .send(&pulsar_wire::PreparingRequest::default().encode()[..], 0)
            .is_ok()
        && req.recv_bytes(0).is_ok()
        && sub.set_subscribe(b"").is_ok()
        && push
            .send(&pulsar_wire::PerformerPush::Ready.encode()[..], 0)
            .is_ok()
        && sub.recv_bytes(0).is_ok();
    usize::from(ok)
}

fn error_kind(e: &PulsarError) -> String {
    match e {
        PulsarError::Timeout { what, .. } => format!("timeout:{what}"),
        other => other.to_string(),
    }
}

fn wait_listening(port: u16, within: Duration) -> Result<(), String> {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        thread::sleep(Duration::from_millis(20));
    }
    Err(format!(
        "pulsard did not listen on port {port} within {within:?}"
    ))
}

/// SIGTERM, then up to 10 s for a clean exit; SIGKILL after that (and say so).
fn stop_daemon(child: &mut Child) -> Result<ExitStatus, String> {
    let pid = child.id().to_string();
    let sent = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .map_err(|e| format!("cannot run kill: {e}"))?;
    if !sent.success() {
        return Err(format!("kill -TERM {pid} failed: {sent}"));
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Ok(status),
            Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(10)),
            Ok(None) => {
                let _ = child.kill();
                let status = child
                    .wait()
                    .map_err(|e| format!("cannot reap pulsard: {e}"))?;
                return Err(format!(
                    "pulsard ignored SIGTERM for 10 s; killed ({status})"
                ));
            }
            Err(e) => return Err(format!("cannot wait for pulsard: {e}")),
        }
    }
}

/// utime + stime of a process, in clock ticks.
fn cpu_ticks(pid: u32) -> Result<u64, String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map_err(|e| format!("cannot read /proc/{pid}/stat: {e}"))?;
    // The command name is in parentheses and may hold spaces: count fields after the last ')'.
    let rest = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .ok_or("malformed /proc/PID/stat")?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // Fields 14 and 15 of stat(5); the first field after ')' is field 3.
    let field = |n: usize| -> Result<u64, String> {
        fields
            .get(n - 3)
            .and_then(|f| f.parse().ok())
            .ok_or_else(|| format!("no field {n} in /proc/{pid}/stat"))
    };
    Ok(field(14)? + field(15)?)
}

fn peak_rss_kib(pid: u32) -> Result<u64, String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map_err(|e| format!("cannot read /proc/{pid}/status: {e}"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("no VmHWM in /proc/{pid}/status"))
}

fn clock_ticks() -> (u64, &'static str) {
    let from_getconf = Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse::<u64>().ok())
        .filter(|&t| t > 0);
    match from_getconf {
        Some(t) => (t, "getconf"),
        None => (100, "assumed"),
    }
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into())
}

/// One "pulse published" line of the daemon's log.
#[derive(Debug, Clone, Copy)]
struct Publish {
    /// Seconds since the Unix epoch (the log line's timestamp: used to place receipts, not to measure gaps).
    at: f64,
    receivers: u64,
    /// When the engine decided the publish, seconds since the daemon started.
    decided: f64,
    /// Read right after the send returned, seconds since the daemon started.
    sent: f64,
}

fn read_publishes(path: &Path) -> Result<Vec<Publish>, String> {
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
fn dump_receipts(dir: &Path, case: Case, s: &Summary) -> Result<(), String> {
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
fn read_stopped_field(path: &Path, name: &str) -> Option<u64> {
    let text = std::fs::read_to_string(path).ok()?;
    text.lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .find(|json| json["fields"]["message"] == "pulsard stopped")
        .and_then(|json| json["fields"][name].as_u64())
}

/// `2026-11-25T16:45:37.038344Z` → seconds since the Unix epoch (UTC only, which is what the daemon writes).
fn parse_rfc3339(s: &str) -> Option<f64> {
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

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn report(case: Case, s: &Summary, publishes: &[Publish], unowed: Option<u64>) {
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
}
