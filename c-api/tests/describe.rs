//! The library's description of its own ABI (`pulsar_status_name`, `pulsar_abi_description`) called as a C
//! program calls them, and compared with the committed header: bindings that read the description instead of
//! `include/pulsar.h` (the Python wheel) must see exactly what C sees.

use std::collections::BTreeMap;
use std::ffi::{c_char, CStr};
use std::path::PathBuf;

use pulsar::describe::{pulsar_abi_description, pulsar_status_name};
use pulsar::{pulsar_last_error_code, PulsarDaemonStats, PulsarStatus};
use serde_json::Value;

fn header() -> String {
    std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../include/pulsar.h"))
        .expect("include/pulsar.h is readable")
}

/// `NAME = number,` lines of the header's enum whose constants start with `prefix`, prefix removed.
fn header_constants(header: &str, prefix: &str) -> BTreeMap<String, u64> {
    header
        .lines()
        .filter_map(|line| line.trim().strip_prefix(prefix))
        .filter_map(|rest| {
            let (name, number) = rest.split_once(" = ")?;
            Some((name.to_string(), number.trim_end_matches(',').parse().ok()?))
        })
        .collect()
}

/// The `type name;` members of the header's `typedef struct PulsarDaemonStats { ... }`, comments skipped.
fn header_stats_fields(header: &str) -> Vec<(String, String)> {
    let start = header
        .find("typedef struct PulsarDaemonStats {")
        .expect("the header declares PulsarDaemonStats");
    let body = &header[start..];
    let body = &body[..body.find("} PulsarDaemonStats;").expect("the struct ends")];
    body.lines()
        .skip(1)
        .map(str::trim)
        .filter(|line| line.ends_with(';') && !line.starts_with('*') && !line.starts_with("/*"))
        .map(|line| {
            let (c_type, name) = line
                .trim_end_matches(';')
                .split_once(' ')
                .expect("type name");
            (name.to_string(), c_type.to_string())
        })
        .collect()
}

fn description() -> Value {
    let text = pulsar_abi_description();
    assert!(!text.is_null());
    // SAFETY: the library returns a static NUL-terminated string.
    let text = unsafe { CStr::from_ptr(text) }.to_str().expect("UTF-8");
    serde_json::from_str(text).expect("the description is JSON")
}

fn name_of(status: u32) -> Option<String> {
    let name: *const c_char = pulsar_status_name(status);
    if name.is_null() {
        return None;
    }
    // SAFETY: a non-NULL result is a static NUL-terminated string.
    Some(
        unsafe { CStr::from_ptr(name) }
            .to_str()
            .expect("ASCII")
            .to_string(),
    )
}

#[test]
fn every_status_of_the_header_has_its_name_and_nothing_else_has_one() {
    let declared = header_constants(&header(), "PULSAR_STATUS_");
    assert_eq!(declared.get("OK"), Some(&0));
    assert_eq!(declared.len(), PulsarStatus::all().len());
    for (name, number) in &declared {
        assert_eq!(name_of(*number as u32).as_deref(), Some(name.as_str()));
    }
    let named = (0..=100_000u32).filter(|n| name_of(*n).is_some()).count();
    assert_eq!(
        named,
        declared.len(),
        "only the header's numbers have names"
    );
    assert_eq!(name_of(u32::MAX), None);
}

#[test]
fn the_description_matches_the_header() {
    let header = header();
    let description = description();
    let statuses: BTreeMap<String, u64> =
        serde_json::from_value(description["statuses"].clone()).expect("statuses map");
    assert_eq!(statuses, header_constants(&header, "PULSAR_STATUS_"));
    let endpoints: BTreeMap<String, u64> =
        serde_json::from_value(description["endpoints"].clone()).expect("endpoints map");
    assert_eq!(endpoints, header_constants(&header, "PULSAR_ENDPOINT_"));
    assert_eq!(description["version"], env!("CARGO_PKG_VERSION"));

    let stats = &description["structs"]["PulsarDaemonStats"];
    assert_eq!(stats["size"], size_of::<PulsarDaemonStats>());
    assert_eq!(stats["align"], align_of::<PulsarDaemonStats>());
    let fields = stats["fields"].as_array().expect("fields");
    let described: Vec<(String, String)> = fields
        .iter()
        .map(|f| {
            (
                f["name"].as_str().expect("name").to_string(),
                f["type"].as_str().expect("type").to_string(),
            )
        })
        .collect();
    assert_eq!(described, header_stats_fields(&header));

    // The offsets are C's: each field right after the previous one, aligned to its own size.
    let mut end = 0u64;
    for field in fields {
        let size = match field["type"].as_str() {
            Some("uint32_t") => 4,
            Some("uint64_t") => 8,
            Some("bool") => 1,
            other => panic!("unexpected C type {other:?}"),
        };
        let offset = field["offset"].as_u64().expect("offset");
        assert_eq!(offset, end.div_ceil(size) * size, "{field}");
        end = offset + size;
    }
    assert_eq!(
        stats["size"].as_u64(),
        Some(end.div_ceil(8) * 8),
        "size rounded to the alignment"
    );
}

#[test]
fn the_description_is_one_static_string_and_leaves_the_last_error_alone() {
    let _ = pulsar::pulsar_version();
    // A failing call sets the last error; the describing functions must not clear it.
    // SAFETY: NULL out-pointer is allowed and refused with a status.
    let status = unsafe { pulsar::log::pulsar_log_next(std::ptr::null_mut()) };
    assert_eq!(status, PulsarStatus::NullPointer);
    assert_eq!(pulsar_abi_description(), pulsar_abi_description());
    assert!(name_of(0).is_some());
    assert_eq!(pulsar_last_error_code(), PulsarStatus::NullPointer);
}
