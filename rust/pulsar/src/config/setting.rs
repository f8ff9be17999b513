//! One row of the settings table: everything the front-ends need to know about a setting, and the typed
//! accessors that read and write its [`PulsarConfig`] field.
//!
//! This module must never know a particular setting: it works for any row of [`super::SETTINGS`].

use serde_json::Value as Json;

use super::kind::{Kind, Value};
use super::PulsarConfig;
use crate::PulsarError;

/// One setting of the daemon. Rows are written in `config/table.rs`, the only place that lists settings.
#[derive(Debug)]
pub struct Setting {
    /// The original camelCase JSON key (`subscribersPerIteration`), also the name in every error message.
    pub key: &'static str,
    /// Whether it belongs to `pulsarSocketsParams` (`PulsarSocketsParamsDto`); such keys are read nested or flat.
    pub nested: bool,
    /// The `pulsard` flag without its dashes (`subscribers-per-iteration`); `None`: JSON only.
    pub flag: Option<&'static str>,
    /// A second spelling of the flag, kept for compatibility.
    pub flag_alias: Option<&'static str>,
    /// The environment variable `pulsard` reads (`PULSARD_...`); `None`: none.
    pub env: Option<&'static str>,
    /// The getter of `PublisherPulsarDto` (or of `PulsarSocketsParamsDto` when `nested`) that the PHP routes
    /// read: the original's getters and the drop-in's additions; `None` for settings only `pulsard` serves.
    pub php: Option<&'static str>,
    /// How the value is read and checked.
    pub kind: Kind,
    /// How the README and `--help` show the default when its value says too little (e.g. "off").
    pub default_text: Option<&'static str>,
    /// A valid value other than the default, in flag form; the front-end tests set every setting to it.
    pub example: &'static str,
    /// The doc comment of the field, one string per line: the help text.
    pub doc: &'static [&'static str],
    /// Reads the field.
    pub get: fn(&PulsarConfig) -> Value,
    /// Writes the field; `Err` when the value does not fit its type.
    pub set: fn(&mut PulsarConfig, Value) -> Result<(), String>,
}

/// The values a row of the table leaves out take.
pub(super) const BASE: Setting = Setting {
    key: "",
    nested: false,
    flag: None,
    flag_alias: None,
    env: None,
    php: None,
    kind: Kind::Text,
    default_text: None,
    example: "",
    doc: &[],
    get: |_| Value::Absent,
    set: |_, _| Err("no field".into()),
};

impl Setting {
    /// The help text (the field's doc comment as one paragraph).
    pub fn help(&self) -> String {
        self.doc
            .iter()
            .map(|line| line.trim())
            .filter(|line| !line.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The JSON path of the key as the README shows it (`pulsarSocketsParams.publishSocketAddress`).
    pub fn path(&self) -> String {
        if self.nested {
            format!("pulsarSocketsParams.{}", self.key)
        } else {
            self.key.to_owned()
        }
    }

    /// The PHP setter of the original DTOs, with its class where it is not `PublisherPulsarDto`
    /// (`PulsarSocketsParamsDto::setPublishSocketAddress()`).
    pub fn php_setter(&self) -> Option<String> {
        let name = self.php?.strip_prefix("get")?;
        let class = if self.nested {
            "PulsarSocketsParamsDto::"
        } else {
            ""
        };
        Some(format!("{class}set{name}()"))
    }

    /// The setting's value in `config`.
    pub fn value(&self, config: &PulsarConfig) -> Value {
        (self.get)(config)
    }

    /// The default value.
    pub fn default_value(&self) -> Value {
        self.value(&PulsarConfig::default())
    }

    /// The default as `--help` and the README show it.
    pub fn default_display(&self) -> String {
        if let Some(text) = self.default_text {
            return text.to_owned();
        }
        match self.default_value() {
            Value::Absent => "none".into(),
            Value::Count(n) => n.to_string(),
            Value::Seconds(s) => s.to_string(),
            Value::Text(s) => s,
            Value::Bytes(b) => String::from_utf8_lossy(&b).into_owned(),
            Value::List(items) => items.join(","),
        }
    }

    /// Sets the field; a value of the wrong type is an error naming the setting.
    pub fn set(&self, config: &mut PulsarConfig, value: Value) -> Result<(), PulsarError> {
        (self.set)(config, value).map_err(|message| self.invalid(message))
    }

    /// Sets the field from JSON; `null` means the default. `name` is how errors name the key (nested keys
    /// carry their object's name).
    pub fn set_json(
        &self,
        config: &mut PulsarConfig,
        json: &Json,
        name: &str,
    ) -> Result<(), PulsarError> {
        let value = if json.is_null() {
            self.default_value()
        } else {
            self.kind
                .from_json(json)
                .map_err(|message| invalid(name, message))?
        };
        (self.set)(config, value).map_err(|message| invalid(name, message))
    }

    /// Sets the field from the text of a flag or an environment variable.
    pub fn set_text(&self, config: &mut PulsarConfig, text: &str) -> Result<(), PulsarError> {
        let value = self
            .kind
            .from_text(text)
            .map_err(|message| self.invalid(message))?;
        self.set(config, value)
    }

    /// Checks the value in `config` against the kind's range and shape (absent optional values pass).
    pub fn check(&self, config: &PulsarConfig) -> Result<(), PulsarError> {
        match self.value(config) {
            Value::Absent => Ok(()),
            value => self
                .kind
                .check(&value)
                .map_err(|message| self.invalid(message)),
        }
    }

    /// The error naming this setting.
    pub fn invalid(&self, message: impl Into<String>) -> PulsarError {
        invalid(self.key, message)
    }

    /// The row as JSON, for `pulsard settings --json`, the C ABI's `pulsar_settings_json()` and the PHP routes.
    pub fn describe(&self) -> Json {
        serde_json::json!({
            "key": self.key,
            "nested": self.nested,
            "flag": self.flag.map(|f| format!("--{f}")),
            "env": self.env,
            "type": self.kind.type_name(),
            "default": self.default_value().to_json(),
            "defaultText": self.default_display(),
            "range": self.kind.range_text(),
            "help": self.help(),
            "phpGetter": self.php,
            "phpSetter": self.php_setter(),
            "example": self.kind.from_text(self.example).map(|v| v.to_json()).unwrap_or(Json::Null),
        })
    }
}

/// An [`PulsarError::InvalidSetting`] for `setting`.
pub fn invalid(setting: &str, message: impl Into<String>) -> PulsarError {
    PulsarError::InvalidSetting {
        setting: setting.into(),
        message: message.into(),
    }
}
