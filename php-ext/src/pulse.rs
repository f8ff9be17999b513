//! Turning a received pulse into the PHP object the Performer hands to the user.
//!
//! Network bytes become PHP objects here and nowhere else, and only after the codec has read them as plain data:
//! every class the bytes name (the top object's and any nested object's) must be a valid class name, already
//! declared in this worker, and `PublisherToSubscribersDto` or a subclass of it. The names are looked up without
//! autoloading: no autoloader ever sees a class name from the network (it could include any file its map points
//! to, or tell a prober which classes exist); a worker declares its pulse subclass before it waits. Only then does
//! PHP's own `unserialize()` build the object, with `allowed_classes` set to exactly those classes, so that the
//! user's subclass comes out exactly as the original's `unserialize()` would give it (properties, visibility,
//! `__wakeup`/`__unserialize`).
//!
//! This module must never pass bytes to `unserialize()` that the codec did not accept, allow a class it did not
//! check, nor hand a name from the network to an autoloader.

use ext_php_rs::types::{ZendHashTable, ZendStr, Zval};
use ext_php_rs::zend::{ClassEntry, ExecutorGlobals, Function};
use pulsar_wire::{Object, Pulse, Value};

use crate::boundary;
use crate::convert;
use crate::failure::{Failure, Kind, Outcome};

/// The base class every pulse object must be (or extend), from the class table.
pub use crate::classes::PULSE_CLASS;

/// Every class name in `object` (itself and nested objects, in arrays too), first occurrence first, without
/// case-insensitive duplicates (PHP class names are case-insensitive).
pub fn classes_in(object: &Object) -> Vec<Vec<u8>> {
    let mut found: Vec<Vec<u8>> = Vec::new();
    collect_object(object, &mut found);
    found
}

fn collect_object(object: &Object, found: &mut Vec<Vec<u8>>) {
    if !found.iter().any(|c| c.eq_ignore_ascii_case(&object.class)) {
        found.push(object.class.clone());
    }
    for property in &object.properties {
        collect_value(&property.value, found);
    }
}

fn collect_value(value: &Value, found: &mut Vec<Vec<u8>>) {
    match value {
        Value::Object(object) => collect_object(object, found),
        Value::Array(entries) => {
            for (_, value) in entries {
                collect_value(value, found);
            }
        }
        _ => {}
    }
}

/// Whether `name` is a syntactically valid, fully qualified PHP class name (`Foo\Bar_1`, no leading `\`), the
/// check PHP itself makes before it asks an autoloader. Refusing anything else here means no autoloader ever sees
/// a path-like name from the network.
pub fn is_valid_class_name(name: &[u8]) -> bool {
    !name.is_empty()
        && name.split(|&b| b == b'\\').all(|part| {
            matches!(part.first(), Some(b) if b.is_ascii_alphabetic() || *b == b'_' || *b >= 0x80)
                && part
                    .iter()
                    .all(|&b| b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80)
        })
}

/// The PHP object for a pulse; see the module docs for the checks.
pub fn instantiate(pulse: &Pulse) -> Outcome<Zval> {
    let base = convert::find_class(PULSE_CLASS)?.ok_or_else(|| {
        Failure::new(
            Kind::InternalError,
            format!("{PULSE_CLASS} is not declared (the extension's prelude did not run)"),
        )
    })?;
    let mut allowed = Vec::new();
    for class in classes_in(&pulse.object) {
        let shown = String::from_utf8_lossy(&class).into_owned();
        let name = match std::str::from_utf8(&class) {
            Ok(name) if is_valid_class_name(&class) => name,
            _ => {
                return Err(Failure::new(
                    Kind::PulseClassNotAllowed,
                    format!("{shown:?} is not a valid class name"),
                ))
            }
        };
        // Looked up among the classes already declared, never through an autoloader.
        let Some(entry) = declared(name) else {
            return Err(Failure::new(
                Kind::PulseClassNotAllowed,
                format!(
                    "class {name} is not declared in this worker; declare the daemon's publisherToSubscribersDto \
                     class before waiting for permission (e.g. class_exists(\\{name}::class)): names from the \
                     network are never given to an autoloader"
                ),
            ));
        };
        if !entry.instance_of(base) {
            return Err(Failure::new(
                Kind::PulseClassNotAllowed,
                format!("{name} is not \\{PULSE_CLASS} or a subclass of it"),
            ));
        }
        allowed.push(name.to_owned());
    }
    unserialize(&pulse.bytes, &allowed, base)
}

