//! `PulsarDaemon`: the daemon run from inside a C (or Python) process, a thin wrapper over
//! [`publisher_pulsar::daemon::Daemon`], with its stop switch and counters usable from other threads.
//!
//! It must never hold coordination logic of its own: it binds, runs, stops and reads counters exactly as
//! `pulsard` does.

use std::ffi::{c_char, CString};
use std::sync::{Mutex, PoisonError};

use publisher_pulsar::daemon::{Daemon, DaemonStats, Endpoints, ShutdownHandle, StatsHandle};
use pulsar_pulse::Nanos;

use crate::boundary::{
    c_string_lossy, ffi_boundary, free_box, try_opt_str, try_out, try_ref, Castable, Failure,
    OwnershipBox,
};
use crate::status::PulsarStatus;

/// A daemon made by `pulsar_daemon_new`: its sockets are bound; `pulsar_daemon_run` runs it (once).
///
/// Thread safety: while one thread blocks in `pulsar_daemon_run`, any other thread may call
/// `pulsar_daemon_stop`, `pulsar_daemon_stats`, `pulsar_daemon_endpoint` and
/// `pulsar_daemon_performer_config` on the same daemon. `pulsar_daemon_free` must not race with any other call
/// on it: stop the daemon and wait for `pulsar_daemon_run` to return (join its thread) before freeing.
pub struct PulsarDaemon {
    /// Taken out by the one `pulsar_daemon_run` (the core's `Daemon::run` consumes it).
    daemon: Mutex<Option<Daemon>>,
    shutdown: ShutdownHandle,
    stats: StatsHandle,
    reply_stack: CString,
    publish: CString,
    pull: CString,
    performer_config: CString,
}

impl Castable for PulsarDaemon {
    type Ownership = OwnershipBox;
}

/// Which of the daemon's bound sockets `pulsar_daemon_endpoint` reports (values of its `which` argument).
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PulsarEndpoint {
    /// The admission desk (`replyStackSocketAddress`): performers' `requestPulsarRsSocketAddress`.
    ReplyStack = 0,
    /// Where pulses are published (`publishSocketAddress`): performers' `publisherPulsarSocketAddress`.
    Publish = 1,
    /// Where readiness and results arrive (`pullSocketAddress`): performers' `pushPulsarSocketAddress`.
    Pull = 2,
}

/// A daemon's counters, as of the end of its last loop turn. Plain data, filled by `pulsar_daemon_stats`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PulsarDaemonStats {
    /// N now: the most workers the next pulse releases (after adaptation).
    pub n: u32,
    /// The most receivers any single pulse had.
    pub max_receivers: u32,
    /// The slow-down pause before each publish now, in microseconds.
    pub pause_us: u64,
    /// Pulses published.
    pub pulses: u64,
    /// Permissions granted: the sum of receivers over all pulses.
    pub grants: u64,
    /// Erroring results received.
    pub errors: u64,
    /// Results received.
    pub results: u64,
    /// Results that arrived after their iteration had ended.
    pub late_results: u64,
    /// Iterations finished.
    pub iterations: u64,
    /// Workers waiting for admission now.
    pub queued: u64,
    /// Admission requests refused (queue full, stopping).
    pub refused: u64,
    /// Admissions delivered to workers.
    pub admitted: u64,
    /// Admissions whose worker had gone when the reply was due.
    pub lost_admissions: u64,
    /// Malformed or unexpected messages dropped.
    pub dropped_messages: u64,
    /// N as configured (`subscribersPerIteration`).
    pub configured_n: u32,
    /// Results without error (of `results`).
    pub successes: u64,
    /// Results asking to slow down (of `results`; a result asking for both counts here).
    pub slow_down_results: u64,
    /// Results asking for a pause-for-period (of `results`).
    pub sleep_for_period_results: u64,
    /// Erroring results that asked for nothing (of `results`).
    pub ignored_errors: u64,
    /// End of the pause-for-period in force, in microseconds since the Unix epoch; 0 when not paused.
    pub paused_until_unix_us: u64,
    /// Admission connections the daemon knows now (workers' REQ sockets that asked and are still connected).
    pub connected_peers: u64,
    /// Admission waits observed (from a request to the pulse that released its worker) and their sum, in
    /// microseconds.
    pub admission_waits: u64,
    /// Sum of the admission waits, in microseconds.
    pub admission_wait_sum_us: u64,
    /// Median admission wait estimated from the histogram, in microseconds; 0 without observations.
    pub admission_wait_p50_us: u64,
    /// 99th percentile of the admission wait estimated from the histogram, in microseconds; 0 without
    /// observations.
    pub admission_wait_p99_us: u64,
    /// Whether `pulsar_daemon_run` is running now.
    pub running: bool,
    /// Released workers reported lost (their push connection closed after a Ready without a result, or was
    /// still silent at their pulse's result timeout): each one's slot comes back at that timeout.
    pub lost_receivers: u64,
    /// Connections open now on the three sockets.
    pub open_connections: u64,
    /// `maxConnections` as applied (lowered at start to fit the descriptor limit).
    pub max_connections: u64,
    /// New connections refused because their address is not in `allowFrom`.
    pub refused_not_allowed: u64,
    /// New connections refused because `maxConnections` were open.
    pub refused_connection_limit: u64,
}

