//! `PulsarActionResult`: any `ActionResultingPushDto` a worker can report, as a plain C struct, for
//! `pulsar_performer_report` (the original's `pushActionResultInfo` with the DTO exactly as the user filled it:
//! null stays null, `false` stays `false`).
//!
//! This module only checks and converts the struct into the codec's [`ActionResult`]; what a result means is the
//! daemon's rule, never decided here.

use pulsar_wire::ActionResult;

use crate::boundary::{Castable, Failure, OwnershipRef};
use crate::status::PulsarStatus;

/// A PHP value that is null, false or true: the values of `PulsarActionResult`'s
/// `action_complete_correctly` and `slow_down`.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PulsarOptionalBool {
    /// Null (the property was never set).
    Unset = 0,
    /// `false`.
    False = 1,
    /// `true`.
    True = 2,
}

/// One `ActionResultingPushDto`, for `pulsar_performer_report`. Zero-initialized (`{0}`), it is the DTO with every
/// property null.
///
/// Every flag is an integer with listed values, never a C `bool`: the struct is C memory, and a byte other than
/// 0 or 1 read as a Rust `bool` would be undefined behaviour. Any other value is refused with
/// `PULSAR_STATUS_INVALID_ARGUMENT` and a message naming the field.
///
/// A result counts as an error for the daemon only with a non-empty `error_message`; then `slow_down` not
/// `PULSAR_OPTIONAL_BOOL_UNSET` (even `FALSE`, as in the original) asks for a slow-down, else
/// `has_sleep_for_period` asks for a pause of `sleep_for_period_us`, else the daemon logs the error and ignores
/// it.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct PulsarActionResult {
    /// `actionCompleteCorrectly`: a `PulsarOptionalBool` value.
    pub action_complete_correctly: u32,
    /// `slowDown`: a `PulsarOptionalBool` value.
    pub slow_down: u32,
    /// `errorMessage`: `error_message_len` bytes (any bytes, NUL included; UTF-8 recommended), or NULL (with a
    /// length of 0) for null. A non-NULL pointer with a length of 0 is the empty string.
    pub error_message: *const u8,
    /// The number of bytes at `error_message`.
    pub error_message_len: usize,
    /// `errorReason`: as `error_message`.
    pub error_reason: *const u8,
    /// The number of bytes at `error_reason`.
    pub error_reason_len: usize,
    /// Whether `sleepForPeriod` holds an `ErrorSleepForPeriod`: 0 for null, 1 for one with
    /// `sleep_for_period_us`; any other value is refused.
    pub has_sleep_for_period: u32,
    /// Its `sleepPeriod` in microseconds, at most 2^63 - 1 (a PHP integer); read only with
    /// `has_sleep_for_period`.
    pub sleep_for_period_us: u64,
}

impl Castable for PulsarActionResult {
    type Ownership = OwnershipRef;
}

/// A `PulsarOptionalBool` field as an `Option<bool>`.
fn optional_bool(value: u32, field: &str) -> Result<Option<bool>, Failure> {
    match value {
        v if v == PulsarOptionalBool::Unset as u32 => Ok(None),
        v if v == PulsarOptionalBool::False as u32 => Ok(Some(false)),
        v if v == PulsarOptionalBool::True as u32 => Ok(Some(true)),
        other => Err(Failure::new(
            PulsarStatus::InvalidArgument,
            format!("result->{field} must be a PulsarOptionalBool value (0, 1 or 2), got {other}"),
        )),
    }
}

/// A 0/1 integer flag field as a `bool`.
fn flag(value: u32, field: &str) -> Result<bool, Failure> {
    match value {
        0 => Ok(false),
        1 => Ok(true),
        other => Err(Failure::new(
            PulsarStatus::InvalidArgument,
            format!("result->{field} must be 0 (null) or 1 (set), got {other}"),
        )),
    }
}

/// A (pointer, length) byte string: `None` for NULL.
///
/// # Safety
/// `data` must be NULL or valid for reading `len` bytes during the call.
unsafe fn optional_bytes(
    data: *const u8,
    len: usize,
    field: &str,
) -> Result<Option<Vec<u8>>, Failure> {
    if data.is_null() {
        if len != 0 {
            return Err(Failure::new(
                PulsarStatus::InvalidArgument,
                format!("result->{field} is NULL (null) but result->{field}_len is {len}, not 0"),
            ));
        }
        return Ok(None);
    }
    // SAFETY: not NULL (checked above), and valid for `len` bytes by this function's contract.
    Ok(Some(
        unsafe { std::slice::from_raw_parts(data, len) }.to_vec(),
    ))
}

