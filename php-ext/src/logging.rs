//! The core's log records (`tracing` events) delivered to the user's PSR-3 logger, or printed as Monolog-style
//! lines on STDOUT/STDERR when there is none.
//!
//! The core logs with `tracing`. While a PHP entry point runs core code ([`with_sink`]), a dispatcher is set as
//! the *thread's* default, and its one layer hands each event to the sink on top of a thread-local stack. PHP is
//! single-threaded per request and the daemon loop runs on the PHP thread, so every record that reaches a PHP
//! logger is produced, and delivered, on that thread. Events from any other thread never see this dispatcher.
//!
//! A logger that throws or bails out (a fatal error) must not be ignored, and must not unwind through the core's
//! frames: the exception is taken out of the engine (the fatal error is caught at [`boundary::call_php`]), the
//! logger is no longer called, the optional [`ShutdownHandle`] stops the daemon, and [`with_sink`] returns the
//! interruption so that the entry point rethrows the exception (or hands the fatal error back to PHP) once the core
//! has returned and cleaned up.
//!
//! This module must never call PHP from a thread other than the one that installed the sink.

use std::cell::RefCell;
use std::io::Write as _;
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use ext_php_rs::boxed::ZBox;
use ext_php_rs::convert::IntoZval;
use ext_php_rs::types::{ZendHashTable, ZendObject, Zval};
use ext_php_rs::zend::ExecutorGlobals;
use publisher_pulsar::daemon::ShutdownHandle;
use publisher_pulsar::human_log::escape_controls;
use publisher_pulsar::log_record::{FieldValue, LogRecord};
use tracing::{Dispatch, Event, Level, Subscriber};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::Layer;

use crate::boundary;
use crate::convert;
use crate::failure::{Failure, Outcome};

/// The four PSR-3 methods we call, most severe first.
const PSR3_METHODS: [&str; 4] = ["error", "warning", "info", "debug"];

/// Where records go.
pub enum Target {
    /// A PSR-3 style logger object: `[$logger, 'info']` etc., prepared once.
    Php {
        /// One callable per entry of [`PSR3_METHODS`].
        callables: Vec<Zval>,
    },
    /// Monolog-style lines on the process's STDOUT (the original's default for the daemon).
    Stdout,
    /// Monolog-style lines on STDERR (a worker's STDOUT is its own).
    Stderr,
}

/// A destination for records while a call into the core runs.
pub struct Sink {
    target: Target,
    /// Least severe level delivered.
    min_level: Level,
    /// The Monolog "channel" of printed lines, and `module` in a logger's context.
    channel: String,
    /// Stopped when the logger fails, so that a daemon loop ends promptly.
    shutdown: Option<ShutdownHandle>,
    /// Set once the logger failed; nothing more is delivered to it.
    interrupted: Option<Interruption>,
}

/// Why the user's logger stopped taking records.
pub enum Interruption {
    /// It threw this exception (taken out of the engine, to be rethrown by the entry point).
    Threw(ZBox<ZendObject>),
    /// It caused a fatal error (caught at the `zend_try` boundary), or one was caught before it could be called;
    /// the entry point hands it back to PHP.
    Bailout,
}

impl Sink {
    /// Records go to `logger` if it is an object (checked: it must have callable info/warning/error/debug), else
    /// to `fallback`.
    pub fn new(
        logger: &Zval,
        fallback: Target,
        min_level: Level,
        channel: impl Into<String>,
        setter: &str,
    ) -> Outcome<Sink> {
        let target = if logger.is_null() {
            fallback
        } else if logger.is_object() {
            let mut callables = Vec::with_capacity(PSR3_METHODS.len());
            for method in PSR3_METHODS {
                let callable = method_callable(logger, method)?;
                if !callable.is_callable() {
                    return Err(Failure::setting(format!(
                        "{setter} needs a PSR-3 style logger with a public {method}() method; {} has none",
                        convert::describe(logger)
                    )));
                }
                callables.push(callable);
            }
            Target::Php { callables }
        } else {
            return Err(Failure::setting(format!(
                "{setter} needs a PSR-3 style logger object, got {}",
                convert::describe(logger)
            )));
        };
        Ok(Sink {
            target,
            min_level,
            channel: channel.into(),
            shutdown: None,
            interrupted: None,
        })
    }

    /// Writes one line directly (used where no core code runs, e.g. the ReplyStack notice).
    pub fn log(&mut self, level: Level, message: &str) {
        self.deliver(&LogRecord::new(level, "pulsar_php", message));
    }

