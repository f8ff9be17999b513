//! `pulsar_log_to_queue` and `pulsar_log_next`: the daemon's records reach the host as JSON with their fields,
//! a full queue drops its oldest records and says how many, and only one log destination can be chosen per
//! process. Also `pulsar_performer_report` with a DTO the C ABI's fixed reports cannot express (an error asking
//! for neither slow-down nor pause), which the daemon logs as `Ignored`. In its own test binary, since the queue
//! is process-wide.

mod support;

use std::ffi::{c_char, CStr};
use std::ptr;
use std::time::{Duration, Instant};

use pulsar::log::{pulsar_log_next, pulsar_log_to_queue, pulsar_log_to_stderr};
use pulsar::performer::{pulsar_performer_report, pulsar_performer_wait_permission};
use pulsar::pulse::pulsar_pulse_free;
use pulsar::{PulsarActionResult, PulsarOptionalBool, PulsarStatus};
use serde_json::{json, Value};
use support::*;

/// The next queued record (with its text under `raw`), or None when the queue is empty.
fn next_record() -> Option<Value> {
    let mut out: *const c_char = ptr::null();
    // SAFETY: a valid out-pointer.
    expect_status(unsafe { pulsar_log_next(&mut out) }, PulsarStatus::Ok);
    if out.is_null() {
        return None;
    }
    // SAFETY: a NUL-terminated string valid until the next pulsar_log_next on this thread.
    let text = unsafe { CStr::from_ptr(out) }.to_str().expect("UTF-8");
    let mut record: Value = serde_json::from_str(text).expect("one JSON record");
    record["raw"] = Value::from(text);
    Some(record)
}

fn drain() -> Vec<Value> {
    std::iter::from_fn(next_record).collect()
}

#[test]
fn the_queue_gives_the_daemons_records_drops_the_oldest_and_is_chosen_once() {
    // Nothing is chosen yet: the queue is empty, not an error.
    assert_eq!(next_record(), None);
    // SAFETY: NULL filter is allowed; a capacity of 0 is refused before anything is installed.
    expect_status(
        unsafe { pulsar_log_to_queue(ptr::null(), 0) },
        PulsarStatus::InvalidArgument,
    );
    let info = c("info");
    // SAFETY: a valid C string.
    expect_status(
        unsafe { pulsar_log_to_queue(info.as_ptr(), 64) },
        PulsarStatus::Ok,
    );
    // SAFETY: valid C strings / NULL.
    unsafe {
        expect_status(
            pulsar_log_to_queue(info.as_ptr(), 64),
            PulsarStatus::OutOfOrder,
        );
        expect_status(pulsar_log_to_stderr(ptr::null()), PulsarStatus::OutOfOrder);
    }
    assert!(last_message().contains("one of them"), "{}", last_message());

    let daemon = RunningDaemon::start(&wildcard_daemon_json(json!({
        "subscribersPerIteration": 1, "pulsationIterationPeriod": 0.05, "maxWaitReplyStackResult": 0.1,
    })));
    let performer = Performer::new(&daemon.performer_json(10.0, 10.0, 5.0));
    let mut pulse = ptr::null_mut();
    // SAFETY: a live performer and a valid out-pointer; the pulse is freed at once.
    unsafe {
        expect_status(
            pulsar_performer_wait_permission(performer.0, &mut pulse),
            PulsarStatus::Ok,
        );
        pulsar_pulse_free(pulse);
    }
    // An error asking for neither slow-down nor pause, with a message holding a NUL byte and a null reason.
    let message = b"Quota\0Error";
    let result = PulsarActionResult {
        action_complete_correctly: PulsarOptionalBool::False as u32,
        slow_down: PulsarOptionalBool::Unset as u32,
        error_message: message.as_ptr(),
        error_message_len: message.len(),
        error_reason: ptr::null(),
        error_reason_len: 0,
        has_sleep_for_period: 0,
        sleep_for_period_us: 0,
    };
    // SAFETY: a live performer and a valid struct.
    expect_status(
        unsafe { pulsar_performer_report(performer.0, &result) },
        PulsarStatus::Ok,
    );
    // SAFETY: as above: the permission is used up now.
    expect_status(
        unsafe { pulsar_performer_report(performer.0, &result) },
        PulsarStatus::OutOfOrder,
    );

    let deadline = Instant::now() + Duration::from_secs(10);
    let mut records = Vec::new();
    let ignored = loop {
        records.extend(drain());
        let found = records
            .iter()
            .find(|r| r["message"] == "pulse iteration finished" && r["fields"]["errors"] == 1);
        if let Some(found) = found {
            break found.clone();
        }
        assert!(
            Instant::now() < deadline,
            "no iteration with the error: {records:#?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(ignored["level"], "INFO");
    assert_eq!(ignored["target"], "publisher_pulsar::daemon");
    assert_eq!(ignored["fields"]["adaptation"], "Ignored");
    assert_eq!(ignored["fields"]["error_message"], "Quota\u{0}Error");
    assert_eq!(ignored["fields"]["receivers"], 1);
    // The fields keep the event's order in the JSON text (a PSR-3 context gets them in that order).
    assert!(
        ignored["raw"]
            .as_str()
            .expect("the text")
            .contains("\"fields\":{\"iteration\":"),
        "{ignored}"
    );
    assert!(
        records.iter().all(|r| r["level"] != "DEBUG"),
        "the filter holds"
    );
    drop(performer);
    expect_status(daemon.stop(), PulsarStatus::Ok);

    // A full queue keeps the newest records and first says how many were dropped.
    drain();
    for n in 0..100 {
        tracing::info!(n, "filler");
    }
    let records = drain();
    assert_eq!(records.len(), 65, "{records:#?}");
    assert_eq!(records[0]["level"], "WARN");
    assert_eq!(records[0]["fields"]["dropped"], 36);
    assert_eq!(records[1]["fields"]["n"], 36);
    assert_eq!(records[64]["fields"]["n"], 99);
}
