//! The edge between C and Rust: the panic boundary every exported function runs in, the thread-local last
//! error, and the checked conversion of raw arguments (pointers, C strings) into Rust values.
//!
//! It must never let a panic unwind into C, never keep a pointer given by C beyond the call, and never write
//! an out-parameter before the call has succeeded.

use std::any::Any;
use std::cell::RefCell;
use std::ffi::{c_char, CStr, CString};
use std::panic::{self, AssertUnwindSafe};

use publisher_pulsar::PulsarError;

use crate::status::PulsarStatus;

/// Why a call failed: the status returned to C and the message kept for `pulsar_last_error_message()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The status the exported function returns.
    pub status: PulsarStatus,
    /// The message, in words a caller can act on.
    pub message: String,
}

impl Failure {
    /// A failure with this status and message.
    pub fn new(status: PulsarStatus, message: impl Into<String>) -> Failure {
        Failure {
            status,
            message: message.into(),
        }
    }

    /// A NULL where a pointer was required; names the argument.
    pub fn null(argument: &str) -> Failure {
        Failure::new(
            PulsarStatus::NullPointer,
            format!("{argument} must not be NULL"),
        )
    }

    /// A caught panic; the payload's text when it has one.
    fn panic(payload: &(dyn Any + Send)) -> Failure {
        let detail = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".to_owned());
        Failure::new(
            PulsarStatus::Panic,
            format!("internal error in libpulsar (a Rust panic was caught): {detail}"),
        )
    }
}

impl From<PulsarError> for Failure {
    fn from(error: PulsarError) -> Failure {
        Failure::new(PulsarStatus::of(&error), error.to_string())
    }
}

/// The last error of this thread: its status and its message as a C string.
struct LastError {
    status: PulsarStatus,
    message: CString,
}

thread_local! {
    static LAST_ERROR: RefCell<Option<LastError>> = const { RefCell::new(None) };
}

/// The empty message returned when the thread's last call succeeded; static, so always valid.
const NO_MESSAGE: &CStr = c"";

fn set_last_error(failure: Failure) {
    let message = c_string_lossy(failure.message.into_bytes());
    let error = LastError {
        status: failure.status,
        message,
    };
    // `try_with`: during thread teardown the slot may be gone; there is nobody left to read it then.
    let _ = LAST_ERROR.try_with(|slot| {
        if let Ok(mut slot) = slot.try_borrow_mut() {
            *slot = Some(error);
        }
    });
}

fn clear_last_error() {
    let _ = LAST_ERROR.try_with(|slot| {
        if let Ok(mut slot) = slot.try_borrow_mut() {
            *slot = None;
        }
    });
}

/// The status of this thread's last failed call, or `Ok` after a success.
pub fn last_error_code() -> PulsarStatus {
    LAST_ERROR
        .try_with(|slot| {
            slot.try_borrow()
                .ok()
                .and_then(|e| e.as_ref().map(|e| e.status))
        })
        .ok()
        .flatten()
        .unwrap_or(PulsarStatus::Ok)
}

/// The message of this thread's last failed call, or `""`. The pointer stays valid until the next
/// `pulsar_*` call on this thread replaces or clears the message.
pub fn last_error_message() -> *const c_char {
    LAST_ERROR
        .try_with(|slot| {
            slot.try_borrow()
                .ok()
                .and_then(|e| e.as_ref().map(|e| e.message.as_ptr()))
        })
        .ok()
        .flatten()
        .unwrap_or(NO_MESSAGE.as_ptr())
}

