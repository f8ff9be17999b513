//! The library describing its own ABI, so that a binding needs no header at run time: the name of each
//! status, and one static JSON document with the status names and numbers, the endpoint numbers and the
//! layout of `PulsarDaemonStats` (field names, C types, offsets, size, alignment). The Python wheel reads
//! these instead of parsing `include/pulsar.h`.
//!
//! Completeness is checked by the compiler where it can be: [`PulsarStatus::name`] is an exhaustive match,
//! and the stats table below destructures the struct without `..`, so a new field that is not listed here
//! fails to build. `c-api/tests/describe.rs` compares the whole description with the committed header.

use std::ffi::{c_char, CStr, CString};
use std::mem::{align_of, offset_of, size_of};
use std::sync::OnceLock;

use serde_json::{json, Map, Value};

use crate::daemon::{PulsarDaemonStats, PulsarEndpoint};
use crate::status::PulsarStatus;

/// Every status, in numeric order (not an associated constant: cbindgen would put it in the header).
const STATUSES: [PulsarStatus; 15] = [
    PulsarStatus::Ok,
    PulsarStatus::NullPointer,
    PulsarStatus::InvalidUtf8,
    PulsarStatus::InvalidArgument,
    PulsarStatus::InvalidJson,
    PulsarStatus::Timeout,
    PulsarStatus::AdmissionRefused,
    PulsarStatus::ActionNotAllowed,
    PulsarStatus::OutOfOrder,
    PulsarStatus::ProtocolError,
    PulsarStatus::ZmqError,
    PulsarStatus::BindError,
    PulsarStatus::ConnectError,
    PulsarStatus::IoError,
    PulsarStatus::Panic,
];

impl PulsarStatus {
    /// Every status, in numeric order.
    pub fn all() -> &'static [PulsarStatus] {
        &STATUSES
    }

    /// The status's name in the header without the `PULSAR_STATUS_` prefix, e.g. `c"TIMEOUT"`.
    pub const fn name(self) -> &'static CStr {
        match self {
            PulsarStatus::Ok => c"OK",
            PulsarStatus::NullPointer => c"NULL_POINTER",
            PulsarStatus::InvalidUtf8 => c"INVALID_UTF8",
            PulsarStatus::InvalidArgument => c"INVALID_ARGUMENT",
            PulsarStatus::InvalidJson => c"INVALID_JSON",
            PulsarStatus::Timeout => c"TIMEOUT",
            PulsarStatus::AdmissionRefused => c"ADMISSION_REFUSED",
            PulsarStatus::ActionNotAllowed => c"ACTION_NOT_ALLOWED",
            PulsarStatus::OutOfOrder => c"OUT_OF_ORDER",
            PulsarStatus::ProtocolError => c"PROTOCOL_ERROR",
            PulsarStatus::ZmqError => c"ZMQ_ERROR",
            PulsarStatus::BindError => c"BIND_ERROR",
            PulsarStatus::ConnectError => c"CONNECT_ERROR",
            PulsarStatus::IoError => c"IO_ERROR",
            PulsarStatus::Panic => c"PANIC",
        }
    }
}

/// The name of a status number without the `PULSAR_STATUS_` prefix (`"OK"`, `"TIMEOUT"`, ...), or NULL for a
/// number that is no status. A static NUL-terminated string, never freed. Takes the number as `uint32_t` so
/// that any value, even one this library does not know, may be asked about. Leaves the last error unchanged.
#[no_mangle]
pub extern "C" fn pulsar_status_name(status: u32) -> *const c_char {
    STATUSES
        .iter()
        .find(|s| **s as u32 == status)
        .map_or(std::ptr::null(), |s| s.name().as_ptr())
}

