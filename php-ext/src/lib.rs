//! `pulsar.so`: the original Publisher Pulsar PHP API (`React\PublisherPulsar\...`) over the Rust core.
//!
//! Existing code, e.g. the Laravel artisan commands of the original README, runs unchanged: the daemon runs
//! inside `Pulsar::manage()`, Performers use the core's client, and the bytes on the wire are the original's.
//!
//! This crate only converts arguments, calls the core (`publisher-pulsar`, `pulsar-wire`) and maps errors
//! (the bridging layer is not API). It must never take a decision about rates, encode a protocol
//! message by hand, build a PHP object from network bytes other than through [`pulse`], or call PHP from a
//! thread other than PHP's own.
//!
//! # How the classes are defined
//! - The plain DTOs (`Inventory\*`, the exception, the marker interfaces and `Abstracts\PushDto`) are **PHP
//!   source** (`php-ext/php/`, one PSR-4 file per class), embedded in the library and declared on first use
//!   by an autoloader the extension registers at every request start-up ([`prelude`]). Being ordinary PHP classes, they serialize() byte for byte like the original's
//!   (protected properties as `\0*\0name`, declaration order, defaults), users can extend them with their own
//!   public/protected/private properties, and `unserialize()` treats them like any user class. A Rust-backed
//!   class cannot give all of that: its fields live outside PHP's property table, so serialize() does not see
//!   them. The same files can serve a pure-PHP (FFI) package through composer's autoloader.
//! - The behaviour classes `Pulsar`, `Performer` and `ReplyStack` are Rust (`#[php_class]`) and read the DTOs
//!   through their getters.
//!
//! # Layout
//! - [`prelude`] — the embedded PHP classes and their autoloader.
//! - [`pulsar`] — `Pulsar` (daemon in-process) and `ReplyStack`.
//! - [`performer`] — `Performer`.
//! - [`settings`] — DTO → core settings.
//! - [`pulse`] — pulse bytes → PHP object, with the class checks.
//! - [`logging`] — core log records → the user's PSR-3 logger or STDOUT/STDERR.
//! - [`signals`] — SIGTERM/SIGINT during blocking calls.
//! - [`classes`] — the class names and the rules about them, from `php-ext/classes.json` (shared with FFI).
//! - [`boundary`] — the `zend_try` around every call into user PHP code; fatal errors handed back to PHP.
//! - [`convert`] — PHP values → Rust values.
//! - [`failure`] — errors → `PublisherPulsarException`, the panic guard.

pub mod boundary;
pub mod classes;
pub mod convert;
pub mod failure;
pub mod logging;
pub mod performer;
pub mod prelude;
pub mod pulsar;
pub mod pulse;
pub mod settings;
pub mod signals;

/// The module entry point, kept apart because `#[php_module]` generates exported items that carry no docs.
mod entry {
    #![allow(missing_docs)]

    use ext_php_rs::prelude::*;
    use ext_php_rs::types::Zval;
    use ext_php_rs::zend::ModuleEntry;
    use ext_php_rs::{info_table_end, info_table_row, info_table_start};

    /// Registers the autoloader of the embedded PHP classes at the start of every request.
    extern "C" fn on_request_start(_type: i32, _module_number: i32) -> i32 {
        // A panic must not cross into the engine; the prelude reports its own failures.
        let _ = std::panic::catch_unwind(crate::prelude::register);
        0
    }

    /// `React\\PublisherPulsar\\Internal\\autoload(string $class)`: the extension's autoloader for its
    /// embedded PHP classes (internal: registered automatically at every request start-up).
    #[php_function]
    #[php(name = "React\\PublisherPulsar\\Internal\\autoload")]
    pub fn autoload(class: &str) {
        crate::prelude::declare(class);
        // A fatal error while declaring goes back to PHP now that our frames have returned.
        crate::boundary::finish_fatal();
    }

    /// `React\\PublisherPulsar\\Internal\\settings(): string`: the daemon's settings table as JSON (the core's one
    /// definition, as libpulsar's `pulsar_settings_json()` gives it to the FFI route).
    #[php_function]
    #[php(name = "React\\PublisherPulsar\\Internal\\settings")]
    pub fn settings() -> String {
        publisher_pulsar::config::settings_json().to_string()
    }

    /// `React\\PublisherPulsar\\Internal\\checkSettings(PublisherPulsarDto $dto): string`: the configuration
    /// `manage()` would run with, as JSON, after the core's checks (throws `PublisherPulsarException` as
    /// `manage()` does). For tests and diagnostics.
    #[php_function]
    #[php(name = "React\\PublisherPulsar\\Internal\\checkSettings")]
    pub fn check_settings(dto: &Zval) -> PhpResult<String> {
        crate::failure::guard(|| crate::settings::checked_config_json(dto))
    }

    /// `php --ri pulsar` / `phpinfo()`.
    extern "C" fn module_info(_module: *mut ModuleEntry) {
        let (major, minor, patch) = zmq::version();
        let libzmq = format!("{major}.{minor}.{patch}");
        let build = format!(
            "{} build for {}, {}",
            env!("PULSAR_BUILD_PROFILE"),
            env!("PULSAR_BUILD_TARGET"),
            env!("PULSAR_BUILD_RUSTC")
        );
        info_table_start!();
        info_table_row!("pulsar support", "enabled");
        info_table_row!("version", env!("CARGO_PKG_VERSION"));
        info_table_row!("build", build.as_str());
        info_table_row!("libzmq", libzmq.as_str());
        info_table_row!(
            "classes",
            "React\\PublisherPulsar\\{Pulsar, Performer, ReplyStack} (Rust), Inventory\\* DTOs (embedded PHP)"
        );
        info_table_row!(
            "wire protocol",
            "original Publisher Pulsar (PHP serialize() over ZeroMQ)"
        );
        info_table_end!();
    }

    /// The module: classes, request start-up, info.
    #[php_module]
    pub fn get_module(module: ModuleBuilder) -> ModuleBuilder {
        module
            .name("pulsar")
            .version(env!("CARGO_PKG_VERSION"))
            .class::<crate::pulsar::Pulsar>()
            .class::<crate::pulsar::ReplyStack>()
            .class::<crate::performer::Performer>()
            .function(wrap_function!(autoload))
            .function(wrap_function!(settings))
            .function(wrap_function!(check_settings))
            .request_startup_function(on_request_start)
            .info_function(module_info)
    }
}
