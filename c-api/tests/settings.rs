//! The C ABI's settings agree with the core's table: `pulsar_settings_json` is the table, and every row's
//! example given in `pulsar_daemon_new`'s JSON (checked by `pulsar_config_check`, which reads it the same way)
//! reaches the effective configuration; a bad value is refused naming the setting.

use std::ffi::{c_char, CStr, CString};

use publisher_pulsar::config::{settings_json, SETTINGS};
use publisher_pulsar::PulsarConfig;
use pulsar::settings::{pulsar_config_check, pulsar_settings_json};
use pulsar::{pulsar_last_error_message, PulsarStatus};
use serde_json::{Map, Value};

fn text(ptr: *const c_char) -> String {
    assert!(!ptr.is_null());
    // SAFETY: the library returns NUL-terminated strings that stay valid until the next call on this thread.
    unsafe { CStr::from_ptr(ptr) }
        .to_str()
        .expect("UTF-8")
        .to_owned()
}

/// `pulsar_config_check` as C calls it: the effective configuration, or the status and message.
fn check(json: &str) -> Result<Value, (PulsarStatus, String)> {
    let json = CString::new(json).expect("no NUL");
    let mut out: *const c_char = std::ptr::null();
    // SAFETY: a NUL-terminated string and a writable out-parameter.
    let status = unsafe { pulsar_config_check(json.as_ptr(), &mut out) };
    if status != PulsarStatus::Ok {
        return Err((status, text(pulsar_last_error_message())));
    }
    Ok(serde_json::from_str(&text(out)).expect("JSON"))
}

#[test]
fn the_settings_json_is_the_cores_table() {
    let exported: Value = serde_json::from_str(&text(pulsar_settings_json())).expect("JSON");
    assert_eq!(exported, settings_json());
    assert_eq!(exported.as_array().map(Vec::len), Some(SETTINGS.len()));
}

#[test]
fn every_example_reaches_the_effective_configuration() {
    let mut top = Map::new();
    let mut sockets = Map::new();
    let mut expected = PulsarConfig::default();
    for setting in SETTINGS {
        let value = setting.kind.from_text(setting.example).expect("example");
        setting.set(&mut expected, value.clone()).expect("fits");
        let target = if setting.nested {
            &mut sockets
        } else {
            &mut top
        };
        target.insert(setting.key.to_owned(), value.to_json());
    }
    top.insert("pulsarSocketsParams".into(), Value::Object(sockets));
    let effective = check(&Value::Object(top).to_string()).expect("valid");
    for setting in SETTINGS {
        let actual = if setting.nested {
            &effective["pulsarSocketsParams"][setting.key]
        } else {
            &effective[setting.key]
        };
        assert_eq!(
            *actual,
            setting.value(&expected).to_json(),
            "{}",
            setting.key
        );
        assert_ne!(
            *actual,
            setting.default_value().to_json(),
            "{}",
            setting.key
        );
    }
    assert_eq!(
        check("").expect("defaults"),
        PulsarConfig::default().to_json()
    );
}

#[test]
fn a_bad_value_is_refused_by_name() {
    let (status, message) = check(r#"{"maxAdmissionQueue": 0}"#).expect_err("refused");
    assert_eq!(status, PulsarStatus::InvalidArgument);
    assert!(message.contains("maxAdmissionQueue"), "{message}");
    let (status, _) = check(r#"{"maxAdmissionQueu": 3}"#).expect_err("unknown key");
    assert_eq!(status, PulsarStatus::InvalidJson);
}
