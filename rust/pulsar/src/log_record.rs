//! One `tracing` event of the core flattened into a plain record (level, target, message, typed fields), the
//! shape in which every host hands the core's log records to its users: the PHP extension turns it into a PSR-3
//! call or a Monolog-style line, the C ABI queues it and gives it out as JSON for the FFI route to do the same.
//!
//! Keeping the flattening here is what makes both routes deliver the same records with the same context. This
//! module must never decide where a record goes, filter records, or do I/O.

use std::fmt::Write as _;

use serde::ser::{Serialize, SerializeMap, SerializeStruct, Serializer};
use tracing::field::{Field, Visit};
use tracing::{Event, Level};

/// One field's value, typed as PHP will hold it.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue {
    /// A signed integer; also an unsigned one that fits `i64` (PHP's integer).
    Int(i64),
    /// A float.
    Float(f64),
    /// A boolean.
    Bool(bool),
    /// Text: strings, `Display`/`Debug` values (`%x`, `?x`), and unsigned integers beyond `i64`.
    Text(String),
}

impl FieldValue {
    /// The value as JSON (a non-finite float becomes `null`, as JSON has no such number).
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            FieldValue::Int(n) => serde_json::Value::from(*n),
            FieldValue::Float(f) => serde_json::Value::from(*f),
            FieldValue::Bool(b) => serde_json::Value::from(*b),
            FieldValue::Text(s) => serde_json::Value::from(s.as_str()),
        }
    }
}

impl Serialize for FieldValue {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            FieldValue::Int(n) => serializer.serialize_i64(*n),
            // serde_json writes a non-finite float as null, like `to_json`.
            FieldValue::Float(f) => serializer.serialize_f64(*f),
            FieldValue::Bool(b) => serializer.serialize_bool(*b),
            FieldValue::Text(s) => serializer.serialize_str(s),
        }
    }
}

/// One event, flattened: its `message` field apart, every other field in the order the event gives them.
#[derive(Debug, Clone, PartialEq)]
pub struct LogRecord {
    /// The event's level.
    pub level: Level,
    /// The event's target (the module path of the call site, e.g. `publisher_pulsar::daemon`).
    pub target: &'static str,
    /// The formatted message (`""` when the event has none).
    pub message: String,
    /// The other fields, in the event's order.
    pub fields: Vec<(&'static str, FieldValue)>,
}

impl LogRecord {
    /// A record without fields, for a host's own lines.
    pub fn new(level: Level, target: &'static str, message: impl Into<String>) -> LogRecord {
        LogRecord {
            level,
            target,
            message: message.into(),
            fields: Vec::new(),
        }
    }

    /// Flattens a `tracing` event.
    pub fn from_event(event: &Event<'_>) -> LogRecord {
        let metadata = event.metadata();
        let mut record = LogRecord::new(*metadata.level(), metadata.target(), String::new());
        event.record(&mut record);
        record
    }

    /// The fields as a JSON object. Its keys are sorted (serde_json's map), which is the order of the context
    /// in a Monolog-style line.
    pub fn fields_json(&self) -> serde_json::Map<String, serde_json::Value> {
        self.fields
            .iter()
            .map(|(name, value)| ((*name).to_owned(), value.to_json()))
            .collect()
    }

    /// The record as one JSON object, `{"level":"INFO","target":..,"message":..,"fields":{..}}`, with the
    /// fields in the event's order (the order a PSR-3 context gets them in) and the level as `tracing` names it
    /// (`ERROR`, `WARN`, `INFO`, `DEBUG`, `TRACE`).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self)
            .expect("a record of strings, numbers and booleans always serializes")
    }
}

