//! SIGTERM and SIGINT end a blocking call (`Pulsar::manage()`, `ReplyStack::startCommunication()`) cleanly.
//!
//! For the duration of the call our handler replaces whatever was installed (PHP's default, or a `pcntl_signal()`
//! handler of the user's framework); [`SignalGuard`]'s drop puts the exact previous `sigaction` back. The handler
//! only stores to atomics (async-signal-safe): it triggers the daemon's [`ShutdownHandle`], whose loop notices
//! within its poll interval.
//!
//! This module must never do anything in the handler but atomic stores, and never leave its handler installed
//! after the call it guards.

use std::io;
use std::ptr;
use std::sync::atomic::{AtomicI32, AtomicPtr, Ordering};

use publisher_pulsar::daemon::ShutdownHandle;

/// The signals that end a blocking call.
const SIGNALS: [libc::c_int; 2] = [libc::SIGTERM, libc::SIGINT];

/// The handle the handler triggers; null when no call is guarded.
///
/// Each guarded call leaks one small `ShutdownHandle` box: a signal may still be running the handler on another
/// thread (ZeroMQ's I/O threads do not block signals) just as the guard is dropped, so the handle it reads must
/// stay valid forever. A handful of bytes per `manage()` call is the price of that certainty.
static TARGET: AtomicPtr<ShutdownHandle> = AtomicPtr::new(ptr::null_mut());

/// The last signal received while guarded (0: none).
static RECEIVED: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_signal(signal: libc::c_int) {
    RECEIVED.store(signal, Ordering::SeqCst);
    let target = TARGET.load(Ordering::SeqCst);
    // SAFETY: a non-null TARGET always points to a leaked, never freed `ShutdownHandle`; `shutdown()` is one
    // atomic store on an `Arc`'d bool, which is async-signal-safe.
    if let Some(handle) = unsafe { target.as_ref() } {
        handle.shutdown();
    }
}

/// Our handlers are installed while this lives; dropping it restores the previous ones.
pub struct SignalGuard {
    previous: Vec<(libc::c_int, libc::sigaction)>,
    previous_target: *mut ShutdownHandle,
}

impl SignalGuard {
    /// Installs the handlers; a SIGTERM or SIGINT then calls `handle.shutdown()`.
    pub fn install(handle: ShutdownHandle) -> io::Result<SignalGuard> {
        RECEIVED.store(0, Ordering::SeqCst);
        let leaked: &'static mut ShutdownHandle = Box::leak(Box::new(handle));
        let previous_target = TARGET.swap(leaked, Ordering::SeqCst);
        let mut guard = SignalGuard {
            previous: Vec::with_capacity(SIGNALS.len()),
            previous_target,
        };
        for signal in SIGNALS {
            // SAFETY: `sigaction` is plain data; all-zero is a valid initial value (empty mask, no flags).
            let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
            action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
            action.sa_flags = libc::SA_RESTART;
            // SAFETY: `sa_mask` is a valid sigset_t owned by `action`.
            unsafe { libc::sigemptyset(&mut action.sa_mask) };
            // SAFETY: as above, plain data that `sigaction` fills in.
            let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
            // SAFETY: both pointers are valid for the call; the handler only does async-signal-safe work.
            if unsafe { libc::sigaction(signal, &action, &mut old) } != 0 {
                // `guard` restores what was already replaced.
                return Err(io::Error::last_os_error());
            }
            guard.previous.push((signal, old));
        }
        Ok(guard)
    }

    /// The signal that arrived while guarded, if any (e.g. for a log line).
    pub fn received() -> Option<libc::c_int> {
        match RECEIVED.load(Ordering::SeqCst) {
            0 => None,
            signal => Some(signal),
        }
    }
}

impl Drop for SignalGuard {
    fn drop(&mut self) {
        for (signal, old) in self.previous.drain(..).rev() {
            // SAFETY: `old` is exactly what `sigaction` reported as installed before ours.
            unsafe { libc::sigaction(signal, &old, ptr::null_mut()) };
        }
        TARGET.store(self.previous_target, Ordering::SeqCst);
    }
}

/// `SIGTERM` / `SIGINT` by number, for messages.
pub fn name(signal: libc::c_int) -> &'static str {
    match signal {
        libc::SIGTERM => "SIGTERM",
        libc::SIGINT => "SIGINT",
        _ => "a signal",
    }
}
