//! `PulsarPerformer`: the worker-side client for C, a thin wrapper over
//! [`publisher_pulsar::performer::Performer`].
//!
//! It converts arguments, calls the Performer and maps its errors; it must never add protocol steps or
//! timing of its own (C, Python and Rust callers must behave the same by construction).

use std::ffi::c_char;
use std::sync::{Mutex, MutexGuard, PoisonError};

use publisher_pulsar::performer::{Performer, PerformerConfig};

use crate::boundary::{
    ffi_boundary, free_box, try_bytes, try_opt_str, try_out, try_ref, Castable, OwnershipBox,
};
use crate::pulse::PulsarPulse;
use crate::result::PulsarActionResult;
use crate::status::PulsarStatus;

/// A worker's connection to a Publisher Pulsar daemon (three ZeroMQ sockets, made once and reused).
///
/// Thread safety: a performer may be created on one thread and used on another. Calls on the same performer
/// from several threads at once are serialized by an internal lock (the second waits until the first is
/// done, which may take a whole timeout), so give each worker thread its own performer. Different performers
/// are fully independent.
pub struct PulsarPerformer {
    performer: Mutex<Performer>,
}

impl Castable for PulsarPerformer {
    type Ownership = OwnershipBox;
}

impl PulsarPerformer {
    fn lock(&self) -> MutexGuard<'_, Performer> {
        // A poisoned lock means an earlier call panicked (and returned PULSAR_STATUS_PANIC); the Performer
        // starts every wait afresh, so it is still usable.
        self.performer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// Creates a performer from a JSON configuration and connects its sockets (connecting is lazy: the daemon
/// need not run yet; a worker started before the daemon is served once the daemon binds).
///
/// `config_json` is NULL or `""` for the defaults, or a JSON object with any of these keys (unknown keys are
/// an error): `publisherPulsarSocketAddress` (default `tcp://127.0.0.1:6273`), `pushPulsarSocketAddress`
/// (`tcp://127.0.0.1:6274`), `requestPulsarRsSocketAddress` (`tcp://127.0.0.1:6275`), `moduleName`
/// (`performer`), and the timeouts in seconds (fractions allowed, must be positive): `admissionTimeout` (60),
/// `pulseTimeout` (30), `sendTimeout` (5).
///
/// On success `*out` receives the new performer; free it with `pulsar_performer_free`.
/// Errors: `PULSAR_STATUS_NULL_POINTER` (out), `PULSAR_STATUS_INVALID_UTF8`, `PULSAR_STATUS_INVALID_JSON`,
/// `PULSAR_STATUS_INVALID_ARGUMENT` (a bad value; the message names the setting), `PULSAR_STATUS_CONNECT_ERROR`.
///
/// # Safety
/// `config_json` must be NULL or a NUL-terminated string; `out` must be NULL or valid for one write.
#[no_mangle]
pub unsafe extern "C" fn pulsar_performer_new(
    config_json: *const c_char,
    out: *mut *mut PulsarPerformer,
) -> PulsarStatus {
    ffi_boundary! {
        let out = try_out!(out);
        let config = match try_opt_str!(config_json) {
            None => PerformerConfig::default(),
            Some(text) if text.trim().is_empty() => PerformerConfig::default(),
            Some(text) => PerformerConfig::from_json(text)?,
        };
        let performer = Performer::connect(config)?;
        out.set_boxed(PulsarPerformer {
            performer: Mutex::new(performer),
        });
        Ok(())
    }
}

/// Frees a performer and closes its sockets (waiting at most 100 ms for queued messages). A permission still
/// held is given back to the daemon first. NULL is allowed and does nothing.
///
/// # Safety
/// `performer` must be NULL or a performer from `pulsar_performer_new` not freed before, and no other thread
/// may be using it.
#[no_mangle]
pub unsafe extern "C" fn pulsar_performer_free(performer: *mut PulsarPerformer) {
    // SAFETY: NULL or a performer not freed before and not in use, by this function's contract.
    unsafe { free_box(performer) }
}

/// Waits for permission to act: asks the daemon for admission, subscribes, waits for the pulse (the
/// original's `connectToPulsarAndWaitPermissionToAct`). Blocks for at most `admissionTimeout` plus
/// `pulseTimeout` (plus `sendTimeout` if the daemon is unreachable).
///
/// On success `*out` receives the pulse (free it with `pulsar_pulse_free`) and the performer holds a
/// permission: act, then report once with one of the `pulsar_performer_report_*` functions.
/// Errors: `PULSAR_STATUS_TIMEOUT` (daemon not running, queue too long, no pulse),
/// `PULSAR_STATUS_ADMISSION_REFUSED`, `PULSAR_STATUS_ACTION_NOT_ALLOWED` (the pulse says `allowAction =
/// false`), `PULSAR_STATUS_PROTOCOL_ERROR`, `PULSAR_STATUS_ZMQ_ERROR`. After any error the next call starts
/// afresh, also after the daemon was restarted.
///
/// # Safety
/// `performer` must be NULL or a live performer; `out` must be NULL or valid for one write.
#[no_mangle]
pub unsafe extern "C" fn pulsar_performer_wait_permission(
    performer: *mut PulsarPerformer,
    out: *mut *mut PulsarPulse,
) -> PulsarStatus {
    ffi_boundary! {
        let out = try_out!(out);
        let pulse = try_ref!(performer).lock().wait_permission()?;
        out.set_boxed(PulsarPulse::new(pulse));
        Ok(())
    }
}

/// Reports a successful action (`ActionResultingPushDto{actionCompleteCorrectly: true}`; the original's
/// `pushActionResultInfoWithoutPulsarCorrectionBehavior`).
///
/// Errors: `PULSAR_STATUS_OUT_OF_ORDER` without a permission held; `PULSAR_STATUS_TIMEOUT` when the daemon is
/// unreachable for `sendTimeout`. Either way the permission is used up.
///
/// # Safety
/// `performer` must be NULL or a live performer.
#[no_mangle]
pub unsafe extern "C" fn pulsar_performer_report_success(
    performer: *mut PulsarPerformer,
) -> PulsarStatus {
    ffi_boundary! {
        try_ref!(performer).lock().report_success()?;
        Ok(())
    }
}

/// Reports a rate-limit error: the daemon releases one worker fewer per pulse (or, at one worker, pauses one
/// second longer before each pulse, up to 300 s). `message` must not be empty (the daemon ignores errors
/// without a message); `reason` may be `""`. Both are NUL-terminated byte strings sent as they are (UTF-8
/// recommended).
///
/// Errors: as `pulsar_performer_report_success`, plus `PULSAR_STATUS_INVALID_ARGUMENT` for an empty message
/// (the permission is then kept, so a correct report can follow).
///
/// # Safety
/// `performer` must be NULL or a live performer; `message` and `reason` NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn pulsar_performer_report_slow_down(
    performer: *mut PulsarPerformer,
    message: *const c_char,
    reason: *const c_char,
) -> PulsarStatus {
    ffi_boundary! {
        let performer = try_ref!(performer);
        let (message, reason) = (try_bytes!(message), try_bytes!(reason));
        performer.lock().report_slow_down(message, reason)?;
        Ok(())
    }
}

