//! Reading the user's DTO objects: call their getters, turn the PHP values into Rust settings.
//!
//! Getters are called (not properties read) so that a user's DTO subclass that overrides a getter is honoured,
//! as the original's own code would. Values are converted leniently where PHP is lenient (`'10'` is a number,
//! `7.0` an integer) and refused with an `INVALID_SETTING` failure naming the setter otherwise. This module must
//! never keep a PHP value beyond the call that converts it.

use ext_php_rs::types::{ZendObject, Zval};
use ext_php_rs::zend::{ClassEntry, ExecutorGlobals};

use crate::boundary;
use crate::failure::{Failure, Outcome};

/// Calls `$object->method(...$args)`; a PHP exception thrown by it becomes [`Failure::PhpPending`], a fatal error
/// [`Failure::Bailout`].
pub fn call(
    object: &ZendObject,
    method: &str,
    args: Vec<&dyn ext_php_rs::convert::IntoZvalDyn>,
) -> Outcome<Zval> {
    let result = boundary::call_php(|| object.try_call_method(method, args))?;
    if ExecutorGlobals::has_exception() {
        return Err(Failure::PhpPending);
    }
    result.map_err(|e| {
        let class = object.get_class_name().unwrap_or_default();
        Failure::setting(format!("cannot call {class}::{method}(): {e}"))
    })
}

/// Calls a getter without arguments.
pub fn get(object: &ZendObject, getter: &str) -> Outcome<Zval> {
    call(object, getter, vec![])
}

/// Whether `object` is an instance of `class` (or of a subclass); false if the class does not exist. Finding
/// `class` (one of ours) may run autoloaders.
pub fn is_instance(object: &ZendObject, class: &str) -> Outcome<bool> {
    Ok(find_class(class)?.is_some_and(|ce| object.instance_of(ce)))
}

/// The class `class` (a name of ours, never one from the network), declared through the autoloaders if needed.
pub fn find_class(class: &str) -> Outcome<Option<&'static ClassEntry>> {
    let found = boundary::call_php(|| ClassEntry::try_find(class))?;
    if ExecutorGlobals::has_exception() {
        return Err(Failure::PhpPending);
    }
    Ok(found)
}

/// The object in `value` if it is an instance of `class`; otherwise an `INVALID_SETTING` failure saying what
/// `what` should have been.
pub fn expect_instance<'a>(value: &'a Zval, class: &str, what: &str) -> Outcome<&'a ZendObject> {
    match value.object() {
        Some(object) if is_instance(object, class)? => Ok(object),
        _ => Err(Failure::setting(format!(
            "{what} must be a \\{class}, got {}",
            describe(value)
        ))),
    }
}

/// A short description of a value's type for messages: `int`, `string`, `object of class Foo`.
pub fn describe(value: &Zval) -> String {
    if let Some(object) = value.object() {
        return format!(
            "an object of class {}",
            object.get_class_name().unwrap_or_else(|_| "?".into())
        );
    }
    let name = if value.is_null() {
        "null"
    } else if value.is_bool() {
        "a bool"
    } else if value.is_long() {
        "an int"
    } else if value.is_double() {
        "a float"
    } else if value.is_string() {
        "a string"
    } else if value.is_array() {
        "an array"
    } else {
        "an unsupported value"
    };
    name.to_owned()
}

/// A number of seconds (int, float or numeric string); `None` for null.
pub fn seconds(value: &Zval, setter: &str) -> Outcome<Option<f64>> {
    if value.is_null() {
        return Ok(None);
    }
    let number = if let Some(n) = value.long() {
        Some(n as f64)
    } else if let Some(f) = value.double() {
        Some(f)
    } else {
        value.str().and_then(parse_number)
    };
    match number {
        Some(n) => Ok(Some(n)),
        None => Err(Failure::setting(format!(
            "{setter} needs a number of seconds, got {}",
            describe(value)
        ))),
    }
}

/// A whole number (int, integral float or integral numeric string); `None` for null.
pub fn integer(value: &Zval, setter: &str) -> Outcome<Option<i64>> {
    if value.is_null() {
        return Ok(None);
    }
    let number = if let Some(n) = value.long() {
        Some(n)
    } else if let Some(f) = value.double() {
        whole(f)
    } else {
        value.str().and_then(|s| {
            s.trim()
                .parse::<i64>()
                .ok()
                .or_else(|| parse_number(s).and_then(whole))
        })
    };
    match number {
        Some(n) => Ok(Some(n)),
        None => Err(Failure::setting(format!(
            "{setter} needs a whole number, got {}",
            describe(value)
        ))),
    }
}

/// A text setting (addresses, names); `None` for null. Numbers are accepted as PHP would print them.
pub fn text(value: &Zval, setter: &str) -> Outcome<Option<String>> {
    if value.is_null() {
        return Ok(None);
    }
    if value.is_string() {
        return match value.str() {
            Some(s) => Ok(Some(s.to_owned())),
            None => Err(Failure::setting(format!("{setter} needs UTF-8 text"))),
        };
    }
    if value.is_long() || value.is_double() {
        return Ok(value.coerce_to_string());
    }
    Err(Failure::setting(format!(
        "{setter} needs a string, got {}",
        describe(value)
    )))
}

/// Raw bytes of a string value (messages may hold any bytes); `None` for null; scalars are converted as PHP's
/// `(string)` would.
pub fn bytes(value: &Zval, setter: &str) -> Outcome<Option<Vec<u8>>> {
    if value.is_null() {
        return Ok(None);
    }
    if let Some(s) = value.zend_str() {
        return Ok(Some(s.as_bytes().to_vec()));
    }
    if value.is_long() || value.is_double() || value.is_bool() {
        return Ok(value.coerce_to_string().map(String::into_bytes));
    }
    Err(Failure::setting(format!(
        "{setter} needs a string, got {}",
        describe(value)
    )))
}

/// A yes/no value: `None` for null, PHP truthiness otherwise.
pub fn flag(value: &Zval) -> Option<bool> {
    if value.is_null() {
        None
    } else {
        Some(value.coerce_to_bool())
    }
}

/// PHP's idea of a numeric string, for plain decimal forms: `" 1.5"`, `"7"`, `"1e3"`.
fn parse_number(s: &str) -> Option<f64> {
    let t = s.trim();
    if t.is_empty() || t.eq_ignore_ascii_case("nan") || t.to_ascii_lowercase().contains("inf") {
        return None;
    }
    t.parse::<f64>().ok()
}

fn whole(f: f64) -> Option<i64> {
    // Exact comparison on purpose: only integral floats within i64 count as whole numbers.
    (f.is_finite() && f.fract() == 0.0 && f.abs() < 9.2e18).then_some(f as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_strings_parse_like_php_for_plain_forms() {
        assert_eq!(parse_number("7"), Some(7.0));
        assert_eq!(parse_number(" 0.25 "), Some(0.25));
        assert_eq!(parse_number("1e3"), Some(1000.0));
        assert_eq!(parse_number(""), None);
        assert_eq!(parse_number("seven"), None);
        assert_eq!(parse_number("NaN"), None);
        assert_eq!(parse_number("inf"), None);
    }

    #[test]
    fn only_integral_floats_are_whole() {
        assert_eq!(whole(10.0), Some(10));
        assert_eq!(whole(-3.0), Some(-3));
        assert_eq!(whole(2.5), None);
        assert_eq!(whole(f64::NAN), None);
        assert_eq!(whole(1e300), None);
    }
}
