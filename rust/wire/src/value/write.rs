//! The writer: PHP 8.2's `serialize()` bytes of a [`Value`], byte for byte.
//!
//! It must never reorder, rename or re-encode what the model holds: `write(parse(b)) == b` depends on writing
//! exactly what was read (property order, visibility mangling, float text).

use super::{Key, Object, Value, Visibility};

/// Appends PHP 8.2's `serialize()` form of `value` to `out`.
///
/// The writer trusts the model: a [`Visibility::Public`] name starting with NUL, an empty protected or private
/// name, a private class holding NUL or an invalid class name are written as given and will not parse back
/// (PHP's own `serialize()` never produces them).
pub fn write(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Null => out.extend_from_slice(b"N;"),
        Value::Bool(b) => out.extend_from_slice(if *b { b"b:1;" } else { b"b:0;" }),
        Value::Int(i) => {
            out.extend_from_slice(b"i:");
            out.extend_from_slice(i.to_string().as_bytes());
            out.push(b';');
        }
        Value::Float(f) => {
            out.extend_from_slice(b"d:");
            crate::float::write_serialized(*f, out);
            out.push(b';');
        }
        Value::Str(s) => write_str(s, out),
        Value::Array(entries) => {
            out.extend_from_slice(b"a:");
            out.extend_from_slice(entries.len().to_string().as_bytes());
            out.extend_from_slice(b":{");
            for (key, value) in entries {
                match key {
                    Key::Int(i) => write(&Value::Int(*i), out),
                    Key::Str(s) => write_str(s, out),
                }
                write(value, out);
            }
            out.push(b'}');
        }
        Value::Object(object) => write_object(object, out),
    }
}

/// `O:<len>:"<class>":<n>:{<name><value>...}`
pub(super) fn write_object(object: &Object, out: &mut Vec<u8>) {
    out.extend_from_slice(b"O:");
    out.extend_from_slice(object.class.len().to_string().as_bytes());
    out.extend_from_slice(b":\"");
    out.extend_from_slice(&object.class);
    out.extend_from_slice(b"\":");
    out.extend_from_slice(object.properties.len().to_string().as_bytes());
    out.extend_from_slice(b":{");
    for property in &object.properties {
        write_property_name(&property.name, &property.visibility, out);
        write(&property.value, out);
    }
    out.push(b'}');
}

/// `s:<len>:"<bytes>";`
fn write_str(s: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(b"s:");
    out.extend_from_slice(s.len().to_string().as_bytes());
    out.extend_from_slice(b":\"");
    out.extend_from_slice(s);
    out.extend_from_slice(b"\";");
}

/// A property name as a string with PHP's visibility mangling (`\0*\0name`, `\0Class\0name`).
fn write_property_name(name: &[u8], visibility: &Visibility, out: &mut Vec<u8>) {
    let prefix: &[u8] = match visibility {
        Visibility::Public => b"",
        Visibility::Protected => b"*",
        Visibility::Private(class) => class,
    };
    let mangled_len = match visibility {
        Visibility::Public => name.len(),
        _ => prefix.len() + name.len() + 2,
    };
    out.extend_from_slice(b"s:");
    out.extend_from_slice(mangled_len.to_string().as_bytes());
    out.extend_from_slice(b":\"");
    if !matches!(visibility, Visibility::Public) {
        out.push(0);
        out.extend_from_slice(prefix);
        out.push(0);
    }
    out.extend_from_slice(name);
    out.extend_from_slice(b"\";");
}