/// `zend_lookup_class_ex()`'s flag that keeps autoloaders out of the lookup (`Zend/zend_compile.h`).
const ZEND_FETCH_CLASS_NO_AUTOLOAD: u32 = 0x80;

/// The class `name` if it is already declared in this request; runs no PHP code.
fn declared(name: &str) -> Option<&'static ClassEntry> {
    let mut name = ZendStr::new(name, false);
    // SAFETY: called on PHP's thread during a request; `name` is a valid zend_string that outlives the call, and
    // with ZEND_FETCH_CLASS_NO_AUTOLOAD the engine only reads its class table (no PHP code runs, nothing is
    // thrown). The returned entry lives as long as the request's class table.
    unsafe {
        ext_php_rs::ffi::zend_lookup_class_ex(
            &raw mut *name,
            std::ptr::null_mut(),
            ZEND_FETCH_CLASS_NO_AUTOLOAD,
        )
        .as_ref()
    }
}

/// PHP's `unserialize($bytes, ['allowed_classes' => $allowed])`, which must give an instance of `base`. Runs the
/// classes' `__wakeup`/`__unserialize` at the `zend_try` boundary.
fn unserialize(bytes: &[u8], allowed: &[String], base: &ClassEntry) -> Outcome<Zval> {
    let internal = |what: String| Failure::new(Kind::InternalError, what);
    let function = Function::try_from_function("unserialize")
        .ok_or_else(|| internal("PHP's unserialize() is not available".into()))?;
    let mut input = Zval::new();
    input.set_zend_string(ZendStr::new(bytes, false));
    let mut classes = ZendHashTable::new();
    for class in allowed {
        classes
            .push(class.as_str())
            .map_err(|e| internal(format!("cannot build allowed_classes: {e}")))?;
    }
    let mut options = ZendHashTable::new();
    options
        .insert("allowed_classes", classes)
        .map_err(|e| internal(format!("cannot build the unserialize() options: {e}")))?;
    let mut options_zval = Zval::new();
    options_zval.set_hashtable(options);
    let result = boundary::call_php(|| function.try_call(vec![&input, &options_zval]))?;
    if ExecutorGlobals::has_exception() {
        return Err(Failure::PhpPending);
    }
    let object = result.map_err(|e| internal(format!("calling unserialize() failed: {e}")))?;
    match object.object() {
        Some(o) if o.instance_of(base) => Ok(object),
        _ => Err(Failure::new(
            Kind::ProtocolError,
            "unserialize() of the pulse did not give a PublisherToSubscribersDto",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pulsar_wire::Limits;

    #[test]
    fn class_names_are_checked_as_the_table_says() {
        for good in crate::classes::VALID_CLASS_NAMES {
            assert!(is_valid_class_name(good.as_bytes()), "{good:?}");
        }
        for bad in crate::classes::INVALID_CLASS_NAMES {
            assert!(!is_valid_class_name(bad.as_bytes()), "{bad:?}");
        }
    }

    #[test]
    fn every_nested_class_is_found_once() {
        let bytes = b"O:4:\"Mine\":3:{s:14:\"\0*\0allowAction\";b:1;s:4:\"list\";a:2:{i:0;O:5:\"Inner\":0:{}i:1;O:5:\"inner\":0:{}}s:1:\"o\";O:4:\"MINE\":0:{}}";
        let pulse = Pulse::decode(bytes, &Limits::default()).expect("valid pulse");
        assert_eq!(
            classes_in(&pulse.object),
            vec![b"Mine".to_vec(), b"Inner".to_vec()]
        );
    }
}
