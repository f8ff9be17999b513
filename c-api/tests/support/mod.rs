//! Shared pieces of the C ABI tests: calling the exported functions the way a C program does (raw pointers,
//! C strings, status codes), an in-process daemon on its own thread, and `pulsard` as a child process.
//!
//! Every wait here is bounded; a test that hits a bound fails with a message instead of hanging.

// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use std::ffi::{c_char, CStr, CString};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::ptr;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use pulsar::daemon::{
    pulsar_daemon_free, pulsar_daemon_new, pulsar_daemon_performer_config, pulsar_daemon_run,
    pulsar_daemon_stats, pulsar_daemon_stop,
};
use pulsar::performer::{pulsar_performer_free, pulsar_performer_new};
use pulsar::pulse::{
    pulsar_pulse_bytes, pulsar_pulse_class_name, pulsar_pulse_free, pulsar_pulse_properties_json,
};
use pulsar::{
    pulsar_last_error_code, pulsar_last_error_message, PulsarDaemon, PulsarDaemonStats,
    PulsarPerformer, PulsarPulse, PulsarStatus,
};

/// A C string for a test literal.
pub fn c(text: &str) -> CString {
    CString::new(text).expect("test strings have no NUL byte")
}

/// The calling thread's last error message.
pub fn last_message() -> String {
    // SAFETY: the library returns a valid NUL-terminated string, never NULL.
    unsafe { CStr::from_ptr(pulsar_last_error_message()) }
        .to_string_lossy()
        .into_owned()
}

/// Asserts a status, showing the library's message when it is not the expected one.
#[track_caller]
pub fn expect_status(actual: PulsarStatus, expected: PulsarStatus) {
    assert_eq!(
        actual,
        expected,
        "last error: {:?} {}",
        pulsar_last_error_code(),
        last_message()
    );
}

/// A C string the library owns, copied.
///
/// # Safety
/// `ptr` must be a valid NUL-terminated string.
pub unsafe fn owned(ptr: *const c_char) -> String {
    // SAFETY: by this function's contract.
    unsafe { CStr::from_ptr(ptr) }
        .to_str()
        .expect("the library returns UTF-8")
        .to_owned()
}

/// A loopback TCP port that was free a moment ago (bind to port 0, read it, release it).
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    listener.local_addr().expect("local address").port()
}

/// The three addresses performers use, on fixed-for-this-test free loopback ports.
#[derive(Debug, Clone)]
pub struct Addresses {
    /// Admission desk (REQ → daemon ROUTER).
    pub reply_stack: String,
    /// Pulses (SUB ← daemon XPUB).
    pub publish: String,
    /// Readiness and results (PUSH → daemon PULL).
    pub pull: String,
}

impl Addresses {
    /// Three ports that were free a moment ago.
    pub fn free() -> Addresses {
        let mut ports = Vec::new();
        while ports.len() < 3 {
            let port = free_port();
            if !ports.contains(&port) {
                ports.push(port);
            }
        }
        Addresses {
            reply_stack: format!("tcp://127.0.0.1:{}", ports[0]),
            publish: format!("tcp://127.0.0.1:{}", ports[1]),
            pull: format!("tcp://127.0.0.1:{}", ports[2]),
        }
    }

    /// A performer configuration for these addresses with the given timeouts (seconds).
    pub fn performer_json(&self, admission: f64, pulse: f64, send: f64) -> String {
        serde_json::json!({
            "publisherPulsarSocketAddress": self.publish,
            "pushPulsarSocketAddress": self.pull,
            "requestPulsarRsSocketAddress": self.reply_stack,
            "moduleName": "capi-test",
            "admissionTimeout": admission,
            "pulseTimeout": pulse,
            "sendTimeout": send,
        })
        .to_string()
    }

    /// A daemon configuration binding these addresses, with test-sized waits and `extra` settings on top.
    pub fn daemon_json(&self, extra: serde_json::Value) -> String {
        let mut config = serde_json::json!({
            "subscribersPerIteration": 2,
            "pulsationIterationPeriod": 0.05,
            "maxWaitReplyStackResult": 0.3,
            "maxWaitAllSubscribersReadyBeforePublish": 2.0,
            "moduleName": "capi-test-daemon",
            "pulsarSocketsParams": {
                "replyStackSocketAddress": self.reply_stack,
                "publishSocketAddress": self.publish,
                "pullSocketAddress": self.pull,
                "replyToReplyStackSocketAddress": "tcp://127.0.0.1:*",
                "pushToReplyStackSocketAddress": "tcp://127.0.0.1:*",
            },
        });
        merge(&mut config, extra);
        config.to_string()
    }
}

