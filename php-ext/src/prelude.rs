//! The plain PHP classes of the original API, embedded in the extension and declared on first use.
//!
//! The sources are `php-ext/php/**.php`, one class per file in PSR-4 layout under `React\PublisherPulsar\`, so
//! that a pure-PHP package can autoload the very same files. At each request start-up the extension registers
//! one autoloader, `React\PublisherPulsar\Internal\autoload()`; when PHP first needs one of these classes, it
//! compiles that file with ext-php-rs's `php_eval` (`zend_compile_string` + `zend_execute`), and PHP's own
//! autoloading of parents and interfaces does the rest. A request that never touches Publisher Pulsar pays nothing
//! but the registration.
//!
//! Why per request and not once at module start-up: PHP frees user classes (and the memory their compiled code
//! lives in) at the end of every request; only internal classes survive.
//!
//! This module must never declare anything but the files listed in [`CLASSES`].

use ext_php_rs::zend::{ExecutorGlobals, Function};

use crate::boundary;

/// Every embedded class with its source: the table's PHP-source classes ([`crate::classes::EMBEDDED`]).
pub const CLASSES: [(&str, &str); crate::classes::EMBEDDED.len()] = crate::classes::EMBEDDED;

/// The autoloader's name as PHP knows it.
pub const AUTOLOADER: &str = "React\\PublisherPulsar\\Internal\\autoload";

/// Registers [`AUTOLOADER`] with `spl_autoload_register()` (at request start-up).
pub fn register() {
    let registered = Function::try_from_function("spl_autoload_register")
        .map(|function| function.try_call(vec![&AUTOLOADER]));
    if !matches!(registered, Some(Ok(_))) || ExecutorGlobals::has_exception() {
        eprintln!("pulsar: cannot register the autoloader of the React\\PublisherPulsar classes");
        drop(ExecutorGlobals::take_exception());
    }
}

/// Declares `class` if it is one of ours; called by PHP's autoloading with the name as written by the user.
pub fn declare(class: &str) {
    let class = class.trim_start_matches('\\');
    let Some((name, source)) = CLASSES
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(class))
    else {
        return;
    };
    match boundary::eval_php(source) {
        Ok(Ok(())) => {}
        // Only a bug in an embedded file gets here (the suite compiles every one); the user then sees PHP's own
        // "class not found" for it.
        Ok(Err(e)) => eprintln!("pulsar: cannot declare {name}: {e}"),
        // A fatal error in an autoloader PHP asked for a parent: handed back by the autoload entry point.
        Err(_) => {}
    }
}
