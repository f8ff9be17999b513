//! Cross-language proof of the drop-in promise: UNCHANGED original-protocol PHP workers (ext-zmq and
//! `serialize()`, no Rust at all: `tests/php/worker.php`) get their permission from `pulsard`, and the daemon
//! visibly adapts to what they report.
//!
//! Each scenario starts its own `pulsard` on free loopback ports and a handful of PHP workers, and checks two
//! views of the same run:
//! - the workers': each prints one line per event (`ASK`, `GRANT`, `REPORT`, `DONE`, with `microtime(true)`
//!   stamps) — what a PHP user would observe;
//! - the daemon's: its one info line per pulse ("pulse iteration finished", read as JSON with `--log-format
//!   json`) says how many workers the pulse reached and how the daemon adapted.
//!
//! The daemon's receiver counts cut the time-ordered PHP grants into pulses exactly (see `cut_into_pulses`), so
//! no assertion has to guess pulses from timing gaps. Every failure message carries both views.
//!
//! Time is only ever used as a *lower* bound that causality guarantees (a worker stamps its grant before it
//! reports, the daemon ends the iteration after the report, and the next pulse leaves after the pause), or with
//! a tolerance that the comment at the check explains. Every wait is bounded by the scenario's deadline; the
//! daemon and the workers are killed by drop guards whatever happens.
//!
//! PHP 8.2 CLI with ext-zmq is required: without it these tests FAIL (they are the only proof that unchanged
//! PHP workers are served) and say how to install them.
//!
//! This file must never skip a scenario silently, use fixed ports, or wait without a deadline.

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value as Json;

/// What to do when PHP or ext-zmq is missing.
const INSTALL_HINT: &str =
    "PHP 8.2 CLI with ext-zmq is required for the cross-language tests: apt-get install -y php8.2-cli php-zmq";

/// Every PHP socket receive is bounded by this (the worker exits non-zero with a message when it runs out);
/// longer than the longest pause a scenario provokes (4 s), far shorter than a scenario's deadline.
const WORKER_TIMEOUT_MS: u64 = 20_000;

/// Slack for comparing PHP's wall clock with intervals the daemon measures on its monotonic clock: both tick at
/// the same rate (NTP slewing is at most 0.05 %), so a few milliseconds cover rounding and stamping.
const CLOCK_SLACK: f64 = 0.005;

/// The `tests/php` directory of the repository.
fn php_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/php")
}

/// Poll interval of the bounded waits below.
const TICK: Duration = Duration::from_millis(20);

// ---------------------------------------------------------------------------------------------------------------
// Processes and their output
// ---------------------------------------------------------------------------------------------------------------

/// Lines read from a child's pipe by a background thread, shared with the test.
#[derive(Clone, Default)]
struct Lines {
    lines: Arc<Mutex<Vec<String>>>,
    /// Set by the reader at end of file: the child has exited (or closed the pipe) and every line is stored.
    closed: Arc<AtomicBool>,
}

impl Lines {
    /// Reads `pipe` line by line until it closes (the child exits or is killed).
    fn collect(pipe: impl Read + Send + 'static) -> Lines {
        let lines = Lines::default();
        let sink = lines.clone();
        thread::spawn(move || {
            for line in BufReader::new(pipe).lines() {
                let Ok(line) = line else { break };
                sink.lines
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(line);
            }
            sink.closed.store(true, Ordering::Release);
        });
        lines
    }

    /// Waits (bounded) until the pipe has closed, so that the last lines of an exited child are stored.
    fn wait_closed(&self, limit: Duration) {
        let deadline = Instant::now() + limit;
        while !self.closed.load(Ordering::Acquire) && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(5));
        }
    }

    fn snapshot(&self) -> Vec<String> {
        self.lines.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The last `n` lines, for failure messages.
    fn tail(&self, n: usize) -> String {
        let all = self.snapshot();
        all[all.len().saturating_sub(n)..].join("\n")
    }
}

/// Fails the test with `INSTALL_HINT` unless `php` runs and has the zmq extension.
fn require_php_with_zmq() {
    let output = run_bounded(
        Command::new("php").arg("-m"),
        Duration::from_secs(20),
        "php -m",
    );
    let modules = match output {
        Ok((status, stdout, _)) if status.success() => stdout,
        Ok((status, _, stderr)) => panic!("`php -m` failed ({status}): {stderr}\n{INSTALL_HINT}"),
        Err(e) => panic!("cannot run `php`: {e}\n{INSTALL_HINT}"),
    };
    assert!(
        modules
            .lines()
            .any(|m| m.trim().eq_ignore_ascii_case("zmq")),
        "PHP has no zmq extension (`php -m` does not list it)\n{INSTALL_HINT}"
    );
}