/// The fields in their own order: a `serde_json::Map` would sort them.
struct OrderedFields<'a>(&'a [(&'static str, FieldValue)]);

impl Serialize for OrderedFields<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, value) in self.0 {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

impl Serialize for LogRecord {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut record = serializer.serialize_struct("LogRecord", 4)?;
        record.serialize_field("level", self.level.as_str())?;
        record.serialize_field("target", self.target)?;
        record.serialize_field("message", &self.message)?;
        record.serialize_field("fields", &OrderedFields(&self.fields))?;
        record.end()
    }
}

impl Visit for LogRecord {
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.fields.push((field.name(), FieldValue::Int(value)));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        let value = match i64::try_from(value) {
            Ok(n) => FieldValue::Int(n),
            // Beyond PHP's integer: text keeps every digit, where a float would round.
            Err(_) => FieldValue::Text(value.to_string()),
        };
        self.fields.push((field.name(), value));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.fields.push((field.name(), FieldValue::Float(value)));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.fields.push((field.name(), FieldValue::Bool(value)));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = value.to_owned();
        } else {
            self.fields
                .push((field.name(), FieldValue::Text(value.to_owned())));
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = write!(text, "{value:?}");
        if field.name() == "message" {
            self.message = text;
        } else {
            self.fields.push((field.name(), FieldValue::Text(text)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use tracing::Subscriber;
    use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

    /// Keeps every event's record.
    struct Keep(Arc<Mutex<Vec<LogRecord>>>);

    impl<S: Subscriber> Layer<S> for Keep {
        fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
            self.0
                .lock()
                .expect("no test thread panics while holding it")
                .push(LogRecord::from_event(event));
        }
    }

    fn records_of(body: impl FnOnce()) -> Vec<LogRecord> {
        let kept = Arc::new(Mutex::new(Vec::new()));
        let subscriber = tracing_subscriber::registry().with(Keep(kept.clone()));
        tracing::subscriber::with_default(subscriber, body);
        let records = kept.lock().expect("not poisoned").clone();
        records
    }

    #[test]
    fn an_event_becomes_typed_fields_in_order() {
        let address = "tcp://127.0.0.1:1";
        let records = records_of(|| {
            tracing::warn!(
                zeta = 3_u32,
                big = u64::MAX,
                ratio = 0.5,
                ok = true,
                at = %address,
                dbg = ?Some(1),
                "dropping {} messages",
                2
            )
        });
        assert_eq!(records.len(), 1);
        let record = &records[0];
        assert_eq!(record.level, Level::WARN);
        assert_eq!(record.target, module_path!());
        assert_eq!(record.message, "dropping 2 messages");
        assert_eq!(
            record.fields,
            vec![
                ("zeta", FieldValue::Int(3)),
                ("big", FieldValue::Text(u64::MAX.to_string())),
                ("ratio", FieldValue::Float(0.5)),
                ("ok", FieldValue::Bool(true)),
                ("at", FieldValue::Text(address.to_owned())),
                ("dbg", FieldValue::Text("Some(1)".to_owned())),
            ]
        );
        assert_eq!(
            record.to_json(),
            format!(
                "{{\"level\":\"WARN\",\"target\":\"{}\",\"message\":\"dropping 2 messages\",\"fields\":\
                 {{\"zeta\":3,\"big\":\"{}\",\"ratio\":0.5,\"ok\":true,\"at\":\"{address}\",\"dbg\":\"Some(1)\"}}}}",
                module_path!(),
                u64::MAX
            )
        );
        let sorted: Vec<String> = record.fields_json().keys().cloned().collect();
        assert_eq!(sorted, ["at", "big", "dbg", "ok", "ratio", "zeta"]);
    }

    #[test]
    fn a_record_without_fields_has_an_empty_object() {
        let record = LogRecord::new(Level::INFO, "host", "Pulsar \"started\"");
        assert_eq!(
            record.to_json(),
            "{\"level\":\"INFO\",\"target\":\"host\",\"message\":\"Pulsar \\\"started\\\"\",\"fields\":{}}"
        );
        let nan = LogRecord {
            fields: vec![("x", FieldValue::Float(f64::NAN))],
            ..record
        };
        assert!(nan.to_json().ends_with("\"fields\":{\"x\":null}}"));
    }
}