/// A daemon configuration on wildcard loopback ports with test-sized waits and `extra` on top.
pub fn wildcard_daemon_json(extra: serde_json::Value) -> String {
    let wildcard = Addresses {
        reply_stack: "tcp://127.0.0.1:*".into(),
        publish: "tcp://127.0.0.1:*".into(),
        pull: "tcp://127.0.0.1:*".into(),
    };
    wildcard.daemon_json(extra)
}

/// Adds (or replaces) the keys of `extra` in `base`.
pub fn merge(base: &mut serde_json::Value, extra: serde_json::Value) {
    if let (Some(base), serde_json::Value::Object(extra)) = (base.as_object_mut(), extra) {
        for (key, value) in extra {
            base.insert(key, value);
        }
    }
}

/// A raw handle moved to the daemon's thread; the handle itself is documented as shareable for run/stop.
struct DaemonPtr(*mut PulsarDaemon);
// SAFETY: PulsarDaemon is documented thread-safe for run on one thread with stop/stats on others; the pointer
// is only freed after that thread has been joined.
unsafe impl Send for DaemonPtr {}

/// A daemon made with `pulsar_daemon_new` and running on its own thread via `pulsar_daemon_run`; stopped,
/// joined and freed when dropped.
pub struct RunningDaemon {
    ptr: *mut PulsarDaemon,
    thread: Option<JoinHandle<PulsarStatus>>,
}

impl RunningDaemon {
    /// Creates (binds) a daemon from JSON through the ABI and runs it on a new thread.
    pub fn start(json: &str) -> RunningDaemon {
        let json = c(json);
        let mut ptr = ptr::null_mut();
        // SAFETY: a valid C string and a valid out-pointer.
        let status = unsafe { pulsar_daemon_new(json.as_ptr(), &mut ptr) };
        expect_status(status, PulsarStatus::Ok);
        let handle = DaemonPtr(ptr);
        let thread = std::thread::spawn(move || {
            let handle = handle;
            // SAFETY: a live daemon, freed only after this thread is joined.
            unsafe { pulsar_daemon_run(handle.0) }
        });
        RunningDaemon {
            ptr,
            thread: Some(thread),
        }
    }

    /// The raw handle, for calls made by the test itself.
    pub fn ptr(&self) -> *mut PulsarDaemon {
        self.ptr
    }

    /// The performer settings for this daemon with the given timeouts (seconds).
    pub fn performer_json(&self, admission: f64, pulse: f64, send: f64) -> String {
        let mut out = ptr::null();
        // SAFETY: a live daemon and a valid out-pointer.
        let status = unsafe { pulsar_daemon_performer_config(self.ptr, &mut out) };
        expect_status(status, PulsarStatus::Ok);
        // SAFETY: the daemon returned a valid string that lives as long as it does.
        let text = unsafe { owned(out) };
        let mut config: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
        merge(
            &mut config,
            serde_json::json!({
                "admissionTimeout": admission, "pulseTimeout": pulse, "sendTimeout": send,
            }),
        );
        config.to_string()
    }

    /// The counters, read through the ABI from this (another) thread.
    pub fn stats(&self) -> PulsarDaemonStats {
        let mut stats = PulsarDaemonStats::default();
        // SAFETY: a live daemon and a valid out-pointer.
        let status = unsafe { pulsar_daemon_stats(self.ptr, &mut stats) };
        expect_status(status, PulsarStatus::Ok);
        stats
    }

    /// Stops the daemon from this thread, waits for `pulsar_daemon_run` to return, and gives its status.
    pub fn stop(mut self) -> PulsarStatus {
        self.stop_and_join()
    }

    fn stop_and_join(&mut self) -> PulsarStatus {
        // SAFETY: a live daemon.
        let status = unsafe { pulsar_daemon_stop(self.ptr) };
        expect_status(status, PulsarStatus::Ok);
        self.join(Duration::from_secs(10))
    }