/// Runs a short command to completion, killing it if it outlives `limit`. Returns (status, stdout, stderr).
fn run_bounded(
    command: &mut Command,
    limit: Duration,
    what: &str,
) -> Result<(ExitStatus, String, String), String> {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {what}: {e}"))?;
    let stdout = Lines::collect(child.stdout.take().expect("stdout is piped"));
    let stderr = Lines::collect(child.stderr.take().expect("stderr is piped"));
    let deadline = Instant::now() + limit;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                stdout.wait_closed(Duration::from_secs(2));
                stderr.wait_closed(Duration::from_secs(2));
                return Ok((
                    status,
                    stdout.snapshot().join("\n"),
                    stderr.snapshot().join("\n"),
                ));
            }
            Ok(None) if Instant::now() < deadline => thread::sleep(TICK),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("{what} did not finish within {limit:?}"));
            }
            Err(e) => return Err(format!("cannot wait for {what}: {e}")),
        }
    }
}

/// The five addresses of one daemon, all on free loopback ports.
#[derive(Debug, Clone)]
struct Addresses {
    reply_to_reply_stack: String,
    push_to_reply_stack: String,
    publish: String,
    pull: String,
    reply_stack: String,
}

impl Addresses {
    /// Probes five distinct free ports: all five listeners are held until every port is known, so that the
    /// system cannot hand out the same port twice; they are dropped just before the daemon binds.
    fn free() -> Addresses {
        let listeners: Vec<TcpListener> = (0..5)
            .map(|_| TcpListener::bind("127.0.0.1:0").expect("a free loopback port"))
            .collect();
        let mut addresses = listeners.iter().map(|l| {
            let port = l
                .local_addr()
                .expect("a bound listener has an address")
                .port();
            format!("tcp://127.0.0.1:{port}")
        });
        let mut next = || addresses.next().expect("five listeners");
        Addresses {
            reply_to_reply_stack: next(),
            push_to_reply_stack: next(),
            publish: next(),
            pull: next(),
            reply_stack: next(),
        }
    }
}

/// A running `pulsard`; killed when dropped.
struct Daemon {
    child: Child,
    stderr: Lines,
    stdout: Lines,
}

/// The settings a scenario varies.
struct DaemonSettings {
    /// `subscribersPerIteration` (N).
    subscribers: u32,
    /// `pulsationIterationPeriod`, seconds.
    period: f64,
    /// `maxWaitReplyStackResult`, seconds: how long a pulse waits for N workers before it goes with fewer.
    max_wait_reply_stack_result: f64,
    /// `publisherToSubscribersDto`: a file with the serialize() bytes to publish instead of the default pulse.
    pulse_file: Option<PathBuf>,
}

impl Daemon {
    /// Starts `pulsard` on free ports probed just before, for scenarios where the daemon comes first. A probed
    /// port can be taken by someone else before the daemon binds it (another test's connection, say): then the
    /// daemon reports "cannot bind" and exits, and it is tried again on fresh ports, a few times.
    fn start_on_free_ports(settings: &DaemonSettings) -> (Addresses, Daemon) {
        let mut failures = Vec::new();
        for _ in 0..3 {
            let addresses = Addresses::free();
            match Daemon::start(&addresses, settings) {
                Ok(daemon) => return (addresses, daemon),
                Err(log) if log.contains("cannot bind") => failures.push(log),
                Err(log) => panic!("pulsard did not start\n{log}"),
            }
        }
        panic!(
            "pulsard could not bind free ports three times\n{}",
            failures.join("\n")
        );
    }