/// The C view of [`DaemonStats`]: engine figures from its `engine` part, the driver's own from the rest. The
/// struct's layout is the ABI (`include/pulsar.h`); only this conversion knows both sides.
impl From<DaemonStats> for PulsarDaemonStats {
    fn from(s: DaemonStats) -> Self {
        let e = s.engine;
        PulsarDaemonStats {
            n: e.n,
            max_receivers: s.max_receivers,
            pause_us: micros(e.pause),
            pulses: e.pulses,
            grants: e.grants,
            errors: e.errors,
            results: e.results,
            late_results: e.late_results,
            iterations: e.iterations,
            queued: e.queued,
            refused: e.refused,
            admitted: s.admitted,
            lost_admissions: s.lost_admissions,
            dropped_messages: s.dropped_messages,
            configured_n: s.configured_n,
            successes: e.successes,
            slow_down_results: e.slow_down_results,
            sleep_for_period_results: e.sleep_for_period_results,
            ignored_errors: e.ignored_errors,
            paused_until_unix_us: s.paused_until_unix().map_or(0, micros),
            connected_peers: s.admission_connections,
            admission_waits: s.admission_wait.count,
            admission_wait_sum_us: micros(s.admission_wait.sum),
            admission_wait_p50_us: s.admission_wait.quantile(0.5).map_or(0, micros),
            admission_wait_p99_us: s.admission_wait.quantile(0.99).map_or(0, micros),
            running: s.running,
            lost_receivers: e.lost_receivers,
            open_connections: s.open_connections,
            max_connections: s.max_connections,
            refused_not_allowed: s.refused_not_allowed,
            refused_connection_limit: s.refused_connection_limit,
        }
    }
}

/// Whole microseconds (rounded down), the unit of the C struct.
fn micros(n: Nanos) -> u64 {
    n.as_micros()
}

/// The performer settings that reach a daemon bound at `endpoints`, as JSON for `pulsar_performer_new`.
fn performer_config_json(endpoints: &Endpoints) -> String {
    serde_json::json!({
        "publisherPulsarSocketAddress": endpoints.publish,
        "pushPulsarSocketAddress": endpoints.pull,
        "requestPulsarRsSocketAddress": endpoints.reply_stack,
    })
    .to_string()
}

/// Creates a daemon from a JSON configuration and binds its sockets, so that address errors surface here.
/// Workers can connect as soon as this returns; they are served once `pulsar_daemon_run` runs.
///
/// `config_json` is NULL or `""` for the defaults, or a JSON object with the keys of `pulsard --config` (the
/// original `PublisherPulsarDto` setter names, e.g. `subscribersPerIteration`); `pulsar_settings_json` lists
/// every key with its type, default and range. The addresses may be nested in `pulsarSocketsParams` or written at
/// the top level. A port `*` (e.g. `tcp://127.0.0.1:*`) lets the system choose; read the result with
/// `pulsar_daemon_endpoint`. `pulsar_config_check` checks a configuration without binding.
///
/// On success `*out` receives the daemon; free it with `pulsar_daemon_free`.
/// Errors: `PULSAR_STATUS_NULL_POINTER` (out), `PULSAR_STATUS_INVALID_UTF8`, `PULSAR_STATUS_INVALID_JSON`,
/// `PULSAR_STATUS_INVALID_ARGUMENT` (the message names the setting), `PULSAR_STATUS_BIND_ERROR`.
///
/// # Safety
/// `config_json` must be NULL or a NUL-terminated string; `out` must be NULL or valid for one write.
#[no_mangle]
pub unsafe extern "C" fn pulsar_daemon_new(
    config_json: *const c_char,
    out: *mut *mut PulsarDaemon,
) -> PulsarStatus {
    ffi_boundary! {
        let out = try_out!(out);
        // Daemon::bind checks every setting (the core's one validation).
        let config = crate::settings::config_from_json(try_opt_str!(config_json))?;
        let daemon = Daemon::bind(&config)?;
        let endpoints = daemon.endpoints();
        out.set_boxed(PulsarDaemon {
            shutdown: daemon.shutdown_handle(),
            stats: daemon.stats_handle(),
            reply_stack: c_string_lossy(endpoints.reply_stack.clone().into_bytes()),
            publish: c_string_lossy(endpoints.publish.clone().into_bytes()),
            pull: c_string_lossy(endpoints.pull.clone().into_bytes()),
            performer_config: c_string_lossy(performer_config_json(&endpoints).into_bytes()),
            daemon: Mutex::new(Some(daemon)),
        });
        Ok(())
    }
}

