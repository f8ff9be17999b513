//! The JSON form of the settings (`pulsard --config`, the C ABI, the PHP routes), read and written through the
//! table: every key optional, `null` meaning the default, an unknown key an error, the socket addresses nested
//! in `pulsarSocketsParams` or flat at the top level.
//!
//! This module must never check ranges (that is [`super::PulsarConfig::validate`], once) nor read files.

use serde::de::Error as _;
use serde_json::{Map, Value as Json};

use super::setting::{invalid, Setting};
use super::{PulsarConfig, SETTINGS};
use crate::PulsarError;

/// The key of the nested socket addresses.
pub const SOCKETS_KEY: &str = "pulsarSocketsParams";

fn json_error(message: String) -> PulsarError {
    PulsarError::ConfigJson(serde_json::Error::custom(message))
}

/// Reads a configuration object. Types are checked, ranges are not.
pub(super) fn read(json: &Json) -> Result<PulsarConfig, PulsarError> {
    let Json::Object(top) = json else {
        return Err(json_error(format!(
            "a configuration is a JSON object, not {}",
            kind_of(json)
        )));
    };
    let mut config = PulsarConfig::default();
    let nested = match top.get(SOCKETS_KEY) {
        None | Some(Json::Null) => Map::new(),
        Some(Json::Object(map)) => map.clone(),
        Some(other) => {
            return Err(invalid(
                SOCKETS_KEY,
                format!("must be an object of addresses (got {other})"),
            ))
        }
    };
    for (key, value) in &nested {
        let setting = SETTINGS
            .iter()
            .find(|s| s.nested && s.key == key)
            .ok_or_else(|| json_error(format!("unknown key {key:?} in {SOCKETS_KEY}")))?;
        setting.set_json(&mut config, value, &format!("{SOCKETS_KEY}.{key}"))?;
    }
    for (key, value) in top {
        if key == SOCKETS_KEY {
            continue;
        }
        let setting = SETTINGS
            .iter()
            .find(|s| s.key == key)
            .ok_or_else(|| json_error(format!("unknown setting {key:?}")))?;
        if setting.nested {
            read_flat_address(&mut config, setting, value, nested.get(key.as_str()))?;
        } else {
            setting.set_json(&mut config, value, key)?;
        }
    }
    Ok(config)
}

/// A nested setting written at the top level: the same value in both places is fine, different ones are not.
fn read_flat_address(
    config: &mut PulsarConfig,
    setting: &Setting,
    flat: &Json,
    nested: Option<&Json>,
) -> Result<(), PulsarError> {
    match nested.filter(|n| !n.is_null()) {
        Some(nested) if !flat.is_null() => {
            let flat_value = setting
                .kind
                .from_json(flat)
                .map_err(|m| setting.invalid(m))?;
            if setting.value(config) != flat_value {
                return Err(setting.invalid(format!(
                    "given twice with different values: {flat} at the top level, {nested} in {SOCKETS_KEY}"
                )));
            }
            Ok(())
        }
        Some(_) => Ok(()),
        None => setting.set_json(config, flat, setting.key),
    }
}

/// The configuration as JSON, in the form [`read`] takes: every key, the addresses nested.
pub(super) fn write(config: &PulsarConfig) -> Json {
    let mut top = Map::new();
    let mut nested = Map::new();
    for setting in SETTINGS {
        let target = if setting.nested {
            &mut nested
        } else {
            &mut top
        };
        target.insert(setting.key.to_owned(), setting.value(config).to_json());
    }
    top.insert(SOCKETS_KEY.to_owned(), Json::Object(nested));
    Json::Object(top)
}

fn kind_of(json: &Json) -> &'static str {
    match json {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}
