//! Where the library's log records go: nowhere until the host chooses, then either standard error
//! (`pulsar_log_to_stderr`, tracing's text lines) or a bounded in-process queue (`pulsar_log_to_queue`) that the
//! host drains with `pulsar_log_next`, one JSON record at a time, to hand to its own logger (the PHP FFI route
//! gives them to the PSR-3 logger exactly as the extension does).
//!
//! Both install the process's one global `tracing` subscriber, so only one of them can be chosen per process.
//! Records are flattened by the core's [`publisher_pulsar::log_record`], the same code the PHP extension uses.
//! This module must never block a daemon or performer thread on the host: a full queue drops its oldest record
//! and counts it, it never waits.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::ffi::{c_char, CString};
use std::io::IsTerminal;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use publisher_pulsar::human_log::HumanFields;
use publisher_pulsar::log_record::{FieldValue, LogRecord};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::{EnvFilter, Layer};

use crate::boundary::{c_string_lossy, ffi_boundary, try_opt_str, try_out, Failure};
use crate::status::PulsarStatus;

/// The filter of `filter` (NULL: `RUST_LOG`, else `info`).
fn env_filter(filter: Option<&str>) -> Result<EnvFilter, Failure> {
    match filter {
        Some(text) => EnvFilter::try_new(text).map_err(|e| {
            Failure::new(
                PulsarStatus::InvalidArgument,
                format!("invalid log filter {text:?}: {e}"),
            )
        }),
        None => Ok(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"))),
    }
}

/// The failure of a second choice of destination (or a subscriber the host program installed itself).
fn already_set_up(detail: impl std::fmt::Display) -> Failure {
    Failure::new(
        PulsarStatus::OutOfOrder,
        format!(
            "logging is already set up in this process ({detail}): pulsar_log_to_stderr and pulsar_log_to_queue \
             can be chosen once per process, one of them"
        ),
    )
}

/// Sends the library's log lines (daemon iterations, warnings about malformed input) to standard error, in
/// colour only when standard error is a terminal. Off until called. `filter` is NULL for `RUST_LOG` or else
/// `info`, or a filter such as `"debug"` or `"publisher_pulsar=debug"`. One record is one line: control
/// characters in text from peers (error messages, reasons, class names) and in `moduleName` are written as
/// visible escapes (`\n`, `\x1b`).
///
/// Only one of `pulsar_log_to_stderr` and `pulsar_log_to_queue` can be chosen, once per process: a second call
/// of either returns `PULSAR_STATUS_OUT_OF_ORDER` (so does a call in a program that installed its own `tracing`
/// subscriber).
///
/// Errors: `PULSAR_STATUS_INVALID_UTF8`, `PULSAR_STATUS_INVALID_ARGUMENT` (a malformed filter),
/// `PULSAR_STATUS_OUT_OF_ORDER`.
///
/// # Safety
/// `filter` must be NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn pulsar_log_to_stderr(filter: *const c_char) -> PulsarStatus {
    ffi_boundary! {
        let filter = env_filter(try_opt_str!(filter))?;
        tracing_subscriber::fmt()
            .fmt_fields(HumanFields)
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .with_ansi(std::io::stderr().is_terminal())
            .try_init()
            .map_err(already_set_up)
    }
}

/// The records waiting to be taken, oldest first, and how many were dropped since the last one was taken.
struct LogQueue {
    records: VecDeque<LogRecord>,
    capacity: usize,
    dropped: u64,
}

impl LogQueue {
    fn push(&mut self, record: LogRecord) {
        if self.records.len() >= self.capacity {
            self.records.pop_front();
            self.dropped = self.dropped.saturating_add(1);
        }
        self.records.push_back(record);
    }

    /// The next record to give out: a notice of the drops first, if any.
    fn pop(&mut self) -> Option<LogRecord> {
        if self.dropped > 0 {
            let dropped = std::mem::take(&mut self.dropped);
            let mut notice = LogRecord::new(
                Level::WARN,
                module_path!(),
                format!("the log queue was full: {dropped} older records were dropped"),
            );
            notice.fields.push((
                "dropped",
                FieldValue::Int(i64::try_from(dropped).unwrap_or(i64::MAX)),
            ));
            return Some(notice);
        }
        self.records.pop_front()
    }
}

type SharedQueue = Arc<Mutex<LogQueue>>;

/// The queue of `pulsar_log_to_queue`, once chosen.
static QUEUE: OnceLock<SharedQueue> = OnceLock::new();

thread_local! {
    /// The JSON text last given out by `pulsar_log_next` on this thread (valid until its next call here).
    static LAST_RECORD: RefCell<Option<CString>> = const { RefCell::new(None) };
}

