//! The edge between C and Rust: the panic boundary every exported function runs in, the thread-local last
//! error, and the checked conversion of raw arguments (pointers, C strings) into Rust values.
//!
//! Exported functions are written with the helpers here, after rustls-ffi's: [`ffi_boundary!`] runs the body
//! (panics and errors become a status and the last error), [`try_ref!`], [`try_out!`], [`try_bytes!`] and
//! [`try_opt_str!`] turn a pointer argument into a Rust value or a failure naming the argument, and the
//! [`Castable`] trait says how each C type is owned, so that only a handle this library boxed can be given out
//! with [`OutParam::set_boxed`] or freed with [`free_box`]. The `unsafe` of the pointer conversions lives
//! here, each with its `// SAFETY:`; what makes it sound is the `# Safety` section of the exported function
//! that uses the macro.
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

/// How a C type is owned (after rustls-ffi's `Castable`): implemented by every type whose pointers cross the
/// boundary, so that the helpers below can refuse, at compile time, to free what C owns.
pub trait Castable {
    /// [`OwnershipBox`] or [`OwnershipRef`].
    type Ownership: Ownership;
}

/// The kinds of [`Castable::Ownership`]; sealed.
pub trait Ownership: sealed::Sealed {}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::OwnershipBox {}
    impl Sealed for super::OwnershipRef {}
}

/// Made by this library with `Box::into_raw` and handed to C, which frees it once with the type's `_free`
/// function (performers, pulses, daemons).
#[derive(Debug)]
pub enum OwnershipBox {}

/// Owned by C and lent to the library for one call, read only (`PulsarActionResult`).
#[derive(Debug)]
pub enum OwnershipRef {}

impl Ownership for OwnershipBox {}
impl Ownership for OwnershipRef {}

/// A `*const T` or a `*mut T`: handles are `*mut` where C may pass them to a function that changes them, and
/// only ever read through a shared reference here (other threads may read the same handle).
pub trait ConstPtr<T> {
    /// The pointer as `*const T`.
    fn into_const(self) -> *const T;
}

impl<T> ConstPtr<T> for *const T {
    fn into_const(self) -> *const T {
        self
    }
}

impl<T> ConstPtr<T> for *mut T {
    fn into_const(self) -> *const T {
        self.cast_const()
    }
}

/// A required pointer argument as a shared reference, for the length of the call.
///
/// # Safety
/// `ptr` must be NULL or point to a live, properly aligned `T` (a handle of this library not yet freed, or a
/// struct the caller lends) that no one mutates during the call.
pub unsafe fn ref_arg<'a, T: Castable>(
    ptr: impl ConstPtr<T>,
    argument: &str,
) -> Result<&'a T, Failure> {
    // SAFETY: by this function's contract a non-NULL `ptr` points to a live `T`.
    unsafe { ptr.into_const().as_ref() }.ok_or_else(|| Failure::null(argument))
}

/// A required out-parameter, checked before any work so that a NULL costs nothing.
///
/// # Safety
/// `ptr` must be NULL or valid for one write of a `T`, and suitably aligned, until the call returns.
pub unsafe fn out_arg<T>(ptr: *mut T, argument: &str) -> Result<OutParam<T>, Failure> {
    if ptr.is_null() {
        return Err(Failure::null(argument));
    }
    Ok(OutParam(ptr))
}

/// A checked, non-NULL out-parameter, valid for one write (the contract of [`out_arg`]); written once, at the
/// end of a successful call.
#[derive(Debug)]
pub struct OutParam<T>(*mut T);

impl<T> OutParam<T> {
    /// Writes the result (without reading or dropping what was there: C memory may be uninitialized).
    pub fn write(self, value: T) {
        // SAFETY: non-NULL, writable and aligned: checked and promised when `out_arg` made this value.
        unsafe { self.0.write(value) }
    }
}

impl<T: Castable<Ownership = OwnershipBox>> OutParam<*mut T> {
    /// Boxes `value` and gives it to C through this out-parameter; C frees it with the type's `_free`.
    pub fn set_boxed(self, value: T) {
        self.write(Box::into_raw(Box::new(value)));
    }
}

/// The body of a `_free` function: frees a handle given out by [`OutParam::set_boxed`]. NULL does nothing; a
/// panic in a destructor stays inside (recorded as the last error).
///
/// # Safety
/// `ptr` must be NULL or a handle of type `T` made by this library, not freed before and not in use by any
/// other thread; it must not be used afterwards.
pub unsafe fn free_box<T: Castable<Ownership = OwnershipBox>>(ptr: *mut T) {
    run_void(|| {
        if !ptr.is_null() {
            // SAFETY: made by `Box::into_raw` in `OutParam::set_boxed` (the only way this library gives out an
            // `OwnershipBox` type), not freed, not in use: this function's contract.
            drop(unsafe { Box::from_raw(ptr) });
        }
    })
}