/// Runs the daemon on the calling thread until `pulsar_daemon_stop` is called (from another thread, or
/// before) or `timerIterationsLimit` is reached. Workers still waiting for admission when it stops are
/// refused, so none hangs. A daemon runs once: a second call returns `PULSAR_STATUS_OUT_OF_ORDER`.
///
/// Errors: `PULSAR_STATUS_OUT_OF_ORDER`, `PULSAR_STATUS_ZMQ_ERROR` (ZeroMQ itself failed).
///
/// # Safety
/// `daemon` must be NULL or a live daemon, not freed until this returns.
#[no_mangle]
pub unsafe extern "C" fn pulsar_daemon_run(daemon: *mut PulsarDaemon) -> PulsarStatus {
    ffi_boundary! {
        // Only a shared reference: other threads may read the same handle while this one runs.
        let taken = try_ref!(daemon)
            .daemon
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let Some(daemon) = taken else {
            return Err(Failure::new(
                PulsarStatus::OutOfOrder,
                "this daemon is running or has run already: a daemon runs once; create a new one to run again",
            ));
        };
        daemon.run()?;
        Ok(())
    }
}

/// Asks the daemon to stop: `pulsar_daemon_run` returns within about 100 ms. Safe to call from any thread,
/// any number of times, also before `pulsar_daemon_run` (which then returns at once).
///
/// # Safety
/// `daemon` must be NULL or a live daemon.
#[no_mangle]
pub unsafe extern "C" fn pulsar_daemon_stop(daemon: *const PulsarDaemon) -> PulsarStatus {
    ffi_boundary! {
        try_ref!(daemon).shutdown.shutdown();
        Ok(())
    }
}

/// Reads the daemon's counters into `*out`. Safe to call from any thread, also while `pulsar_daemon_run`
/// blocks in another.
///
/// # Safety
/// `daemon` must be NULL or a live daemon; `out` must be NULL or valid for writing one `PulsarDaemonStats`.
#[no_mangle]
pub unsafe extern "C" fn pulsar_daemon_stats(
    daemon: *const PulsarDaemon,
    out: *mut PulsarDaemonStats,
) -> PulsarStatus {
    ffi_boundary! {
        let out = try_out!(out);
        out.write(PulsarDaemonStats::from(try_ref!(daemon).stats.snapshot()));
        Ok(())
    }
}

/// The address one of the daemon's sockets is bound to (`which` is a `PulsarEndpoint` value), with the real
/// port when the configuration said `*`, e.g. `tcp://127.0.0.1:41237`. Safe to call from any thread.
///
/// On success `*out` points to a NUL-terminated string owned by the daemon, valid until `pulsar_daemon_free`.
/// Errors: `PULSAR_STATUS_INVALID_ARGUMENT` for an unknown `which`.
///
/// # Safety
/// `daemon` must be NULL or a live daemon; `out` must be NULL or valid for one write.
#[no_mangle]
pub unsafe extern "C" fn pulsar_daemon_endpoint(
    daemon: *const PulsarDaemon,
    which: u32,
    out: *mut *const c_char,
) -> PulsarStatus {
    ffi_boundary! {
        let out = try_out!(out);
        let handle = try_ref!(daemon);
        let endpoint = match which {
            w if w == PulsarEndpoint::ReplyStack as u32 => &handle.reply_stack,
            w if w == PulsarEndpoint::Publish as u32 => &handle.publish,
            w if w == PulsarEndpoint::Pull as u32 => &handle.pull,
            other => {
                return Err(Failure::new(
                    PulsarStatus::InvalidArgument,
                    format!("which must be a PulsarEndpoint value (0, 1 or 2), got {other}"),
                ))
            }
        };
        out.write(endpoint.as_ptr());
        Ok(())
    }
}

/// A performer configuration (JSON for `pulsar_performer_new`) with the three addresses of this daemon's
/// bound sockets, e.g. `{"publisherPulsarSocketAddress":"tcp://127.0.0.1:41235",...}`. Safe to call from any
/// thread.
///
/// On success `*out` points to a NUL-terminated string owned by the daemon, valid until `pulsar_daemon_free`.
///
/// # Safety
/// `daemon` must be NULL or a live daemon; `out` must be NULL or valid for one write.
#[no_mangle]
pub unsafe extern "C" fn pulsar_daemon_performer_config(
    daemon: *const PulsarDaemon,
    out: *mut *const c_char,
) -> PulsarStatus {
    ffi_boundary! {
        let out = try_out!(out);
        out.write(try_ref!(daemon).performer_config.as_ptr());
        Ok(())
    }
}

/// Frees a daemon and closes its sockets (a daemon never run just unbinds). NULL is allowed and does nothing.
///
/// # Safety
/// `daemon` must be NULL or a daemon from `pulsar_daemon_new` not freed before. No other thread may use it:
/// if it runs, stop it and wait for `pulsar_daemon_run` to return first.
#[no_mangle]
pub unsafe extern "C" fn pulsar_daemon_free(daemon: *mut PulsarDaemon) {
    // SAFETY: NULL or a daemon not freed before and not in use, by this function's contract.
    unsafe { free_box(daemon) }
}