    /// Waits (without asking it to stop) for `pulsar_daemon_run` to return, and gives its status.
    pub fn join(&mut self, timeout: Duration) -> PulsarStatus {
        let Some(thread) = self.thread.take() else {
            return PulsarStatus::Ok;
        };
        let deadline = Instant::now() + timeout;
        while !thread.is_finished() {
            assert!(
                Instant::now() < deadline,
                "pulsar_daemon_run did not return within {timeout:?}"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        thread.join().expect("the daemon thread did not panic")
    }
}

impl Drop for RunningDaemon {
    fn drop(&mut self) {
        if self.thread.is_some() {
            let _ = self.stop_and_join();
        }
        // SAFETY: the run thread has been joined; nothing else uses the handle.
        unsafe { pulsar_daemon_free(self.ptr) };
    }
}

/// A performer handle, freed when dropped.
pub struct Performer(pub *mut PulsarPerformer);

impl Performer {
    /// `pulsar_performer_new` with this JSON; panics with the library's message on failure.
    pub fn new(json: &str) -> Performer {
        let json = c(json);
        let mut ptr = ptr::null_mut();
        // SAFETY: a valid C string and out-pointer.
        let status = unsafe { pulsar_performer_new(json.as_ptr(), &mut ptr) };
        expect_status(status, PulsarStatus::Ok);
        Performer(ptr)
    }
}

impl Drop for Performer {
    fn drop(&mut self) {
        // SAFETY: made by pulsar_performer_new, freed once, here.
        unsafe { pulsar_performer_free(self.0) };
    }
}

/// What a pulse handle holds, copied out.
#[derive(Debug, Clone, PartialEq)]
pub struct PulseView {
    /// The class name.
    pub class_name: String,
    /// The properties as parsed JSON.
    pub properties: serde_json::Value,
    /// The raw bytes.
    pub bytes: Vec<u8>,
}

/// Copies a pulse out through the three getters and frees it.
///
/// # Safety
/// `pulse` must be a live pulse; it is freed here.
pub unsafe fn take_pulse(pulse: *mut PulsarPulse) -> PulseView {
    let (mut class, mut json, mut data, mut len) = (ptr::null(), ptr::null(), ptr::null(), 0usize);
    // SAFETY: a live pulse and valid out-pointers.
    unsafe {
        expect_status(pulsar_pulse_class_name(pulse, &mut class), PulsarStatus::Ok);
        expect_status(
            pulsar_pulse_properties_json(pulse, &mut json),
            PulsarStatus::Ok,
        );
        expect_status(
            pulsar_pulse_bytes(pulse, &mut data, &mut len),
            PulsarStatus::Ok,
        );
    }
    // SAFETY: the getters returned pointers into the live pulse.
    let view = unsafe {
        PulseView {
            class_name: owned(class),
            properties: serde_json::from_str(&owned(json)).expect("the pulse's JSON parses"),
            bytes: std::slice::from_raw_parts(data, len).to_vec(),
        }
    };
    // SAFETY: freed once, after the last use of its pointers.
    unsafe { pulsar_pulse_free(pulse) };
    view
}

/// `pulsard` from the same target directory as this test (built by `cargo build --workspace` or
/// `cargo build -p publisher-pulsar --bin pulsard`), as a child process killed when dropped.
pub struct Pulsard {
    child: Child,
}

/// Where `pulsard` is: next to this test's `deps/` directory.
pub fn pulsard_path() -> PathBuf {
    let exe = std::env::current_exe().expect("the test knows its own path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("tests run from target/<profile>/deps");
    let path = profile_dir.join("pulsard");
    assert!(
        path.is_file(),
        "{} does not exist: build it first with `cargo build -p publisher-pulsar --bin pulsard` \
         (tests/run-all.sh builds the whole workspace before testing)",
        path.display()
    );
    path
}

impl Pulsard {
    /// Starts `pulsard` bound to `addresses` with N and the period given, logs discarded.
    pub fn start(addresses: &Addresses, n: u32, period_secs: f64) -> Pulsard {
        let child = Command::new(pulsard_path())
            .args(["--subscribers-per-iteration", &n.to_string()])
            .args(["--pulsation-iteration-period", &period_secs.to_string()])
            .args(["--max-wait-reply-stack-result", "0.3"])
            .args(["--max-wait-all-subscribers-ready", "2"])
            .args(["--reply-stack-address", &addresses.reply_stack])
            .args(["--publish-address", &addresses.publish])
            .args(["--pull-address", &addresses.pull])
            .args(["--reply-to-reply-stack-address", "tcp://127.0.0.1:*"])
            .args(["--push-to-reply-stack-address", "tcp://127.0.0.1:*"])
            .args(["--log-level", "warn"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .expect("pulsard starts");
        Pulsard { child }
    }

    /// SIGKILL: the daemon dies without a word, as in a crash.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Pulsard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