/// Reports an error that asks the daemon to stop pulsing for `micros` microseconds (the original's
/// `ErrorSleepForPeriod`, e.g. a daily quota is used up). `micros` must be at most 2^63 - 1 (a PHP integer).
/// `message` must not be empty; `reason` may be `""`.
///
/// Errors: as `pulsar_performer_report_slow_down`.
///
/// # Safety
/// `performer` must be NULL or a live performer; `message` and `reason` NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn pulsar_performer_report_pause_for(
    performer: *mut PulsarPerformer,
    micros: u64,
    message: *const c_char,
    reason: *const c_char,
) -> PulsarStatus {
    ffi_boundary! {
        let performer = try_ref!(performer);
        let (message, reason) = (try_bytes!(message), try_bytes!(reason));
        performer.lock().report_pause_for(micros, message, reason)?;
        Ok(())
    }
}

/// Reports any result, sent exactly as `result` describes it (the original's `pushActionResultInfo` with an
/// `ActionResultingPushDto`: a null property stays null). What the daemon does with it is its own rule (see
/// `PulsarActionResult`): a success, a slow-down, a pause, or an error it logs and ignores. The struct is read
/// during the call only.
///
/// Errors: as `pulsar_performer_report_success`, plus `PULSAR_STATUS_INVALID_ARGUMENT` for a field out of range
/// (the message names it; the permission is then kept, so a correct report can follow).
///
/// # Safety
/// `performer` must be NULL or a live performer; `result` NULL or a valid `PulsarActionResult` whose non-NULL
/// byte pointers are valid for reading their lengths.
#[no_mangle]
pub unsafe extern "C" fn pulsar_performer_report(
    performer: *mut PulsarPerformer,
    result: *const PulsarActionResult,
) -> PulsarStatus {
    ffi_boundary! {
        let performer = try_ref!(performer);
        let result = try_ref!(result);
        // SAFETY: its byte pointers are valid for their lengths, by this function's contract.
        let result = unsafe { result.to_action_result() }?;
        performer.lock().report(&result)?;
        Ok(())
    }
}

/// Tells the daemon this worker ends early (`PerformerEarlyTerminated`). With `stand_on_subscription` true
/// it gives back a permission received but not acted on, so the daemon need not wait for its result (needs a
/// permission held, else `PULSAR_STATUS_OUT_OF_ORDER`); with false it only informs and is allowed at any time.
///
/// # Safety
/// `performer` must be NULL or a live performer.
#[no_mangle]
pub unsafe extern "C" fn pulsar_performer_report_early_termination(
    performer: *mut PulsarPerformer,
    stand_on_subscription: bool,
) -> PulsarStatus {
    ffi_boundary! {
        try_ref!(performer)
            .lock()
            .report_early_termination(stand_on_subscription)?;
        Ok(())
    }
}

/// Whether the performer holds a permission whose result is not reported yet.
///
/// # Safety
/// `performer` must be NULL or a live performer; `out` must be NULL or valid for one write.
#[no_mangle]
pub unsafe extern "C" fn pulsar_performer_holds_permission(
    performer: *const PulsarPerformer,
    out: *mut bool,
) -> PulsarStatus {
    ffi_boundary! {
        let out = try_out!(out);
        out.write(try_ref!(performer).lock().holds_permission());
        Ok(())
    }
}
