//! The Publisher Pulsar wire codec: PHP `serialize()` values and the protocol's typed messages.
//!
//! Every message on the five sockets is one PHP `serialize()`d object (see `docs/protocol.md`).
//! This crate reads and writes those bytes exactly as PHP 8.2 does, so unchanged PHP workers and our own
//! clients can share one daemon.
//!
//! It must never: do I/O, panic on any input, allocate without a bound derived from the input length and the
//! [`Limits`], or instantiate anything (objects are plain data: a class name and properties).
//!
//! # Layout
//! - [`value`]: the generic PHP value model, the strict parser ([`value::parse`]) and the writer
//!   ([`value::write`]).
//! - [`message`]: the protocol's DTOs as Rust types, each with `encode()` producing the original bytes and a
//!   tolerant-but-strict `decode()` (what PHP itself would accept from a peer, nothing that could surprise us).
//! - [`error`]: the crate's single error enum, with byte offsets.
//! - `float` (private): PHP's float-to-text conversions, digit for digit.
//!
//! See `README.md` for the limits, where we are stricter than PHP, the float rules and how to fuzz.

pub mod error;
mod float;
pub mod message;
pub mod value;

pub use error::WireError;
pub use message::*;
pub use value::{Key, Limits, Object, Property, Value, Visibility};
