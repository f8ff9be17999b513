//! `React\PublisherPulsar\Performer`: the worker side, over the core's Performer client.
//!
//! The `PerformerDto` is read at the first `connectToPulsarAndWaitPermissionToAct()` and again after each
//! `setPerformerDto()`, `setSocketsParams()` or `initDefaultPerformerSocketsParams()` (the seeds' code changes
//! settings only before the first call, or through those methods); between them a cycle reads nothing from PHP.
//! The core client is kept between calls and replaced only when the settings changed. Results are read through
//! the `ActionResultingPushDto` getters and sent by the core, byte for byte as the original would.
//!
//! It must never build a PHP object from network bytes except through [`crate::pulse::instantiate`].

// Method parameters carry their PHP names (camelCase): named arguments and reflection show them.
#![allow(non_snake_case)]

use ext_php_rs::convert::IntoZval;
use ext_php_rs::prelude::*;
use ext_php_rs::types::Zval;
use publisher_pulsar::performer::{ActionResult, Performer as Client, PerformerConfig};
use tracing::Level;

use crate::boundary;
use crate::convert::{self, call, get};
use crate::failure::{guard, Failure, Kind, Outcome};
use crate::logging::{self, Sink, Target};
use crate::pulse;
use crate::settings::{self, PERFORMER_DTO, PERFORMER_SOCKETS_PARAMS_DTO};

use crate::classes::{ACTION_RESULTING_PUSH_DTO, ERROR_SLEEP_FOR_PERIOD};

/// A worker's link to the Pulsar: wait for permission, act, report.
#[php_class]
#[php(name = "React\\PublisherPulsar\\Performer")]
pub struct Performer {
    dto: Option<Zval>,
    /// The settings read from `dto` and the log sink; `None` until first needed and after a setter.
    prepared: Option<Prepared>,
    client: Option<(PerformerConfig, Client)>,
    received: Option<Zval>,
}

/// What one read of the `PerformerDto` gives.
struct Prepared {
    config: PerformerConfig,
    /// Taken out while a core call runs (it then sits on the logging module's stack), put back after.
    sink: Option<Sink>,
}

#[php_impl]
impl Performer {
    /// `new Performer()` or, as in the article, `new Performer($performerDto)`.
    #[php(optional = performerDto)]
    pub fn __construct(performerDto: Option<&Zval>) -> PhpResult<Self> {
        guard(|| {
            let mut performer = Performer {
                dto: None,
                prepared: None,
                client: None,
                received: None,
            };
            if let Some(dto) = performerDto.filter(|dto| !dto.is_null()) {
                performer.dto = Some(checked_dto(dto)?);
            }
            Ok(performer)
        })
    }

    /// Sets the Performer's settings (read at each `connectToPulsarAndWaitPermissionToAct()`).
    pub fn set_performer_dto(&mut self, performerDto: &Zval) -> PhpResult<()> {
        guard(|| {
            let old = self.dto.replace(checked_dto(performerDto)?);
            self.prepared = None;
            // The old DTO's __destruct, if this was its last reference.
            boundary::call_php(move || drop(old))
        })
    }

    /// The `PerformerDto` in use, or null.
    pub fn get_performer_dto(&self) -> Option<Zval> {
        self.dto.as_ref().map(Zval::shallow_clone)
    }

    /// Puts the default addresses (tcp://127.0.0.1:6273, :6274, :6275) into the `PerformerDto` (creating one
    /// if there is none yet).
    pub fn init_default_performer_socketsParams(&mut self) -> PhpResult<()> {
        guard(|| {
            let params = new_object(PERFORMER_SOCKETS_PARAMS_DTO)?;
            let object = params
                .object()
                .ok_or_else(|| not_created(PERFORMER_SOCKETS_PARAMS_DTO))?;
            let defaults = PerformerConfig::default();
            call(
                object,
                "setPublisherPulsarSocketAddress",
                vec![&defaults.publisher_pulsar_address],
            )?;
            call(
                object,
                "setPushPulsarSocketAddress",
                vec![&defaults.push_pulsar_address],
            )?;
            call(
                object,
                "setRequestPulsarRsSocketAddress",
                vec![&defaults.request_pulsar_rs_address],
            )?;
            self.put_socketsParams(&params)
        })
    }

