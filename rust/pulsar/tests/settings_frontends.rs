//! Every front-end of `pulsard` agrees with the settings table (`publisher_pulsar::config::SETTINGS`): each row's
//! example, given as a flag, as an environment variable or in a `--config` JSON file (nested and flat), reaches
//! the effective configuration that `pulsard --print-config` prints after the core's checks. And the README's
//! configuration table is the generated one (regenerate with
//! `PULSAR_BLESS=1 cargo test -p publisher-pulsar --test settings_frontends`).
//!
//! The C ABI and the PHP routes have their own tests against the same table (`c-api/tests/settings.rs`,
//! `tests/phpunit/SettingsTableTest.php`).

use std::path::{Path, PathBuf};
use std::process::Command;

use publisher_pulsar::config::{markdown_table, Kind, Setting, SETTINGS};
use publisher_pulsar::PulsarConfig;
use serde_json::{json, Map, Value as Json};

/// The example of `setting` as the effective configuration shows it.
fn expected(setting: &Setting) -> Json {
    let value = setting.kind.from_text(setting.example).expect("example");
    let mut config = PulsarConfig::default();
    setting.set(&mut config, value).expect("example fits");
    setting.value(&config).to_json()
}

fn effective_of(json: &Json, setting: &Setting) -> Json {
    if setting.nested {
        json["pulsarSocketsParams"][setting.key].clone()
    } else {
        json[setting.key].clone()
    }
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pulsar-settings-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// `pulsard --print-config` with these arguments and environment (no inherited `PULSARD_*`); its JSON.
fn print_config(args: &[String], env: &[(String, String)]) -> Json {
    let mut command = Command::new(env!("CARGO_BIN_EXE_pulsard"));
    for (name, _) in std::env::vars() {
        if name.starts_with("PULSARD_") {
            command.env_remove(name);
        }
    }
    let out = command
        .arg("--print-config")
        .args(args)
        .envs(env.iter().cloned())
        .output()
        .expect("pulsard runs");
    assert!(
        out.status.success(),
        "pulsard --print-config {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

/// The text a flag or variable carries for `setting`: its example, or a file holding it for a PHP object.
fn flag_text(setting: &Setting, dir: &Path) -> String {
    if setting.kind == Kind::PhpObject {
        let path = dir.join(format!("{}.ser", setting.key));
        std::fs::write(&path, setting.example).expect("write object");
        return path.display().to_string();
    }
    setting.example.to_owned()
}

fn assert_every_example(json: &Json, settings: &[&Setting], front_end: &str) {
    assert!(!settings.is_empty());
    for setting in settings {
        let actual = effective_of(json, setting);
        assert_eq!(actual, expected(setting), "{front_end}: {}", setting.key);
        assert_ne!(
            actual,
            setting.default_value().to_json(),
            "{front_end}: {} is not its default",
            setting.key
        );
    }
}

#[test]
fn every_flag_reaches_the_effective_configuration() {
    let dir = temp_dir("flags");
    let with_flag: Vec<&Setting> = SETTINGS.iter().filter(|s| s.flag.is_some()).collect();
    let mut args = Vec::new();
    for setting in &with_flag {
        args.push(format!("--{}", setting.flag.expect("filtered")));
        args.push(flag_text(setting, &dir));
    }
    assert_every_example(&print_config(&args, &[]), &with_flag, "flags");
}

#[test]
fn every_environment_variable_reaches_the_effective_configuration() {
    let dir = temp_dir("env");
    let with_env: Vec<&Setting> = SETTINGS.iter().filter(|s| s.env.is_some()).collect();
    let env: Vec<(String, String)> = with_env
        .iter()
        .map(|s| (s.env.expect("filtered").to_owned(), flag_text(s, &dir)))
        .collect();
    assert_every_example(&print_config(&[], &env), &with_env, "environment");
}

/// Every setting's example in the JSON form; addresses nested, or flat at the top level.
fn config_json(nested: bool) -> Json {
    let mut top = Map::new();
    let mut sockets = Map::new();
    for setting in SETTINGS {
        let target = if setting.nested && nested {
            &mut sockets
        } else {
            &mut top
        };
        target.insert(setting.key.to_owned(), expected(setting));
    }
    if nested {
        top.insert("pulsarSocketsParams".into(), Json::Object(sockets));
    }
    Json::Object(top)
}

#[test]
fn every_key_of_a_config_file_reaches_the_effective_configuration() {
    let dir = temp_dir("file");
    let all: Vec<&Setting> = SETTINGS.iter().collect();
    for nested in [true, false] {
        let path = dir.join(format!("nested-{nested}.json"));
        std::fs::write(&path, config_json(nested).to_string()).expect("write config");
        let json = print_config(&["--config".into(), path.display().to_string()], &[]);
        assert_every_example(
            &json,
            &all,
            if nested { "JSON nested" } else { "JSON flat" },
        );
        // The library reads the file the same way.
        let config = PulsarConfig::from_file(&path).expect("readable");
        assert_eq!(config.to_json(), json);
    }
}

#[test]
fn a_flag_wins_over_the_environment_which_wins_over_the_file() {
    let dir = temp_dir("precedence");
    let path = dir.join("config.json");
    std::fs::write(
        &path,
        json!({"subscribersPerIteration": 2, "moduleName": "file"}).to_string(),
    )
    .expect("write config");
    let json = print_config(
        &[
            "--config".into(),
            path.display().to_string(),
            "--subscribers-per-iteration".into(),
            "4".into(),
        ],
        &[
            ("PULSARD_SUBSCRIBERS_PER_ITERATION".into(), "3".into()),
            ("PULSARD_MODULE_NAME".into(), "env".into()),
        ],
    );
    assert_eq!(json["subscribersPerIteration"], 4);
    assert_eq!(json["moduleName"], "env");
}

const BEGIN: &str = "<!-- settings table: generated from rust/pulsar/src/config/table.rs by `pulsard settings` -->\n";
const END: &str = "<!-- end of the settings table -->";

#[test]
fn the_readme_table_is_the_generated_one() {
    let readme_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md");
    let readme = std::fs::read_to_string(&readme_path).expect("README.md");
    let start = readme
        .find(BEGIN)
        .expect("README has the table's begin marker")
        + BEGIN.len();
    let end = start
        + readme[start..]
            .find(END)
            .expect("README has the end marker");
    let generated = markdown_table();
    if std::env::var_os("PULSAR_BLESS").is_some_and(|v| v == "1") {
        let updated = format!("{}{generated}{}", &readme[..start], &readme[end..]);
        std::fs::write(&readme_path, updated).expect("write README.md");
        return;
    }
    assert_eq!(
        &readme[start..end],
        generated,
        "README.md's configuration table is stale; regenerate it with: \
         PULSAR_BLESS=1 cargo test -p publisher-pulsar --test settings_frontends"
    );
    // `pulsard settings` prints the same table.
    let out = Command::new(env!("CARGO_BIN_EXE_pulsard"))
        .arg("settings")
        .output()
        .expect("pulsard runs");
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), generated);
}
