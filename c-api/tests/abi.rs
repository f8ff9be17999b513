//! The C ABI called as a C program calls it: every argument error, every status a caller can meet, the
//! last-error contract, a full permission cycle through the handles, and the daemon run, read and stopped
//! from another thread.

mod support;

use std::ptr;
use std::time::{Duration, Instant};

use pulsar::daemon::{
    pulsar_daemon_endpoint, pulsar_daemon_free, pulsar_daemon_new, pulsar_daemon_performer_config,
    pulsar_daemon_run, pulsar_daemon_stats, pulsar_daemon_stop,
};
use pulsar::performer::{
    pulsar_performer_free, pulsar_performer_holds_permission, pulsar_performer_new,
    pulsar_performer_report_early_termination, pulsar_performer_report_pause_for,
    pulsar_performer_report_slow_down, pulsar_performer_report_success,
    pulsar_performer_wait_permission,
};
use pulsar::pulse::{
    pulsar_pulse_bytes, pulsar_pulse_class_name, pulsar_pulse_free, pulsar_pulse_properties_json,
};
use pulsar::{
    pulsar_last_error_code, pulsar_version, PulsarDaemon, PulsarDaemonStats, PulsarEndpoint,
    PulsarPerformer, PulsarPulse, PulsarStatus,
};
use pulsar_wire::Pulse;
use serde_json::json;
use support::*;

/// A non-NULL pointer value that no call may overwrite on failure ("out-parameters written only on success").
fn sentinel<T>() -> *mut T {
    ptr::NonNull::<T>::dangling().as_ptr()
}

#[test]
fn null_pointers_are_refused_and_named_and_outs_are_left_alone() {
    let json = c("");
    let mut pulse: *mut PulsarPulse = sentinel();
    let mut text: *const std::ffi::c_char = sentinel::<std::ffi::c_char>();
    let mut data: *const u8 = sentinel::<u8>();
    let mut len = 7usize;
    let mut flag = true;
    let mut stats = PulsarDaemonStats {
        pulses: 99,
        ..PulsarDaemonStats::default()
    };
    let null_performer: *mut PulsarPerformer = ptr::null_mut();
    let null_daemon: *mut PulsarDaemon = ptr::null_mut();
    let null_pulse: *const PulsarPulse = ptr::null();

    // Each call must fail with NULL_POINTER and a message naming the NULL argument.
    macro_rules! refused {
        ($call:expr, $argument:literal) => {{
            // SAFETY: every pointer is NULL or valid; the sentinel handles are never dereferenced because a
            // NULL out-parameter is checked before the handle.
            let status = unsafe { $call };
            expect_status(status, PulsarStatus::NullPointer);
            assert_eq!(last_message(), concat!($argument, " must not be NULL"), "{}", stringify!($call));
        }};
    }
    refused!(pulsar_performer_new(json.as_ptr(), ptr::null_mut()), "out");
    refused!(pulsar_daemon_new(json.as_ptr(), ptr::null_mut()), "out");
    refused!(
        pulsar_performer_wait_permission(null_performer, &mut pulse),
        "performer"
    );
    refused!(
        pulsar_performer_wait_permission(sentinel(), ptr::null_mut()),
        "out"
    );
    refused!(pulsar_performer_report_success(null_performer), "performer");
    refused!(
        pulsar_performer_report_slow_down(null_performer, json.as_ptr(), json.as_ptr()),
        "performer"
    );
    refused!(
        pulsar_performer_report_pause_for(null_performer, 1, json.as_ptr(), json.as_ptr()),
        "performer"
    );
    refused!(
        pulsar_performer_report_early_termination(null_performer, false),
        "performer"
    );
    refused!(
        pulsar_performer_holds_permission(null_performer, &mut flag),
        "performer"
    );
    refused!(
        pulsar_performer_holds_permission(sentinel(), ptr::null_mut()),
        "out"
    );
    refused!(pulsar_pulse_class_name(null_pulse, &mut text), "pulse");
    refused!(pulsar_pulse_class_name(sentinel(), ptr::null_mut()), "out");
    refused!(pulsar_pulse_properties_json(null_pulse, &mut text), "pulse");
    refused!(
        pulsar_pulse_properties_json(sentinel(), ptr::null_mut()),
        "out"
    );
    refused!(pulsar_pulse_bytes(null_pulse, &mut data, &mut len), "pulse");
    refused!(
        pulsar_pulse_bytes(sentinel(), ptr::null_mut(), &mut len),
        "out_data"
    );
    refused!(
        pulsar_pulse_bytes(sentinel(), &mut data, ptr::null_mut()),
        "out_len"
    );
    refused!(pulsar_daemon_run(null_daemon), "daemon");
    refused!(pulsar_daemon_stop(null_daemon), "daemon");
    refused!(pulsar_daemon_stats(null_daemon, &mut stats), "daemon");
    refused!(pulsar_daemon_stats(sentinel(), ptr::null_mut()), "out");
    refused!(pulsar_daemon_endpoint(null_daemon, 0, &mut text), "daemon");
    refused!(
        pulsar_daemon_endpoint(sentinel(), 0, ptr::null_mut()),
        "out"
    );
    refused!(
        pulsar_daemon_performer_config(null_daemon, &mut text),
        "daemon"
    );
    refused!(
        pulsar_daemon_performer_config(sentinel(), ptr::null_mut()),
        "out"
    );
    assert_eq!(pulsar_last_error_code(), PulsarStatus::NullPointer);
    assert_eq!(pulse, sentinel());
    assert_eq!(text, sentinel::<std::ffi::c_char>().cast_const());
    assert_eq!(data, sentinel::<u8>().cast_const());
    assert_eq!((len, flag, stats.pulses), (7, true, 99));

    // The message names the argument, for each kind.
    // SAFETY: a NULL message argument on a NULL performer: the performer is checked first.
    let status =
        unsafe { pulsar_performer_report_slow_down(null_performer, ptr::null(), json.as_ptr()) };
    expect_status(status, PulsarStatus::NullPointer);
    assert_eq!(last_message(), "performer must not be NULL");

    // Freeing NULL is allowed and does nothing.
    // SAFETY: NULL is documented as allowed.
    unsafe {
        pulsar_performer_free(ptr::null_mut());
        pulsar_pulse_free(ptr::null_mut());
        pulsar_daemon_free(ptr::null_mut());
    }
}

