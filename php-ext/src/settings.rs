//! From the user's DTOs to the core's settings: `PublisherPulsarDto` → [`PulsarConfig`], `PerformerDto` →
//! [`PerformerConfig`].
//!
//! Every getter of the DTO is read; null keeps the core's default (which is the original's). Ranges are checked
//! by the core (`validate()`), whose errors name the setting and are reworded with the setter's name. This module
//! must never bind or connect anything.

use std::time::Duration;

use ext_php_rs::types::{ZendObject, Zval};
use ext_php_rs::zend::{ExecutorGlobals, Function};
use publisher_pulsar::performer::PerformerConfig;
use publisher_pulsar::PulsarConfig;

use crate::convert::{self, get};
use crate::failure::{Failure, Outcome};
use crate::pulse::PULSE_CLASS;

/// The DTO classes read here, from the class table (`php-ext/classes.json`).
pub use crate::classes::{
    PERFORMER_DTO, PERFORMER_SOCKETS_PARAMS_DTO, PUBLISHER_PULSAR_DTO, PULSAR_SOCKETS_PARAMS_DTO,
};

/// The daemon's settings and the logger object (null if none) of a `PublisherPulsarDto`.
pub fn pulsar_config(dto: &ZendObject) -> Outcome<(PulsarConfig, Zval)> {
    let mut c = PulsarConfig::default();
    if let Some(name) = convert::text(&get(dto, "getModuleName")?, "setModuleName()")? {
        c.module_name = name;
    }
    c.reply_stack_command_name = convert::text(
        &get(dto, "getReplyStackCommandName")?,
        "setReplyStackCommandName()",
    )?;
    let secs = |getter: &str, setter: &str| -> Outcome<Option<f64>> {
        convert::seconds(&get(dto, getter)?, setter)
    };
    if let Some(s) = secs(
        "getPulsationIterationPeriod",
        "setPulsationIterationPeriod()",
    )? {
        c.pulsation_iteration_period = s;
    }
    if let Some(s) = secs(
        "getPerformerContainerActionMaxExecutionTime",
        "setPerformerContainerActionMaxExecutionTime()",
    )? {
        c.performer_container_action_max_execution_time = s;
    }
    if let Some(s) = secs("getMaxWaitReplyStackResult", "setMaxWaitReplyStackResult()")? {
        c.max_wait_reply_stack_result = s;
    }
    if let Some(s) = secs(
        "getMaxWaitAllSubscribersReadyBeforePublish",
        "setMaxWaitAllSubscribersReadyBeforePublish()",
    )? {
        c.max_wait_all_subscribers_ready_before_publish = s;
    }
    let setter = "setSubscribersPerIteration()";
    if let Some(n) = convert::integer(&get(dto, "getSubscribersPerIteration")?, setter)? {
        c.subscribers_per_iteration = u32::try_from(n).map_err(|_| {
            Failure::setting(format!(
                "{setter} needs a whole number from 1 to 4294967295, got {n}"
            ))
        })?;
    }
    let setter = "setTimerIterationsLimit()";
    if let Some(n) = convert::integer(&get(dto, "getTimerIterationsLimit")?, setter)? {
        c.timer_iterations_limit = u64::try_from(n).map_err(|_| {
            Failure::setting(format!(
                "{setter} needs 0 (no limit) or a positive number, got {n}"
            ))
        })?;
    }
    let setter = "setMaxAdmissionQueue()";
    if let Some(n) = convert::integer(&get(dto, "getMaxAdmissionQueue")?, setter)? {
        c.max_admission_queue = u64::try_from(n)
            .map_err(|_| Failure::setting(format!("{setter} needs a positive number, got {n}")))?;
    }
    let published = get(dto, "getPublisherToSubscribersDto")?;
    if !published.is_null() {
        convert::expect_instance(&published, PULSE_CLASS, "setPublisherToSubscribersDto()")?;
        c.publisher_to_subscribers_dto = Some(serialize(&published)?);
    }
    let sockets = get(dto, "getPulsarSocketsParams")?;
    if !sockets.is_null() {
        let sockets = convert::expect_instance(
            &sockets,
            PULSAR_SOCKETS_PARAMS_DTO,
            "setPulsarSocketsParams()",
        )?;
        let p = &mut c.pulsar_sockets_params;
        for (address, name) in [
            (
                &mut p.reply_to_reply_stack_socket_address,
                "ReplyToReplyStackSocketAddress",
            ),
            (
                &mut p.push_to_reply_stack_socket_address,
                "PushToReplyStackSocketAddress",
            ),
            (&mut p.publish_socket_address, "PublishSocketAddress"),
            (&mut p.pull_socket_address, "PullSocketAddress"),
            (&mut p.reply_stack_socket_address, "ReplyStackSocketAddress"),
        ] {
            let setter = format!("PulsarSocketsParamsDto::set{name}()");
            if let Some(value) = convert::text(&get(sockets, &format!("get{name}"))?, &setter)? {
                *address = value;
            }
        }
    }
    let logger = get(dto, "getLogger")?;
    c.validate()?;
    Ok((c, logger))
}

