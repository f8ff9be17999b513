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
//! - [`boundary`]: the panic boundary, the thread-local last error, checked argument conversion.
//! - [`performer`]: `PulsarPerformer`, the worker-side client.
//! - [`pulse`]: `PulsarPulse`, a received pulse (class name, properties as JSON, raw bytes).
//! - [`daemon`]: `PulsarDaemon`, the daemon run from C, with stop and counters usable from other threads.
//! - [`json`]: the JSON rendering of PHP properties.
//! - this file: version, last-error getters, logging.

use std::ffi::c_char;

pub mod boundary;
pub mod daemon;
pub mod json;
pub mod performer;
pub mod pulse;
pub mod status;

pub use daemon::{PulsarDaemon, PulsarDaemonStats, PulsarEndpoint};
pub use performer::PulsarPerformer;
pub use pulse::PulsarPulse;
pub use status::PulsarStatus;

use boundary::{opt_str_arg, Failure};

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

/// Sends the library's log lines (daemon iterations, warnings about malformed input) to standard error.
/// Off until called. `filter` is NULL for `RUST_LOG` or else `info`, or a filter such as `"debug"` or
/// `"publisher_pulsar=debug"`. Call once per process: a second call returns `PULSAR_STATUS_OUT_OF_ORDER`.
///
/// Errors: `PULSAR_STATUS_INVALID_UTF8`, `PULSAR_STATUS_INVALID_ARGUMENT` (a malformed filter),
/// `PULSAR_STATUS_OUT_OF_ORDER`.
///
/// # Safety
/// `filter` must be NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn pulsar_log_to_stderr(filter: *const c_char) -> PulsarStatus {
    boundary::run(|| {
        use tracing_subscriber::EnvFilter;
        // SAFETY: NULL or a NUL-terminated string, by this function's contract.
        let filter = unsafe { opt_str_arg(filter, "filter") }?;
        let filter = match filter {
            Some(text) => EnvFilter::try_new(text).map_err(|e| {
                Failure::new(
                    PulsarStatus::InvalidArgument,
                    format!("invalid log filter {text:?}: {e}"),
                )
            })?,
            None => EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        };
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .try_init()
            .map_err(|e| {
                Failure::new(
                    PulsarStatus::OutOfOrder,
                    format!("logging is already set up in this process: {e}"),
                )
            })
    })
}
