//! One test per kind of rejected input, each pinning the exact error variant and byte offset.
//!
//! Offsets (see `value::parse`): `Incomplete` = where more bytes were needed (the end of the input);
//! `Syntax` = the offending byte; `Limit` / `Unsupported` = the first byte of the offending value;
//! `Trailing` = the first extra byte.

use pulsar_wire::value::{self, Limits, Value, DEPTH_CAP};
use pulsar_wire::{PerformerPush, WireError};

/// The variant and offset of an error, without its human-readable `what`.
#[derive(Debug, PartialEq, Eq)]
enum Kind {
    Incomplete(usize),
    Syntax(usize),
    Limit(usize),
    Trailing(usize),
    Unsupported(usize),
    Unexpected,
}

fn kind(error: &WireError) -> Kind {
    match *error {
        WireError::Incomplete { offset } => Kind::Incomplete(offset),
        WireError::Syntax { offset, .. } => Kind::Syntax(offset),
        WireError::Limit { offset, .. } => Kind::Limit(offset),
        WireError::Trailing { offset } => Kind::Trailing(offset),
        WireError::Unsupported { offset, .. } => Kind::Unsupported(offset),
        WireError::Unexpected(_) => Kind::Unexpected,
    }
}

fn rejects_with(input: &[u8], limits: &Limits, want: Kind) {
    match value::parse(input, limits) {
        Ok(v) => panic!(
            "{:?} was accepted as {v:?}",
            input.escape_ascii().to_string()
        ),
        Err(e) => {
            assert_eq!(
                kind(&e),
                want,
                "{:?}: got {e}",
                input.escape_ascii().to_string()
            );
            assert!(!e.to_string().is_empty());
        }
    }
}

fn rejects(input: &[u8], want: Kind) {
    rejects_with(input, &Limits::default(), want);
}

fn accepts(input: &[u8]) -> Value {
    value::parse(input, &Limits::default())
        .unwrap_or_else(|e| panic!("{:?}: {e}", input.escape_ascii().to_string()))
}

