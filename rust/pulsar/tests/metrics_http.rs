//! `pulsard --metrics-address`: `/metrics` agrees with what unchanged PHP workers (original protocol,
//! `tests/php/worker.php`) saw, `/healthz` turns 503 during a pause-for-period and back, `pulsard status`
//! summarises a live daemon and fails clearly on a dead address, and `PULSARD_*` settings take effect.
//!
//! Each test starts its own `pulsard` on free loopback ports (retried if a probed port is taken meanwhile) and
//! bounds every wait; nothing asserts speed. PHP 8.2 CLI with ext-zmq is required (as for `php_workers.rs`).
//!
//! This file must never use fixed ports or wait without a deadline.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

#[path = "ports_support/mod.rs"]
mod ports_support;
use ports_support::free_ports;

use publisher_pulsar::metrics::{http_get, parse_samples, Sample};
use serde_json::Value as Json;

const PULSARD: &str = env!("CARGO_BIN_EXE_pulsard");
const TICK: Duration = Duration::from_millis(20);

/// A running `pulsard` whose JSON log lines are collected; killed when dropped.
struct Pulsard {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
    reply_stack: String,
    publish: String,
    pull: String,
    metrics: String,
}

impl Pulsard {
    /// Starts pulsard with `args` and `env` on free ports, waiting (bounded) for "pulsard listening".
    fn start(args: &[&str], env: &[(&str, &str)]) -> Pulsard {
        let mut failures = Vec::new();
        for _ in 0..3 {
            match Pulsard::try_start(args, env) {
                Ok(daemon) => return daemon,
                Err(log) => failures.push(log),
            }
        }
        panic!(
            "pulsard did not start three times:\n{}",
            failures.join("\n---\n")
        );
    }

    fn try_start(args: &[&str], env: &[(&str, &str)]) -> Result<Pulsard, String> {
        let ports = free_ports::<4>();
        let [reply_stack, publish, pull] =
            [ports[0], ports[1], ports[2]].map(|p| format!("tcp://127.0.0.1:{p}"));
        let metrics = format!("127.0.0.1:{}", ports[3]);
        let mut command = Command::new(PULSARD);
        command
            .args(["--log-format", "json", "--log-level", "info"])
            .args(["--reply-stack-address", &reply_stack])
            .args(["--publish-address", &publish])
            .args(["--pull-address", &pull])
            .args(["--reply-to-reply-stack-address", "tcp://127.0.0.1:*"])
            .args(["--push-to-reply-stack-address", "tcp://127.0.0.1:*"])
            .args(["--metrics-address", &metrics])
            .args(args)
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = command.spawn().expect("start pulsard");
        let stderr = child.stderr.take().expect("piped stderr");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&lines);
        thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                sink.lock().unwrap_or_else(|e| e.into_inner()).push(line);
            }
        });
        let mut daemon = Pulsard {
            child,
            lines,
            reply_stack,
            publish,
            pull,
            metrics,
        };
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if daemon
                .messages()
                .iter()
                .any(|f| f["message"] == "pulsard listening")
            {
                return Ok(daemon);
            }
            if let Ok(Some(status)) = daemon.child.try_wait() {
                thread::sleep(Duration::from_millis(200));
                return Err(format!("pulsard exited ({status}):\n{}", daemon.log()));
            }
            if Instant::now() > deadline {
                return Err(format!("no readiness line within 15 s:\n{}", daemon.log()));
            }
            thread::sleep(TICK);
        }
    }

    fn log(&self) -> String {
        self.lines
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .join("\n")
    }

    /// The `fields` of every JSON log line.
    fn messages(&self) -> Vec<Json> {
        self.lines
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter_map(|l| serde_json::from_str::<Json>(l).ok())
            .filter_map(|mut j| j.get_mut("fields").map(Json::take))
            .collect()
    }

    fn get(&self, path: &str) -> (u16, String) {
        http_get(&self.metrics, path, Duration::from_secs(5), 1 << 20)
            .unwrap_or_else(|e| panic!("GET {path}: {e}\n{}", self.log()))
    }

    fn samples(&self) -> Vec<Sample> {
        let (status, text) = self.get("/metrics");
        assert_eq!(status, 200, "{text}");
        parse_samples(&text)
    }

    /// The value of the sample `name` with the label `label` (if any), 0 when absent.
    fn value(&self, name: &str, label: Option<(&str, &str)>) -> f64 {
        value(&self.samples(), name, label)
    }

    /// Waits (bounded) until `condition` holds; panics with the log and `what` otherwise.
    fn wait_until(&self, what: &str, limit: Duration, mut condition: impl FnMut(&Pulsard) -> bool) {
        let deadline = Instant::now() + limit;
        while !condition(self) {
            assert!(
                Instant::now() < deadline,
                "{what}: not within {limit:?}\n{}\n--- /metrics ---\n{}",
                self.log(),
                self.get("/metrics").1
            );
            thread::sleep(TICK);
        }
    }

    /// Receivers of every pulse, from the per-pulse log lines.
    fn receivers(&self) -> Vec<u64> {
        self.messages()
            .iter()
            .filter(|f| f["message"] == "pulse iteration finished")
            .filter_map(|f| f["receivers"].as_u64())
            .collect()
    }
}