    /// Sets the three Pulsar addresses (stored in the `PerformerDto`, created if there is none yet).
    pub fn set_sockets_params(&mut self, socketsParams: &Zval) -> PhpResult<()> {
        guard(|| {
            convert::expect_instance(
                socketsParams,
                PERFORMER_SOCKETS_PARAMS_DTO,
                "setSocketsParams()",
            )?;
            self.put_socketsParams(socketsParams)
        })
    }

    /// Asks the Pulsar for admission and waits for the pulse that allows acting now. Each permission must be
    /// reported once with `pushActionResultInfo()`, `pushActionResultInfoWithoutPulsarCorrectionBehavior()` or
    /// `pushPerformerEarlyTerminated()`.
    pub fn connect_to_pulsar_and_wait_permission_to_act(&mut self) -> PhpResult<()> {
        guard(|| {
            self.release_received()?;
            self.connect()?;
            let pulse = self.run_logged(|client| client.wait_permission())??;
            match pulse::instantiate(&pulse) {
                Ok(object) => {
                    self.received = Some(object);
                    Ok(())
                }
                Err(failure) => {
                    // We hold a permission we cannot use: give it back so the daemon does not wait for us.
                    let _ = self.run_logged(|client| client.report_early_termination(true));
                    Err(failure)
                }
            }
        })
    }

    /// The object of the last pulse (a `PublisherToSubscribersDto` or the daemon's subclass), or null.
    pub fn get_publisher_to_subscribers_dto(&self) -> Option<Zval> {
        self.received.as_ref().map(Zval::shallow_clone)
    }

    /// Reports the result of the permitted action; an error in it may make the Pulsar slow down or pause.
    pub fn push_action_result_info(&mut self, actionResultingPushDto: &Zval) -> PhpResult<()> {
        guard(|| {
            let result = action_result(actionResultingPushDto)?;
            self.with_client(|client| client.report(&result))
        })
    }

    /// Reports that the permitted action went fine.
    pub fn push_action_result_info_without_pulsar_correction_behavior(&mut self) -> PhpResult<()> {
        guard(|| self.with_client(|client| client.report_success()))
    }

    /// Tells the Pulsar this worker ends early. With `$standOnSubscription` true (the default) it gives back a
    /// permission received but not used, so the Pulsar does not wait for its result.
    #[php(defaults(standOnSubscription = true))]
    pub fn push_performer_early_terminated(&mut self, standOnSubscription: bool) -> PhpResult<()> {
        guard(|| self.with_client(|client| client.report_early_termination(standOnSubscription)))
    }
}

impl Performer {
    /// Drops the last pulse object; the user's `__destruct` of it runs at the `zend_try` boundary.
    fn release_received(&mut self) -> Outcome<()> {
        if let Some(old) = self.received.take() {
            boundary::call_php(move || drop(old))?;
        }
        Ok(())
    }

    /// Reads the settings if needed and makes sure a core client with them exists.
    fn connect(&mut self) -> Outcome<()> {
        if self.prepared.is_none() {
            let dto = self.dto.as_ref().and_then(Zval::object);
            let (config, logger) = settings::performer_config(dto)?;
            let sink = Sink::new(
                &logger,
                Target::Stderr,
                if logger.is_null() {
                    Level::WARN
                } else {
                    Level::INFO
                },
                config.module_name.clone(),
                "PerformerDto::setLogger()",
            )?;
            self.prepared = Some(Prepared {
                config,
                sink: Some(sink),
            });
        }
        let config = self
            .prepared
            .as_ref()
            .expect("prepared just above")
            .config
            .clone();
        if !matches!(&self.client, Some((c, _)) if *c == config) {
            // Dropping the old client gives back a permission it may hold.
            self.client = None;
            let client = self.logged(|| Client::connect(config.clone()))??;
            self.client = Some((config, client));
        }
        Ok(())
    }

