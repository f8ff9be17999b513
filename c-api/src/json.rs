//! A JSON rendering of a pulse's PHP properties, for callers that have no PHP values (C, Python).
//!
//! The mapping (also documented in the header, at `pulsar_pulse_properties_json`):
//! - `null`, booleans and integers as themselves; finite floats as JSON numbers; `INF`, `-INF` and `NAN` as
//!   the strings `"INF"`, `"-INF"`, `"NAN"` (JSON has no such numbers);
//! - strings as JSON strings, decoded as UTF-8 with each invalid byte sequence replaced by U+FFFD (the exact
//!   bytes are in the pulse's raw `serialize()` form);
//! - arrays whose keys are exactly 0, 1, 2, … in order (PHP lists) as JSON arrays; other arrays as JSON
//!   objects, integer keys written in decimal;
//! - objects as JSON objects of their properties by bare name (the visibility prefix of protected and private
//!   names dropped), with the class name under the extra key `"__class"`; at the top level the class is given
//!   separately and `"__class"` is not added. Properties keep their serialized order; when two share a bare
//!   name (a private property shadowed in a subclass) the first one wins, as `Object::get` does.
//!
//! It must never fail: every PHP value has a rendering.

use pulsar_wire::{Key, Object, Value};

/// The properties of `object` as a JSON object, without `"__class"`.
pub fn properties_json(object: &Object) -> String {
    let mut out = String::new();
    write_properties(object, None, &mut out);
    out
}

fn write_value(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Float(f) => write_float(*f, out),
        Value::Str(bytes) => write_string(&String::from_utf8_lossy(bytes), out),
        Value::Array(entries) => {
            let is_list = entries
                .iter()
                .enumerate()
                .all(|(i, (key, _))| matches!(key, Key::Int(k) if usize::try_from(*k) == Ok(i)));
            if is_list {
                out.push('[');
                for (i, (_, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_value(v, out);
                }
                out.push(']');
            } else {
                out.push('{');
                for (i, (key, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    match key {
                        Key::Int(k) => write_string(&k.to_string(), out),
                        Key::Str(s) => write_string(&String::from_utf8_lossy(s), out),
                    }
                    out.push(':');
                    write_value(v, out);
                }
                out.push('}');
            }
        }
        Value::Object(object) => write_properties(object, Some(&object.class), out),
    }
}

fn write_properties(object: &Object, class: Option<&[u8]>, out: &mut String) {
    out.push('{');
    let mut first = true;
    if let Some(class) = class {
        write_string("__class", out);
        out.push(':');
        write_string(&String::from_utf8_lossy(class), out);
        first = false;
    }
    for (i, property) in object.properties.iter().enumerate() {
        let shadowed = object.properties[..i]
            .iter()
            .any(|p| p.name == property.name);
        if shadowed {
            continue;
        }
        if !first {
            out.push(',');
        }
        first = false;
        write_string(&String::from_utf8_lossy(&property.name), out);
        out.push(':');
        write_value(&property.value, out);
    }
    out.push('}');
}

fn write_float(f: f64, out: &mut String) {
    if f.is_nan() {
        write_string("NAN", out);
    } else if f.is_infinite() {
        write_string(if f > 0.0 { "INF" } else { "-INF" }, out);
    } else {
        // serde_json writes the shortest text that reads back as the same f64.
        match serde_json::Number::from_f64(f) {
            Some(n) => out.push_str(&n.to_string()),
            None => out.push_str("null"),
        }
    }
}

fn write_string(s: &str, out: &mut String) {
    // serde_json's escaping of a &str cannot fail.
    match serde_json::to_string(s) {
        Ok(quoted) => out.push_str(&quoted),
        Err(_) => out.push_str("\"\""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pulsar_wire::{Limits, Property, Pulse, Visibility};

    fn prop(name: &str, value: Value) -> Property {
        Property {
            name: name.as_bytes().to_vec(),
            visibility: Visibility::Protected,
            value,
        }
    }

    #[test]
    fn the_default_pulse() {
        let pulse = Pulse::default_pulse();
        assert_eq!(properties_json(&pulse.object), r#"{"allowAction":true}"#);
    }

    #[test]
    fn scalars_strings_and_non_finite_floats() {
        let object = Object {
            class: b"X".to_vec(),
            properties: vec![
                prop("n", Value::Null),
                prop("i", Value::Int(-7)),
                prop("f", Value::Float(0.1)),
                prop("inf", Value::Float(f64::NEG_INFINITY)),
                prop("nan", Value::Float(f64::NAN)),
                prop("s", Value::Str(b"caf\xc3\xa9 \xff \"q\"\n".to_vec())),
            ],
        };
        let json = properties_json(&object);
        assert_eq!(
            json,
            r#"{"n":null,"i":-7,"f":0.1,"inf":"-INF","nan":"NAN","s":"café � \"q\"\n"}"#
        );
        let parsed: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
        assert_eq!(parsed["s"], "café \u{fffd} \"q\"\n");
    }

    #[test]
    fn lists_maps_and_nested_objects() {
        let object = Object {
            class: b"Top".to_vec(),
            properties: vec![
                prop(
                    "list",
                    Value::Array(vec![
                        (Key::Int(0), Value::Int(1)),
                        (Key::Int(1), Value::Int(2)),
                    ]),
                ),
                prop(
                    "map",
                    Value::Array(vec![
                        (Key::Int(1), Value::Bool(true)),
                        (Key::Str(b"k".to_vec()), Value::Null),
                    ]),
                ),
                prop("empty", Value::Array(vec![])),
                prop(
                    "inner",
                    Value::Object(Object {
                        class: b"Ns\\Inner".to_vec(),
                        properties: vec![prop("x", Value::Int(3))],
                    }),
                ),
            ],
        };
        assert_eq!(
            properties_json(&object),
            r#"{"list":[1,2],"map":{"1":true,"k":null},"empty":[],"inner":{"__class":"Ns\\Inner","x":3}}"#
        );
    }

    #[test]
    fn a_shadowed_name_keeps_the_first() {
        let object = Object {
            class: b"C".to_vec(),
            properties: vec![prop("a", Value::Int(1)), prop("a", Value::Int(2))],
        };
        assert_eq!(properties_json(&object), r#"{"a":1}"#);
    }

    #[test]
    fn a_decoded_subclass_pulse() {
        let bytes = b"O:7:\"MyPulse\":2:{s:14:\"\0*\0allowAction\";b:1;s:10:\"\0*\0command\";s:16:\"slow-down-please\";}";
        let pulse = Pulse::decode(bytes, &Limits::default()).expect("valid pulse");
        assert_eq!(
            properties_json(&pulse.object),
            r#"{"allowAction":true,"command":"slow-down-please"}"#
        );
    }
}