    /// Takes the interruption, if the logger failed.
    pub fn take_interruption(&mut self) -> Option<Interruption> {
        self.interrupted.take()
    }

    fn deliver(&mut self, record: &LogRecord) {
        if record.level > self.min_level || self.interrupted.is_some() {
            return;
        }
        match &self.target {
            Target::Php { callables } => {
                let index = match record.level {
                    Level::ERROR => 0,
                    Level::WARN => 1,
                    Level::INFO => 2,
                    _ => 3,
                };
                if let Some(interruption) = call_logger(&callables[index], record, &self.channel) {
                    self.interrupted = Some(interruption);
                    if let Some(shutdown) = &self.shutdown {
                        shutdown.shutdown();
                    }
                }
            }
            Target::Stdout => {
                let line = line(record, &self.channel, SystemTime::now());
                // A closed STDOUT must not stop the daemon; the line is lost, as Monolog would lose it.
                let _ = std::io::stdout().lock().write_all(line.as_bytes());
            }
            Target::Stderr => {
                let line = line(record, &self.channel, SystemTime::now());
                let _ = std::io::stderr().lock().write_all(line.as_bytes());
            }
        }
    }
}

/// `[$logger, $method]` as a PHP array.
fn method_callable(logger: &Zval, method: &str) -> Outcome<Zval> {
    let mut array = ZendHashTable::new();
    array
        .push(logger.shallow_clone())
        .and_then(|()| array.push(method))
        .map_err(|e| Failure::setting(format!("cannot prepare the logger call: {e}")))?;
    let mut callable = Zval::new();
    callable.set_hashtable(array);
    Ok(callable)
}

/// Calls the logger at the `zend_try` boundary ([`boundary::call_php`]), so that a fatal error in it comes back
/// here instead of jumping over the core's frames.
fn call_logger(callable: &Zval, record: &LogRecord, channel: &str) -> Option<Interruption> {
    let context = context(record, channel);
    // The message is a human line (control characters escaped); the context keeps exact values.
    let message = escape_controls(&record.message);
    let message: &str = &message;
    let outcome = boundary::call_php(|| {
        let _ = callable.try_call(vec![&message, &context]);
    });
    if outcome.is_err() {
        return Some(Interruption::Bailout);
    }
    ExecutorGlobals::take_exception().map(Interruption::Threw)
}

/// The PSR-3 context array: the event's fields (in the event's order), plus `module`.
fn context(record: &LogRecord, channel: &str) -> ZBox<ZendHashTable> {
    let mut context = ZendHashTable::new();
    // Inserting into a fresh array only fails on allocation failure, which PHP itself turns into a fatal error
    // first; a missing field in a log line is the most that can be lost here.
    let _ = context.insert("module", channel);
    for (name, value) in &record.fields {
        let _ = match value {
            FieldValue::Int(n) => context.insert(*name, *n),
            FieldValue::Float(f) => context.insert(*name, *f),
            FieldValue::Bool(b) => context.insert(*name, *b),
            FieldValue::Text(s) => context.insert(*name, s.as_str()),
        };
    }
    context
}

/// `[2024-05-01T12:00:00.123456+00:00] channel.INFO: message {"field":1} []`, Monolog's default line shape.
fn line(record: &LogRecord, channel: &str, now: SystemTime) -> String {
    let context = record.fields_json();
    let context = if context.is_empty() {
        "[]".to_owned()
    } else {
        serde_json::Value::Object(context).to_string()
    };
    let level = match record.level {
        Level::ERROR => "ERROR",
        Level::WARN => "WARNING",
        Level::INFO => "INFO",
        _ => "DEBUG",
    };
    // One record, one line: moduleName and the message with their control characters escaped (the context is
    // JSON, which escapes its own).
    format!(
        "[{}] {}.{level}: {} {context} []\n",
        utc_timestamp(now),
        escape_controls(channel),
        escape_controls(&record.message)
    )
}

thread_local! {
    /// The sinks of the entry points running on this thread, innermost last.
    static SINKS: RefCell<Vec<Sink>> = const { RefCell::new(Vec::new()) };
}

/// The one layer: hands events to the innermost sink of this thread.
struct SinkLayer;

impl<S: Subscriber> Layer<S> for SinkLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let record = LogRecord::from_event(event);
        // Take the sink out while PHP runs, so that a record logged from inside the PHP logger (re-entering
        // here) finds no sink rather than a borrowed one, and is dropped.
        let Some(mut sink) = SINKS.with(|sinks| sinks.borrow_mut().pop()) else {
            return;
        };
        sink.deliver(&record);
        SINKS.with(|sinks| sinks.borrow_mut().push(sink));
    }
}