impl PulsarActionResult {
    /// The codec's result, exactly as this struct describes it.
    ///
    /// # Safety
    /// Each non-NULL byte pointer must be valid for reading its length in bytes during the call.
    pub unsafe fn to_action_result(&self) -> Result<ActionResult, Failure> {
        let sleep_for_period = if flag(self.has_sleep_for_period, "has_sleep_for_period")? {
            if i64::try_from(self.sleep_for_period_us).is_err() {
                return Err(Failure::new(
                    PulsarStatus::InvalidArgument,
                    format!(
                        "result->sleep_for_period_us must fit a PHP integer (at most 2^63 - 1), got {}",
                        self.sleep_for_period_us
                    ),
                ));
            }
            Some(self.sleep_for_period_us)
        } else {
            None
        };
        Ok(ActionResult {
            action_complete_correctly: optional_bool(
                self.action_complete_correctly,
                "action_complete_correctly",
            )?,
            // SAFETY: valid for its length, by this function's contract.
            error_message: unsafe {
                optional_bytes(self.error_message, self.error_message_len, "error_message")
            }?,
            // SAFETY: as above.
            error_reason: unsafe {
                optional_bytes(self.error_reason, self.error_reason_len, "error_reason")
            }?,
            sleep_for_period,
            slow_down: optional_bool(self.slow_down, "slow_down")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn empty() -> PulsarActionResult {
        PulsarActionResult {
            action_complete_correctly: 0,
            slow_down: 0,
            error_message: std::ptr::null(),
            error_message_len: 0,
            error_reason: std::ptr::null(),
            error_reason_len: 0,
            has_sleep_for_period: 0,
            sleep_for_period_us: 99,
        }
    }

    #[test]
    fn zero_is_every_property_null() {
        // SAFETY: no byte pointers.
        let result = unsafe { empty().to_action_result() }.expect("valid");
        assert_eq!(result, ActionResult::default());
    }

    #[test]
    fn every_field_is_carried_as_given() {
        let message = b"Quota\0Error";
        let reason = b"";
        let result = PulsarActionResult {
            action_complete_correctly: PulsarOptionalBool::False as u32,
            slow_down: PulsarOptionalBool::False as u32,
            error_message: message.as_ptr(),
            error_message_len: message.len(),
            error_reason: reason.as_ptr(),
            error_reason_len: 0,
            has_sleep_for_period: 1,
            sleep_for_period_us: 3_600_000_000,
        };
        // SAFETY: the pointers are valid for their lengths.
        let result = unsafe { result.to_action_result() }.expect("valid");
        assert_eq!(
            result,
            ActionResult {
                action_complete_correctly: Some(false),
                error_message: Some(message.to_vec()),
                error_reason: Some(Vec::new()),
                sleep_for_period: Some(3_600_000_000),
                slow_down: Some(false),
            }
        );
    }

    #[test]
    fn a_flag_other_than_0_or_1_is_refused() {
        for value in [2, 255, 256, u32::MAX] {
            let bad = PulsarActionResult {
                has_sleep_for_period: value,
                ..empty()
            };
            // SAFETY: no byte pointers.
            let err = unsafe { bad.to_action_result() }.expect_err("only 0 and 1 are flags");
            assert_eq!(err.status, PulsarStatus::InvalidArgument);
            assert_eq!(
                err.message,
                format!("result->has_sleep_for_period must be 0 (null) or 1 (set), got {value}")
            );
        }
    }

    #[test]
    fn bad_fields_are_refused_with_their_name() {
        let bad_flag = PulsarActionResult {
            slow_down: 3,
            ..empty()
        };
        // SAFETY: no byte pointers.
        let err = unsafe { bad_flag.to_action_result() }.expect_err("3 is no PulsarOptionalBool");
        assert_eq!(err.status, PulsarStatus::InvalidArgument);
        assert!(err.message.contains("slow_down"), "{}", err.message);

        let null_with_length = PulsarActionResult {
            error_reason_len: 4,
            ..empty()
        };
        // SAFETY: the NULL pointer is never read.
        let err = unsafe { null_with_length.to_action_result() }.expect_err("NULL with a length");
        assert!(err.message.contains("error_reason"), "{}", err.message);

        let too_long = PulsarActionResult {
            has_sleep_for_period: 1,
            sleep_for_period_us: u64::MAX,
            ..empty()
        };
        // SAFETY: no byte pointers.
        let err = unsafe { too_long.to_action_result() }.expect_err("beyond a PHP integer");
        assert!(
            err.message.contains("sleep_for_period_us"),
            "{}",
            err.message
        );
    }
}