/// The rows of the stats table: name, C type, offset. The destructuring without `..` makes a field added to
/// `PulsarDaemonStats` but not listed here a compile error; the typed accessor makes a wrong C type one.
macro_rules! stats_layout {
    ($($field:ident: $rust:ty => $c:literal),* $(,)?) => {{
        #[allow(dead_code)]
        fn every_field_is_listed(stats: PulsarDaemonStats) {
            let PulsarDaemonStats { $($field: _),* } = stats;
            $(let _: fn(&PulsarDaemonStats) -> &$rust = |s| &s.$field;)*
        }
        vec![$(json!({
            "name": stringify!($field),
            "type": $c,
            "offset": offset_of!(PulsarDaemonStats, $field),
        })),*]
    }};
}

fn daemon_stats_fields() -> Vec<Value> {
    stats_layout! {
        n: u32 => "uint32_t",
        max_receivers: u32 => "uint32_t",
        pause_us: u64 => "uint64_t",
        pulses: u64 => "uint64_t",
        grants: u64 => "uint64_t",
        errors: u64 => "uint64_t",
        results: u64 => "uint64_t",
        late_results: u64 => "uint64_t",
        iterations: u64 => "uint64_t",
        queued: u64 => "uint64_t",
        refused: u64 => "uint64_t",
        admitted: u64 => "uint64_t",
        lost_admissions: u64 => "uint64_t",
        dropped_messages: u64 => "uint64_t",
        configured_n: u32 => "uint32_t",
        successes: u64 => "uint64_t",
        slow_down_results: u64 => "uint64_t",
        sleep_for_period_results: u64 => "uint64_t",
        ignored_errors: u64 => "uint64_t",
        paused_until_unix_us: u64 => "uint64_t",
        connected_peers: u64 => "uint64_t",
        admission_waits: u64 => "uint64_t",
        admission_wait_sum_us: u64 => "uint64_t",
        admission_wait_p50_us: u64 => "uint64_t",
        admission_wait_p99_us: u64 => "uint64_t",
        running: bool => "bool",
        lost_receivers: u64 => "uint64_t",
        open_connections: u64 => "uint64_t",
        max_connections: u64 => "uint64_t",
        refused_not_allowed: u64 => "uint64_t",
        refused_connection_limit: u64 => "uint64_t",
    }
}

/// The description as a JSON value (what `pulsar_abi_description` gives as text).
pub fn abi_description() -> Value {
    let statuses: Map<String, Value> = STATUSES
        .iter()
        .map(|s| (s.name().to_string_lossy().into_owned(), json!(*s as u32)))
        .collect();
    let endpoints = json!({
        "REPLY_STACK": PulsarEndpoint::ReplyStack as u32,
        "PUBLISH": PulsarEndpoint::Publish as u32,
        "PULL": PulsarEndpoint::Pull as u32,
    });
    json!({
        "version": env!("CARGO_PKG_VERSION"),
        "statuses": statuses,
        "endpoints": endpoints,
        "structs": {
            "PulsarDaemonStats": {
                "size": size_of::<PulsarDaemonStats>(),
                "align": align_of::<PulsarDaemonStats>(),
                "fields": daemon_stats_fields(),
            },
        },
    })
}

/// The library's own description of its ABI, for bindings that do not read `pulsar.h` (the Python wheel):
/// a static NUL-terminated JSON text (UTF-8), never freed, the same for the life of the process:
///
/// `{"version":"0.1.0","statuses":{"OK":0,"NULL_POINTER":100,...},"endpoints":{"REPLY_STACK":0,...},
///   "structs":{"PulsarDaemonStats":{"size":240,"align":8,"fields":[{"name":"n","type":"uint32_t","offset":0},...]}}}`
///
/// `statuses` are the `PULSAR_STATUS_*` constants and `endpoints` the `PULSAR_ENDPOINT_*` ones, without their
/// prefixes; a struct's `fields` are in declaration order, with C types among `uint32_t`, `uint64_t` and
/// `bool`, and byte offsets. Leaves the last error unchanged.
#[no_mangle]
pub extern "C" fn pulsar_abi_description() -> *const c_char {
    static TEXT: OnceLock<CString> = OnceLock::new();
    TEXT.get_or_init(|| crate::boundary::c_string_lossy(abi_description().to_string().into_bytes()))
        .as_ptr()
}
