//! The building blocks every message is made of: protocol class names, protected DTO properties, and the
//! field readers that apply the decoding rules listed in [`crate::message`].
//!
//! It must never guess at a value of the wrong type or put unbounded peer bytes into an error message: every
//! reader either returns what the rules allow or a [`WireError`] naming what it found, cut and escaped.

use super::INVENTORY_NS;
use crate::value::{self, Limits, Object, Property, Value, Visibility};
use crate::WireError;

/// The fully qualified name of a protocol class.
pub(super) fn fq(short: &str) -> String {
    format!("{INVENTORY_NS}{short}")
}

/// A protocol object: every DTO property is protected in the original, hence the `\0*\0` names.
pub(super) fn dto(short: &str, properties: &[(&str, Value)]) -> Object {
    Object {
        class: fq(short).into_bytes(),
        properties: properties
            .iter()
            .map(|(name, value)| Property {
                name: name.as_bytes().to_vec(),
                visibility: Visibility::Protected,
                value: value.clone(),
            })
            .collect(),
    }
}

pub(super) fn encode_dto(short: &str, properties: &[(&str, Value)]) -> Vec<u8> {
    Value::Object(dto(short, properties)).to_bytes()
}

/// At most this many bytes of a peer's class name go into an error message (they end up in logs).
pub(super) const MAX_NAME_IN_MESSAGE: usize = 120;

/// Log-safe rendering of peer-supplied bytes: printable ASCII as is (namespace backslashes stay readable),
/// everything else as `\xNN`, cut at a sane length.
pub(super) fn printable(bytes: &[u8]) -> String {
    let cut = bytes.get(..MAX_NAME_IN_MESSAGE).unwrap_or(bytes);
    let mut text = String::with_capacity(cut.len() + 3);
    for &b in cut {
        if b.is_ascii_graphic() || b == b' ' {
            text.push(char::from(b));
        } else {
            text.push_str(&format!("\\x{b:02x}"));
        }
    }
    if cut.len() < bytes.len() {
        text.push_str("...");
    }
    text
}

/// What a value is, for error messages ("found ...").
pub(super) fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(_) => "a bool".to_owned(),
        Value::Int(_) => "an int".to_owned(),
        Value::Float(_) => "a float".to_owned(),
        Value::Str(_) => "a string".to_owned(),
        Value::Array(_) => "an array".to_owned(),
        Value::Object(o) => format!("an object of class `{}`", printable(&o.class)),
    }
}

pub(super) fn unexpected(expected: &str, found: &Value) -> WireError {
    WireError::Unexpected(format!("expected {expected}, found {}", describe(found)))
}

/// Parses a message whose top value must be an object (of any class).
pub(super) fn parse_object(bytes: &[u8], limits: &Limits) -> Result<Object, WireError> {
    match value::parse(bytes, limits)? {
        Value::Object(object) => Ok(object),
        other => Err(unexpected("a serialized object", &other)),
    }
}

/// Parses a message whose top value must be an object of one of the protocol classes in `shorts`.
pub(super) fn parse_dto(bytes: &[u8], shorts: &[&str]) -> Result<Object, WireError> {
    let object = parse_object(bytes, &Limits::default())?;
    if shorts.iter().any(|short| object.class_is(&fq(short))) {
        Ok(object)
    } else {
        Err(unexpected(&shorts.join(" or "), &Value::Object(object)))
    }
}

/// The property `name` (any visibility, via [`Object::get`]). PHP would keep the *last* of duplicate
/// properties while `get` finds the first, so a message naming one property twice is refused rather than read
/// differently from PHP.
pub(super) fn field<'o>(object: &'o Object, name: &str) -> Result<Option<&'o Value>, WireError> {
    let count = object
        .properties
        .iter()
        .filter(|p| p.name == name.as_bytes())
        .count();
    if count > 1 {
        return Err(WireError::Unexpected(format!(
            "property `{name}` appears {count} times in `{}`",
            printable(&object.class)
        )));
    }
    Ok(object.get(name))
}

/// A boolean property: bool, or the ints 0/1 (PHP truthiness of what a loosely typed peer might send); null or
/// absent gives `default`.
pub(super) fn bool_field(object: &Object, name: &str, default: bool) -> Result<bool, WireError> {
    Ok(opt_bool_field(object, name)?.unwrap_or(default))
}

/// Like [`bool_field`], with null or absent as `None`.
pub(super) fn opt_bool_field(object: &Object, name: &str) -> Result<Option<bool>, WireError> {
    match field(object, name)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::Int(0)) => Ok(Some(false)),
        Some(Value::Int(1)) => Ok(Some(true)),
        Some(other) => Err(unexpected(&format!("`{name}` to be a bool"), other)),
    }
}

/// An integer property: an int only; absent gives `default`.
pub(super) fn int_field(object: &Object, name: &str, default: i64) -> Result<i64, WireError> {
    match field(object, name)? {
        None => Ok(default),
        Some(Value::Int(i)) => Ok(*i),
        Some(other) => Err(unexpected(&format!("`{name}` to be an int"), other)),
    }
}

/// A text property of `ActionResultingPushDto`: strings as they are, scalars as PHP's string conversion, null
/// or absent as `None`.
pub(super) fn text_field(object: &Object, name: &str) -> Result<Option<Vec<u8>>, WireError> {
    match field(object, name)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Str(s)) => Ok(Some(s.clone())),
        Some(Value::Int(i)) => Ok(Some(i.to_string().into_bytes())),
        Some(Value::Float(f)) => Ok(Some(crate::float::to_php_string(*f))),
        Some(Value::Bool(b)) => Ok(Some(if *b { b"1".to_vec() } else { Vec::new() })),
        Some(other) => Err(unexpected(&format!("`{name}` to be a string"), other)),
    }
}

pub(super) fn bool_value(b: bool) -> Value {
    Value::Bool(b)
}

pub(super) fn opt_bytes(bytes: &Option<Vec<u8>>) -> Value {
    bytes
        .as_ref()
        .map_or(Value::Null, |b| Value::Str(b.clone()))
}

// ---- API contract ----
