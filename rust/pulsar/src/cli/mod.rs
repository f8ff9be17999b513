//! `pulsard`, the daemon as a program: its command line, built from the settings table, and what each
//! subcommand does. The binary (`src/bin/pulsard.rs`) only calls [`main`].
//!
//! Every setting of [`crate::config::SETTINGS`] with a flag becomes `--<flag>` with its environment variable
//! (`PULSARD_...`), its help text, range and default; `--config FILE.json` takes the JSON form. Precedence: flags
//! over the environment, the environment over `--config`, `--config` over the defaults.
//!
//! - `pulsard [FLAGS]` runs the daemon until SIGTERM/SIGINT or `timerIterationsLimit` ([`run`]).
//! - `pulsard --print-config [FLAGS]` prints the effective configuration as JSON (the form `--config` reads)
//!   after checking it, and exits.
//! - `pulsard status` reads a running daemon's `/metrics` and prints a summary ([`status`]).
//! - `pulsard settings` prints the settings table (Markdown, as in the README, or `--json`).
//!
//! Exit status: 0 after a clean stop, 2 for a bad setting, a bad flag or an unreadable configuration file, 1 when
//! the daemon cannot run (an address in use, a ZeroMQ failure).
//!
//! This module must never hold coordination logic nor check a setting's range: it reads flags into a
//! [`PulsarConfig`] and runs the library's daemon exactly as tests and the other bridges do.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Arg, ArgAction, ArgMatches, Args, Command, FromArgMatches};

use crate::config::{Kind, Setting, Value, SETTINGS};
use crate::{PulsarConfig, PulsarError};

pub mod run;
pub mod status;

/// Exit status for settings that cannot be used (the same as clap's usage errors).
pub const EXIT_BAD_SETTINGS: u8 = 2;
/// Exit status when the daemon could not run.
pub const EXIT_FAILURE: u8 = 1;

const ABOUT: &str = "Publisher Pulsar daemon: releases at most N waiting workers per period (\"pulses\") over \
                     ZeroMQ and adapts to the errors they report. Workers of the original PHP library work with it \
                     unchanged.";

const AFTER_HELP: &str = "Settings come from the defaults, then --config, then the environment (PULSARD_*), then \
                          the flags (a flag wins).\n\
                          Logs go to standard error; RUST_LOG is honoured when --log-level is not given.\n\
                          Exit status: 0 after SIGTERM/SIGINT or timerIterationsLimit, 2 for a bad setting, 1 when \
                          the daemon cannot run (e.g. an address in use).";

/// `pulsard`'s command line: the table's settings, the program's own options and the subcommands.
pub fn command() -> Command {
    let settings_command = Command::new("settings")
        .about("Print every setting: JSON key, flag, environment variable, PHP setter, type, default, range, help")
        .arg(
            Arg::new("json")
                .long("json")
                .action(ArgAction::SetTrue)
                .help("Print the table as JSON instead of Markdown"),
        );
    Command::new("pulsard")
        .version(env!("CARGO_PKG_VERSION"))
        .about(ABOUT)
        .after_help(AFTER_HELP)
        .args_conflicts_with_subcommands(true)
        .arg(
            Arg::new("config")
                .long("config")
                .env("PULSARD_CONFIG")
                .value_name("FILE.json")
                .value_parser(clap::value_parser!(PathBuf))
                .help(
                    "JSON configuration file with PublisherPulsarDto setting names (e.g. \
                     \"subscribersPerIteration\", \"pulsarSocketsParams\": {\"publishSocketAddress\": ...}); \
                     flags override its values",
                ),
        )
        .args(SETTINGS.iter().filter_map(setting_arg))
        .args(run::logging_args())
        .arg(
            Arg::new("print-config")
                .long("print-config")
                .action(ArgAction::SetTrue)
                .help("Check the settings, print the effective configuration as JSON (the --config form), exit"),
        )
        .subcommand(
            status::StatusArgs::augment_args(Command::new("status")).about(
                "Print a running daemon's state, read from its /metrics; exit 1 when it cannot be reached",
            ),
        )
        .subcommand(settings_command)
}

/// The flag of one setting, or `None` for settings without one.
fn setting_arg(setting: &'static Setting) -> Option<Arg> {
    let flag = setting.flag?;
    let range = setting.kind.range_text();
    let range = if range.is_empty() {
        String::new()
    } else {
        format!("; {range}")
    };
    let mut arg = Arg::new(setting.key)
        .long(flag)
        .value_name(setting.kind.value_name())
        .allow_negative_numbers(true)
        .help(format!(
            "{} ({}{range}) [default: {}]",
            setting.help().trim_end_matches('.'),
            setting.key,
            setting.default_display()
        ));
    if let Some(env) = setting.env {
        arg = arg.env(env);
    }
    if let Some(alias) = setting.flag_alias {
        arg = arg.alias(alias);
    }
    if matches!(setting.kind, Kind::TextList | Kind::Networks) {
        arg = arg.action(ArgAction::Append).value_delimiter(',');
    }
    Some(arg)
}

/// The settings: defaults, then the `--config` file, then the environment and the flags. Not validated: the
/// daemon validates when it binds.
pub fn config_from(matches: &ArgMatches) -> Result<PulsarConfig, PulsarError> {
    let mut config = match matches.get_one::<PathBuf>("config") {
        Some(path) => PulsarConfig::from_file(path)?,
        None => PulsarConfig::default(),
    };
    for setting in SETTINGS.iter().filter(|s| s.flag.is_some()) {
        let Some(values) = matches.get_many::<String>(setting.key) else {
            continue;
        };
        let values: Vec<&String> = values.collect();
        match setting.kind {
            // The object's bytes may hold NULs, which no command line carries: the flag names a file.
            Kind::PhpObject => {
                let path = values.last().map_or("", |p| p.as_str());
                let bytes = std::fs::read(path)
                    .map_err(|e| setting.invalid(format!("cannot read {path}: {e}")))?;
                setting.set(&mut config, Value::Bytes(bytes))?;
            }
            Kind::TextList | Kind::Networks => {
                let items = values
                    .iter()
                    .map(|v| v.as_str())
                    .collect::<Vec<_>>()
                    .join(",");
                setting.set_text(&mut config, &items)?;
            }
            _ => {
                let last = values.last().map_or("", |v| v.as_str());
                setting.set_text(&mut config, last)?;
            }
        }
    }
    Ok(config)
}

/// `pulsard`: parses the command line and does what it says.
pub fn main() -> ExitCode {
    let matches = command().get_matches();
    match matches.subcommand() {
        Some(("status", sub)) => {
            return match status::StatusArgs::from_arg_matches(sub) {
                Ok(args) => status::status(&args),
                Err(e) => e.exit(),
            }
        }
        Some(("settings", sub)) => {
            if sub.get_flag("json") {
                let table = crate::config::settings_json();
                println!(
                    "{}",
                    serde_json::to_string_pretty(&table).unwrap_or_default()
                );
            } else {
                print!("{}", crate::config::markdown_table());
            }
            return ExitCode::SUCCESS;
        }
        _ => {}
    }
    let config = match config_from(&matches) {
        Ok(config) => config,
        Err(e) => return bad_settings(&e),
    };
    if matches.get_flag("print-config") {
        if let Err(e) = config.validate() {
            return bad_settings(&e);
        }
        println!("{}", config.to_json());
        return ExitCode::SUCCESS;
    }
    run::main(&matches, &config)
}

fn bad_settings(e: &PulsarError) -> ExitCode {
    eprintln!("pulsard: {e}");
    ExitCode::from(EXIT_BAD_SETTINGS)
}
