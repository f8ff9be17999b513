//! `React\PublisherPulsar\Pulsar` (the daemon, run inside the calling PHP process) and
//! `React\PublisherPulsar\ReplyStack` (the original's admission process, no longer needed).
//!
//! `Pulsar::manage()` binds and runs the core daemon on the PHP thread, blocking as the original did, until
//! SIGTERM/SIGINT or `timerIterationsLimit`. Its log records go to the DTO's logger on this same thread, or to
//! STDOUT. It must never run PHP code on another thread, nor keep signal handlers installed after it returns.

// Method parameters carry their PHP names (camelCase): named arguments and reflection show them.
#![allow(non_snake_case)]

use std::time::Duration;

use ext_php_rs::prelude::*;
use ext_php_rs::types::Zval;
use publisher_pulsar::daemon::{Daemon, ShutdownHandle};
use tracing::Level;

use crate::convert;
use crate::failure::{guard, Failure, Kind, Outcome};
use crate::logging::{self, Sink, Target};
use crate::settings::{self, PUBLISHER_PULSAR_DTO};
use crate::signals::{self, SignalGuard};

/// The daemon: `setPublisherPulsarDto($dto)`, then `manage()`.
#[php_class]
#[php(name = "React\\PublisherPulsar\\Pulsar")]
pub struct Pulsar {
    dto: Option<Zval>,
}

#[php_impl]
impl Pulsar {
    /// A Pulsar without settings yet.
    pub fn __construct() -> Self {
        Pulsar { dto: None }
    }

    /// Sets the daemon's settings (read when `manage()` starts).
    pub fn set_publisher_pulsar_dto(&mut self, publisherPulsarDto: &Zval) -> PhpResult<()> {
        guard(|| {
            convert::expect_instance(
                publisherPulsarDto,
                PUBLISHER_PULSAR_DTO,
                "setPublisherPulsarDto()",
            )?;
            let old = self.dto.replace(publisherPulsarDto.shallow_clone());
            // The old DTO's __destruct, if this was its last reference.
            crate::boundary::call_php(move || drop(old))
        })
    }

    /// The settings given to `setPublisherPulsarDto()`, or null.
    pub fn get_publisher_pulsar_dto(&self) -> Option<Zval> {
        self.dto.as_ref().map(Zval::shallow_clone)
    }

    /// Runs the daemon in this process until SIGTERM/SIGINT (or `timerIterationsLimit` iterations), then
    /// returns. Throws `PublisherPulsarException` when a setting is invalid or an address cannot be bound.
    pub fn manage(&mut self) -> PhpResult<()> {
        guard(|| {
            let dto =
                self.dto.as_ref().and_then(Zval::object).ok_or_else(|| {
                    Failure::setting("call setPublisherPulsarDto() before manage()")
                })?;
            let (config, logger) = settings::pulsar_config(dto)?;
            let sink = Sink::new(
                &logger,
                Target::Stdout,
                Level::INFO,
                config.module_name.clone(),
                "PublisherPulsarDto::setLogger()",
            )?;
            let (outcome, mut sink) = logging::with_sink(sink, || -> Outcome<()> {
                let daemon = Daemon::bind(&config)?;
                logging::stop_on_logger_failure(daemon.shutdown_handle());
                let _signals = SignalGuard::install(daemon.shutdown_handle()).map_err(|e| {
                    Failure::new(
                        Kind::InternalError,
                        format!("cannot install the SIGTERM/SIGINT handlers: {e}"),
                    )
                })?;
                let endpoints = daemon.endpoints();
                tracing::info!(
                    publish = %endpoints.publish,
                    pull = %endpoints.pull,
                    admission = %endpoints.reply_stack,
                    subscribers_per_iteration = config.subscribers_per_iteration,
                    pulsation_iteration_period = config.pulsation_iteration_period,
                    "Pulsar started"
                );
                let run = daemon.run();
                match SignalGuard::received() {
                    Some(signal) => {
                        tracing::info!("Pulsar stopped by {}", signals::name(signal))
                    }
                    None => tracing::info!("Pulsar stopped"),
                }
                Ok(run?)
            });
            if let Some(interruption) = sink.take_interruption() {
                return Err(logging::resume(interruption));
            }
            outcome
        })
    }
}

/// The original's admission process. The admission desk now runs inside `Pulsar::manage()`, so
/// `startCommunication()` only keeps an existing command (artisan, supervisor) alive and quiet.
#[php_class]
#[php(name = "React\\PublisherPulsar\\ReplyStack")]
pub struct ReplyStack;

#[php_impl]
impl ReplyStack {
    /// A ReplyStack.
    pub fn __construct() -> Self {
        ReplyStack
    }

    /// Logs once that it is not needed any more, then blocks until SIGTERM or SIGINT, like the original
    /// process did, so that supervisors and artisan commands that start it keep working unchanged.
    pub fn start_communication(&mut self) -> PhpResult<()> {
        guard(|| {
            let mut sink = Sink::new(
                &Zval::null(),
                Target::Stdout,
                Level::INFO,
                "react:pulsar-reply-stack",
                "",
            )?;
            sink.log(
                Level::INFO,
                "ReplyStack is not needed any more: the admission desk runs inside Pulsar::manage(). \
                 Waiting for SIGTERM or SIGINT.",
            );
            let stop = ShutdownHandle::new();
            let _signals = SignalGuard::install(stop.clone()).map_err(|e| {
                Failure::new(
                    Kind::InternalError,
                    format!("cannot install the SIGTERM/SIGINT handlers: {e}"),
                )
            })?;
            while !stop.is_shutdown() {
                std::thread::sleep(Duration::from_millis(100));
            }
            Ok(())
        })
    }
}
