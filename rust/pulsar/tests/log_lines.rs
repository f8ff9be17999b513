//! `pulsard`'s human log: one record is one line, whatever a peer or a setting puts into it. A real worker pushes
//! an error result whose message carries newlines and ANSI escapes (what forged 21 lines before), through a real
//! PUSH socket, to a real `pulsard` whose `moduleName` has control characters too; every line of its standard
//! error must then be a record of its own, with the escapes visible.

mod daemon_support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use daemon_support::*;
use pulsar_wire::ActionResult;

const PULSARD: &str = env!("CARGO_BIN_EXE_pulsard");

/// A message forging 20 log lines of its own (21 lines in all), with ANSI colour and a screen clear; short enough
/// (under the daemon's 512-character cut) to reach the log whole.
fn forged_message() -> String {
    let mut message = String::from("quota exceeded\n\x1b[32mINFO\x1b[0m forged line 00");
    for i in 1..20 {
        message.push_str(&format!("\nINFO forged line {i:02}"));
    }
    message.push_str("\x1b[2J");
    message
}

/// Whether `line` starts as the human format starts every record: a timestamp, then a level.
fn is_a_record(line: &str) -> bool {
    let mut words = line.split_whitespace();
    let stamp = words.next().unwrap_or_default();
    let level = words.next().unwrap_or_default();
    stamp.starts_with("20")
        && stamp.ends_with('Z')
        && ["ERROR", "WARN", "INFO", "DEBUG", "TRACE"].contains(&level)
}

/// The error result a worker pushes: the forged message, and a reason with other control characters.
fn forged_result() -> ActionResult {
    ActionResult {
        action_complete_correctly: Some(false),
        error_message: Some(forged_message().into_bytes()),
        error_reason: Some(b"reason\r\nwith\tcontrols\x07".to_vec()),
        sleep_for_period: None,
        slow_down: None,
    }
}

/// Runs `pulsard --log-format <format>` (moduleName with control characters) on free loopback ports, lets one
/// real worker push [`forged_result`], waits (bounded) for the iteration line that carries the error, stops the
/// daemon and returns every line it wrote to standard error.
fn stderr_after_a_forged_result(format: &str, carries_error: fn(&str) -> bool) -> Vec<String> {
    let ports: Vec<String> = free_ports::<5>()
        .iter()
        .map(|p| format!("tcp://127.0.0.1:{p}"))
        .collect();
    let mut child = Command::new(PULSARD)
        .args(["--log-format", format, "--log-level", "info"])
        .args(["--subscribers-per-iteration", "1"])
        .args(["--pulsation-iteration-period", "0.1"])
        .args(["--module-name", "mod\nule\x1b[31m"])
        .args(["--reply-stack-address", &ports[0]])
        .args(["--publish-address", &ports[1]])
        .args(["--pull-address", &ports[2]])
        .args(["--reply-to-reply-stack-address", &ports[3]])
        .args(["--push-to-reply-stack-address", &ports[4]])
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start pulsard");
    let stderr = child.stderr.take().expect("piped stderr");
    let (tx, lines) = mpsc::channel::<String>();
    let reader = thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });

    let worker = RawWorker::connect_to(&ports[0], &ports[1], &ports[2]);
    let cycle = worker.cycle(&forged_result(), STEP);

    let mut seen: Vec<String> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !seen.iter().any(|l| carries_error(l)) {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) => seen.push(line),
            Err(_) => break,
        }
    }
    let _ = Command::new("sh")
        .args(["-c", &format!("kill -TERM {}", child.id())])
        .status();
    let exit_deadline = Instant::now() + Duration::from_secs(10);
    while child.try_wait().ok().flatten().is_none() && Instant::now() < exit_deadline {
        thread::sleep(Duration::from_millis(10));
    }
    if child.try_wait().ok().flatten().is_none() {
        let _ = child.kill();
    }
    let _ = child.wait();
    seen.extend(lines.iter());
    let _ = reader.join();
    if let Err(e) = cycle {
        panic!("the worker's cycle failed: {e}\n{}", seen.join("\n"));
    }
    seen
}

#[test]
fn an_error_message_with_newlines_and_ansi_escapes_stays_one_line() {
    let seen = stderr_after_a_forged_result("human", |l| {
        l.contains("pulse iteration finished") && l.contains("error_message=")
    });
    let text = seen.join("\n");
    let carrying: Vec<&String> = seen.iter().filter(|l| l.contains("forged line")).collect();
    assert!(
        !carrying.is_empty(),
        "no line carries the error message:\n{text}"
    );
    for line in &seen {
        assert!(
            is_a_record(line),
            "a line that is no record of its own:\n{line:?}\nall:\n{text}"
        );
        assert!(!line.contains('\x1b'), "a raw escape in {line:?}");
    }
    let line = carrying[0];
    assert!(
        line.contains(
            "error_message=quota exceeded\\n\\x1b[32mINFO\\x1b[0m forged line 00\\nINFO forged line 01\\n"
        ),
        "{line}"
    );
    assert!(
        line.contains("\\nINFO forged line 19\\x1b[2J error_reason="),
        "{line}"
    );
    assert!(
        line.contains("error_reason=reason\\r\\nwith\\tcontrols\\x07"),
        "{line}"
    );
    assert!(
        seen.iter().any(|l| l.contains("module=mod\\nule\\x1b[31m")),
        "moduleName escaped in the span:\n{text}"
    );
}

#[test]
fn the_json_log_keeps_the_exact_text() {
    let seen = stderr_after_a_forged_result("json", |l| l.contains("forged line"));
    let records: Vec<serde_json::Value> = seen
        .iter()
        .map(|line| {
            serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("not one JSON record ({e}): {line:?}"))
        })
        .collect();
    let carrying = records
        .iter()
        .find(|r| r["fields"]["error_message"].is_string())
        .unwrap_or_else(|| panic!("no record carries the error message:\n{}", seen.join("\n")));
    assert_eq!(carrying["fields"]["error_message"], forged_message());
    assert_eq!(
        carrying["fields"]["error_reason"],
        "reason\r\nwith\tcontrols\x07"
    );
    assert_eq!(carrying["span"]["module"], "mod\nule\x1b[31m");
}
