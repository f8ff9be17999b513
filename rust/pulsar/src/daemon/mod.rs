//! The ZeroMQ driver around the pulse engine: what `pulsard` runs.
//!
//! It owns three sockets in one `zmq::Context` and moves bytes and time between them and
//! [`pulsar_pulse::Engine`]:
//! - **admission desk**, a ROUTER bound at `replyStackSocketAddress`. Performers' REQ sockets send
//!   `PreparingRequestDto` (`[identity, "", body]` here); each valid request becomes a [`pulsar_pulse::Ticket`] in the engine's
//!   FIFO queue, and the reply `BecomeTheSubscriberReplyDto` goes back when the engine admits or refuses it.
//!   `ROUTER_MANDATORY` makes a reply to a vanished worker fail, which the engine hears as a lost admission.
//!   The reply echoes the request's envelope (the routing id and at most one 4-byte request id before the
//!   empty delimiter), so REQ sockets with `REQ_CORRELATE` work too; deeper or larger envelopes are dropped.
//!   Strangers' requests wait in a lobby first (`pulsar_pulse::Lobby`). A peer that asks again while it waits (a relaxed
//!   REQ resending, or a DEALER) keeps its one place in the queue, and the reply goes with its latest request.
//!   A socket monitor on it reports closed connections; the desk knows which connection each worker used
//!   (`ZMQ_SRCFD`), so a worker that dies after its admission frees its slot at once, and a waiting one leaves the
//!   queue. A worker that asks again after its admission has moved on.
//! - **publisher**, an XPUB bound at `publishSocketAddress` with `XPUB_VERBOSER`, so that every subscribe and
//!   every unsubscribe (including the end of a subscriber's connection) reaches the engine, which counts exactly
//!   who the next pulse reaches. The pulse is one frame, no topic. (libzmq's manual mode, `XPUB_MANUAL`, would
//!   let a subscription take effect only once counted, but libzmq 4.3.4 can then apply a subscription to a
//!   connection that has already closed and freed its pipe, a use after free, fixed only in later releases.)
//! - **inbox**, a PULL bound at `pullSocketAddress`: `ReadyToGetSubscriptionMsg`, `ActionResultingPushDto` and
//!   `PerformerEarlyTerminated`, one frame each. Each push is read with its connection (`ZMQ_SRCFD`), and a
//!   socket monitor reports closed connections, so that a worker that dies or hangs holding a permission is
//!   reported to the engine ([`pulsar_pulse::Pushers`]).
//!
//! The original ran its admission desk ("ReplyStack") as a second process linked to the daemon through
//! `replyToReplyStackSocketAddress` (and declared, never used, `pushToReplyStackSocketAddress`). Here the desk
//! runs inside the daemon, so those two addresses are validated for compatibility but **not bound**; workers
//! see exactly the same three sockets as before.
//!
//! # Layout
//! - this file: [`Daemon`] (binding, the socket set-up), [`ShutdownHandle`], [`Endpoints`];
//! - `sockets`: each socket's limits (message sizes, queues, handshake time) and the monitors that count
//!   connections;
//! - `access`: the ZAP handler that checks every new connection (`allowFrom`, `maxConnections`);
//! - `driver`: the loop that moves time between the sockets and the engine, and carries out the engine's actions;
//! - `intake`: the driver's reading of the sockets (admission requests, subscriptions, pushes, monitors);
//! - `admission`: the desk's books (envelopes, tickets, who may be probed, who is known) and the ROUTER framing;
//! - `subscribers`: which connections count as subscribed, so that duplicates count once;
//! - `succession`: the record a daemon keeps for the next one on the same sockets (when it last pulsed);
//! - `wakeup`: when the loop wakes and which sockets it reads then (`ZMQ_FD` and one `ppoll`);
//! - `stats`: [`DaemonStats`], the engine's counters plus the driver's, and [`StatsHandle`];
//! - `report`: the log lines and the engine's view of a worker's result.
//!
//! It must never: decide anything the engine decides, sleep or block outside the loop's one wait, panic on anything a
//! peer sends, or instantiate PHP values (messages are decoded strictly into plain data by `pulsar_wire`).

mod access;
mod admission;
mod driver;
mod intake;
mod report;
mod sockets;
mod stats;
mod subscribers;
mod succession;
mod wakeup;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use pulsar_wire::{Limits, Pulse};
use tracing::{debug, info, warn};

