//! include/pulsar.h must be exactly what the pinned cbindgen generates from this crate: C callers read the
//! header (and c-api/tests/describe.rs holds the library's own description to it), so a stale header is a
//! broken API.
//!
//! Regenerate after changing an exported item: `PULSAR_BLESS=1 cargo test -p pulsar-capi --test header`.

use std::path::PathBuf;

fn generate() -> String {
    let crate_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
        .expect("c-api/cbindgen.toml is readable and valid");
    let bindings = cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen can read the crate");
    let mut out = Vec::new();
    bindings.write(&mut out);
    String::from_utf8(out).expect("cbindgen writes UTF-8")
}

#[test]
fn the_committed_header_is_up_to_date() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../include/pulsar.h");
    let generated = generate();
    if std::env::var_os("PULSAR_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(&path, &generated).expect("include/pulsar.h is writable");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != generated {
        let first_difference = committed
            .lines()
            .zip(generated.lines())
            .position(|(a, b)| a != b)
            .map(|i| i + 1)
            .unwrap_or_else(|| committed.lines().count().min(generated.lines().count()) + 1);
        panic!(
            "include/pulsar.h is stale (first difference at line {first_difference}).\n\
             Regenerate it with: PULSAR_BLESS=1 cargo test -p pulsar-capi --test header\n\
             and commit it together with the change to c-api/src."
        );
    }
}

#[test]
fn the_header_declares_every_status_once_with_a_stable_number() {
    let header = generate();
    // A few numbers C programs and the Python module rely on; they must never change.
    for (name, number) in [
        ("PULSAR_STATUS_OK", 0),
        ("PULSAR_STATUS_NULL_POINTER", 100),
        ("PULSAR_STATUS_INVALID_UTF8", 101),
        ("PULSAR_STATUS_TIMEOUT", 200),
        ("PULSAR_STATUS_PANIC", 900),
    ] {
        let line = format!("{name} = {number},");
        assert_eq!(header.matches(&line).count(), 1, "{line} in the header");
    }
}
