//! `pulsard`: the Publisher Pulsar daemon as a program. Everything it does is in the library's
//! [`publisher_pulsar::cli`] (flags from the settings table, running, `status`, `settings`), so that tests and
//! the other bridges run the same code; this file only hands over.

fn main() -> std::process::ExitCode {
    publisher_pulsar::cli::main()
}
