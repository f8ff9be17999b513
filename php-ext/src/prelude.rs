//! The plain PHP classes of the original API, embedded in the extension and declared at each request start-up.
//!
//! The sources are `php-ext/php/**.php`, one class per file in PSR-4 layout under `React\PublisherPulsar\`, so
//! that a pure-PHP package can autoload the very same files. They are compiled with ext-php-rs's `php_eval`
//! (`zend_compile_string` + `zend_execute`) in dependency order: interfaces and parents first. A class that
//! already exists (e.g. declared by an opcache preload script) is left alone rather than declared twice.
//!
//! Why at request start-up and not once at module start-up: PHP frees user classes (and the memory their
//! compiled code lives in) at the end of every request; only internal classes survive. The cost is compiling
//! about 400 lines per request.
//!
//! This module must never declare anything but the files listed in [`CLASSES`].

use ext_php_rs::php_eval;
use ext_php_rs::zend::ExecutorGlobals;

/// Every embedded class, parents before children, with its source.
pub const CLASSES: [(&str, &str); 15] = [
    (
        "React\\PublisherPulsar\\Interfaces\\PulsarControlDto",
        include_str!("../php/Interfaces/PulsarControlDto.php"),
    ),
    (
        "React\\PublisherPulsar\\Interfaces\\ReplyStackControlDto",
        include_str!("../php/Interfaces/ReplyStackControlDto.php"),
    ),
    (
        "React\\PublisherPulsar\\Abstracts\\PushDto",
        include_str!("../php/Abstracts/PushDto.php"),
    ),
    (
        "React\\PublisherPulsar\\Inventory\\Exceptions\\PublisherPulsarException",
        include_str!("../php/Inventory/Exceptions/PublisherPulsarException.php"),
    ),
    (
        "React\\PublisherPulsar\\Inventory\\PreparingRequestDto",
        include_str!("../php/Inventory/PreparingRequestDto.php"),
    ),
    (
        "React\\PublisherPulsar\\Inventory\\BecomeTheSubscriberReplyDto",
        include_str!("../php/Inventory/BecomeTheSubscriberReplyDto.php"),
    ),
    (
        "React\\PublisherPulsar\\Inventory\\PublisherToSubscribersDto",
        include_str!("../php/Inventory/PublisherToSubscribersDto.php"),
    ),
    (
        "React\\PublisherPulsar\\Inventory\\ReadyToGetSubscriptionMsg",
        include_str!("../php/Inventory/ReadyToGetSubscriptionMsg.php"),
    ),
    (
        "React\\PublisherPulsar\\Inventory\\ErrorSleepForPeriod",
        include_str!("../php/Inventory/ErrorSleepForPeriod.php"),
    ),
    (
        "React\\PublisherPulsar\\Inventory\\ActionResultingPushDto",
        include_str!("../php/Inventory/ActionResultingPushDto.php"),
    ),
    (
        "React\\PublisherPulsar\\Inventory\\PerformerEarlyTerminated",
        include_str!("../php/Inventory/PerformerEarlyTerminated.php"),
    ),
    (
        "React\\PublisherPulsar\\Inventory\\PulsarSocketsParamsDto",
        include_str!("../php/Inventory/PulsarSocketsParamsDto.php"),
    ),
    (
        "React\\PublisherPulsar\\Inventory\\PublisherPulsarDto",
        include_str!("../php/Inventory/PublisherPulsarDto.php"),
    ),
    (
        "React\\PublisherPulsar\\Inventory\\PerformerSocketsParamsDto",
        include_str!("../php/Inventory/PerformerSocketsParamsDto.php"),
    ),
    (
        "React\\PublisherPulsar\\Inventory\\PerformerDto",
        include_str!("../php/Inventory/PerformerDto.php"),
    ),
];

/// Declares every class of [`CLASSES`] that does not exist yet. Failures (a bug in an embedded file) are written
/// to STDERR: the request goes on, and using a missing class fails with PHP's own "class not found".
pub fn declare() {
    for (class, source) in CLASSES {
        if exists(class) {
            continue;
        }
        if let Err(e) = php_eval::execute(source) {
            eprintln!("pulsar: cannot declare {class}: {e}");
            // Leave no half-thrown exception behind for the user's script.
            drop(ExecutorGlobals::take_exception());
        }
    }
}

/// Whether `class` is declared, without asking autoloaders (none are registered at request start-up anyway).
fn exists(class: &str) -> bool {
    let lower = class.to_ascii_lowercase();
    ExecutorGlobals::get()
        .class_table()
        .is_some_and(|table| table.get(lower.as_str()).is_some())
}
