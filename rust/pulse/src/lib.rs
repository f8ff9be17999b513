//! The pulse engine: decides whom to admit, when to publish a pulse, and how to adapt to reported errors.
//!
//! A pure state machine in the style of `quinn-proto`: the caller feeds events with the current time
//! ([`Engine::handle`], [`Engine::handle_timeout`]), pulls the resulting actions ([`Engine::poll_action`]) and
//! sleeps until [`Engine::next_deadline`]. It must never read a clock, touch a socket, sleep or block: that is
//! what makes every rule testable with a fake clock, and what lets the same engine run inside `pulsard`, the C
//! ABI and the PHP extension.
//!
//! # Layout
//! - [`time`]: [`Nanos`], a monotonic instant/duration in nanoseconds (crosses the C ABI as `uint64_t`).
//! - [`config`]: [`PulseConfig`], the original's settings with their defaults, validated.
//! - [`adapt`]: the slow-down / pause / recovery rule, kept apart so another policy can sit beside it.
//! - [`engine`]: the slot engine itself (its module docs hold the rules).
//! - [`lobby`]: where strangers' admission requests wait, so that a flood of them cannot take the known
//!   workers' places in the engine's queue.
//! - [`pushers`]: push connections whose Ready awaits a result, so that a receiver that dies or hangs is
//!   reported to the engine.

pub mod adapt;
pub mod config;
pub mod engine;
pub mod lobby;
pub mod pushers;
pub mod time;

pub use adapt::{Adaptation, AdaptationState};
pub use config::{ConfigError, PulseConfig};
pub use engine::restart::Predecessor;
pub use engine::{Action, Engine, Event, IterationReport, PauseCause, Stats, Ticket, READY_LAG};
pub use lobby::{Lobby, Offer, Peered};
pub use pushers::{Lost, Pushers};
pub use time::Nanos;