/// Runs the body of an exported function that returns a `PulsarStatus` (rustls-ffi's `ffi_panic_boundary!`):
/// the body is a block ending in `Ok(())`, in which `?` and `return Err(..)` fail the call with a
/// [`Failure`]; see [`run`].
macro_rules! ffi_boundary {
    ($($body:tt)*) => {
        $crate::boundary::run(|| -> ::std::result::Result<(), $crate::boundary::Failure> { $($body)* })
    };
}

/// `try_ref!(ptr)`: the pointer argument `ptr` as a shared reference, or return the failure "`ptr` must not
/// be NULL". Only in an exported `unsafe fn` whose `# Safety` section says `ptr` is NULL or live.
macro_rules! try_ref {
    ($ptr:ident) => {
        // SAFETY: NULL or live, by the `# Safety` section of the exported function that names `$ptr`.
        unsafe { $crate::boundary::ref_arg($ptr, stringify!($ptr)) }?
    };
}

/// `try_out!(out)`: the out-parameter `out`, checked for NULL before any work. Only in an exported
/// `unsafe fn` whose `# Safety` section says `out` is NULL or valid for one write.
macro_rules! try_out {
    ($ptr:ident) => {
        // SAFETY: NULL or writable, by the `# Safety` section of the exported function that names `$ptr`.
        unsafe { $crate::boundary::out_arg($ptr, stringify!($ptr)) }?
    };
}

/// `try_bytes!(s)`: the required NUL-terminated string argument `s` as bytes. Only in an exported
/// `unsafe fn` whose `# Safety` section says `s` is NULL or NUL-terminated.
macro_rules! try_bytes {
    ($ptr:ident) => {
        // SAFETY: NULL or NUL-terminated, by the `# Safety` section of the exported function naming `$ptr`.
        unsafe { $crate::boundary::bytes_arg($ptr, stringify!($ptr)) }?
    };
}

/// `try_opt_str!(s)`: the optional NUL-terminated UTF-8 argument `s` (`None` for NULL). Only in an exported
/// `unsafe fn` whose `# Safety` section says `s` is NULL or NUL-terminated.
macro_rules! try_opt_str {
    ($ptr:ident) => {
        // SAFETY: NULL or NUL-terminated, by the `# Safety` section of the exported function naming `$ptr`.
        unsafe { $crate::boundary::opt_str_arg($ptr, stringify!($ptr)) }?
    };
}

pub(crate) use {ffi_boundary, try_bytes, try_opt_str, try_out, try_ref};

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

    /// A boxed handle that counts its drops.
    struct Counted(std::sync::Arc<std::sync::atomic::AtomicUsize>);

    impl Castable for Counted {
        type Ownership = OwnershipBox;
    }

    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }

    #[test]
    fn a_boxed_handle_goes_out_through_its_out_parameter_and_is_freed_once() {
        let drops = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut handle: *mut Counted = std::ptr::null_mut();
        let status = run(|| {
            let out = &raw mut handle;
            let out = try_out!(out);
            out.set_boxed(Counted(drops.clone()));
            Ok(())
        });
        assert_eq!(status, PulsarStatus::Ok);
        assert!(!handle.is_null());
        // SAFETY: the handle was just given out and is used by this thread only.
        let counted = unsafe { ref_arg(handle, "handle") }.expect("not NULL");
        assert_eq!(counted.0.load(std::sync::atomic::Ordering::SeqCst), 0);
        // SAFETY: given out by `set_boxed` above, freed once here.
        unsafe { free_box(handle) };
        assert_eq!(drops.load(std::sync::atomic::Ordering::SeqCst), 1);
        // SAFETY: NULL is allowed and does nothing.
        unsafe { free_box(std::ptr::null_mut::<Counted>()) };
        assert_eq!(drops.load(std::sync::atomic::Ordering::SeqCst), 1);
    }

    #[test]
    fn a_null_argument_is_named_by_the_macros() {
        let performer: *const Counted = std::ptr::null();
        let status = run(|| {
            let _ = try_ref!(performer);
            Ok(())
        });
        assert_eq!(status, PulsarStatus::NullPointer);
        assert_eq!(message(), "performer must not be NULL");
        let config_json: *const c_char = c"\xff".as_ptr();
        let status = run(|| {
            let _ = try_opt_str!(config_json);
            Ok(())
        });
        assert_eq!(status, PulsarStatus::InvalidUtf8);
        assert!(message().starts_with("config_json is not valid UTF-8"));
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
        // SAFETY: NULL is allowed.
        let out = unsafe { out_arg::<u32>(std::ptr::null_mut(), "out") }.expect_err("NULL");
        assert_eq!(out, Failure::null("out"));
    }
}