impl Drop for Pulsard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn value(samples: &[Sample], name: &str, label: Option<(&str, &str)>) -> f64 {
    samples
        .iter()
        .find(|s| s.name == name && label.is_none_or(|(k, v)| s.label(k) == Some(v)))
        .map_or(0.0, |s| s.value)
}

/// Runs original-protocol PHP workers to completion (bounded) and returns how many grants they saw.
fn run_php_workers(daemon: &Pulsard, workers: usize, iterations: u32, mode: &str) -> usize {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/php/worker.php");
    let children: Vec<Child> = (0..workers)
        .map(|i| {
            Command::new("php")
                .args(["-d", "display_errors=stderr"])
                .arg(&script)
                .args(["--admission", &daemon.reply_stack])
                .args(["--publish", &daemon.publish])
                .args(["--push", &daemon.pull])
                .args(["--id", &format!("w{i}")])
                .args(["--mode", mode])
                .args(["--iterations", &iterations.to_string()])
                .args(["--timeout-ms", "20000"])
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("php with ext-zmq (apt-get install -y php8.2-cli php-zmq)")
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut grants = 0;
    for mut child in children {
        loop {
            match child.try_wait().expect("wait for php") {
                Some(status) => {
                    let mut out = String::new();
                    let mut err = String::new();
                    if let Some(mut o) = child.stdout.take() {
                        let _ = o.read_to_string(&mut out);
                    }
                    if let Some(mut e) = child.stderr.take() {
                        let _ = e.read_to_string(&mut err);
                    }
                    assert!(
                        status.success(),
                        "a PHP worker failed ({status}): {err}\n{out}"
                    );
                    grants += out.lines().filter(|l| l.starts_with("GRANT ")).count();
                    break;
                }
                None if Instant::now() < deadline => thread::sleep(TICK),
                None => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("a PHP worker did not finish within 60 s\n{}", daemon.log());
                }
            }
        }
    }
    grants
}

fn status_command(args: &[&str]) -> Output {
    let mut child = Command::new(PULSARD)
        .arg("status")
        .args(args)
        .env_remove("PULSARD_METRICS_ADDRESS")
        .env_remove("PULSARD_CONFIG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start pulsard status");
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("pulsard status did not finish within 20 s");
        }
        thread::sleep(TICK);
    }
    child.wait_with_output().expect("status output")
}

