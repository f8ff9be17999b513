//! `PulsarPulse`: what `pulsar_performer_wait_permission` hands to C, the published object in three forms
//! (class name, properties as JSON, exact bytes).
//!
//! It only converts; it must never interpret a pulse beyond what the Performer already checked.

use std::ffi::{c_char, CString};

use pulsar_wire::Pulse;

use crate::boundary::{
    c_string_lossy, ffi_boundary, free_box, try_out, try_ref, Castable, OwnershipBox,
};
use crate::json::properties_json;
use crate::status::PulsarStatus;

/// A received pulse: the object the daemon published (`PublisherToSubscribersDto` or the daemon's configured
/// subclass). Made by `pulsar_performer_wait_permission`, owned by the caller, freed with
/// `pulsar_pulse_free`. Read-only: any number of threads may read one pulse at once.
#[derive(Debug)]
pub struct PulsarPulse {
    class_name: CString,
    properties_json: CString,
    bytes: Vec<u8>,
}

impl Castable for PulsarPulse {
    type Ownership = OwnershipBox;
}

impl PulsarPulse {
    /// The C view of a pulse.
    pub fn new(pulse: Pulse) -> PulsarPulse {
        PulsarPulse {
            class_name: c_string_lossy(
                String::from_utf8_lossy(&pulse.object.class)
                    .into_owned()
                    .into_bytes(),
            ),
            // JSON escapes control characters, so the text never holds a NUL byte; lossy all the same.
            properties_json: c_string_lossy(properties_json(&pulse.object).into_bytes()),
            bytes: pulse.bytes,
        }
    }
}

/// The pulse's class name as UTF-8 (invalid bytes replaced by U+FFFD), e.g.
/// `React\PublisherPulsar\Inventory\PublisherToSubscribersDto`.
///
/// On success `*out` points to a NUL-terminated string owned by the pulse, valid until `pulsar_pulse_free`.
///
/// # Safety
/// `pulse` must be NULL or a live pulse; `out` must be NULL or valid for writing one pointer.
#[no_mangle]
pub unsafe extern "C" fn pulsar_pulse_class_name(
    pulse: *const PulsarPulse,
    out: *mut *const c_char,
) -> PulsarStatus {
    ffi_boundary! {
        let out = try_out!(out);
        out.write(try_ref!(pulse).class_name.as_ptr());
        Ok(())
    }
}

/// The pulse's properties as a JSON object text, by bare property name, e.g.
/// `{"allowAction":true,"command":"slow-down-please"}`.
///
/// Mapping: null, booleans, integers as such; finite floats as numbers, `INF`/`-INF`/`NAN` as the strings
/// `"INF"`, `"-INF"`, `"NAN"`; PHP strings as JSON strings decoded as UTF-8 with invalid bytes replaced by
/// U+FFFD (use `pulsar_pulse_bytes` for the exact bytes); arrays with keys 0, 1, 2, ... in order as JSON
/// arrays, other arrays as JSON objects (integer keys in decimal); nested objects as JSON objects with their
/// class name under the key `"__class"`. Properties keep their order; of two with the same bare name the
/// first is kept.
///
/// On success `*out` points to a NUL-terminated UTF-8 string owned by the pulse, valid until
/// `pulsar_pulse_free`.
///
/// # Safety
/// `pulse` must be NULL or a live pulse; `out` must be NULL or valid for writing one pointer.
#[no_mangle]
pub unsafe extern "C" fn pulsar_pulse_properties_json(
    pulse: *const PulsarPulse,
    out: *mut *const c_char,
) -> PulsarStatus {
    ffi_boundary! {
        let out = try_out!(out);
        out.write(try_ref!(pulse).properties_json.as_ptr());
        Ok(())
    }
}

/// The pulse exactly as published: PHP `serialize()` bytes (they may contain NUL bytes).
///
/// On success `*out_data` points to `*out_len` bytes owned by the pulse, valid until `pulsar_pulse_free`;
/// both are written, or neither.
///
/// # Safety
/// `pulse` must be NULL or a live pulse; `out_data` and `out_len` must each be NULL or valid for one write.
#[no_mangle]
pub unsafe extern "C" fn pulsar_pulse_bytes(
    pulse: *const PulsarPulse,
    out_data: *mut *const u8,
    out_len: *mut usize,
) -> PulsarStatus {
    ffi_boundary! {
        let (out_data, out_len) = (try_out!(out_data), try_out!(out_len));
        let pulse = try_ref!(pulse);
        out_data.write(pulse.bytes.as_ptr());
        out_len.write(pulse.bytes.len());
        Ok(())
    }
}

/// Frees a pulse. NULL is allowed and does nothing. The pulse's strings and bytes become invalid.
///
/// # Safety
/// `pulse` must be NULL or a pulse from this library not freed before; it must not be used afterwards.
#[no_mangle]
pub unsafe extern "C" fn pulsar_pulse_free(pulse: *mut PulsarPulse) {
    // SAFETY: NULL or a pulse not freed before, by this function's contract.
    unsafe { free_box(pulse) }
}
