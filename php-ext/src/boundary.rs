//! The `zend_try` boundary: every call from Rust into user PHP code (DTO getters and setters, the logger,
//! autoloaders, `__wakeup`/`__unserialize`/`__serialize`, destructors of objects we release) runs through
//! [`call_php`].
//!
//! A PHP fatal error (`E_ERROR`, `E_USER_ERROR`, memory exhaustion, `max_execution_time`) is not an exception: the
//! engine prints it, then `longjmp`s to the innermost `zend_try`. Without one of ours that jump would skip every
//! Rust frame between the engine and the entry point (open sockets, a held permission, signal handlers, locks).
//! [`call_php`] puts a `zend_try` (ext-php-rs's [`try_catch`]) right around the PHP call, so the jump lands there and
//! skips only ext-php-rs's call plumbing (the argument vector leaks, as PHP's own frames do). The caught fatal error
//! then travels as [`Failure::Bailout`] through our frames like any error, and every destructor runs; no further
//! PHP code is called for the rest of that entry point ([`call_php`] refuses, the logger is skipped).
//!
//! When the entry point returns, [`crate::failure::guard`] calls [`finish_fatal`]: it throws PHP's own `exit()`
//! unwinder (`unwind_exit`), which no `catch` and no `finally` sees. The request then ends as after the original
//! fatal error: the message was printed by PHP when it happened, `EG(exit_status)` is still 255, shutdown functions
//! run and `error_get_last()` returns the fatal error, and destructors do not run (PHP marked every object
//! destructed before jumping).
//!
//! This module must never let a PHP call run outside [`call_php`], nor call PHP again after a bailout until the
//! entry point has finished.

use std::cell::Cell;
use std::panic::AssertUnwindSafe;

use ext_php_rs::php_eval;
use ext_php_rs::zend::{try_catch, CatchError, ExecutorGlobals};

use crate::failure::{Failure, Kind, Outcome};

extern "C" {
    /// PHP's `exit()` unwinder (`Zend/zend_exceptions.h`, exported by every PHP ≥ 8.0): sets `EG(exception)` to
    /// the uncatchable `unwind_exit` object.
    fn zend_throw_unwind_exit();
}

thread_local! {
    /// Set when a fatal error was caught on this thread, until the entry point has handed it back to PHP.
    static BAILED_OUT: Cell<bool> = const { Cell::new(false) };
}

/// Whether a fatal error was caught and not yet handed back to PHP: no PHP code may run now.
pub fn bailed_out() -> bool {
    BAILED_OUT.with(Cell::get)
}

/// The executor state a bailout leaves behind: `_zend_bailout()` clears `EG(current_execute_data)`, and the frames
/// of the user code that failed are still pushed on the VM stack. Put back before the entry point returns to the
/// engine, so that the engine unwinds from our own call frame.
struct Executor {
    current_execute_data: usize,
    vm_stack_top: usize,
    vm_stack_end: usize,
    vm_stack: usize,
    fake_scope: usize,
    jit_trace_num: u32,
}

impl Executor {
    fn save() -> Executor {
        let eg = ExecutorGlobals::get();
        Executor {
            current_execute_data: eg.current_execute_data as usize,
            vm_stack_top: eg.vm_stack_top as usize,
            vm_stack_end: eg.vm_stack_end as usize,
            vm_stack: eg.vm_stack as usize,
            fake_scope: eg.fake_scope as usize,
            jit_trace_num: eg.jit_trace_num,
        }
    }

    fn restore(&self) {
        let mut eg = ExecutorGlobals::get_mut();
        eg.current_execute_data = self.current_execute_data as *mut _;
        eg.vm_stack_top = self.vm_stack_top as *mut _;
        eg.vm_stack_end = self.vm_stack_end as *mut _;
        eg.vm_stack = self.vm_stack as *mut _;
        eg.fake_scope = self.fake_scope as *mut _;
        eg.jit_trace_num = self.jit_trace_num;
    }
}

/// Runs `php` (a call into PHP code) inside a `zend_try`. A fatal error in it becomes [`Failure::Bailout`]; after
/// one, `php` is not run at all.
///
/// Whatever `php` captures leaks on a fatal error (the jump skips its frame): pass it references, keep owned
/// values outside.
pub fn call_php<R>(php: impl FnOnce() -> R) -> Outcome<R> {
    if bailed_out() {
        return Err(Failure::Bailout);
    }
    let saved = Executor::save();
    match try_catch(AssertUnwindSafe(php)) {
        Ok(result) => Ok(result),
        Err(CatchError::Bailout) => {
            saved.restore();
            BAILED_OUT.with(|b| b.set(true));
            Err(Failure::Bailout)
        }
        Err(other) => Err(Failure::new(
            Kind::InternalError,
            format!("a call into PHP failed: {other} (this is a bug in the pulsar extension; please report it)"),
        )),
    }
}

/// Hands a caught fatal error back to PHP; called by the entry point's guard once every Rust frame of the call has
/// returned. Does nothing if no fatal error was caught.
pub fn finish_fatal() {
    if !BAILED_OUT.with(|b| b.replace(false)) {
        return;
    }
    // An exception the failed code left pending would be reported as uncaught; the fatal error ends the request.
    drop(ExecutorGlobals::take_exception());
    // SAFETY: called on PHP's thread from an entry point, with the executor state put back to this call's frame by
    // `call_php` and no exception pending; the function only allocates the unwind_exit object and stores it in
    // EG(exception), which the engine handles when our handler returns.
    unsafe { zend_throw_unwind_exit() };
}

/// Compiles and runs one of our embedded PHP files ([`php_eval::execute`], which has its own `zend_try`); a fatal
/// error in it (e.g. in an autoloader that PHP asks for a parent class) is treated as in [`call_php`].
pub fn eval_php(source: &str) -> Outcome<Result<(), php_eval::PhpEvalError>> {
    if bailed_out() {
        return Err(Failure::Bailout);
    }
    let saved = Executor::save();
    match php_eval::execute(source) {
        Err(php_eval::PhpEvalError::Bailout) => {
            saved.restore();
            BAILED_OUT.with(|b| b.set(true));
            Err(Failure::Bailout)
        }
        other => Ok(other),
    }
}
