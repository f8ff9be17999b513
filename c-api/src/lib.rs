//! libpulsar: the C ABI of Publisher Pulsar (`libpulsar.so`, `libpulsar.a`, header `include/pulsar.h`).
//!
//! A C program, a Python script, or any language with a C FFI coordinates with the same daemon as the PHP
//! workers: ask for permission, wait for the pulse, act, report the result; or run the daemon itself inside
//! its own process. This crate is a bridge, not an API of its own: it converts arguments, calls
//! [`publisher_pulsar`] and maps errors, so that every language behaves the same by construction. It must
//! never add protocol steps, timing or rate decisions, and no panic may cross into C.
//!
//! The contract for C callers (ownership, NULL, strings, thread safety, errors) is in `c-api/README.md`,
//! "API conventions", and in the doc comments that cbindgen copies into the header.
//!
//! # Layout
//! - [`status`]: `PulsarStatus`, the one result enum, and the mapping of the core's errors onto it.
//! - [`boundary`]: the panic boundary, the thread-local last error, checked argument conversion, and the
//!   helpers every exported function is written with (`ffi_boundary!`, `try_ref!`, `try_out!`, `Castable`).
//! - [`performer`]: `PulsarPerformer`, the worker-side client.
//! - [`pulse`]: `PulsarPulse`, a received pulse (class name, properties as JSON, raw bytes).
//! - [`daemon`]: `PulsarDaemon`, the daemon run from C, with stop and counters usable from other threads.
//! - [`json`]: the JSON rendering of PHP properties.
//! - [`describe`]: the ABI described by the library itself (status names, the stats layout as JSON).
//! - [`log`]: where log records go: standard error, or a queue the host drains as JSON records.
//! - [`settings`]: the settings table as JSON, and a configuration checked without binding.
//! - [`result`]: `PulsarActionResult`, any `ActionResultingPushDto` for `pulsar_performer_report`.
//! - this file: version, last-error getters.

use std::ffi::c_char;

pub mod boundary;
pub mod daemon;
pub mod describe;
pub mod json;
pub mod log;
pub mod performer;
pub mod pulse;
pub mod result;
pub mod settings;
pub mod status;

pub use daemon::{PulsarDaemon, PulsarDaemonStats, PulsarEndpoint};
pub use performer::PulsarPerformer;
pub use pulse::PulsarPulse;
pub use result::{PulsarActionResult, PulsarOptionalBool};
pub use status::PulsarStatus;

/// The library's version, e.g. `"0.1.0"`: a static NUL-terminated string, never freed.
#[no_mangle]
pub extern "C" fn pulsar_version() -> *const c_char {
    const VERSION: &std::ffi::CStr = match std::ffi::CStr::from_bytes_with_nul(
        concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes(),
    ) {
        Ok(version) => version,
        Err(_) => panic!("the package version has no NUL byte"),
    };
    VERSION.as_ptr()
}

/// The status of the last failed `pulsar_*` call on the calling thread, or `PULSAR_STATUS_OK` if the last
/// call succeeded. Every call that returns a `PulsarStatus` sets (on failure) or clears (on success) it; this
/// getter, `pulsar_last_error_message`, `pulsar_version` and the `_free` functions leave it unchanged.
#[no_mangle]
pub extern "C" fn pulsar_last_error_code() -> PulsarStatus {
    boundary::last_error_code()
}

/// The message of the last failed `pulsar_*` call on the calling thread, in words (UTF-8), or `""` if the
/// last call succeeded; never NULL. The string belongs to the library and stays valid until the next
/// `pulsar_*` call on this thread (copy it to keep it).
#[no_mangle]
pub extern "C" fn pulsar_last_error_message() -> *const c_char {
    boundary::last_error_message()
}
