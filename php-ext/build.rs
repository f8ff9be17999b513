//! Records how the extension was built, for `php --ri pulsar`.

use std::process::Command;

fn main() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let version = Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=PULSAR_BUILD_RUSTC={version}");
    for var in ["PROFILE", "TARGET"] {
        let value = std::env::var(var).unwrap_or_else(|_| "unknown".into());
        println!("cargo:rustc-env=PULSAR_BUILD_{var}={value}");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