    /// Runs a call on the connected client with logging; without a client (no permission was ever asked for)
    /// the call is out of order.
    fn run_logged<R>(&mut self, call: impl FnOnce(&mut Client) -> R) -> Outcome<R> {
        let Some((config, mut client)) = self.client.take() else {
            return Err(Failure::new(
                Kind::OutOfOrder,
                "no permission is held: call connectToPulsarAndWaitPermissionToAct() first",
            ));
        };
        let outcome = self.logged(|| call(&mut client));
        self.client = Some((config, client));
        outcome
    }

    /// Runs core code with its log records going to the prepared sink (the logger, or warnings to STDERR).
    fn logged<R>(&mut self, body: impl FnOnce() -> R) -> Outcome<R> {
        let sink = match self.prepared.as_mut().and_then(|p| p.sink.take()) {
            Some(sink) => sink,
            None => Sink::new(&Zval::null(), Target::Stderr, Level::WARN, "performer", "")?,
        };
        let (result, mut sink) = logging::with_sink(sink, body);
        let interruption = sink.take_interruption();
        if let Some(prepared) = self.prepared.as_mut() {
            prepared.sink = Some(sink);
        }
        if let Some(interruption) = interruption {
            return Err(logging::resume(interruption));
        }
        Ok(result)
    }

    /// Runs a report on the connected client.
    fn with_client(
        &mut self,
        report: impl FnOnce(&mut Client) -> Result<(), publisher_pulsar::PulsarError>,
    ) -> Outcome<()> {
        self.run_logged(report)??;
        Ok(())
    }

    fn put_socketsParams(&mut self, params: &Zval) -> Outcome<()> {
        if self.dto.is_none() {
            self.dto = Some(new_object(PERFORMER_DTO)?);
        }
        self.prepared = None;
        let dto = self
            .dto
            .as_ref()
            .and_then(Zval::object)
            .ok_or_else(|| not_created(PERFORMER_DTO))?;
        call(dto, "setSocketsParams", vec![params])?;
        Ok(())
    }
}

fn checked_dto(dto: &Zval) -> Outcome<Zval> {
    convert::expect_instance(dto, PERFORMER_DTO, "The PerformerDto")?;
    Ok(dto.shallow_clone())
}

/// `new $class()` for our own DTO classes (they have no constructor).
fn new_object(class: &str) -> Outcome<Zval> {
    let entry = convert::find_class(class)?.ok_or_else(|| not_created(class))?;
    entry
        .new()
        .into_zval(false)
        .map_err(|e| Failure::new(Kind::InternalError, format!("cannot create {class}: {e}")))
}

fn not_created(class: &str) -> Failure {
    Failure::new(
        Kind::InternalError,
        format!("{class} is not declared (the extension's prelude did not run)"),
    )
}

/// An `ActionResultingPushDto` read through its getters.
fn action_result(dto: &Zval) -> Outcome<ActionResult> {
    let object =
        convert::expect_instance(dto, ACTION_RESULTING_PUSH_DTO, "pushActionResultInfo()")?;
    let sleep = get(object, "getSleepForPeriod")?;
    let sleep_for_period = if sleep.is_null() {
        None
    } else {
        let sleep = convert::expect_instance(
            &sleep,
            ERROR_SLEEP_FOR_PERIOD,
            "ActionResultingPushDto::setSleepForPeriod()",
        )?;
        let setter = "ErrorSleepForPeriod::setSleepPeriod()";
        match convert::integer(&get(sleep, "getSleepPeriod")?, setter)? {
            None => None,
            Some(micros) => Some(u64::try_from(micros).map_err(|_| {
                Failure::setting(format!(
                    "{setter} needs a non-negative number of microseconds, got {micros}"
                ))
            })?),
        }
    };
    Ok(ActionResult {
        action_complete_correctly: convert::flag(&get(object, "isActionCompleteCorrectly")?),
        error_message: convert::bytes(
            &get(object, "getErrorMessage")?,
            "ActionResultingPushDto::setErrorMessage()",
        )?,
        error_reason: convert::bytes(
            &get(object, "getErrorReason")?,
            "ActionResultingPushDto::setErrorReason()",
        )?,
        sleep_for_period,
        slow_down: convert::flag(&get(object, "isSlowDown")?),
    })
}