use access::{Access, Policy, Refusals};
use driver::Driver;
use sockets::{bind, last_endpoint, new_socket, ConnectionGauge, Monitor, Role};
use wakeup::Source;

pub use access::{decode_curve_key, parse_allow_from};
pub use sockets::{
    ADMISSION_MAX_MESSAGE, CURVE_SUBSCRIPTION_MAX_MESSAGE, INBOX_MAX_MESSAGE, MAX_ENVELOPE_FRAMES,
    MAX_ENVELOPE_ID, SUBSCRIPTION_MAX_MESSAGE,
};
pub use stats::{
    DaemonStats, RejectedMessages, Rejection, StatsHandle, WaitHistogram, ADMISSION_WAIT_BUCKETS,
};

use crate::{PulsarConfig, PulsarError};

/// The `tracing` target of every daemon record, whichever submodule writes it: log filters, the C log queue
/// and the PHP logger bridge name it, so the module split must not change it.
pub const LOG_TARGET: &str = "publisher_pulsar::daemon";

/// Longest time the loop waits on its sockets, so that [`ShutdownHandle::shutdown`] takes effect promptly.
pub const SHUTDOWN_POLL_INTERVAL: Duration = Duration::from_millis(100);

/// Descriptors kept free below the process's limit for everything that is not a peer's connection (the
/// configuration file, the metrics listener and its clients, libzmq's own pipes and signalers).
pub const RESERVED_DESCRIPTORS: u64 = 64;

/// The addresses the daemon is reachable at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// The admission desk (ROUTER), as bound: performers' `requestPulsarRsSocketAddress`.
    pub reply_stack: String,
    /// The publisher (XPUB), as bound: performers' `publisherPulsarSocketAddress`.
    pub publish: String,
    /// The inbox (PULL), as bound: performers' `pushPulsarSocketAddress`.
    pub pull: String,
    /// `replyToReplyStackSocketAddress` as configured (not bound: the admission desk is internal).
    pub reply_to_reply_stack: String,
    /// `pushToReplyStackSocketAddress` as configured (not bound: unused, as in the original).
    pub push_to_reply_stack: String,
}

/// Asks a running daemon to stop. Cheap to clone and to share between threads (e.g. a signal handler).
#[derive(Debug, Clone, Default)]
pub struct ShutdownHandle {
    requested: Arc<AtomicBool>,
}

impl ShutdownHandle {
    /// A new handle, not yet triggered. Give it to [`run_until_shutdown`] or use [`Daemon::shutdown_handle`].
    pub fn new() -> ShutdownHandle {
        ShutdownHandle::default()
    }

    /// Makes [`Daemon::run`] return within about [`SHUTDOWN_POLL_INTERVAL`]. Idempotent.
    pub fn shutdown(&self) {
        self.requested.store(true, Ordering::SeqCst);
    }

    /// Whether [`ShutdownHandle::shutdown`] was called.
    pub fn is_shutdown(&self) -> bool {
        self.requested.load(Ordering::SeqCst)
    }
}

/// A bound daemon, ready to [`Daemon::run`]. Binding is the readiness signal: once [`Daemon::bind`] returns,
/// workers can connect (and those that connected earlier are being served as soon as it runs).
pub struct Daemon {
    config: PulsarConfig,
    pulse: Vec<u8>,
    admission: zmq::Socket,
    publisher: zmq::Socket,
    inbox: zmq::Socket,
    /// The three sockets' monitors (accepted and closed connections), admission first.
    monitors: Vec<Monitor>,
    /// Connections open on the three sockets (shared with the access handler).
    gauge: ConnectionGauge,
    endpoints: Endpoints,
    shutdown: ShutdownHandle,
    stats: StatsHandle,
    /// What the daemon that ran before left, and this one's own record for the next.
    succession: succession::Succession,
    /// Connections the access handler refused, for the loop to log on its thread.
    refusals: Refusals,
    /// `maxConnections` as applied (lowered to fit the descriptor limit).
    max_connections: u64,
    /// The access handler; dropped (its thread joined) before the context.
    _access: Access,
    // Sockets keep the context alive; held here as well so that it plainly outlives them.
    _context: zmq::Context,
}