#[test]
fn null_string_arguments_of_a_live_performer_are_named() {
    let performer = Performer::new("");
    let empty = c("");
    // SAFETY: a live performer; NULL strings are what is tested.
    let status =
        unsafe { pulsar_performer_report_slow_down(performer.0, ptr::null(), empty.as_ptr()) };
    expect_status(status, PulsarStatus::NullPointer);
    assert_eq!(last_message(), "message must not be NULL");
    // SAFETY: as above.
    let status =
        unsafe { pulsar_performer_report_pause_for(performer.0, 5, empty.as_ptr(), ptr::null()) };
    expect_status(status, PulsarStatus::NullPointer);
    assert_eq!(last_message(), "reason must not be NULL");
}

#[test]
fn a_config_that_is_not_utf8_is_refused() {
    let bad = b"{\"moduleName\":\"caf\xe9\"}\0";
    let mut performer: *mut PulsarPerformer = sentinel();
    // SAFETY: a NUL-terminated byte string and a valid out-pointer.
    let status = unsafe { pulsar_performer_new(bad.as_ptr().cast(), &mut performer) };
    expect_status(status, PulsarStatus::InvalidUtf8);
    assert!(
        last_message().contains("config_json is not valid UTF-8"),
        "{}",
        last_message()
    );
    assert!(last_message().contains("offset 18"), "{}", last_message());
    assert_eq!(performer, sentinel());

    let mut daemon: *mut PulsarDaemon = sentinel();
    // SAFETY: as above.
    let status = unsafe { pulsar_daemon_new(bad.as_ptr().cast(), &mut daemon) };
    expect_status(status, PulsarStatus::InvalidUtf8);
    assert_eq!(daemon, sentinel());
}

