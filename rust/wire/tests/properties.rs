//! Property tests: no input makes the codec panic, and writing then parsing gives back the same value.
//!
//! Floats are compared through their bytes (`to_bytes`), because `NaN != NaN` and `0.0 == -0.0` under `==`.

use proptest::prelude::*;

use pulsar_wire::value::{self, Key, Limits, Object, Property, Value, Visibility};
use pulsar_wire::{
    BecomeTheSubscriberReply, PerformerPush, PreparingRequest, PulsarReply, Pulse,
    ReplyStackRequest,
};

/// Any byte string, biased towards the format's own bytes so that inputs get past the first few checks.
fn format_bytes() -> impl Strategy<Value = Vec<u8>> {
    let byte = prop_oneof![
        3 => prop::sample::select(b"NbidsaOrRCES:;{}\"0123456789-+.eEINFA\0*\\".to_vec()),
        1 => any::<u8>(),
    ];
    prop::collection::vec(byte, 0..300)
}

fn float() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>(),
        Just(0.0),
        Just(-0.0),
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        (-1_000_000i64..1_000_000, -30i32..30).prop_map(|(m, e)| m as f64 * 10f64.powi(e)),
    ]
}

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..max),
        "[a-zA-Z0-9 ]{0,12}".prop_map(String::into_bytes),
        // The format's own delimiters inside strings must not confuse anything.
        prop::collection::vec(prop::sample::select(b"\";:{}\0*s".to_vec()), 0..max),
    ]
}

fn class_name() -> impl Strategy<Value = Vec<u8>> {
    let byte = prop_oneof![
        8 => prop::sample::select(
            b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_\\".to_vec()
        ),
        1 => 0x80u8..=0xff,
    ];
    prop::collection::vec(byte, 1..40)
}

/// A property whose name and visibility PHP could have written (what `parse` gives back).
fn property(value: impl Strategy<Value = Value>) -> impl Strategy<Value = Property> {
    let visibility = prop_oneof![
        Just(Visibility::Public),
        Just(Visibility::Protected),
        // A private property's class cannot be `*`: `\0*\0name` is the protected form.
        prop::collection::vec(1u8..=0xff, 1..20)
            .prop_filter("`*` alone is the protected marker", |c| c.as_slice()
                != b"*")
            .prop_map(Visibility::Private),
    ];
    (visibility, bytes(16), value).prop_map(|(visibility, mut name, value)| {
        match visibility {
            // A public name may not start with NUL (it would read as mangled).
            Visibility::Public => {
                if name.first() == Some(&0) {
                    name[0] = b'n';
                }
            }
            // A mangled name must not be empty.
            _ => {
                if name.is_empty() {
                    name.push(b'p');
                }
            }
        }
        Property {
            name,
            visibility,
            value,
        }
    })
}

fn key() -> impl Strategy<Value = Key> {
    prop_oneof![
        any::<i64>().prop_map(Key::Int),
        bytes(12).prop_map(Key::Str)
    ]
}

/// Any value of the model, at most 5 levels deep.
fn any_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::Int),
        float().prop_map(Value::Float),
        bytes(24).prop_map(Value::Str),
    ];
    leaf.prop_recursive(4, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec((key(), inner.clone()), 0..6).prop_map(Value::Array),
            (class_name(), prop::collection::vec(property(inner), 0..6))
                .prop_map(|(class, properties)| Value::Object(Object { class, properties })),
        ]
    })
}

fn contains_nan(value: &Value) -> bool {
    match value {
        Value::Float(f) => f.is_nan(),
        Value::Array(entries) => entries.iter().any(|(_, v)| contains_nan(v)),
        Value::Object(o) => o.properties.iter().any(|p| contains_nan(&p.value)),
        _ => false,
    }
}

/// Every typed decoder must return (Ok or Err) on any input.
fn decode_everything(input: &[u8]) {
    let _ = PreparingRequest::decode(input);
    let _ = BecomeTheSubscriberReply::decode(input);
    let _ = PerformerPush::decode(input);
    let _ = ReplyStackRequest::decode(input);
    let _ = PulsarReply::decode(input);
    if let Ok(pulse) = Pulse::decode(input, &Limits::default()) {
        let _ = pulse.allow_action();
    }
}

/// If `input` parses, writing the value and parsing that again gives the same bytes.
fn reparse_is_stable(input: &[u8], limits: &Limits) -> Result<(), TestCaseError> {
    if let Ok(value) = value::parse(input, limits) {
        let written = value.to_bytes();
        let again = value::parse(&written, &Limits::default())
            .map_err(|e| TestCaseError::fail(format!("written form does not parse: {e}")))?;
        prop_assert_eq!(again.to_bytes(), written);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(input in format_bytes()) {
        let tight = Limits { max_input: 200, max_depth: 3, max_elements: 10 };
        reparse_is_stable(&input, &Limits::default())?;
        reparse_is_stable(&input, &tight)?;
        decode_everything(&input);
    }

    #[test]
    fn write_then_parse_gives_the_value_back(v in any_value()) {
        let bytes = v.to_bytes();
        let parsed = value::parse(&bytes, &Limits::default())
            .map_err(|e| TestCaseError::fail(format!("{e} in {:?}", bytes.escape_ascii().to_string())))?;
        // Bytes compare floats exactly (sign of zero included, every NaN as NAN).
        prop_assert_eq!(parsed.to_bytes(), bytes.clone());
        if !contains_nan(&v) {
            prop_assert_eq!(&parsed, &v);
        }
        decode_everything(&bytes);
    }

    #[test]
    fn mutated_valid_input_never_panics(
        v in any_value(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..4),
    ) {
        let mut bytes = v.to_bytes();
        for (at, byte, op) in edits {
            if bytes.is_empty() {
                bytes.push(byte);
                continue;
            }
            let i = at.index(bytes.len());
            match op {
                0 => bytes[i] = byte,
                1 => bytes.insert(i, byte),
                _ => { bytes.remove(i); }
            }
        }
        reparse_is_stable(&bytes, &Limits::default())?;
        decode_everything(&bytes);
    }
}

proptest! {
    // Quadratic in the value's size: fewer cases.
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn every_prefix_of_a_valid_value_is_incomplete(v in any_value()) {
        let bytes = v.to_bytes();
        for cut in 0..bytes.len() {
            let result = value::parse(&bytes[..cut], &Limits::default());
            prop_assert_eq!(result, Err(pulsar_wire::WireError::Incomplete { offset: cut }));
        }
    }
}