/// The layer that queues every record its filter lets through.
struct QueueLayer(SharedQueue);

impl<S: Subscriber> Layer<S> for QueueLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let record = LogRecord::from_event(event);
        // A poisoned lock only means a panic elsewhere while holding it; the queue itself is always whole.
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(record);
    }
}

/// Keeps the library's log records in an in-process queue of at most `capacity` records, for the host to take
/// with `pulsar_log_next` (from any thread) and hand to its own logger. Off until called. When the queue is full
/// the oldest record is dropped; the next `pulsar_log_next` then first gives a `WARN` record saying how many were
/// dropped (field `dropped`). `filter` is NULL for `RUST_LOG` or else `info`, or a filter such as `"warn"`.
///
/// Only one of `pulsar_log_to_stderr` and `pulsar_log_to_queue` can be chosen, once per process: a second call
/// of either returns `PULSAR_STATUS_OUT_OF_ORDER` (so does a call in a program that installed its own `tracing`
/// subscriber).
///
/// Errors: `PULSAR_STATUS_INVALID_UTF8`, `PULSAR_STATUS_INVALID_ARGUMENT` (a malformed filter, a `capacity` of
/// 0), `PULSAR_STATUS_OUT_OF_ORDER`.
///
/// # Safety
/// `filter` must be NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn pulsar_log_to_queue(
    filter: *const c_char,
    capacity: usize,
) -> PulsarStatus {
    ffi_boundary! {
        let filter = env_filter(try_opt_str!(filter))?;
        if capacity == 0 {
            return Err(Failure::new(
                PulsarStatus::InvalidArgument,
                "capacity must be at least 1 record",
            ));
        }
        let queue = Arc::new(Mutex::new(LogQueue {
            // Grows as needed: a large capacity costs nothing until records come.
            records: VecDeque::new(),
            capacity,
            dropped: 0,
        }));
        let subscriber =
            tracing_subscriber::registry().with(QueueLayer(queue.clone()).with_filter(filter));
        tracing::subscriber::set_global_default(subscriber).map_err(already_set_up)?;
        // The global subscriber is set once per process, so this is the first and only queue.
        let _ = QUEUE.set(queue);
        Ok(())
    }
}

/// Takes the oldest record of the queue of `pulsar_log_to_queue`, without waiting. On success `*out` points to
/// the record as one line of JSON (UTF-8), or is NULL when the queue is empty (or was never chosen):
///
/// `{"level":"INFO","target":"publisher_pulsar::daemon","message":"pulse iteration finished","fields":{...}}`
///
/// `level` is `ERROR`, `WARN`, `INFO`, `DEBUG` or `TRACE`; `fields` holds the record's other fields in their
/// order, as JSON integers (signed 64-bit; larger unsigned values are strings), numbers, booleans or strings.
/// Strings are exact, peer-supplied text included (control characters escaped by JSON's rules only): escape
/// them before writing them into a line of text.
/// The string belongs to the library and stays valid until the next `pulsar_log_next` call on the same thread
/// (copy it to keep it). Any thread may drain the queue.
///
/// # Safety
/// `out` must be NULL or valid for one write.
#[no_mangle]
pub unsafe extern "C" fn pulsar_log_next(out: *mut *const c_char) -> PulsarStatus {
    ffi_boundary! {
        let out = try_out!(out);
        let record = QUEUE
            .get()
            .and_then(|queue| queue.lock().unwrap_or_else(PoisonError::into_inner).pop());
        let text = record.map(|record| c_string_lossy(record.to_json().into_bytes()));
        let pointer = LAST_RECORD.with(|slot| {
            let mut slot = slot.borrow_mut();
            *slot = text;
            slot.as_ref().map_or(std::ptr::null(), |text| text.as_ptr())
        });
        out.write(pointer);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(n: i64) -> LogRecord {
        let mut record = LogRecord::new(Level::INFO, "test", format!("record {n}"));
        record.fields.push(("n", FieldValue::Int(n)));
        record
    }

    #[test]
    fn a_full_queue_drops_the_oldest_and_says_how_many() {
        let mut queue = LogQueue {
            records: VecDeque::new(),
            capacity: 2,
            dropped: 0,
        };
        for n in 1..=5 {
            queue.push(record(n));
        }
        let notice = queue.pop().expect("the drop notice");
        assert_eq!(notice.level, Level::WARN);
        assert_eq!(notice.fields, vec![("dropped", FieldValue::Int(3))]);
        assert_eq!(queue.pop(), Some(record(4)));
        assert_eq!(queue.pop(), Some(record(5)));
        assert_eq!(queue.pop(), None);
    }
}
