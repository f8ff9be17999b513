//! The settings table as documents: the README's configuration table (Markdown) and the table as JSON for the
//! C ABI, the PHP FFI route and `pulsard settings --json`.
//!
//! This module must never describe a setting by hand: every word comes from [`super::SETTINGS`].

use serde_json::Value as Json;

use super::SETTINGS;

/// The README's configuration table, one row per setting (generated; `tests/settings_frontends.rs` fails when
/// the README's copy differs).
pub fn markdown_table() -> String {
    let mut out = String::from(
        "| setting (JSON key) | flag / environment | PHP setter | type | default | range | meaning |\n\
         |---|---|---|---|---|---|---|\n",
    );
    let code = |text: Option<String>| text.map_or_else(|| "—".to_owned(), |t| format!("`{t}`"));
    for setting in SETTINGS {
        let flag = match (setting.flag, setting.env) {
            (Some(flag), Some(env)) => format!("`--{flag}`<br>`{env}`"),
            (Some(flag), None) => format!("`--{flag}`"),
            (None, Some(env)) => format!("`{env}`"),
            (None, None) => "—".to_owned(),
        };
        let range = setting.kind.range_text();
        let cells = [
            format!("`{}`", setting.path()),
            flag,
            code(setting.php_setter()),
            setting.kind.type_name().to_owned(),
            escape(&setting.default_display()),
            if range.is_empty() {
                "—".to_owned()
            } else {
                escape(&range)
            },
            escape(&setting.help()),
        ];
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    out
}

/// Text safe inside a Markdown table cell.
fn escape(text: &str) -> String {
    text.replace('|', "\\|")
}

/// Every row of the table as a JSON array (key, nesting, flag, environment, type, default, range, help, PHP
/// getter and setter, example).
pub fn settings_json() -> Json {
    Json::Array(SETTINGS.iter().map(|s| s.describe()).collect())
}