/// Runs the body of an exported function: a panic becomes `PULSAR_STATUS_PANIC`, an error its status; the
/// thread's last error is set on failure and cleared on success.
pub fn run(body: impl FnOnce() -> Result<(), Failure>) -> PulsarStatus {
    // AssertUnwindSafe: after a panic the handle involved may hold a half-updated state; the status tells the
    // caller so (`PULSAR_STATUS_PANIC` says to free it), which is the most a C boundary can do.
    match panic::catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => {
            clear_last_error();
            PulsarStatus::Ok
        }
        Ok(Err(failure)) => {
            let status = failure.status;
            set_last_error(failure);
            status
        }
        Err(payload) => {
            let failure = Failure::panic(payload.as_ref());
            // Dropping a payload can itself panic (a payload type with a panicking Drop): keep that inside too.
            let _ = panic::catch_unwind(AssertUnwindSafe(move || drop(payload)));
            set_last_error(failure);
            PulsarStatus::Panic
        }
    }
}

/// Runs a body that returns nothing to C (`_free` functions): a panic is kept inside and recorded as the
/// thread's last error; otherwise the last error is left as it was, so that freeing on an error path does not
/// erase the message the caller is about to read.
pub fn run_void(body: impl FnOnce()) {
    if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(body)) {
        let failure = Failure::panic(payload.as_ref());
        let _ = panic::catch_unwind(AssertUnwindSafe(move || drop(payload)));
        set_last_error(failure);
    }
}

/// Bytes to a C string, interior NUL bytes replaced by U+FFFD (a C string cannot hold them).
pub fn c_string_lossy(bytes: Vec<u8>) -> CString {
    match CString::new(bytes) {
        Ok(s) => s,
        Err(e) => {
            let bytes = e.into_vec();
            let mut cleaned = Vec::with_capacity(bytes.len() + 8);
            for b in bytes {
                if b == 0 {
                    cleaned.extend_from_slice("\u{fffd}".as_bytes());
                } else {
                    cleaned.push(b);
                }
            }
            CString::new(cleaned).expect("every NUL byte was just replaced")
        }
    }
}

/// A required NUL-terminated string argument, as bytes (no encoding required).
///
/// # Safety
/// `ptr` must be NULL or point to a NUL-terminated string that stays valid and unchanged during the call.
pub unsafe fn bytes_arg<'a>(ptr: *const c_char, argument: &str) -> Result<&'a [u8], Failure> {
    if ptr.is_null() {
        return Err(Failure::null(argument));
    }
    // SAFETY: not NULL (checked above); NUL-terminated and valid for the call by this function's contract.
    Ok(unsafe { CStr::from_ptr(ptr) }.to_bytes())
}

/// An optional NUL-terminated UTF-8 string argument: `None` for NULL.
///
/// # Safety
/// As [`bytes_arg`].
pub unsafe fn opt_str_arg<'a>(
    ptr: *const c_char,
    argument: &str,
) -> Result<Option<&'a str>, Failure> {
    if ptr.is_null() {
        return Ok(None);
    }
    // SAFETY: the same contract as ours.
    let bytes = unsafe { bytes_arg(ptr, argument) }?;
    std::str::from_utf8(bytes).map(Some).map_err(|e| {
        Failure::new(
            PulsarStatus::InvalidUtf8,
            format!(
                "{argument} is not valid UTF-8 (invalid byte at offset {})",
                e.valid_up_to()
            ),
        )
    })
}

/// A required handle argument as a shared reference.
///
/// # Safety
/// `ptr` must be NULL or a live handle of type `T` made by this library and not yet freed.
pub unsafe fn handle_arg<'a, T>(ptr: *const T, argument: &str) -> Result<&'a T, Failure> {
    // SAFETY: by this function's contract a non-NULL `ptr` points to a live `T`.
    unsafe { ptr.as_ref() }.ok_or_else(|| Failure::null(argument))
}

/// A required out-parameter, checked before any work so that a NULL costs nothing.
pub fn out_arg<T>(ptr: *mut T, argument: &str) -> Result<OutParam<T>, Failure> {
    if ptr.is_null() {
        return Err(Failure::null(argument));
    }
    Ok(OutParam(ptr))
}

/// A checked, non-NULL out-parameter; written once, at the end of a successful call.
#[derive(Debug)]
pub struct OutParam<T>(*mut T);