    /// Starts `pulsard` and waits (bounded) for its readiness line, "pulsard listening", logged once every
    /// socket is bound. Err carries its log when it exits or stays silent instead.
    fn start(addresses: &Addresses, settings: &DaemonSettings) -> Result<Daemon, String> {
        let mut command = Command::new(env!("CARGO_BIN_EXE_pulsard"));
        if let Some(file) = &settings.pulse_file {
            command.arg("--publisher-to-subscribers-file").arg(file);
        }
        let mut child = command
            .arg("--reply-to-reply-stack-address")
            .arg(&addresses.reply_to_reply_stack)
            .arg("--push-to-reply-stack-address")
            .arg(&addresses.push_to_reply_stack)
            .arg("--publish-address")
            .arg(&addresses.publish)
            .arg("--pull-address")
            .arg(&addresses.pull)
            .arg("--reply-stack-address")
            .arg(&addresses.reply_stack)
            .arg("--subscribers-per-iteration")
            .arg(settings.subscribers.to_string())
            .arg("--pulsation-iteration-period")
            .arg(settings.period.to_string())
            .arg("--max-wait-reply-stack-result")
            .arg(settings.max_wait_reply_stack_result.to_string())
            // One JSON object per line: the per-pulse lines are read back below.
            .args(["--log-format", "json", "--log-level", "info"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the pulsard binary built by cargo starts");
        let stdout = Lines::collect(child.stdout.take().expect("stdout is piped"));
        let stderr = Lines::collect(child.stderr.take().expect("stderr is piped"));
        let mut daemon = Daemon {
            child,
            stderr,
            stdout,
        };
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if daemon
                .log_messages()
                .iter()
                .any(|m| m == "pulsard listening")
            {
                return Ok(daemon);
            }
            match daemon.child.try_wait() {
                Ok(None) if Instant::now() < deadline => thread::sleep(TICK),
                Ok(None) => {
                    return Err(format!(
                        "no \"pulsard listening\" line within 15 s\n{}",
                        daemon.diagnostics()
                    ))
                }
                Ok(Some(status)) => {
                    daemon.stderr.wait_closed(Duration::from_secs(2));
                    return Err(format!(
                        "pulsard exited ({status})\n{}",
                        daemon.diagnostics()
                    ));
                }
                Err(e) => return Err(format!("cannot query pulsard: {e}")),
            }
        }
    }

    /// The `fields` object of every JSON log line, in order.
    fn log_fields(&self) -> Vec<Json> {
        self.stderr
            .snapshot()
            .iter()
            .filter_map(|line| serde_json::from_str::<Json>(line).ok())
            .filter_map(|mut entry| entry.get_mut("fields").map(Json::take))
            .collect()
    }

    fn log_messages(&self) -> Vec<String> {
        self.log_fields()
            .iter()
            .filter_map(|f| f["message"].as_str().map(String::from))
            .collect()
    }

    /// Fails the test if the daemon has exited: it must survive every scenario.
    fn assert_alive(&mut self, context: &str) {
        match self.child.try_wait() {
            Ok(None) => {}
            Ok(Some(status)) => panic!(
                "{context}: pulsard exited early ({status})\n{}",
                self.diagnostics()
            ),
            Err(e) => panic!("{context}: cannot query pulsard: {e}"),
        }
    }

    /// The daemon's per-iteration log lines ("pulse iteration finished"), their `fields` objects in order.
    fn iteration_reports(&self) -> Vec<Json> {
        self.log_fields()
            .into_iter()
            .filter(|fields| fields["message"] == "pulse iteration finished")
            .collect()
    }

    /// Waits (bounded) until the iteration reports account for `grants` receivers in total, and returns them.
    /// The last report is logged when the last result reaches the daemon, just after the last worker exits.
    fn reports_covering(&self, grants: usize, deadline: Instant) -> Vec<Json> {
        let limit = deadline.min(Instant::now() + Duration::from_secs(5));
        loop {
            let reports = self.iteration_reports();
            if receivers(&reports).iter().sum::<usize>() >= grants || Instant::now() >= limit {
                return reports;
            }
            thread::sleep(TICK);
        }
    }

    fn diagnostics(&self) -> String {
        format!(
            "--- pulsard stderr (last 60 lines) ---\n{}\n--- pulsard stdout (last 20 lines) ---\n{}",
            self.stderr.tail(60),
            self.stdout.tail(20)
        )
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        // SIGKILL cannot be ignored, so the wait that follows is immediate.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One PHP worker to start: its id, its mode script and how many grants it runs for.
struct WorkerSpec {
    id: String,
    mode: String,
    iterations: u32,
    /// The exact class every pulse must have (`--pulse-class`); None for the original default.
    pulse_class: Option<String>,
}

impl WorkerSpec {
    fn new(id: impl Into<String>, mode: &str, iterations: u32) -> WorkerSpec {
        WorkerSpec {
            id: id.into(),
            mode: mode.into(),
            iterations,
            pulse_class: None,
        }
    }
}

struct Worker {
    id: String,
    child: Child,
    stdout: Lines,
    stderr: Lines,
    status: Option<ExitStatus>,
}

/// A group of PHP workers; every one still running is killed when dropped.
struct Fleet {
    workers: Vec<Worker>,
}

/// A parsed line of a worker's STDOUT.
#[derive(Debug, Clone, PartialEq)]
struct Event {
    kind: String,
    worker: String,
    at: f64,
    mode: String,
}

impl Fleet {
    fn start(addresses: &Addresses, specs: &[WorkerSpec]) -> Fleet {
        let script = php_dir().join("worker.php");
        let workers = specs
            .iter()
            .map(|spec| {
                let mut child = Command::new("php")
                    // Warnings must not mix with the event lines on STDOUT.
                    .args(["-d", "display_errors=stderr", "-d", "error_reporting=-1"])
                    .arg(&script)
                    .args(["--admission", &addresses.reply_stack])
                    .args(["--publish", &addresses.publish])
                    .args(["--push", &addresses.pull])
                    .args(["--id", &spec.id])
                    .args(["--mode", &spec.mode])
                    .args(["--iterations", &spec.iterations.to_string()])
                    .args(["--timeout-ms", &WORKER_TIMEOUT_MS.to_string()])
                    .args(
                        spec.pulse_class
                            .iter()
                            .flat_map(|class| ["--pulse-class", class.as_str()]),
                    )
                    .stdin(Stdio::null())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap_or_else(|e| panic!("cannot start php: {e}\n{INSTALL_HINT}"));
                let stdout = Lines::collect(child.stdout.take().expect("stdout is piped"));
                let stderr = Lines::collect(child.stderr.take().expect("stderr is piped"));
                Worker {
                    id: spec.id.clone(),
                    child,
                    stdout,
                    stderr,
                    status: None,
                }
            })
            .collect();
        Fleet { workers }
    }

    /// Every event line of every worker, in time order.
    fn events(&self) -> Vec<Event> {
        let mut events: Vec<Event> = self
            .workers
            .iter()
            .flat_map(|w| w.stdout.snapshot())
            .filter_map(|line| {
                let mut parts = line.split_whitespace();
                let kind = parts.next()?.to_string();
                let worker = parts.next()?.to_string();
                let at = parts.next()?.parse::<f64>().ok()?;
                let mode = parts.next().unwrap_or("").to_string();
                Some(Event {
                    kind,
                    worker,
                    at,
                    mode,
                })
            })
            .collect();
        events.sort_by(|a, b| a.at.total_cmp(&b.at));
        events
    }

    /// The `GRANT` events, in time order.
    fn grants(&self) -> Vec<Event> {
        self.events()
            .into_iter()
            .filter(|e| e.kind == "GRANT")
            .collect()
    }

    fn count_lines(&self, prefix: &str) -> usize {
        self.workers
            .iter()
            .flat_map(|w| w.stdout.snapshot())
            .filter(|l| l.starts_with(prefix))
            .count()
    }

    /// Waits (bounded) until every worker has printed at least one line starting with `prefix`.
    fn wait_each_printed(&self, prefix: &str, deadline: Instant) -> Result<(), String> {
        while Instant::now() < deadline {
            if self
                .workers
                .iter()
                .all(|w| w.stdout.snapshot().iter().any(|l| l.starts_with(prefix)))
            {
                return Ok(());
            }
            thread::sleep(TICK);
        }
        Err(format!("not every worker printed `{prefix}` in time"))
    }

    /// Workers that have exited so far (reaps them).
    fn exited(&mut self) -> Vec<String> {
        self.workers
            .iter_mut()
            .filter_map(|w| {
                if w.status.is_none() {
                    w.status = w.child.try_wait().ok().flatten();
                }
                w.status.map(|s| format!("{} ({s})", w.id))
            })
            .collect()
    }

    /// Waits (bounded) for every worker to exit; Err if the deadline passes first or any worker failed. The
    /// first failure ends the wait at once: the others would only run into their own timeouts.
    fn wait_all(&mut self, deadline: Instant) -> Result<(), String> {
        loop {
            let mut running = 0;
            let mut failed = false;
            for w in &mut self.workers {
                if w.status.is_none() {
                    match w.child.try_wait() {
                        Ok(Some(status)) => w.status = Some(status),
                        Ok(None) => running += 1,
                        Err(e) => return Err(format!("cannot wait for worker {}: {e}", w.id)),
                    }
                }
                failed |= w.status.is_some_and(|s| !s.success());
            }
            if running == 0 || failed {
                break;
            }
            if Instant::now() >= deadline {
                return Err(format!("{running} worker(s) still running at the deadline"));
            }
            thread::sleep(TICK);
        }
        // Their pipes close with the exit; make sure the readers have stored the last lines.
        for w in self.workers.iter().filter(|w| w.status.is_some()) {
            w.stdout.wait_closed(Duration::from_secs(2));
            w.stderr.wait_closed(Duration::from_secs(2));
        }
        let mut unfinished: Vec<&Worker> = self
            .workers
            .iter()
            .filter(|w| !w.status.is_some_and(|s| s.success()))
            .collect();
        // The ones that failed first: they are the news; the still-running ones are only stopped because of them.
        unfinished.sort_by_key(|w| w.status.is_none());
        let failed: Vec<String> = unfinished
            .into_iter()
            .map(|w| match w.status {
                Some(status) => format!("worker {} failed ({status}): {}", w.id, w.stderr.tail(5)),
                None => format!("worker {} still running (stopped by the test)", w.id),
            })
            .collect();
        if failed.is_empty() {
            Ok(())
        } else {
            Err(failed.join("\n"))
        }
    }

    fn diagnostics(&self) -> String {
        let mut out = String::from("--- PHP workers ---\n");
        for w in &self.workers {
            out.push_str(&format!(
                "worker {} status {:?}\n  stdout: {}\n  stderr: {}\n",
                w.id,
                w.status,
                w.stdout.tail(40).replace('\n', "\n          "),
                w.stderr.tail(10).replace('\n', "\n          "),
            ));
        }
        out
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        for w in &mut self.workers {
            if w.status.is_none() {
                let _ = w.child.kill();
                let _ = w.child.wait();
            }
        }
    }
}

/// Everything a failing assertion should show.
fn diagnostics(daemon: Option<&Daemon>, fleet: &Fleet) -> String {
    let grants = fleet
        .grants()
        .iter()
        .map(|g| format!("{:.6} {} {}", g.at, g.worker, g.mode))
        .collect::<Vec<_>>()
        .join("\n");
    format!(
        "--- grants (time, worker, mode) ---\n{grants}\n{}{}",
        fleet.diagnostics(),
        daemon.map(Daemon::diagnostics).unwrap_or_default()
    )
}

/// Waits for the fleet and fails with the full picture if it does not finish cleanly in time.
fn finish(fleet: &mut Fleet, daemon: &mut Daemon, deadline: Instant) {
    if let Err(why) = fleet.wait_all(deadline) {
        panic!("{why}\n{}", diagnostics(Some(daemon), fleet));
    }
    daemon.assert_alive("after the workers finished");
}

/// Starts the workers first and the daemon after them, on free ports: the workers' requests are queued by
/// libzmq before anything listens. `while_no_daemon` runs once every worker has sent its first request and
/// before the daemon starts. Probed ports can be taken before the daemon binds them (the workers' own
/// reconnection attempts use ephemeral ports too); then the whole start is retried on fresh ports.
fn workers_then_daemon(
    specs: &[WorkerSpec],
    settings: &DaemonSettings,
    deadline: Instant,
    while_no_daemon: impl Fn(&mut Fleet),
) -> (Fleet, Daemon) {
    let mut failures = Vec::new();
    for _ in 0..3 {
        let addresses = Addresses::free();
        let mut fleet = Fleet::start(&addresses, specs);
        if let Err(why) = fleet.wait_each_printed("ASK ", deadline) {
            panic!("{why}\n{}", diagnostics(None, &fleet));
        }
        while_no_daemon(&mut fleet);
        match Daemon::start(&addresses, settings) {
            Ok(daemon) => return (fleet, daemon),
            Err(log) if log.contains("cannot bind") => failures.push(log),
            Err(log) => panic!("pulsard did not start\n{log}"),
        }
    }
    panic!(
        "pulsard could not bind free ports three times\n{}",
        failures.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------------------------
// Reading the grants
// ---------------------------------------------------------------------------------------------------------------

/// How many workers each pulse reached, from the daemon's iteration reports.
fn receivers(reports: &[Json]) -> Vec<usize> {
    reports
        .iter()
        .map(|r| r["receivers"].as_u64().map_or(usize::MAX, |n| n as usize))
        .collect()
}

/// The value of one field in every iteration report, as text (e.g. the `adaptation` sequence).
fn field(reports: &[Json], name: &str) -> Vec<String> {
    reports
        .iter()
        .map(|r| match &r[name] {
            Json::String(text) => text.clone(),
            other => other.to_string(),
        })
        .collect()
}

/// Cuts the time-ordered PHP grants into the daemon's pulses, by the daemon's receiver counts. This is exact,
/// not a guess from gaps: the next pulse only leaves after every receiver of this one has reported, and each
/// worker stamps its grant before it reports, so all grants of pulse k are stamped before any of pulse k + 1.
/// Returns None when the counts do not add up to the grants.
fn cut_into_pulses(grants: &[Event], sizes: &[usize]) -> Option<Vec<Vec<Event>>> {
    if sizes.iter().sum::<usize>() != grants.len() {
        return None;
    }
    let mut rest = grants;
    let mut pulses = Vec::with_capacity(sizes.len());
    for &size in sizes {
        let (pulse, tail) = rest.split_at(size);
        pulses.push(pulse.to_vec());
        rest = tail;
    }
    Some(pulses)
}

/// A pulse reaches each worker at most once: a cheap check that the cut above matches what happened.
fn distinct_workers(pulse: &[Event]) -> bool {
    let mut ids: Vec<&str> = pulse.iter().map(|g| g.worker.as_str()).collect();
    ids.sort_unstable();
    ids.windows(2).all(|w| w[0] != w[1])
}

/// The largest number of grants inside any half-open window `[t, t + width)`.
fn max_in_window(grants: &[Event], width: f64) -> usize {
    let times: Vec<f64> = grants.iter().map(|g| g.at).collect();
    let mut best = 0;
    let mut end = 0;
    for start in 0..times.len() {
        while end < times.len() && times[end] < times[start] + width {
            end += 1;
        }
        best = best.max(end - start);
    }
    best
}

// ---------------------------------------------------------------------------------------------------------------
// Scenarios
// ---------------------------------------------------------------------------------------------------------------

/// (a) The PHP classes the workers use reproduce the original library's bytes exactly.
#[test]
fn php_protocol_classes_reproduce_the_golden_vectors() {
    require_php_with_zmq();
    let script = php_dir().join("check_vectors.php");
    let (status, stdout, stderr) = run_bounded(
        Command::new("php").arg(&script),
        Duration::from_secs(30),
        "check_vectors.php",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        status.success(),
        "check_vectors.php failed ({status}):\n{stderr}\n{stdout}"
    );
    // It must have compared something: a run that found no vectors is not a pass.
    assert!(
        stdout.contains("compared 15 vector(s)"),
        "check_vectors.php compared fewer vectors than the 15 of the spec:\n{stdout}"
    );
}

/// (b) Six original workers, N = 3, period 0.5 s: everyone is served, never more than N per period.
#[test]
fn original_workers_get_at_most_n_grants_per_period() {
    require_php_with_zmq();
    let deadline = Instant::now() + Duration::from_secs(40);
    let (n, period) = (3_usize, 0.5);
    let (addresses, mut daemon) = Daemon::start_on_free_ports(&DaemonSettings {
        subscribers: n as u32,
        period,
        max_wait_reply_stack_result: 0.5,
        pulse_file: None,
    });
    let specs: Vec<WorkerSpec> = (1..=6)
        .map(|i| WorkerSpec::new(format!("w{i}"), "success", 4))
        .collect();
    let mut fleet = Fleet::start(&addresses, &specs);
    finish(&mut fleet, &mut daemon, deadline);

    let grants = fleet.grants();
    let reports = daemon.reports_covering(grants.len(), deadline);
    let why = || diagnostics(Some(&daemon), &fleet);
    assert_eq!(grants.len(), 24, "6 workers x 4 grants\n{}", why());
    for spec in &specs {
        let done = format!("DONE {} 4", spec.id);
        assert!(
            fleet.count_lines(&done) == 1,
            "{} did not finish its 4 iterations\n{}",
            spec.id,
            why()
        );
    }

    // The daemon's view: every pulse within N, and together they account for every PHP grant.
    let sizes = receivers(&reports);
    assert!(
        sizes.iter().all(|&size| (1..=n).contains(&size)),
        "pulse sizes {sizes:?} outside 1..=N\n{}",
        why()
    );
    let pulses = cut_into_pulses(&grants, &sizes).unwrap_or_else(|| {
        panic!(
            "pulses {sizes:?} do not add up to the PHP grants\n{}",
            why()
        )
    });
    assert!(pulses.iter().all(|p| distinct_workers(p)), "{}", why());
    // With six workers always waiting, the pulses must actually carry N, not trickle one by one.
    assert!(
        sizes.contains(&n),
        "no pulse carried N = {n}: {sizes:?}\n{}",
        why()
    );
    assert!(
        field(&reports, "adaptation").iter().all(|a| a == "Steady"),
        "nobody reported an error, so nothing should adapt\n{}",
        why()
    );

    // The workers' view. The daemon keeps publishes at least a period apart; a PHP worker stamps its grant a
    // little after the publish, by a delay that varies with scheduling. A window of 0.8 x period tolerates up
    // to 0.2 x period (100 ms) of difference between two workers' wake-up delays while still catching two
    // pulses that left less than a period apart with more than N receivers together.
    let busiest = max_in_window(&grants, 0.8 * period);
    assert!(
        busiest <= n,
        "{busiest} grants within {:.2} s, more than N = {n}\n{}",
        0.8 * period,
        why()
    );
}

/// (c) Rate-limit errors make the pulses narrower (3 → 2 → 1), then make the pause between pulses grow by the
/// 1 s step, and success brings everything back.
///
/// Three workers each report `slowDown` for their first three grants, then succeed. The engine decides on the
/// first error of a pulse released after its last decision, and recovers one step per clean pulse, so the
/// decisions (leaving out the pulses that went out before a decision) must read: Narrowed, Narrowed (N = 1),
/// then pause steps (each PauseGrown adds 1 s, each PauseShrunk takes 1 s off, never below zero, as many of
/// each), then Widened, Widened (N = 3 again). Which worker's report lands on which pulse depends on how their
/// first requests reach the daemon, so the order of grows and shrinks is not fixed. Nor is the total pause: a
/// freshly started daemon pulses the first worker that subscribes, so the slow-downs may land on pulses of one
/// and grow the pause six times (about 32 s of pauses in all) rather than four (16 s); the deadline allows that.
#[test]
fn slow_down_reports_narrow_the_pulse_then_grow_the_pause_then_recover() {
    require_php_with_zmq();
    let deadline = Instant::now() + Duration::from_secs(90);
    let (n, period) = (3_usize, 0.2);
    let specs: Vec<WorkerSpec> = (1..=3)
        .map(|i| WorkerSpec::new(format!("s{i}"), "slowdown*3,success*6", 9))
        .collect();
    let settings = DaemonSettings {
        subscribers: n as u32,
        period,
        max_wait_reply_stack_result: 1.0,
        pulse_file: None,
    };
    let (mut fleet, mut daemon) = workers_then_daemon(&specs, &settings, deadline, |_| {});
    finish(&mut fleet, &mut daemon, deadline);

    let grants = fleet.grants();
    let reports = daemon.reports_covering(grants.len(), deadline);
    let why = || diagnostics(Some(&daemon), &fleet);
    assert_eq!(grants.len(), 27, "3 workers x 9 grants\n{}", why());

    let sizes = receivers(&reports);
    let ns: Vec<usize> = field(&reports, "n")
        .iter()
        .map(|v| v.parse().unwrap_or(usize::MAX))
        .collect();
    for (size, n_then) in sizes.iter().zip(&ns) {
        assert!(
            size <= n_then && *n_then <= n,
            "a pulse of {size} with N = {n_then}\n{}",
            why()
        );
    }
    let decisions: Vec<String> = field(&reports, "adaptation")
        .into_iter()
        .filter(|a| a != "Superseded" && a != "Steady")
        .collect();
    let narrowed_first = decisions.len() >= 4 && decisions[..2] == ["Narrowed", "Narrowed"];
    let widened_last = decisions.ends_with(&["Widened".to_string(), "Widened".to_string()]);
    assert!(narrowed_first && widened_last, "{decisions:?}\n{}", why());
    let (mut pause, mut grown) = (0_i64, 0_i64);
    for d in &decisions[2..decisions.len() - 2] {
        pause += match d.as_str() {
            "PauseGrown" => 1,
            "PauseShrunk" => -1,
            other => panic!(
                "unexpected decision {other} at N = 1: {decisions:?}\n{}",
                why()
            ),
        };
        assert!(pause >= 0, "{decisions:?}\n{}", why());
        grown = grown.max(pause);
    }
    assert!(
        grown >= 1 && pause == 0,
        "the pause grows, then goes: {decisions:?}\n{}",
        why()
    );

    // The workers see the same thing: the pulses add up to their grants, each reaches distinct workers, and
    // while the pause was largest two grants were at least that far apart.
    let pulses = cut_into_pulses(&grants, &sizes).unwrap_or_else(|| {
        panic!(
            "pulses {sizes:?} do not add up to the PHP grants\n{}",
            why()
        )
    });
    assert!(pulses.iter().all(|p| distinct_workers(p)), "\n{}", why());
    let widest_gap = grants
        .windows(2)
        .map(|w| w[1].at - w[0].at)
        .fold(0.0, f64::max);
    assert!(
        widest_gap >= grown as f64 - CLOCK_SLACK,
        "the widest gap between grants is {widest_gap:.3} s, less than the {grown} s pause\n{}",
        why()
    );
}

/// (d) A pause-for-period report (`ErrorSleepForPeriod`, 1.5 s) stops every pulse for that long.
///
/// N = 1 makes every pulse a single grant, so the grant that follows the report in time is the next pulse's
/// (the daemon only starts a new iteration once the current receiver has reported).
#[test]
fn sleep_for_period_report_pauses_every_worker() {
    require_php_with_zmq();
    let deadline = Instant::now() + Duration::from_secs(40);
    let period = 0.2;
    let pause = 1.5;
    let (addresses, mut daemon) = Daemon::start_on_free_ports(&DaemonSettings {
        subscribers: 1,
        period,
        max_wait_reply_stack_result: 0.5,
        pulse_file: None,
    });
    let specs = [
        WorkerSpec::new("p1", "success*2,pause:1500000,success", 5),
        WorkerSpec::new("p2", "success", 5),
        WorkerSpec::new("p3", "success", 5),
    ];
    let mut fleet = Fleet::start(&addresses, &specs);
    finish(&mut fleet, &mut daemon, deadline);

    let events = fleet.events();
    let grants = fleet.grants();
    let reports = daemon.reports_covering(grants.len(), deadline);
    let why = || diagnostics(Some(&daemon), &fleet);
    assert_eq!(grants.len(), 15, "3 workers x 5 grants\n{}", why());

    // The daemon paused once, for the reported period, and did not narrow (N stays 1, one receiver a pulse).
    let adaptations = field(&reports, "adaptation");
    let paused: Vec<&String> = adaptations
        .iter()
        .filter(|a| a.starts_with("PauseForPeriod"))
        .collect();
    assert_eq!(
        paused.len(),
        1,
        "one pause-for-period: {adaptations:?}\n{}",
        why()
    );
    assert!(
        paused[0].contains("1500000000"),
        "the pause is the reported 1 500 000 µs: {}\n{}",
        paused[0],
        why()
    );
    assert!(
        receivers(&reports).iter().all(|&size| size == 1),
        "{}",
        why()
    );

    // The workers' view: nobody is granted anything during the period.
    let pause_reports: Vec<&Event> = events
        .iter()
        .filter(|e| e.kind == "REPORT" && e.mode == "pause:1500000")
        .collect();
    assert_eq!(pause_reports.len(), 1, "one pause report\n{}", why());
    let reported_at = pause_reports[0].at;
    let next = grants
        .iter()
        .find(|g| g.at > reported_at)
        .unwrap_or_else(|| panic!("no grant after the pause report\n{}", why()));
    assert!(
        next.at - reported_at >= pause - CLOCK_SLACK,
        "the next grant ({} at {:.6}) came {:.3} s after the pause report, within the {pause} s period\n{}",
        next.worker,
        next.at,
        next.at - reported_at,
        why()
    );
}

/// (e) Workers started before the daemon wait (libzmq queues their requests) and are served once it is up.
#[test]
fn workers_started_before_the_daemon_are_served_once_it_is_up() {
    require_php_with_zmq();
    let deadline = Instant::now() + Duration::from_secs(30);
    let specs: Vec<WorkerSpec> = (1..=3)
        .map(|i| WorkerSpec::new(format!("e{i}"), "success", 2))
        .collect();
    let settings = DaemonSettings {
        subscribers: 3,
        period: 0.2,
        max_wait_reply_stack_result: 0.5,
        pulse_file: None,
    };
    let (mut fleet, mut daemon) = workers_then_daemon(&specs, &settings, deadline, |fleet| {
        // A second with nobody to answer: every worker must still be waiting, none granted, none given up.
        thread::sleep(Duration::from_secs(1));
        let exited = fleet.exited();
        assert!(
            exited.is_empty(),
            "workers gave up before the daemon started: {exited:?}\n{}",
            diagnostics(None, fleet)
        );
        assert_eq!(
            fleet.count_lines("GRANT "),
            0,
            "a grant without a daemon\n{}",
            diagnostics(None, fleet)
        );
    });
    finish(&mut fleet, &mut daemon, deadline);
    let grants = fleet.grants();
    let why = || diagnostics(Some(&daemon), &fleet);
    assert_eq!(grants.len(), 6, "3 workers x 2 grants\n{}", why());
    for spec in &specs {
        assert_eq!(
            fleet.count_lines(&format!("DONE {} 2", spec.id)),
            1,
            "{} did not finish\n{}",
            spec.id,
            why()
        );
    }
}

/// (f) A user subclass of the pulse (`publisherToSubscribersDto`, here the object of golden vector 04) reaches
/// unchanged workers byte for byte: each of them unserializes it into that very class.
#[test]
fn custom_pulse_subclass_reaches_original_workers() {
    require_php_with_zmq();
    let deadline = Instant::now() + Duration::from_secs(30);
    let pulse_file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../wire/tests/vectors/04_CustomPublisherToSubscribersDto.bin");
    assert!(
        pulse_file.is_file(),
        "golden vector 04 missing: {}",
        pulse_file.display()
    );
    let (addresses, mut daemon) = Daemon::start_on_free_ports(&DaemonSettings {
        subscribers: 2,
        period: 0.2,
        max_wait_reply_stack_result: 0.5,
        pulse_file: Some(pulse_file),
    });
    let specs: Vec<WorkerSpec> = (1..=2)
        .map(|i| WorkerSpec {
            pulse_class: Some("PulsarHarness\\CustomPublisherToSubscribersDto".into()),
            ..WorkerSpec::new(format!("c{i}"), "success", 2)
        })
        .collect();
    let mut fleet = Fleet::start(&addresses, &specs);
    // A worker exits non-zero if a pulse is not exactly that class (or does not allow the action).
    finish(&mut fleet, &mut daemon, deadline);
    let why = || diagnostics(Some(&daemon), &fleet);
    assert_eq!(fleet.grants().len(), 4, "2 workers x 2 grants\n{}", why());
    let listening = daemon
        .log_fields()
        .into_iter()
        .find(|f| f["message"] == "pulsard listening");
    assert_eq!(
        listening.map(|f| f["custom_pulse"].clone()),
        Some(Json::Bool(true)),
        "pulsard should say it publishes a custom pulse\n{}",
        why()
    );
}