/// The Performer's settings and the logger object (null if none) of a `PerformerDto` (or the defaults without
/// one).
pub fn performer_config(dto: Option<&ZendObject>) -> Outcome<(PerformerConfig, Zval)> {
    let mut c = PerformerConfig::default();
    let mut logger = Zval::null();
    if let Some(dto) = dto {
        if let Some(name) = convert::text(&get(dto, "getModuleName")?, "setModuleName()")? {
            c.module_name = name;
        }
        let sockets = get(dto, "getSocketsParams")?;
        if !sockets.is_null() {
            let sockets = convert::expect_instance(
                &sockets,
                PERFORMER_SOCKETS_PARAMS_DTO,
                "PerformerDto::setSocketsParams()",
            )?;
            for (address, name) in [
                (
                    &mut c.publisher_pulsar_address,
                    "PublisherPulsarSocketAddress",
                ),
                (&mut c.push_pulsar_address, "PushPulsarSocketAddress"),
                (
                    &mut c.request_pulsar_rs_address,
                    "RequestPulsarRsSocketAddress",
                ),
            ] {
                let setter = format!("PerformerSocketsParamsDto::set{name}()");
                if let Some(value) = convert::text(&get(sockets, &format!("get{name}"))?, &setter)?
                {
                    *address = value;
                }
            }
        }
        for (timeout, name) in [
            (&mut c.admission_timeout, "AdmissionTimeout"),
            (&mut c.pulse_timeout, "PulseTimeout"),
            (&mut c.send_timeout, "SendTimeout"),
        ] {
            let setter = format!("PerformerDto::set{name}()");
            if let Some(secs) = convert::seconds(&get(dto, &format!("get{name}"))?, &setter)? {
                *timeout = Duration::try_from_secs_f64(secs).map_err(|_| {
                    Failure::setting(format!(
                        "{setter} needs a positive number of seconds, got {secs}"
                    ))
                })?;
            }
        }
        logger = get(dto, "getLogger")?;
    }
    c.validate()?;
    Ok((c, logger))
}

/// PHP's `serialize($value)`, as bytes.
fn serialize(value: &Zval) -> Outcome<Vec<u8>> {
    let function = Function::try_from_function("serialize").ok_or_else(|| {
        Failure::setting(
            "PHP's serialize() is not available to encode setPublisherToSubscribersDto()",
        )
    })?;
    // The user's __sleep()/__serialize() runs here.
    let result = crate::boundary::call_php(|| function.try_call(vec![value]))?;
    if ExecutorGlobals::has_exception() {
        return Err(Failure::PhpPending);
    }
    match result {
        Ok(bytes) => match bytes.zend_str() {
            Some(s) => Ok(s.as_bytes().to_vec()),
            None => Err(Failure::setting(
                "serialize() of the setPublisherToSubscribersDto() object did not give a string",
            )),
        },
        Err(e) => Err(Failure::setting(format!(
            "cannot serialize() the setPublisherToSubscribersDto() object: {e}"
        ))),
    }
}