fn dispatch() -> &'static Dispatch {
    static DISPATCH: OnceLock<Dispatch> = OnceLock::new();
    // Debug and trace records are never delivered: filtering them here, per call site, means the core's debug
    // lines cost nothing on the hot path (no formatting of their fields).
    DISPATCH.get_or_init(|| {
        Dispatch::new(tracing_subscriber::registry().with(SinkLayer.with_filter(LevelFilter::INFO)))
    })
}

/// Runs `body` with the core's records going to `sink`; returns the body's result and the sink (to check for an
/// interruption).
pub fn with_sink<R>(sink: Sink, body: impl FnOnce() -> R) -> (R, Sink) {
    SINKS.with(|sinks| sinks.borrow_mut().push(sink));
    // Pops on a panic too, so that a later call does not deliver to a stale sink.
    struct PopOnUnwind(bool);
    impl Drop for PopOnUnwind {
        fn drop(&mut self) {
            if self.0 {
                SINKS.with(|sinks| sinks.borrow_mut().pop());
            }
        }
    }
    let mut guard = PopOnUnwind(true);
    let result = tracing::dispatcher::with_default(dispatch(), body);
    guard.0 = false;
    let sink = SINKS
        .with(|sinks| sinks.borrow_mut().pop())
        .expect("the sink pushed above is still on the stack: the layer always puts it back");
    (result, sink)
}

/// Makes a failure of the current sink's logger stop this daemon (at once if it has already failed).
pub fn stop_on_logger_failure(shutdown: ShutdownHandle) {
    SINKS.with(|sinks| {
        if let Some(sink) = sinks.borrow_mut().last_mut() {
            if sink.interrupted.is_some() {
                shutdown.shutdown();
            }
            sink.shutdown = Some(shutdown);
        }
    });
}

/// Rethrows what interrupted the logger; call after the core returned and released its resources.
pub fn resume(interruption: Interruption) -> Failure {
    match interruption {
        Interruption::Threw(exception) => {
            // The box's reference moves into the zval, and from there into the engine's exception slot.
            let thrown = exception
                .into_zval(false)
                .map_err(|e| e.to_string())
                .and_then(|zval| {
                    ext_php_rs::exception::throw_object(zval).map_err(|e| e.to_string())
                });
            match thrown {
                Ok(()) => Failure::PhpPending,
                Err(e) => Failure::new(
                    crate::failure::Kind::InternalError,
                    format!("cannot rethrow the logger's exception: {e}"),
                ),
            }
        }
        // Handed back to PHP by the entry point's guard, once the core's frames and ours have returned.
        Interruption::Bailout => Failure::Bailout,
    }
}

/// `2024-05-01T12:00:00.123456+00:00` for a UTC instant.
fn utc_timestamp(now: SystemTime) -> String {
    let since = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:06}+00:00",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        since.subsec_micros()
    )
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar (H. Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn dates_are_gregorian() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(59), (1970, 3, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
    }

    #[test]
    fn lines_look_like_monolog() {
        let record = LogRecord {
            level: Level::WARN,
            target: "test",
            message: "dropping a message".into(),
            fields: vec![
                ("iteration", FieldValue::Int(3)),
                ("reason", FieldValue::Text("garbage".into())),
            ],
        };
        let at = UNIX_EPOCH + Duration::from_micros(1_704_067_200_000_001);
        assert_eq!(
            line(&record, "react:pulsar", at),
            "[2024-01-01T00:00:00.000001+00:00] react:pulsar.WARNING: dropping a message \
             {\"iteration\":3,\"reason\":\"garbage\"} []\n"
        );
        let bare = LogRecord::new(Level::INFO, "test", "started");
        assert!(line(&bare, "p", at).ends_with("p.INFO: started [] []\n"));
    }

    #[test]
    fn a_line_is_one_line_whatever_the_texts_hold() {
        let record = LogRecord {
            level: Level::INFO,
            target: "test",
            message: "pulse\nINFO: forged\x1b[2J".into(),
            fields: vec![("error_message", FieldValue::Text("quota\n\x1b[31m".into()))],
        };
        let at = UNIX_EPOCH + Duration::from_micros(1_704_067_200_000_001);
        assert_eq!(
            line(&record, "mod\nule", at),
            "[2024-01-01T00:00:00.000001+00:00] mod\\nule.INFO: pulse\\nINFO: forged\\x1b[2J \
             {\"error_message\":\"quota\\n\\u001b[31m\"} []\n"
        );
    }
}