#[test]
fn metrics_match_php_workers_and_health_follows_a_pause_for_period() {
    let daemon = Pulsard::start(
        &[
            "--subscribers-per-iteration",
            "3",
            "--pulsation-iteration-period",
            "0.2",
            "--max-wait-reply-stack-result",
            "0.5",
        ],
        &[],
    );
    // The readiness line comes right before the loop starts: healthy within a moment.
    daemon.wait_until("healthy at start", Duration::from_secs(10), |d| {
        d.get("/healthz") == (200, "ok\n".into())
    });
    assert_eq!(daemon.get("/nowhere").0, 404);

    let grants = run_php_workers(&daemon, 3, 3, "success");
    assert_eq!(grants, 9);
    // Results reach the daemon just before each worker exits: wait until the last is counted.
    daemon.wait_until("9 successes counted", Duration::from_secs(10), |d| {
        d.value("pulsar_results_total", Some(("outcome", "success"))) == 9.0
    });
    let samples = daemon.samples();
    assert_eq!(value(&samples, "pulsar_grants_total", None), grants as f64);
    let pulses = value(&samples, "pulsar_pulses_total", None);
    assert!((3.0..=9.0).contains(&pulses), "{pulses} pulses");
    assert_eq!(
        value(&samples, "pulsar_admission_wait_seconds_count", None),
        grants as f64,
        "one admission wait per grant"
    );
    assert_eq!(
        value(
            &samples,
            "pulsar_admission_wait_seconds_bucket",
            Some(("le", "+Inf"))
        ),
        grants as f64
    );
    assert_eq!(
        value(&samples, "pulsar_subscribers_per_iteration", None),
        3.0
    );
    assert_eq!(
        value(
            &samples,
            "pulsar_configured_subscribers_per_iteration",
            None
        ),
        3.0
    );
    assert_eq!(
        value(&samples, "pulsar_paused_until_timestamp_seconds", None),
        0.0
    );

    // A worker asks for a pause-for-period of 3 s: the daemon is unhealthy while it lasts, then healthy again.
    assert_eq!(run_php_workers(&daemon, 1, 1, "pause:3000000"), 1);
    daemon.wait_until("a 503 during the pause", Duration::from_secs(10), |d| {
        let (status, body) = d.get("/healthz");
        status == 503 && body.contains("paused for period")
    });
    let samples = daemon.samples();
    assert!(value(&samples, "pulsar_paused_until_timestamp_seconds", None) > 1e9);
    assert_eq!(
        value(
            &samples,
            "pulsar_results_total",
            Some(("outcome", "sleep_for_period"))
        ),
        1.0
    );
    daemon.wait_until("200 after the pause", Duration::from_secs(15), |d| {
        d.get("/healthz") == (200, "ok\n".into())
    });
    assert_eq!(
        daemon.value("pulsar_paused_until_timestamp_seconds", None),
        0.0
    );

    // `pulsard status` reads the same figures.
    let out = status_command(&["--metrics-address", &daemon.metrics]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(text.contains("N in force / configured: 3 / 3"), "{text}");
    assert!(text.contains("grants total:            10"), "{text}");
    assert!(text.contains("errors total:            1"), "{text}");
    assert!(
        text.contains("paused until:            not paused"),
        "{text}"
    );
    assert!(text.contains("admission wait p50/p99:"), "{text}");
    let out = status_command(&["--metrics-address", &daemon.metrics, "--json"]);
    let json: Json = serde_json::from_slice(&out.stdout).expect("status --json prints JSON");
    assert_eq!(json["grants_total"], 10.0);
    assert_eq!(json["refused_connections_limit_total"], 0.0);
    // The workers have gone: no connection open, none refused; the limit is 1024 or, under a lower descriptor
    // limit, what the daemon lowered it to.
    let max = json["max_connections"].as_f64().expect("max_connections");
    assert!((1.0..=1024.0).contains(&max), "{json}");
    assert!(
        text.contains(&format!(
            "connections open / max:  0 / {max} (refused: 0 not in allowFrom, 0 at the limit)"
        )),
        "{text}"
    );
    assert!(
        json["admission_wait_p99_seconds"].as_f64().is_some(),
        "{json}"
    );
}

#[test]
fn status_exits_1_when_the_daemon_is_unreachable() {
    let port = free_ports::<1>()[0];
    let out = status_command(&["--metrics-address", &format!("127.0.0.1:{port}")]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot reach the daemon's metrics"),
        "{stderr}"
    );
    let out = status_command(&[]);
    assert_eq!(out.status.code(), Some(2), "no address at all: {out:?}");
}

#[test]
fn settings_come_from_the_environment_below_flags_above_the_file() {
    let file = std::env::temp_dir().join(format!("pulsard-env-test-{}.json", std::process::id()));
    std::fs::write(
        &file,
        r#"{"subscribersPerIteration": 7, "moduleName": "from-file"}"#,
    )
    .expect("write a config file");
    let file_arg = file.display().to_string();
    let daemon = Pulsard::start(
        &["--pulsation-iteration-period", "1"],
        &[
            ("PULSARD_CONFIG", file_arg.as_str()),
            // The environment wins over the file.
            ("PULSARD_SUBSCRIBERS_PER_ITERATION", "3"),
            ("PULSARD_MAX_WAIT_REPLY_STACK_RESULT", "5"),
            // A flag wins over the environment.
            ("PULSARD_PULSATION_ITERATION_PERIOD", "abc"),
        ],
    );
    let _ = std::fs::remove_file(&file);
    assert_eq!(
        daemon.value("pulsar_configured_subscribers_per_iteration", None),
        3.0
    );
    let listening = daemon
        .messages()
        .into_iter()
        .find(|f| f["message"] == "pulsard listening")
        .expect("the readiness line");
    assert_eq!(
        listening["module"], "from-file",
        "the file still applies: {listening}"
    );
    assert_eq!(
        listening["pulsation_iteration_period"], 1.0,
        "the flag wins: {listening}"
    );
    let grants = run_php_workers(&daemon, 6, 1, "success");
    assert_eq!(grants, 6);
    daemon.wait_until("6 results counted", Duration::from_secs(10), |d| {
        d.value("pulsar_results_total", Some(("outcome", "success"))) == 6.0
    });
    daemon.wait_until("two pulse lines", Duration::from_secs(10), |d| {
        d.receivers().iter().sum::<u64>() == 6
    });
    let receivers = daemon.receivers();
    // Never more than the N from the environment, and N = 3 was used: 6 workers at once fill pulses of 3
    // (a ready worker waits up to a tenth of the period, 0.1 s, for admitted company).
    assert!(receivers.iter().all(|r| *r <= 3), "{receivers:?}");
    assert_eq!(receivers.iter().max(), Some(&3), "{receivers:?}");
}

#[test]
fn slow_and_oversized_http_clients_do_not_stall_the_endpoint() {
    use std::io::Write;
    let daemon = Pulsard::start(&[], &[]);
    // A client that connects and says nothing holds the server for at most its deadline (2 s).
    let silent = std::net::TcpStream::connect(&daemon.metrics).expect("connect");
    // One whose request head fills 8 KiB without ending gets 431, and is closed.
    let mut flood = std::net::TcpStream::connect(&daemon.metrics).expect("connect");
    flood
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    // Exactly the limit and no end of head: the server reads it all, so its close is a clean one (no unread
    // bytes that would turn it into a reset racing the answer).
    let start = b"GET /metrics HTTP/1.1\r\nX-Filler: ";
    let mut head = start.to_vec();
    head.resize(publisher_pulsar::metrics::MAX_REQUEST_HEAD, b'a');
    flood.write_all(&head).expect("send the head");
    let mut answer = Vec::new();
    let _ = flood.take(1 << 16).read_to_end(&mut answer);
    assert!(
        String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 431"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    // A well-behaved scrape is still answered (bounded by http_get's own timeout).
    let (status, text) = daemon.get("/metrics");
    assert_eq!(status, 200);
    assert!(text.contains("pulsar_grants_total 0"), "{text}");
    drop(silent);
}

#[test]
fn status_watch_redraws_the_summary_with_rates_until_interrupted() {
    let daemon = Pulsard::start(&[], &[]);
    let mut child = Command::new(PULSARD)
        .args([
            "status",
            "--watch",
            "0.2",
            "--metrics-address",
            &daemon.metrics,
        ])
        .env_remove("PULSARD_METRICS_ADDRESS")
        .env_remove("PULSARD_CONFIG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start pulsard status --watch");
    // It keeps running: give it time for a few refreshes, then interrupt it as a user would.
    thread::sleep(Duration::from_millis(1200));
    assert!(
        child.try_wait().expect("wait").is_none(),
        "--watch must keep refreshing, not exit"
    );
    child.kill().expect("interrupt");
    let out = child.wait_with_output().expect("output");
    let text = String::from_utf8_lossy(&out.stdout);
    let screens = text.matches("\x1b[H\x1b[2J").count();
    assert!(screens >= 2, "redrawn in place at least twice: {text:?}");
    assert!(
        text.contains("since last refresh:") && text.contains("grants/s"),
        "rates since the last refresh: {text:?}"
    );
}
