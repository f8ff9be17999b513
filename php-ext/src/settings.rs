//! From the user's DTOs to the core's settings: `PublisherPulsarDto` → [`PulsarConfig`], `PerformerDto` →
//! [`PerformerConfig`].
//!
//! The `PublisherPulsarDto` getters come from the core's settings table (`publisher_pulsar::config::SETTINGS`),
//! as they do for the FFI route (`pulsar_settings_json()`): a setting added to the table is read here with no
//! change. Null keeps the core's default (which is the original's). Ranges are checked by the core
//! (`validate()`), whose errors name the setting and are reworded with the setter's name. This module must never
//! check a range itself, nor bind or connect anything.

use std::time::Duration;

use ext_php_rs::types::{ZendObject, Zval};
use ext_php_rs::zend::{ExecutorGlobals, Function};
use publisher_pulsar::config::{Kind as SettingKind, Value, SETTINGS};
use publisher_pulsar::performer::PerformerConfig;
use publisher_pulsar::PulsarConfig;
use serde_json::Value as Json;

use crate::convert::{self, get};
use crate::failure::{Failure, Outcome};
use crate::pulse::PULSE_CLASS;

/// The DTO classes read here, from the class table (`php-ext/classes.json`).
pub use crate::classes::{
    PERFORMER_DTO, PERFORMER_SOCKETS_PARAMS_DTO, PUBLISHER_PULSAR_DTO, PULSAR_SOCKETS_PARAMS_DTO,
};

/// The daemon's settings and the logger object (null if none) of a `PublisherPulsarDto`, read through the core's
/// settings table: every row with a PHP getter is read (from the `PulsarSocketsParamsDto` for the addresses),
/// null keeps the default, and the value is converted to the row's type; ranges are the core's to check
/// (`Daemon::bind` validates).
pub fn pulsar_config(dto: &ZendObject) -> Outcome<(PulsarConfig, Zval)> {
    let mut c = PulsarConfig::default();
    let sockets = get(dto, "getPulsarSocketsParams")?;
    let sockets = if sockets.is_null() {
        None
    } else {
        Some(convert::expect_instance(
            &sockets,
            PULSAR_SOCKETS_PARAMS_DTO,
            "setPulsarSocketsParams()",
        )?)
    };
    for setting in SETTINGS {
        let Some(getter) = setting.php else {
            continue;
        };
        let owner = match (setting.nested, sockets) {
            (false, _) => dto,
            (true, Some(sockets)) => sockets,
            (true, None) => continue,
        };
        let value = get(owner, getter)?;
        if value.is_null() {
            continue;
        }
        let setter = setting.php_setter().unwrap_or_default();
        if setting.kind == SettingKind::PhpObject {
            convert::expect_instance(&value, PULSE_CLASS, &setter)?;
            setting.set(&mut c, Value::Bytes(serialize(&value)?))?;
            continue;
        }
        let json = to_json(&value, setting.kind, &setter)?;
        setting.set_json(&mut c, &json, setting.key)?;
    }
    let logger = get(dto, "getLogger")?;
    Ok((c, logger))
}

/// A DTO value as the JSON the core reads for a setting of `kind`, converted leniently where PHP is lenient.
fn to_json(value: &Zval, kind: SettingKind, setter: &str) -> Outcome<Json> {
    Ok(match kind {
        SettingKind::Count { .. } => {
            convert::integer(value, setter)?.map_or(Json::Null, Json::from)
        }
        SettingKind::Seconds { .. } => match convert::seconds(value, setter)? {
            None => Json::Null,
            Some(secs) => serde_json::Number::from_f64(secs)
                .map(Json::Number)
                .ok_or_else(|| {
                    Failure::setting(format!(
                        "{setter} needs a finite number of seconds, got {secs}"
                    ))
                })?,
        },
        SettingKind::TextList | SettingKind::Networks => match value.array() {
            Some(items) => {
                let mut list = Vec::new();
                for (_, item) in items.iter() {
                    list.push(Json::from(convert::text(item, setter)?.unwrap_or_default()));
                }
                Json::Array(list)
            }
            // One string holds the entries between commas, as the flag and the environment variable do.
            None => Json::Array(
                convert::text(value, setter)?
                    .unwrap_or_default()
                    .split(',')
                    .map(str::trim)
                    .filter(|item| !item.is_empty())
                    .map(Json::from)
                    .collect(),
            ),
        },
        _ => convert::text(value, setter)?.map_or(Json::Null, Json::from),
    })
}

/// The effective configuration of a `PublisherPulsarDto` as JSON (every key), checked by the core: what
/// `manage()` would run with. For tests and diagnostics (`React\PublisherPulsar\Internal\checkSettings()`).
pub fn checked_config_json(dto: &Zval) -> Outcome<String> {
    let dto = convert::expect_instance(dto, PUBLISHER_PULSAR_DTO, "checkSettings()")?;
    let (config, _) = pulsar_config(dto)?;
    config.validate()?;
    Ok(config.to_json().to_string())
}

/// The Performer's settings and the logger object (null if none) of a `PerformerDto` (or the defaults without
/// one), with the daemon's CURVE public key from its `PerformerSocketsParamsDto` (null: none).
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
            // New in the drop-in; null keeps the NULL mechanism. The key's form is the core's to check.
            c.curve_server_key = convert::text(
                &get(sockets, "getCurveServerKey")?,
                "PerformerSocketsParamsDto::setCurveServerKey()",
            )?;
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