impl<T> OutParam<T> {
    /// Writes the result (without reading or dropping what was there: C memory may be uninitialized).
    ///
    /// # Safety
    /// The pointer given by the caller must be valid for a write of a `T` and suitably aligned.
    pub unsafe fn write(self, value: T) {
        // SAFETY: non-NULL (checked by `out_arg`); writable and aligned by this function's contract.
        unsafe { self.0.write(value) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message() -> String {
        // SAFETY: `last_error_message` always returns a valid NUL-terminated string.
        unsafe { CStr::from_ptr(last_error_message()) }
            .to_string_lossy()
            .into_owned()
    }

    #[test]
    fn a_panic_becomes_a_status_and_a_message() {
        let status = run(|| panic!("the engine exploded"));
        assert_eq!(status, PulsarStatus::Panic);
        assert_eq!(last_error_code(), PulsarStatus::Panic);
        assert!(message().contains("the engine exploded"), "{}", message());

        let status = run(|| std::panic::panic_any(42_u8));
        assert_eq!(status, PulsarStatus::Panic);
        assert!(message().contains("without a message"), "{}", message());
    }

    #[test]
    fn a_formatted_panic_keeps_its_text() {
        let what = "slot 7";
        assert_eq!(run(|| panic!("lost {what}")), PulsarStatus::Panic);
        assert!(message().contains("lost slot 7"), "{}", message());
    }

    #[test]
    fn a_panic_in_a_free_is_recorded_and_contained() {
        assert_eq!(run(|| Ok(())), PulsarStatus::Ok);
        run_void(|| panic!("drop failed"));
        assert_eq!(last_error_code(), PulsarStatus::Panic);
        assert!(message().contains("drop failed"));
    }

    #[test]
    fn success_clears_and_failure_sets_the_last_error() {
        let status = run(|| Err(Failure::new(PulsarStatus::Timeout, "no pulse")));
        assert_eq!(status, PulsarStatus::Timeout);
        assert_eq!(last_error_code(), PulsarStatus::Timeout);
        assert_eq!(message(), "no pulse");
        assert_eq!(run(|| Ok(())), PulsarStatus::Ok);
        assert_eq!(last_error_code(), PulsarStatus::Ok);
        assert_eq!(message(), "");
    }

    #[test]
    fn the_last_error_belongs_to_its_thread() {
        run(|| Err(Failure::new(PulsarStatus::BindError, "in use")));
        let other = std::thread::spawn(|| (last_error_code(), message()))
            .join()
            .expect("the thread ran");
        assert_eq!(other, (PulsarStatus::Ok, String::new()));
        assert_eq!(last_error_code(), PulsarStatus::BindError);
    }

    #[test]
    fn interior_nul_bytes_are_replaced() {
        let s = c_string_lossy(b"a\0b".to_vec());
        assert_eq!(s.as_bytes(), "a\u{fffd}b".as_bytes());
        run(|| Err(Failure::new(PulsarStatus::ProtocolError, "bad\0byte")));
        assert_eq!(message(), "bad\u{fffd}byte");
    }

    #[test]
    fn arguments_are_checked() {
        // SAFETY: NULL is allowed by the helpers' contracts.
        let null = unsafe { bytes_arg(std::ptr::null(), "message") };
        assert_eq!(null, Err(Failure::null("message")));
        // SAFETY: NULL is allowed.
        assert_eq!(unsafe { opt_str_arg(std::ptr::null(), "json") }, Ok(None));
        let bad = c"{\"a\":\"\xff\"}";
        // SAFETY: a valid C string literal.
        let err = unsafe { opt_str_arg(bad.as_ptr(), "config_json") }.expect_err("not UTF-8");
        assert_eq!(err.status, PulsarStatus::InvalidUtf8);
        assert!(err.message.contains("offset 6"), "{}", err.message);
        let out = out_arg::<u32>(std::ptr::null_mut(), "out").expect_err("NULL");
        assert_eq!(out, Failure::null("out"));
    }
}
