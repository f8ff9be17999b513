//! The daemon's settings over the C ABI: the settings table as JSON (`pulsar_settings_json`), so that a binding
//! maps its own configuration objects from the library's one definition (the PHP FFI route maps
//! `PublisherPulsarDto` with it), and a configuration checked without binding anything (`pulsar_config_check`).
//!
//! This module must never describe or check a setting itself: the table and the checks are the core's
//! (`publisher_pulsar::config`).

use std::cell::RefCell;
use std::ffi::{c_char, CString};
use std::sync::OnceLock;

use publisher_pulsar::PulsarConfig;

use crate::boundary::{c_string_lossy, ffi_boundary, try_opt_str, try_out, Failure};
use crate::status::PulsarStatus;

/// The JSON configuration of `pulsar_daemon_new` and `pulsar_config_check`: NULL or blank for the defaults.
pub fn config_from_json(json: Option<&str>) -> Result<PulsarConfig, Failure> {
    Ok(match json {
        None => PulsarConfig::default(),
        Some(text) if text.trim().is_empty() => PulsarConfig::default(),
        Some(text) => PulsarConfig::from_json_str(text)?,
    })
}

/// Every setting of the daemon, as a static NUL-terminated JSON array (UTF-8), never freed, the same for the life
/// of the process. One object per setting, in the order of `pulsard --help`:
///
/// `{"key":"subscribersPerIteration","nested":false,"flag":"--subscribers-per-iteration",
///   "env":"PULSARD_SUBSCRIBERS_PER_ITERATION","type":"integer","default":10,"defaultText":"10",
///   "range":"1 to 4294967295","help":"...","phpGetter":"getSubscribersPerIteration",
///   "phpSetter":"setSubscribersPerIteration()","example":3}`
///
/// `key` is the JSON key of `pulsar_daemon_new`'s configuration (`nested` keys may also be written inside
/// `pulsarSocketsParams`); `type` is one of `integer`, `seconds`, `string`, `optional-string`, `string-list`,
/// `zmq-address`, `ip-port`, `php-serialized`; `phpGetter` is the getter of the original `PublisherPulsarDto`
/// (or `PulsarSocketsParamsDto` when `nested`), or null; `example` is a valid value other than the default.
/// Leaves the last error unchanged.
#[no_mangle]
pub extern "C" fn pulsar_settings_json() -> *const c_char {
    static TEXT: OnceLock<CString> = OnceLock::new();
    TEXT.get_or_init(|| {
        c_string_lossy(
            publisher_pulsar::config::settings_json()
                .to_string()
                .into_bytes(),
        )
    })
    .as_ptr()
}

thread_local! {
    /// The last effective configuration `pulsar_config_check` gave on this thread.
    static CHECKED: RefCell<CString> = RefCell::new(CString::default());
}

/// Reads and checks a configuration exactly as `pulsar_daemon_new` does, without binding anything, and gives
/// the effective configuration: every key, defaults filled in, addresses nested in `pulsarSocketsParams`.
///
/// On success `*out` points to a NUL-terminated JSON text owned by the library, valid until the next
/// `pulsar_config_check` call on the same thread.
/// Errors: `PULSAR_STATUS_NULL_POINTER` (out), `PULSAR_STATUS_INVALID_UTF8`, `PULSAR_STATUS_INVALID_JSON`,
/// `PULSAR_STATUS_INVALID_ARGUMENT` (the message names the setting).
///
/// # Safety
/// `config_json` must be NULL or a NUL-terminated string; `out` must be NULL or valid for one write.
#[no_mangle]
pub unsafe extern "C" fn pulsar_config_check(
    config_json: *const c_char,
    out: *mut *const c_char,
) -> PulsarStatus {
    ffi_boundary! {
        let out = try_out!(out);
        let config = config_from_json(try_opt_str!(config_json))?;
        config.validate()?;
        let text = c_string_lossy(config.to_json().to_string().into_bytes());
        let pointer = CHECKED.with(|checked| {
            *checked.borrow_mut() = text;
            checked.borrow().as_ptr()
        });
        out.write(pointer);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    #[test]
    fn a_bad_setting_is_refused_and_a_good_one_is_given_back_whole() {
        let mut out: *const c_char = std::ptr::null();
        // SAFETY: a NUL-terminated literal and a writable out-parameter.
        let status =
            unsafe { pulsar_config_check(c"{\"subscribersPerIteration\":0}".as_ptr(), &mut out) };
        assert_eq!(status, PulsarStatus::InvalidArgument);
        // SAFETY: as above.
        let status =
            unsafe { pulsar_config_check(c"{\"subscribersPerIteration\":4}".as_ptr(), &mut out) };
        assert_eq!(status, PulsarStatus::Ok);
        // SAFETY: `out` was set by the successful call and is valid until the next one on this thread.
        let text = unsafe { CStr::from_ptr(out) }.to_str().expect("UTF-8");
        let json: serde_json::Value = serde_json::from_str(text).expect("JSON");
        assert_eq!(json["subscribersPerIteration"], 4);
        assert_eq!(
            json["pulsarSocketsParams"]["publishSocketAddress"],
            "tcp://127.0.0.1:6273"
        );
    }
}
