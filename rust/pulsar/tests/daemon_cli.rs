//! The `pulsard` program: help, setting errors, configuration file with flag overrides, SIGTERM, and stopping
//! by itself at `timerIterationsLimit`. Each run binds wildcard loopback ports and reports them in its
//! JSON startup line, which doubles as the readiness signal.

mod daemon_support;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use daemon_support::*;
use serde_json::Value;

const PULSARD: &str = env!("CARGO_BIN_EXE_pulsard");

const WILDCARD_ADDRESSES: [&str; 10] = [
    "--reply-to-reply-stack-address",
    "tcp://127.0.0.1:*",
    "--push-to-reply-stack-address",
    "tcp://127.0.0.1:*",
    "--publish-address",
    "tcp://127.0.0.1:*",
    "--pull-address",
    "tcp://127.0.0.1:*",
    "--reply-stack-address",
    "tcp://127.0.0.1:*",
];

/// A running `pulsard` whose standard error is read line by line; killed if the test ends early.
struct Pulsard {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Pulsard {
    fn spawn(args: &[&str]) -> Pulsard {
        let mut child = Command::new(PULSARD)
            .args(["--log-format", "json", "--log-level", "info"])
            .args(args)
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start pulsard");
        let stderr = child.stderr.take().expect("piped stderr");
        let (tx, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Pulsard {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// The first JSON log line whose message is `message`, within `timeout`.
    fn wait_for_log(&mut self, message: &str, timeout: Duration) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if let Ok(json) = serde_json::from_str::<Value>(&line) {
                        if json["fields"]["message"] == message {
                            return json["fields"].clone();
                        }
                    }
                }
                Err(_) => panic!(
                    "no log line {message:?} within {timeout:?}; stderr so far:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }

    fn terminate(&self) {
        // Through the shell's built-in kill: a minimal system may lack the procps `kill` program.
        let status = Command::new("sh")
            .args(["-c", &format!("kill -TERM {}", self.child.id())])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM failed");
    }

    fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "pulsard did not exit within {timeout:?}"
            );
            thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Pulsard {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn run_to_end(args: &[&str]) -> (Option<i32>, String, String) {
    let output = Command::new(PULSARD)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run pulsard");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn temp_file(name: &str, contents: &[u8]) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("daemon-cli-{}-{name}", std::process::id()));
    std::fs::write(&path, contents).expect("write a temp file");
    path
}

fn text(fields: &Value, key: &str) -> String {
    fields[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} in {fields}"))
        .to_string()
}

#[test]
fn help_describes_every_flag_with_its_default() {
    let (code, stdout, _) = run_to_end(&["--help"]);
    assert_eq!(code, Some(0));
    for flag in [
        "--config",
        "--subscribers-per-iteration",
        "--pulsation-iteration-period",
        "--performer-container-action-max-execution-time",
        "--max-wait-reply-stack-result",
        "--max-wait-all-subscribers-ready",
        "--timer-iterations-limit",
        "--module-name",
        "--reply-to-reply-stack-address",
        "--push-to-reply-stack-address",
        "--publish-address",
        "--pull-address",
        "--reply-stack-address",
        "--publisher-to-subscribers-file",
        "--max-admission-queue",
        "--log-format",
        "--log-level",
    ] {
        assert!(stdout.contains(flag), "--help mentions {flag}:\n{stdout}");
    }
    for default in [
        "[default: 10]",
        "[default: 7]",
        "[default: 5]",
        "[default: tcp://127.0.0.1:6275]",
        "[default: human]",
    ] {
        assert!(
            stdout.contains(default),
            "--help shows {default}:\n{stdout}"
        );
    }
}

#[test]
fn a_bad_setting_exits_2_naming_the_setting() {
    let cases: [(&[&str], &str); 5] = [
        (
            &["--performer-container-action-max-execution-time", "3"],
            "performerContainerActionMaxExecutionTime",
        ),
        (
            &["--subscribers-per-iteration", "0"],
            "subscribersPerIteration",
        ),
        (
            &["--pulsation-iteration-period", "-1"],
            "pulsationIterationPeriod",
        ),
        (
            &["--publish-address", "localhost:6273"],
            "publishSocketAddress",
        ),
        (
            &["--pull-address", "tcp://127.0.0.1:6273"],
            "pullSocketAddress",
        ),
    ];
    for (args, setting) in cases {
        let (code, _, stderr) = run_to_end(args);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains(&format!("pulsard: invalid setting {setting}: ")),
            "{args:?} names {setting}: {stderr}"
        );
    }
    let path = temp_file("bad.json", br#"{"maxWaitReplyStackResult": -2}"#);
    let (code, _, stderr) = run_to_end(&["--config", path.to_str().expect("utf-8 path")]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("invalid setting maxWaitReplyStackResult"),
        "{stderr}"
    );
    let (code, _, stderr) = run_to_end(&["--no-such-flag"]);
    assert_eq!(code, Some(2), "usage errors exit 2 too: {stderr}");
    let (code, _, stderr) = run_to_end(&["--config", "/nonexistent/pulsar.json"]);
    assert_eq!(code, Some(2), "{stderr}");
}

#[test]
fn sigterm_stops_cleanly_with_exit_0() {
    let mut pulsard = Pulsard::spawn(&WILDCARD_ADDRESSES);
    let listening = pulsard.wait_for_log("pulsard listening", Duration::from_secs(10));
    assert!(text(&listening, "publish").starts_with("tcp://127.0.0.1:"));
    pulsard.terminate();
    let status = pulsard.wait_exit(Duration::from_secs(5));
    assert_eq!(status.code(), Some(0), "{status:?}");
    pulsard.wait_for_log("pulsard stopped", Duration::from_secs(2));
}

#[test]
fn flags_override_the_configuration_file() {
    let path = temp_file(
        "config.json",
        br#"{"subscribersPerIteration": 4, "moduleName": "from-file",
             "pulsationIterationPeriod": 0.5,
             "pulsarSocketsParams": {"publishSocketAddress": "tcp://127.0.0.1:*",
                                     "pullSocketAddress": "tcp://127.0.0.1:*",
                                     "replyStackSocketAddress": "tcp://127.0.0.1:*",
                                     "replyToReplyStackSocketAddress": "tcp://127.0.0.1:*",
                                     "pushToReplyStackSocketAddress": "tcp://127.0.0.1:*"}}"#,
    );
    let mut pulsard = Pulsard::spawn(&[
        "--config",
        path.to_str().expect("utf-8 path"),
        "--subscribers-per-iteration",
        "2",
    ]);
    let listening = pulsard.wait_for_log("pulsard listening", Duration::from_secs(10));
    assert_eq!(listening["subscribers_per_iteration"], 2, "the flag wins");
    assert_eq!(
        text(&listening, "module"),
        "from-file",
        "the file's value stays"
    );
    assert_eq!(listening["pulsation_iteration_period"], 0.5);
    pulsard.terminate();
    assert_eq!(pulsard.wait_exit(Duration::from_secs(5)).code(), Some(0));
}

#[test]
fn the_iteration_limit_ends_the_program_with_exit_0() {
    let mut args = WILDCARD_ADDRESSES.to_vec();
    args.extend([
        "--timer-iterations-limit",
        "1",
        "--subscribers-per-iteration",
        "1",
    ]);
    let mut pulsard = Pulsard::spawn(&args);
    let listening = pulsard.wait_for_log("pulsard listening", Duration::from_secs(10));
    let worker = RawWorker::connect_to(
        &text(&listening, "reply_stack"),
        &text(&listening, "publish"),
        &text(&listening, "pull"),
    );
    worker.cycle(&success(), STEP).expect("one full cycle");
    let status = pulsard.wait_exit(Duration::from_secs(10));
    assert_eq!(status.code(), Some(0), "{status:?}");
    let stopped = pulsard.wait_for_log("pulsard stopped", Duration::from_secs(2));
    assert_eq!(stopped["pulses"], 1);
}

#[test]
fn an_address_in_use_exits_1_naming_the_address() {
    let mut first = Pulsard::spawn(&WILDCARD_ADDRESSES);
    let listening = first.wait_for_log("pulsard listening", Duration::from_secs(10));
    let taken = text(&listening, "pull");
    let (code, _, stderr) = run_to_end(&[
        "--publish-address",
        "tcp://127.0.0.1:*",
        "--reply-stack-address",
        "tcp://127.0.0.1:*",
        "--pull-address",
        &taken,
    ]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("pulsard: cannot bind {taken}")),
        "{stderr}"
    );
    first.terminate();
    assert_eq!(first.wait_exit(Duration::from_secs(5)).code(), Some(0));
}
