//! Publisher Pulsar over ZeroMQ: the only crate of the core that does I/O.
//!
//! It wraps the pure [`pulsar_pulse`] engine and the pure [`pulsar_wire`] codec in the original five-socket
//! ZeroMQ layout: [`daemon`] is the coordinator (what `pulsard`, the C ABI and the PHP extension run), and
//! [`performer`] is the worker-side client. It must never put coordination rules here: decisions belong to the
//! engine, byte formats to the codec; this crate moves bytes and time between them.
//!
//! # Layout
//! - [`config`]: the daemon's settings, defined once in a table (`PublisherPulsarDto` names), from which JSON,
//!   flags, validation and the docs are derived.
//! - [`cli`]: `pulsard`'s command line (built from the settings table) and subcommands; the binary only calls it.
//! - [`daemon`]: the ZeroMQ driver around the engine, with a shutdown handle and live counters.
//! - [`performer`]: the Performer client (admission, subscription, pulse, result), with timeouts.
//! - [`error`]: the crate's error enum.
//! - [`metrics`]: Prometheus metrics and a health check over HTTP, from the daemon's counters.
//! - [`log_record`]: a `tracing` event flattened into the record every host hands to its users.
//! - [`human_log`]: control characters of peer-supplied text escaped in every human log format.

pub mod cli;
pub mod config;
pub mod daemon;
pub mod error;
pub mod human_log;
pub mod log_record;
pub mod metrics;
pub mod performer;

pub use config::PulsarConfig;
pub use error::PulsarError;