impl std::fmt::Debug for Daemon {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Daemon")
            .field("module", &self.config.module_name)
            .field("endpoints", &self.endpoints)
            .finish_non_exhaustive()
    }
}

impl Daemon {
    /// Validates `config` and binds the three sockets. Errors name the bad setting or the address that could
    /// not be bound.
    pub fn bind(config: &PulsarConfig) -> Result<Daemon, PulsarError> {
        config.validate()?;
        let pulse = config.pulse_bytes();
        if let Ok(p) = Pulse::decode(&pulse, &Limits::default()) {
            if !p.allow_action() {
                warn!(target: LOG_TARGET, "the configured publisherToSubscribersDto has allowAction = false: every performer will refuse to act");
            }
        }
        let addresses = &config.pulsar_sockets_params;
        let context = zmq::Context::new();
        let curve = match &config.curve_secret_key {
            Some(key) => {
                if zmq::has("curve") != Some(true) {
                    return Err(PulsarError::InvalidSetting {
                        setting: "curveSecretKey".into(),
                        message: "this libzmq was built without CURVE support".into(),
                    });
                }
                Some(
                    decode_curve_key(key).map_err(|message| PulsarError::InvalidSetting {
                        setting: "curveSecretKey".into(),
                        message,
                    })?,
                )
            }
            None => None,
        };
        let max_connections = connection_limit(config.max_connections);
        let gauge = ConnectionGauge::default();
        let refusals = Refusals::default();
        // The access handler must listen before any socket accepts a connection.
        let access = Access::start(
            &context,
            Policy {
                allow_from: parse_allow_from(&config.allow_from).map_err(|message| {
                    PulsarError::InvalidSetting {
                        setting: "allowFrom".into(),
                        message,
                    }
                })?,
                max_connections,
            },
            gauge.clone(),
            refusals.clone(),
        )?;

        let admission = new_socket(&context, zmq::ROUTER, Role::Admission, curve.as_deref())?;
        admission
            .set_router_mandatory(true)
            .map_err(PulsarError::zmq("setting ROUTER_MANDATORY"))?;
        let mut publisher = new_socket(&context, zmq::XPUB, Role::Publisher, curve.as_deref())?;
        // Every subscribe and unsubscribe (including a connection's end) must reach the engine: it counts exactly
        // who the next pulse reaches.
        pulsar_sockopt::set_xpub_verboser(&mut publisher, true).map_err(PulsarError::zmq(
            "setting XPUB_VERBOSER (libzmq 4.2 or later is needed)",
        ))?;

        let inbox = new_socket(&context, zmq::PULL, Role::Inbox, curve.as_deref())?;
        // Monitors first, so that no connection goes uncounted.
        let monitors = vec![
            Monitor::start(&context, &admission, Role::Admission)?,
            Monitor::start(&context, &publisher, Role::Publisher)?,
            Monitor::start(&context, &inbox, Role::Inbox)?,
        ];
        bind(&admission, &addresses.reply_stack_socket_address)?;
        bind(&publisher, &addresses.publish_socket_address)?;
        bind(&inbox, &addresses.pull_socket_address)?;

        let endpoints = Endpoints {
            reply_stack: last_endpoint(&admission, &addresses.reply_stack_socket_address)?,
            publish: last_endpoint(&publisher, &addresses.publish_socket_address)?,
            pull: last_endpoint(&inbox, &addresses.pull_socket_address)?,
            reply_to_reply_stack: addresses.reply_to_reply_stack_socket_address.clone(),
            push_to_reply_stack: addresses.push_to_reply_stack_socket_address.clone(),
        };
        let state_path = config
            .state_file
            .as_ref()
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| succession::default_path(&endpoints.publish));
        let succession = succession::Succession::begin(state_path);
        if let Some(key) = &config.curve_secret_key {
            let public = pulsar_sockopt::curve_public_key(key).unwrap_or_default();
            info!(target: LOG_TARGET, server_public_key = %public, "CURVE is on: clients need this public key (original workers cannot connect)");
        }
        if let Some(command) = &config.reply_stack_command_name {
            debug!(target: LOG_TARGET, %command, "replyStackCommandName is ignored: the admission desk runs inside the daemon");
        }
        let stats = StatsHandle::default();
        stats.store(DaemonStats {
            engine: pulsar_pulse::Stats {
                n: config.subscribers_per_iteration,
                ..pulsar_pulse::Stats::default()
            },
            configured_n: config.subscribers_per_iteration,
            ..DaemonStats::default()
        });
        Ok(Daemon {
            config: config.clone(),
            pulse,
            admission,
            publisher,
            inbox,
            monitors,
            gauge,
            endpoints,
            shutdown: ShutdownHandle::new(),
            stats,
            succession,
            refusals,
            max_connections,
            _access: access,
            _context: context,
        })
    }

    /// The addresses actually bound (a `tcp://host:*` setting shows its chosen port here).
    pub fn endpoints(&self) -> Endpoints {
        self.endpoints.clone()
    }

    /// A handle that stops [`Daemon::run`] from any thread.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        self.shutdown.clone()
    }

    /// Replaces the shutdown handle with one the caller already holds (e.g. wired to signals before binding).
    pub fn with_shutdown_handle(mut self, shutdown: ShutdownHandle) -> Daemon {
        self.shutdown = shutdown;
        self
    }

    /// A handle to read the daemon's counters from any thread.
    pub fn stats_handle(&self) -> StatsHandle {
        self.stats.clone()
    }

    /// The settings in force.
    pub fn config(&self) -> &PulsarConfig {
        &self.config
    }

    /// The descriptors the loop waits on (`ZMQ_FD` of each socket and monitor), with what each signals.
    fn wakeup_fds(&self) -> Result<Vec<(std::os::fd::RawFd, Source)>, PulsarError> {
        let fd = |socket: &zmq::Socket| socket.get_fd().map_err(PulsarError::zmq("reading ZMQ_FD"));
        let mut fds = Vec::with_capacity(6);
        for monitor in &self.monitors {
            fds.push((fd(&monitor.socket)?, Source::Monitors));
        }
        fds.push((fd(&self.admission)?, Source::Admission));
        fds.push((fd(&self.inbox)?, Source::Inbox));
        fds.push((fd(&self.publisher)?, Source::Publisher));
        Ok(fds)
    }

    /// Runs the loop until the shutdown handle is triggered or `timerIterationsLimit` is reached. Workers
    /// still waiting for admission when it stops are refused (`allowToStartSubscription = false`), so none is
    /// left hanging. Errors only when ZeroMQ itself fails.
    pub fn run(mut self) -> Result<(), PulsarError> {
        let span = tracing::info_span!("pulsar", module = %self.config.module_name);
        let _entered = span.enter();
        let endpoints = self.endpoints.clone();
        let mut driver = Driver::new(&mut self);
        // Readers (the health check) see the loop as running from now on.
        driver.publish_stats();
        debug!(target: LOG_TARGET, ?endpoints, state_file = %driver.daemon.succession.path().display(), predecessor = ?driver.daemon.succession.predecessor(), "pulse loop started");
        let outcome = driver.run_loop();
        driver.daemon.succession.stopped();
        driver.refuse_waiting();
        driver.note_refusals(true);
        driver.stats.running = false;
        driver.publish_stats();
        debug!(target: LOG_TARGET, "pulse loop stopped");
        outcome
    }
}

/// Binds a daemon with `config`, wires `shutdown` to it and runs it until shut down (or until
/// `timerIterationsLimit`); returns the final counters.
pub fn run_until_shutdown(
    config: &PulsarConfig,
    shutdown: ShutdownHandle,
) -> Result<DaemonStats, PulsarError> {
    let daemon = Daemon::bind(config)?.with_shutdown_handle(shutdown);
    let stats = daemon.stats_handle();
    daemon.run()?;
    Ok(stats.snapshot())
}

/// `maxConnections`, lowered to fit the descriptors the process may open (raised to the hard limit first),
/// with a warning when lowered.
fn connection_limit(configured: u64) -> u64 {
    let Some(descriptors) = pulsar_sockopt::raise_open_files_limit() else {
        return configured;
    };
    let fits = descriptors.saturating_sub(RESERVED_DESCRIPTORS).max(1);
    if configured > fits {
        warn!(
            target: LOG_TARGET,
            configured,
            applied = fits,
            open_files_limit = descriptors,
            "maxConnections is above what the descriptor limit allows: lowered"
        );
        return fits;
    }
    configured
}