fn vector(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/vectors/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// `depth` arrays nested in each other: `a:1:{i:0;a:1:{i:0;...a:0:{}...}}`.
fn nested_arrays(depth: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for _ in 1..depth {
        out.extend_from_slice(b"a:1:{i:0;");
    }
    out.extend_from_slice(b"a:0:{}");
    out.extend(std::iter::repeat_n(b'}', depth - 1));
    out
}

#[test]
fn empty_input() {
    rejects(b"", Kind::Incomplete(0));
}

#[test]
fn every_truncation_of_every_vector_is_incomplete_at_its_end() {
    let mut inputs: Vec<Vec<u8>> =
        std::fs::read_dir(format!("{}/tests/vectors", env!("CARGO_MANIFEST_DIR")))
            .expect("vectors dir")
            .map(|e| std::fs::read(e.expect("entry").path()).expect("vector"))
            .collect();
    assert_eq!(inputs.len(), 15);
    inputs.extend(
        [
            &b"d:-1.5E+25;"[..],
            b"d:-INF;",
            b"d:NAN;",
            b"d:.5e-3;",
            b"i:-9223372036854775808;",
            b"b:1;",
            b"N;",
            b"a:2:{i:0;s:3:\"a\"b\";s:1:\"k\";a:0:{}}",
        ]
        .map(<[u8]>::to_vec),
    );
    for input in inputs {
        for cut in 0..input.len() {
            rejects(&input[..cut], Kind::Incomplete(cut));
        }
        accepts(&input);
    }
}

#[test]
fn truncated_inside_a_string_body() {
    rejects(b"s:5:\"ab", Kind::Incomplete(7));
}

#[test]
fn string_length_longer_than_the_input() {
    // Could still become valid with more bytes: incomplete, reported at the end of the input.
    rejects(b"s:10:\"abc\";", Kind::Incomplete(11));
}

#[test]
fn string_length_shorter_than_the_content() {
    // After the 2 declared bytes "ab" comes 'c' where the closing quote must be.
    rejects(b"s:2:\"abc\";", Kind::Syntax(7));
}

#[test]
fn string_length_beyond_max_input_is_a_limit() {
    let limits = Limits {
        max_input: 64,
        ..Limits::default()
    };
    rejects_with(b"s:100:\"abc\";", &limits, Kind::Limit(0));
    // Inside an array: the offending value is the string at offset 9.
    rejects_with(b"a:1:{i:0;s:100:\"abc\";}", &limits, Kind::Limit(9));
}

#[test]
fn absurd_string_length_is_a_limit_without_allocating() {
    rejects(b"s:99999999999999999999999999:\"\";", Kind::Limit(0));
    rejects(b"s:18446744073709551615:\"\";", Kind::Limit(0));
}

#[test]
fn bad_length_non_digit() {
    rejects(b"s:x:\"\";", Kind::Syntax(2));
    rejects(b"s::\"\";", Kind::Syntax(2));
    rejects(b"a:x:{}", Kind::Syntax(2));
    rejects(b"O:1:\"A\":x:{}", Kind::Syntax(8));
}

#[test]
fn negative_length() {
    rejects(b"s:-1:\"\";", Kind::Syntax(2));
    rejects(b"a:-1:{}", Kind::Syntax(2));
    rejects(b"O:-1:\"A\":0:{}", Kind::Syntax(2));
    rejects(b"O:1:\"A\":-1:{}", Kind::Syntax(8));
}

#[test]
fn plus_sign_on_a_length() {
    rejects(b"s:+1:\"a\";", Kind::Syntax(2));
    rejects(b"a:+0:{}", Kind::Syntax(2));
}

#[test]
fn lengths_with_leading_zeros_are_accepted_like_php() {
    assert_eq!(accepts(b"s:03:\"abc\";"), Value::Str(b"abc".to_vec()));
    assert_eq!(accepts(b"a:00:{}"), Value::Array(vec![]));
}

#[test]
fn non_digit_in_an_integer() {
    rejects(b"i:x;", Kind::Syntax(2));
    rejects(b"i:;", Kind::Syntax(2));
    rejects(b"i:-;", Kind::Syntax(3));
    rejects(b"i:+-1;", Kind::Syntax(3));
    rejects(b"i:1x;", Kind::Syntax(3));
    rejects(b"i:1.5;", Kind::Syntax(3));
    rejects(b"i: 1;", Kind::Syntax(2));
}

#[test]
fn integer_signs_and_bounds() {
    assert_eq!(accepts(b"i:+5;"), Value::Int(5));
    assert_eq!(accepts(b"i:-0;"), Value::Int(0));
    assert_eq!(accepts(b"i:007;"), Value::Int(7));
    assert_eq!(accepts(b"i:9223372036854775807;"), Value::Int(i64::MAX));
    assert_eq!(accepts(b"i:-9223372036854775808;"), Value::Int(i64::MIN));
}

#[test]
fn integer_overflow() {
    // PHP clamps these with a warning; we refuse. Offset: the number's first byte.
    rejects(b"i:9223372036854775808;", Kind::Syntax(2));
    rejects(b"i:-9223372036854775809;", Kind::Syntax(2));
    rejects(b"i:+99999999999999999999999;", Kind::Syntax(2));
    rejects(b"a:1:{i:99999999999999999999;N;}", Kind::Syntax(7));
}

#[test]
fn missing_opening_quote() {
    rejects(b"s:3:abc\";", Kind::Syntax(4));
    rejects(b"O:1:A\":0:{}", Kind::Syntax(4));
}

#[test]
fn missing_closing_quote() {
    rejects(b"s:3:\"abc;", Kind::Syntax(8));
    rejects(b"O:1:\"A:0:{}", Kind::Syntax(6));
}

#[test]
fn missing_semicolon() {
    rejects(b"b:1}", Kind::Syntax(3));
    rejects(b"i:5:", Kind::Syntax(3));
    rejects(b"s:1:\"a\"}", Kind::Syntax(7));
    rejects(b"d:1.5:", Kind::Syntax(5));
    rejects(b"N:", Kind::Syntax(1));
    rejects(b"a:1:{i:0N;}", Kind::Syntax(8));
}

#[test]
fn missing_colon() {
    rejects(b"s1:\"a\";", Kind::Syntax(1));
    rejects(b"s:1\"a\";", Kind::Syntax(3));
    rejects(b"O:1:\"A\"0:{}", Kind::Syntax(7));
}

#[test]
fn missing_braces() {
    rejects(b"a:0:}", Kind::Syntax(4));
    rejects(b"a:0:{", Kind::Incomplete(5));
    rejects(b"a:1:{i:0;N;", Kind::Incomplete(11));
    rejects(b"a:1:{i:0;N;;", Kind::Syntax(11));
    rejects(b"O:1:\"A\":0:}", Kind::Syntax(10));
    rejects(b"O:1:\"A\":0:{", Kind::Incomplete(11));
    // One entry more than announced: the extra key stands where '}' must be.
    rejects(b"a:1:{i:0;N;i:1;N;}", Kind::Syntax(11));
    // One entry fewer than announced: '}' stands where a key must be.
    rejects(b"a:2:{i:0;N;}", Kind::Syntax(11));
}

#[test]
fn bad_bool_digit() {
    rejects(b"b:2;", Kind::Syntax(2));
    rejects(b"b:-1;", Kind::Syntax(2));
    rejects(b"b:;", Kind::Syntax(2));
    rejects(b"b:t;", Kind::Syntax(2));
    // PHP's grammar has exactly one digit.
    rejects(b"b:01;", Kind::Syntax(3));
    rejects(b"b:10;", Kind::Syntax(3));
}

#[test]
fn bad_float_text() {
    rejects(b"d:;", Kind::Syntax(2));
    rejects(b"d:.;", Kind::Syntax(3));
    rejects(b"d:1.5.3;", Kind::Syntax(5));
    rejects(b"d:1,5;", Kind::Syntax(3));
    rejects(b"d:1e;", Kind::Syntax(4));
    rejects(b"d:1e+;", Kind::Syntax(5));
    rejects(b"d:+INF;", Kind::Syntax(3));
    rejects(b"d:-NAN;", Kind::Syntax(3));
    rejects(b"d:inf;", Kind::Syntax(2));
    rejects(b"d:NAX;", Kind::Syntax(4));
    rejects(b"d:INFINITY;", Kind::Syntax(5));
    rejects(b"d:0x10;", Kind::Syntax(3));
    rejects(b"d: 1;", Kind::Syntax(2));
}

#[test]
fn float_forms_php_accepts() {
    for (text, want) in [
        (&b"d:+1.5;"[..], 1.5),
        (b"d:.5;", 0.5),
        (b"d:5.;", 5.0),
        (b"d:1e5;", 1e5),
        (b"d:1E+5;", 1e5),
        (b"d:1.0E-5;", 1e-5),
        (b"d:1.0E+400;", f64::INFINITY),
        (b"d:INF;", f64::INFINITY),
        (b"d:-INF;", f64::NEG_INFINITY),
    ] {
        assert_eq!(accepts(text), Value::Float(want), "{text:?}");
    }
    assert!(matches!(accepts(b"d:NAN;"), Value::Float(f) if f.is_nan()));
    assert!(matches!(accepts(b"d:-0;"), Value::Float(f) if f == 0.0 && f.is_sign_negative()));
}

#[test]
fn depth_over_the_limit() {
    let limits = Limits {
        max_depth: 2,
        ..Limits::default()
    };
    assert!(value::parse(&nested_arrays(2), &limits).is_ok());
    // The third array starts at 18: "a:1:{i:0;" twice.
    rejects_with(&nested_arrays(3), &limits, Kind::Limit(18));
    // Objects count as nesting too.
    rejects_with(
        b"a:1:{i:0;O:1:\"A\":1:{s:1:\"p\";a:0:{}}}",
        &limits,
        Kind::Limit(28),
    );
    // Default: 16 levels.
    assert!(value::parse(&nested_arrays(16), &Limits::default()).is_ok());
    rejects(&nested_arrays(17), Kind::Limit(16 * 9));
}

#[test]
fn scalars_do_not_count_as_nesting() {
    let limits = Limits {
        max_depth: 1,
        ..Limits::default()
    };
    assert!(value::parse(b"a:1:{i:0;s:1:\"x\";}", &limits).is_ok());
    let none = Limits {
        max_depth: 0,
        ..Limits::default()
    };
    assert!(value::parse(b"i:1;", &none).is_ok());
    rejects_with(b"a:0:{}", &none, Kind::Limit(0));
}

#[test]
fn huge_max_depth_is_capped() {
    let limits = Limits {
        max_depth: usize::MAX,
        ..Limits::default()
    };
    assert!(value::parse(&nested_arrays(DEPTH_CAP), &limits).is_ok());
    rejects_with(
        &nested_arrays(DEPTH_CAP + 1),
        &limits,
        Kind::Limit(DEPTH_CAP * 9),
    );
}

#[test]
fn element_count_over_the_limit() {
    let limits = Limits {
        max_elements: 3,
        ..Limits::default()
    };
    assert!(value::parse(b"a:3:{i:0;N;i:1;N;i:2;N;}", &limits).is_ok());
    // Refused from the header alone, before any entry is read or allocated.
    rejects_with(b"a:4:{", &limits, Kind::Limit(0));
    rejects_with(b"O:1:\"A\":4:{", &limits, Kind::Limit(0));
    // The count is for the whole input: 2 + 2 > 3 at the inner array (offset 9).
    rejects_with(
        b"a:2:{i:0;a:2:{i:0;N;i:1;N;}i:1;N;}",
        &limits,
        Kind::Limit(9),
    );
}

#[test]
fn absurd_element_count_is_a_limit() {
    rejects(b"a:99999999999999999999999:{", Kind::Limit(0));
    rejects(b"a:4097:{", Kind::Limit(0));
    // Within max_elements but more than the input can hold: just incomplete (nothing large is reserved).
    rejects(b"a:4096:{i:0;N;", Kind::Incomplete(14));
}

#[test]
fn input_over_max_input() {
    let limits = Limits {
        max_input: 4,
        ..Limits::default()
    };
    rejects_with(b"s:1:\"a\";", &limits, Kind::Limit(0));
    assert!(value::parse(b"i:1;", &limits).is_ok());
    // Checked first: even garbage over the limit is a Limit, not a Syntax error.
    rejects_with(b"xxxxx", &limits, Kind::Limit(0));
}

#[test]
fn trailing_bytes() {
    rejects(b"N;N;", Kind::Trailing(2));
    rejects(b"i:1;\n", Kind::Trailing(4));
    let mut bytes = vector("05_ReadyToGetSubscriptionMsg.bin");
    let len = bytes.len();
    bytes.push(0);
    rejects(&bytes, Kind::Trailing(len));
}

#[test]
fn references_are_unsupported() {
    rejects(b"r:1;", Kind::Unsupported(0));
    rejects(b"R:1;", Kind::Unsupported(0));
    rejects(b"a:2:{i:0;N;i:1;R:2;}", Kind::Unsupported(15));
}

#[test]
fn custom_serialization_enums_and_escaped_strings_are_unsupported() {
    rejects(b"C:3:\"Foo\":0:{}", Kind::Unsupported(0));
    rejects(b"E:7:\"Foo:Bar\";", Kind::Unsupported(0));
    rejects(b"S:1:\"a\";", Kind::Unsupported(0));
    rejects(
        b"O:1:\"A\":1:{s:1:\"p\";C:3:\"Foo\":0:{}}",
        Kind::Unsupported(19),
    );
}

#[test]
fn unknown_type_tag() {
    rejects(b"x:1;", Kind::Syntax(0));
    rejects(b"o:1:\"A\":0:{}", Kind::Syntax(0));
    rejects(b"I:1;", Kind::Syntax(0));
    rejects(b" N;", Kind::Syntax(0));
}

#[test]
fn bad_class_name_bytes() {
    rejects(b"O:3:\"A-B\":0:{}", Kind::Syntax(6));
    rejects(b"O:3:\"A B\":0:{}", Kind::Syntax(6));
    rejects(b"O:2:\"A\0\":0:{}", Kind::Syntax(6));
    rejects(b"O:2:\"A\x7f\":0:{}", Kind::Syntax(6));
    rejects(b"O:3:\"A;B\":0:{}", Kind::Syntax(6));
    rejects(b"O:3:\"A\"B\":0:{}", Kind::Syntax(6));
}

#[test]
fn empty_class_name() {
    rejects(b"O:0:\"\":0:{}", Kind::Syntax(5));
}

#[test]
fn class_names_php_allows() {
    let Value::Object(object) = accepts(b"O:8:\"\\A\\b_9\xc3\xa9\":0:{}") else {
        panic!("an object");
    };
    assert_eq!(object.class, b"\\A\\b_9\xc3\xa9");
}

#[test]
fn bad_mangled_property_names() {
    // `O:1:"A":1:{` is 11 bytes, `s:N:"` 5 more: the name starts at 16 (for a one-digit N).
    rejects(b"O:1:\"A\":1:{s:2:\"\0a\";N;}", Kind::Syntax(16));
    rejects(b"O:1:\"A\":1:{s:1:\"\0\";N;}", Kind::Syntax(16));
    rejects(b"O:1:\"A\":1:{s:3:\"\0*\0\";N;}", Kind::Syntax(16));
    rejects(b"O:1:\"A\":1:{s:3:\"\0\0a\";N;}", Kind::Syntax(16));
    rejects(b"O:1:\"A\":1:{s:3:\"\0A\0\";N;}", Kind::Syntax(16));
    // Second property: 11 + `s:1:"p";N;` (10) + `s:2:"` (5).
    rejects(
        b"O:1:\"A\":2:{s:1:\"p\";N;s:2:\"\0p\";N;}",
        Kind::Syntax(26),
    );
    // A two-digit length moves the name one byte further.
    rejects(b"O:1:\"A\":1:{s:10:\"\0abcdefghi\";N;}", Kind::Syntax(17));
}

#[test]
fn property_names_php_allows() {
    let Value::Object(object) =
        accepts(b"O:1:\"A\":4:{s:4:\"\0*\0p\";N;s:4:\"\0B\0q\";N;i:-5;N;s:0:\"\";N;}")
    else {
        panic!("an object");
    };
    let names: Vec<(&[u8], &value::Visibility)> = object
        .properties
        .iter()
        .map(|p| (p.name.as_slice(), &p.visibility))
        .collect();
    assert_eq!(
        names,
        vec![
            (&b"p"[..], &value::Visibility::Protected),
            (&b"q"[..], &value::Visibility::Private(b"B".to_vec())),
            (&b"-5"[..], &value::Visibility::Public),
            (&b""[..], &value::Visibility::Public),
        ]
    );
}

#[test]
fn bad_array_key_type() {
    rejects(b"a:1:{N;N;}", Kind::Syntax(5));
    rejects(b"a:1:{d:1;N;}", Kind::Syntax(5));
    rejects(b"a:1:{b:1;N;}", Kind::Syntax(5));
    rejects(b"a:1:{a:0:{}N;}", Kind::Syntax(5));
    rejects(b"a:1:{r:1;N;}", Kind::Syntax(5));
}

#[test]
fn bad_property_name_type() {
    rejects(b"O:1:\"A\":1:{N;N;}", Kind::Syntax(11));
    rejects(b"O:1:\"A\":1:{b:1;N;}", Kind::Syntax(11));
}

#[test]
fn errors_pass_through_the_typed_decoders() {
    let err = PerformerPush::decode(b"O:1:\"A\":1:{").expect_err("truncated");
    assert_eq!(kind(&err), Kind::Incomplete(11));
    let err = PerformerPush::decode(b"r:1;").expect_err("reference");
    assert_eq!(kind(&err), Kind::Unsupported(0));
    let err = PerformerPush::decode(&nested_arrays(17)).expect_err("too deep");
    assert_eq!(kind(&err), Kind::Limit(16 * 9));
}