fn performer_new_status(json: &str) -> (PulsarStatus, String) {
    let json = c(json);
    let mut performer: *mut PulsarPerformer = sentinel();
    // SAFETY: a valid C string and out-pointer.
    let status = unsafe { pulsar_performer_new(json.as_ptr(), &mut performer) };
    if status == PulsarStatus::Ok {
        // SAFETY: just made.
        unsafe { pulsar_performer_free(performer) };
    } else {
        assert_eq!(performer, sentinel(), "out written on failure");
    }
    (status, last_message())
}

fn daemon_new_status(json: &str) -> (PulsarStatus, String) {
    let json = c(json);
    let mut daemon: *mut PulsarDaemon = sentinel();
    // SAFETY: a valid C string and out-pointer.
    let status = unsafe { pulsar_daemon_new(json.as_ptr(), &mut daemon) };
    if status == PulsarStatus::Ok {
        // SAFETY: just made, never run.
        unsafe { pulsar_daemon_free(daemon) };
    } else {
        assert_eq!(daemon, sentinel(), "out written on failure");
    }
    (status, last_message())
}

#[test]
fn zero_negative_and_oversized_timeouts_are_invalid_arguments_naming_the_setting() {
    for (json, setting) in [
        (r#"{"admissionTimeout": 0}"#, "admissionTimeout"),
        (r#"{"pulseTimeout": -1}"#, "pulseTimeout"),
        (r#"{"sendTimeout": 0.0}"#, "sendTimeout"),
        (r#"{"admissionTimeout": 1e12}"#, "admissionTimeout"),
    ] {
        let (status, message) = performer_new_status(json);
        assert_eq!(status, PulsarStatus::InvalidArgument, "{json}: {message}");
        assert!(message.contains(setting), "{json}: {message}");
    }
    let (status, message) = daemon_new_status(&wildcard_daemon_json(
        json!({"pulsationIterationPeriod": 0}),
    ));
    assert_eq!(status, PulsarStatus::InvalidArgument, "{message}");
    assert!(message.contains("pulsationIterationPeriod"), "{message}");
}

#[test]
fn malformed_json_and_unknown_keys_are_invalid_json() {
    for json in [
        "{",
        "[1, 2]",
        "null",
        r#"{"admisionTimeout": 5}"#,
        r#"{"pulseTimeout": "5"}"#,
    ] {
        let (status, message) = performer_new_status(json);
        assert_eq!(status, PulsarStatus::InvalidJson, "{json}: {message}");
        assert!(
            message.starts_with("invalid configuration JSON"),
            "{json}: {message}"
        );
    }
    let (status, message) = daemon_new_status(r#"{"subscribersPerIteraton": 3}"#);
    assert_eq!(status, PulsarStatus::InvalidJson, "{message}");
    assert!(message.contains("subscribersPerIteraton"), "{message}");
    let (status, message) = daemon_new_status("{not json");
    assert_eq!(status, PulsarStatus::InvalidJson, "{message}");
}

#[test]
fn bad_daemon_settings_name_the_setting() {
    for (extra, setting) in [
        (
            json!({"subscribersPerIteration": 0}),
            "subscribersPerIteration",
        ),
        (
            json!({"subscribersPerIteration": "ten"}),
            "subscribersPerIteration",
        ),
        (
            json!({"performerContainerActionMaxExecutionTime": 3}),
            "performerContainerActionMaxExecutionTime",
        ),
        (
            json!({"publisherToSubscribersDto": "not serialized"}),
            "publisherToSubscribersDto",
        ),
        (
            json!({"pulsarSocketsParams": {"publishSocketAddress": "127.0.0.1:1"}}),
            "publishSocketAddress",
        ),
    ] {
        let (status, message) = daemon_new_status(&wildcard_daemon_json(extra.clone()));
        assert_eq!(status, PulsarStatus::InvalidArgument, "{extra}: {message}");
        assert!(message.contains(setting), "{extra}: {message}");
    }
}

#[test]
fn a_malformed_performer_address_is_a_connect_error() {
    let (status, message) =
        performer_new_status(r#"{"publisherPulsarSocketAddress": "tcp://no-port"}"#);
    assert_eq!(status, PulsarStatus::ConnectError, "{message}");
    assert!(message.contains("tcp://no-port"), "{message}");
}

#[test]
fn defaults_with_a_null_or_empty_config_and_success_clears_the_last_error() {
    let (status, _) = performer_new_status("{");
    assert_eq!(status, PulsarStatus::InvalidJson);
    let mut performer = ptr::null_mut();
    // SAFETY: NULL config is documented as "the defaults"; valid out-pointer.
    let status = unsafe { pulsar_performer_new(ptr::null(), &mut performer) };
    expect_status(status, PulsarStatus::Ok);
    assert_eq!(pulsar_last_error_code(), PulsarStatus::Ok);
    assert_eq!(last_message(), "");
    // SAFETY: just made.
    unsafe { pulsar_performer_free(performer) };
    for json in ["", "  ", "{}"] {
        assert_eq!(performer_new_status(json).0, PulsarStatus::Ok, "{json:?}");
    }
    // SAFETY: a static string.
    let version = unsafe { owned(pulsar_version()) };
    assert_eq!(version, env!("CARGO_PKG_VERSION"));
}

#[test]
fn reports_need_a_permission_and_a_message() {
    let performer = Performer::new("");
    let (message, reason, empty) = (c("quota"), c("dailyLimitExceeded"), c(""));
    // SAFETY: a live performer and valid strings throughout.
    unsafe {
        expect_status(
            pulsar_performer_report_success(performer.0),
            PulsarStatus::OutOfOrder,
        );
        assert!(
            last_message().contains("call wait_permission first"),
            "{}",
            last_message()
        );
        expect_status(
            pulsar_performer_report_slow_down(performer.0, message.as_ptr(), reason.as_ptr()),
            PulsarStatus::OutOfOrder,
        );
        expect_status(
            pulsar_performer_report_early_termination(performer.0, true),
            PulsarStatus::OutOfOrder,
        );
        expect_status(
            pulsar_performer_report_slow_down(performer.0, empty.as_ptr(), reason.as_ptr()),
            PulsarStatus::InvalidArgument,
        );
        assert!(
            last_message().contains("errorMessage"),
            "{}",
            last_message()
        );
        expect_status(
            pulsar_performer_report_pause_for(
                performer.0,
                u64::MAX,
                message.as_ptr(),
                reason.as_ptr(),
            ),
            PulsarStatus::InvalidArgument,
        );
        assert!(last_message().contains("sleepPeriod"), "{}", last_message());
        let mut holds = true;
        expect_status(
            pulsar_performer_holds_permission(performer.0, &mut holds),
            PulsarStatus::Ok,
        );
        assert!(!holds);
    }
}

fn wait(performer: &Performer) -> (PulsarStatus, Option<PulseView>, Duration) {
    let started = Instant::now();
    let mut pulse: *mut PulsarPulse = ptr::null_mut();
    // SAFETY: a live performer and a valid out-pointer.
    let status = unsafe { pulsar_performer_wait_permission(performer.0, &mut pulse) };
    let elapsed = started.elapsed();
    if status == PulsarStatus::Ok {
        // SAFETY: a pulse just handed over.
        (status, Some(unsafe { take_pulse(pulse) }), elapsed)
    } else {
        assert!(pulse.is_null(), "out written on failure");
        (status, None, elapsed)
    }
}

#[test]
fn a_full_cycle_through_the_abi_with_every_kind_of_report() {
    let daemon = RunningDaemon::start(&wildcard_daemon_json(json!({"subscribersPerIteration": 1})));
    let performer = Performer::new(&daemon.performer_json(10.0, 10.0, 5.0));
    let default_pulse = Pulse::default_pulse();
    let (message, reason) = (c("Rate Limit Exceeded"), c("userRateLimitExceeded"));

    for report in 0..5 {
        let (status, pulse, _) = wait(&performer);
        expect_status(status, PulsarStatus::Ok);
        let pulse = pulse.expect("a pulse on success");
        assert_eq!(
            pulse.class_name,
            "React\\PublisherPulsar\\Inventory\\PublisherToSubscribersDto"
        );
        assert_eq!(pulse.properties, json!({"allowAction": true}));
        assert_eq!(pulse.bytes, default_pulse.bytes);
        // SAFETY: a live performer and valid strings.
        let status = unsafe {
            let mut holds = false;
            expect_status(
                pulsar_performer_holds_permission(performer.0, &mut holds),
                PulsarStatus::Ok,
            );
            assert!(holds);
            match report {
                0 | 4 => pulsar_performer_report_success(performer.0),
                1 => pulsar_performer_report_slow_down(
                    performer.0,
                    message.as_ptr(),
                    reason.as_ptr(),
                ),
                2 => pulsar_performer_report_pause_for(
                    performer.0,
                    1_000,
                    message.as_ptr(),
                    reason.as_ptr(),
                ),
                _ => pulsar_performer_report_early_termination(performer.0, true),
            }
        };
        expect_status(status, PulsarStatus::Ok);
        assert_eq!(pulsar_last_error_code(), PulsarStatus::Ok);
    }
    // SAFETY: a live performer: informing of an early end is allowed without a permission.
    expect_status(
        unsafe { pulsar_performer_report_early_termination(performer.0, false) },
        PulsarStatus::Ok,
    );

    // The daemon publishes its figures after the loop turn that sent a pulse, which may be a moment after the
    // worker holds it: wait (bounded) for the fifth pulse's figure instead of reading inside that window.
    let deadline = Instant::now() + Duration::from_secs(5);
    while daemon.stats().pulses < 5 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    let stats = daemon.stats();
    assert!(stats.running);
    assert_eq!(stats.pulses, 5, "{stats:?}");
    assert_eq!(stats.grants, 5, "{stats:?}");
    assert_eq!(stats.max_receivers, 1, "{stats:?}");
    let deadline = Instant::now() + Duration::from_secs(5);
    while daemon.stats().errors < 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    let stats = daemon.stats();
    assert_eq!(
        stats.errors, 2,
        "the slow-down and the pause-for reached the daemon: {stats:?}"
    );
    assert!(stats.results >= 3, "{stats:?}");
    // The outcome split and the waits that pulsard's /metrics shows, through the C struct.
    assert_eq!(stats.configured_n, 1, "{stats:?}");
    assert_eq!(
        (stats.slow_down_results, stats.sleep_for_period_results),
        (1, 1),
        "{stats:?}"
    );
    assert_eq!(
        stats.successes
            + stats.slow_down_results
            + stats.sleep_for_period_results
            + stats.ignored_errors,
        stats.results,
        "{stats:?}"
    );
    assert_eq!(stats.admission_waits, 5, "one wait per grant: {stats:?}");
    assert!(
        stats.admission_wait_p50_us <= stats.admission_wait_p99_us,
        "{stats:?}"
    );
    expect_status(daemon.stop(), PulsarStatus::Ok);
}

#[test]
fn a_configured_subclass_pulse_shows_its_properties_and_exact_bytes() {
    let serialized = "O:24:\"Acme\\Pulses\\CommandPulse\":3:{s:14:\"\0*\0allowAction\";b:1;s:10:\"\0*\0command\";\
                      s:16:\"slow-down-please\";s:8:\"\0*\0quota\";a:2:{i:0;d:0.5;i:1;N;}}";
    let daemon = RunningDaemon::start(&wildcard_daemon_json(json!({
        "subscribersPerIteration": 1,
        "publisherToSubscribersDto": serialized,
    })));
    let performer = Performer::new(&daemon.performer_json(10.0, 10.0, 5.0));
    let (status, pulse, _) = wait(&performer);
    expect_status(status, PulsarStatus::Ok);
    let pulse = pulse.expect("a pulse");
    assert_eq!(pulse.class_name, "Acme\\Pulses\\CommandPulse");
    assert_eq!(
        pulse.properties,
        json!({"allowAction": true, "command": "slow-down-please", "quota": [0.5, null]})
    );
    assert_eq!(pulse.bytes, serialized.as_bytes());
}

#[test]
fn a_pulse_that_forbids_action_is_action_not_allowed() {
    let forbidding = "O:57:\"React\\PublisherPulsar\\Inventory\\PublisherToSubscribersDto\":1:{s:14:\"\0*\0allowAction\";b:0;}";
    let daemon = RunningDaemon::start(&wildcard_daemon_json(json!({
        "subscribersPerIteration": 1,
        "publisherToSubscribersDto": forbidding,
    })));
    let performer = Performer::new(&daemon.performer_json(10.0, 10.0, 5.0));
    let (status, pulse, _) = wait(&performer);
    expect_status(status, PulsarStatus::ActionNotAllowed);
    assert!(pulse.is_none());
    assert!(
        last_message().contains("allowAction is false"),
        "{}",
        last_message()
    );
}

#[test]
fn endpoints_show_the_chosen_ports_and_an_unknown_socket_is_refused() {
    let json = c(&wildcard_daemon_json(json!({})));
    let mut daemon = ptr::null_mut();
    // SAFETY: valid arguments throughout; the daemon is freed at the end and never run.
    unsafe {
        expect_status(
            pulsar_daemon_new(json.as_ptr(), &mut daemon),
            PulsarStatus::Ok,
        );
        let mut endpoints = Vec::new();
        for which in [
            PulsarEndpoint::ReplyStack,
            PulsarEndpoint::Publish,
            PulsarEndpoint::Pull,
        ] {
            let mut out = ptr::null();
            expect_status(
                pulsar_daemon_endpoint(daemon, which as u32, &mut out),
                PulsarStatus::Ok,
            );
            let endpoint = owned(out);
            let port: u16 = endpoint
                .strip_prefix("tcp://127.0.0.1:")
                .and_then(|p| p.parse().ok())
                .unwrap_or_else(|| panic!("a concrete loopback endpoint, got {endpoint}"));
            assert_ne!(port, 0);
            endpoints.push(endpoint);
        }
        let mut out: *const std::ffi::c_char = sentinel::<std::ffi::c_char>();
        expect_status(
            pulsar_daemon_endpoint(daemon, 3, &mut out),
            PulsarStatus::InvalidArgument,
        );
        assert_eq!(out, sentinel::<std::ffi::c_char>().cast_const());

        let mut config = ptr::null();
        expect_status(
            pulsar_daemon_performer_config(daemon, &mut config),
            PulsarStatus::Ok,
        );
        let config: serde_json::Value = serde_json::from_str(&owned(config)).expect("JSON");
        assert_eq!(
            config,
            json!({
                "requestPulsarRsSocketAddress": endpoints[0],
                "publisherPulsarSocketAddress": endpoints[1],
                "pushPulsarSocketAddress": endpoints[2],
            })
        );
        let mut stats = PulsarDaemonStats::default();
        expect_status(pulsar_daemon_stats(daemon, &mut stats), PulsarStatus::Ok);
        assert!(!stats.running);
        assert_eq!(stats.n, 2);

        // A second daemon on a bound address cannot bind.
        let (status, message) = daemon_new_status(&format!(
            r#"{{"publishSocketAddress": "{}"}}"#,
            endpoints[1]
        ));
        assert_eq!(status, PulsarStatus::BindError, "{message}");
        assert!(message.contains(&endpoints[1]), "{message}");
        pulsar_daemon_free(daemon);
    }
}

#[test]
fn a_daemon_stopped_before_it_runs_returns_at_once_and_runs_only_once() {
    let json = c(&wildcard_daemon_json(json!({})));
    let mut daemon = ptr::null_mut();
    // SAFETY: valid arguments; the daemon is freed at the end, after its last use.
    unsafe {
        expect_status(
            pulsar_daemon_new(json.as_ptr(), &mut daemon),
            PulsarStatus::Ok,
        );
        expect_status(pulsar_daemon_stop(daemon), PulsarStatus::Ok);
        expect_status(pulsar_daemon_stop(daemon), PulsarStatus::Ok);
        let started = Instant::now();
        expect_status(pulsar_daemon_run(daemon), PulsarStatus::Ok);
        assert!(started.elapsed() < Duration::from_secs(5));
        expect_status(pulsar_daemon_run(daemon), PulsarStatus::OutOfOrder);
        assert!(last_message().contains("runs once"), "{}", last_message());
        pulsar_daemon_free(daemon);
    }
}

#[test]
fn a_daemon_with_an_iteration_limit_stops_by_itself() {
    let mut daemon = RunningDaemon::start(&wildcard_daemon_json(json!({
        "subscribersPerIteration": 1,
        "timerIterationsLimit": 2,
    })));
    let performer = Performer::new(&daemon.performer_json(10.0, 10.0, 5.0));
    for _ in 0..2 {
        let (status, _, _) = wait(&performer);
        expect_status(status, PulsarStatus::Ok);
        // SAFETY: a live performer holding a permission.
        expect_status(
            unsafe { pulsar_performer_report_success(performer.0) },
            PulsarStatus::Ok,
        );
    }
    // No stop: the limit ends the run.
    expect_status(daemon.join(Duration::from_secs(10)), PulsarStatus::Ok);
    let stats = daemon.stats();
    assert!(!stats.running);
    assert_eq!((stats.iterations, stats.pulses), (2, 2), "{stats:?}");
}

#[test]
fn daemon_absent_at_start_times_out_within_the_timeout_then_succeeds_once_it_starts() {
    let addresses = Addresses::free();
    let performer = Performer::new(&addresses.performer_json(0.5, 5.0, 2.0));
    let (status, pulse, elapsed) = wait(&performer);
    expect_status(status, PulsarStatus::Timeout);
    assert!(pulse.is_none());
    assert!(last_message().contains("admission"), "{}", last_message());
    assert!(
        elapsed >= Duration::from_millis(450) && elapsed < Duration::from_secs(3),
        "the wait took {elapsed:?} with an admission timeout of 0.5 s"
    );

    let daemon = RunningDaemon::start(&addresses.daemon_json(json!({})));
    // A restarted (or new) daemon opens admission 500 ms after its start (docs/protocol.md §4, rule 13), as long
    // as this performer's admission timeout: a call may miss, and a worker simply asks again.
    let deadline = Instant::now() + Duration::from_secs(5);
    let pulse = loop {
        let (status, pulse, _) = wait(&performer);
        if status == PulsarStatus::Timeout && Instant::now() < deadline {
            continue;
        }
        expect_status(status, PulsarStatus::Ok);
        break pulse;
    };
    assert!(pulse.is_some());
    // SAFETY: a live performer holding a permission.
    expect_status(
        unsafe { pulsar_performer_report_success(performer.0) },
        PulsarStatus::Ok,
    );
    expect_status(daemon.stop(), PulsarStatus::Ok);
}

#[test]
fn daemon_killed_mid_wait_times_out_and_a_restarted_daemon_serves_the_same_performer() {
    let addresses = Addresses::free();
    // One worker per 1.5 s: the second wait below is still waiting for its pulse when the daemon dies. The pulse
    // timeout covers the first pulse, a period after the daemon's start (docs/protocol.md §4, rule 13).
    let daemon = Pulsard::start(&addresses, 1, 1.5);
    let performer = Performer::new(&addresses.performer_json(5.0, 2.0, 2.0));
    let (status, _, _) = wait(&performer);
    expect_status(status, PulsarStatus::Ok);
    // SAFETY: a live performer holding a permission.
    expect_status(
        unsafe { pulsar_performer_report_success(performer.0) },
        PulsarStatus::Ok,
    );

    let killer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        daemon.kill();
    });
    let (status, _, elapsed) = wait(&performer);
    killer.join().expect("the killer thread ran");
    expect_status(status, PulsarStatus::Timeout);
    assert!(
        elapsed < Duration::from_secs(8),
        "the wait took {elapsed:?}"
    );

    let _restarted = Pulsard::start(&addresses, 1, 0.05);
    let (status, pulse, _) = wait(&performer);
    expect_status(status, PulsarStatus::Ok);
    assert!(pulse.is_some());
    // SAFETY: a live performer holding a permission.
    expect_status(
        unsafe { pulsar_performer_report_success(performer.0) },
        PulsarStatus::Ok,
    );
}

#[test]
fn stop_and_stats_work_from_another_thread_while_run_blocks() {
    let daemon = RunningDaemon::start(&wildcard_daemon_json(json!({})));
    let deadline = Instant::now() + Duration::from_secs(5);
    while !daemon.stats().running {
        assert!(
            Instant::now() < deadline,
            "the daemon never reported running"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    let started = Instant::now();
    expect_status(daemon.stop(), PulsarStatus::Ok);
    assert!(started.elapsed() < Duration::from_secs(5));
}
