//! The classes of the original API and the PHP rules about them, generated at build time from `php-ext/classes.json`,
//! the one table the FFI package reads too (`php-ext/ffi/Ffi/Classes.php`).
//!
//! Every class name the extension uses comes from here, except the `#[php(name = ...)]` attributes of the three
//! native classes, which must be literals: `tests/phpunit/ClassTableTest.php` checks those (and the FFI route)
//! against the table. This module must never hold a class name written by hand.

include!(concat!(env!("OUT_DIR"), "/classes.rs"));
