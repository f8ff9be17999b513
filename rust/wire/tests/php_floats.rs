//! Floats must be written exactly as PHP 8.2's `serialize()` writes them (`serialize_precision = -1`).
//!
//! `serialize_matches_observed_php_output` is a fixed table of what `php8.2-cli` printed; it runs everywhere.
//! The `*_against_php` tests run the real `php` binary on many random doubles; they FAIL (not skip) when `php`
//! is missing, because CI installs it. Set `PHP_BIN` to use another binary than `php` from `PATH`.

// The tie cases are written with their exact binary value (x.25 is exact); clippy sees "excessive precision".
#![allow(clippy::excessive_precision)]

use std::io::Write;
use std::process::{Command, Stdio};

use pulsar_wire::value::{self, Limits, Value};
use pulsar_wire::PerformerPush;

/// `serialize($f)` as printed by PHP 8.2.36 (`php -r 'echo serialize(...);'`).
const OBSERVED: &[(f64, &str)] = &[
    (1e25, "d:1.0E+25;"),
    (0.1, "d:0.1;"),
    (1.0, "d:1;"),
    (-0.0, "d:-0;"),
    (0.0, "d:0;"),
    (1e15, "d:1000000000000000;"),
    (123456789012345678.0, "d:1.2345678901234568E+17;"),
    (0.0001, "d:0.0001;"),
    (0.00001, "d:1.0E-5;"),
    (f64::INFINITY, "d:INF;"),
    (f64::NEG_INFINITY, "d:-INF;"),
    (f64::NAN, "d:NAN;"),
    (1.5e-7, "d:1.5E-7;"),
    (1e17, "d:1.0E+17;"),
    (1e16, "d:10000000000000000;"),
    (1e14, "d:100000000000000;"),
    (1.5e15, "d:1500000000000000;"),
    (1.5e16, "d:15000000000000000;"),
    (-1e15, "d:-1000000000000000;"),
    (123456789012345.0, "d:123456789012345;"),
    (1234567890123456.0, "d:1234567890123456;"),
    (12345678901234567.0, "d:12345678901234568;"),
    (0.001, "d:0.001;"),
    (0.00012, "d:0.00012;"),
    (0.000012, "d:1.2E-5;"),
    (1e-10, "d:1.0E-10;"),
    (5e-324, "d:5.0E-324;"),
    (1.7976931348623157e308, "d:1.7976931348623157E+308;"),
    (2.5, "d:2.5;"),
    (-2.5, "d:-2.5;"),
    (100.0, "d:100;"),
    (1e20, "d:1.0E+20;"),
    (1e21, "d:1.0E+21;"),
    (1e22, "d:1.0E+22;"),
    (0.5, "d:0.5;"),
    (3.0, "d:3;"),
    (-1.0, "d:-1;"),
    (1.0 / 3.0, "d:0.3333333333333333;"),
    (2.0 / 3.0, "d:0.6666666666666666;"),
    (9007199254740993.0, "d:9007199254740992;"),
    (1e100, "d:1.0E+100;"),
    (123e-20, "d:1.23E-18;"),
    // Exact ties between two shortest candidates: PHP rounds half to even, Rust's `{:e}` would round up.
    (608863690781094.25, "d:608863690781094.2;"),
    (1058901167775704.25, "d:1058901167775704.2;"),
    (-2074182183695832.25, "d:-2074182183695832.2;"),
    (608863690781094.75, "d:608863690781094.8;"),
    (1e-300, "d:1.0E-300;"),
    (1e23, "d:1.0E+23;"),
    (8.41e21, "d:8.41E+21;"),
    (5e-310, "d:5.0E-310;"),
];

#[test]
fn serialize_matches_observed_php_output() {
    for &(f, want) in OBSERVED {
        let got = Value::Float(f).to_bytes();
        assert_eq!(
            String::from_utf8_lossy(&got),
            want,
            "serialize({f:e}) (bits {:#018x})",
            f.to_bits()
        );
    }
}

#[test]
fn observed_outputs_parse_back_to_the_same_double() {
    for &(f, text) in OBSERVED {
        let Ok(Value::Float(back)) = value::parse(text.as_bytes(), &Limits::default()) else {
            panic!("{text} does not parse as a float");
        };
        if f.is_nan() {
            assert!(back.is_nan(), "{text}");
        } else {
            assert_eq!(back.to_bits(), f.to_bits(), "{text}");
        }
    }
}

/// `(string)$f` with PHP's default `precision = 14` (used for a float `errorMessage`), as printed by PHP 8.2.
#[test]
fn float_error_message_uses_php_string_conversion() {
    for (f, want) in [
        (0.1 + 0.2, "0.3"),
        (1e25, "1.0E+25"),
        (1e15, "1.0E+15"),
        (1e14, "1.0E+14"),
        (-0.0, "-0"),
        (0.0, "0"),
        (1.5, "1.5"),
        (123456789012345678.0, "1.2345678901235E+17"),
        (0.0001, "0.0001"),
        (0.00001, "1.0E-5"),
        (1.0 / 3.0, "0.33333333333333"),
        (f64::NAN, "NAN"),
        (f64::INFINITY, "INF"),
        (f64::NEG_INFINITY, "-INF"),
        (99999999999999.99, "1.0E+14"),
        (999999999999999.9, "1.0E+15"),
        // zend_dtoa's small-integer path keeps trailing zeros when a 15-digit tie rounds down to even.
        (225557395766905.0, "2.2555739576690E+14"),
        (324359602339605.0, "3.2435960233960E+14"),
        (100000000000005.0, "1.0000000000000E+14"),
        (100000000000015.0, "1.0000000000002E+14"),
        (100000000000001.0, "1.0E+14"),
        (120000000000005.0, "1.2000000000000E+14"),
        (225557395766003.0, "2.25557395766E+14"),
        (999999999999995.0, "1.0E+15"),
        (22555739576690.5, "22555739576690"),
        (608863690781094.25, "6.0886369078109E+14"),
    ] {
        assert_eq!(
            String::from_utf8_lossy(&error_message_of(f)),
            want,
            "(string){f:e}"
        );
    }
}

/// Decodes an `ActionResultingPushDto` whose `errorMessage` is the float `f` and returns the message text.
fn error_message_of(f: f64) -> Vec<u8> {
    let float = Value::Float(f).to_bytes();
    let mut bytes = b"O:54:\"React\\PublisherPulsar\\Inventory\\ActionResultingPushDto\":1:{s:15:\"\0*\0errorMessage\";".to_vec();
    bytes.extend_from_slice(&float);
    bytes.push(b'}');
    match PerformerPush::decode(&bytes) {
        Ok(PerformerPush::ActionResult(result)) => result.error_message.expect("message present"),
        other => panic!("unexpected decode result {other:?}"),
    }
}

// ---- Against the real PHP ----

/// Runs `script` with `php -r`, feeding `input` on stdin; panics with a clear message if there is no PHP.
fn run_php(script: &str, input: &str) -> String {
    let php = std::env::var("PHP_BIN").unwrap_or_else(|_| "php".to_owned());
    let mut child = match Command::new(&php)
        .args(["-d", "serialize_precision=-1", "-d", "precision=14", "-r", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
    {
        Ok(child) => child,
        Err(e) => panic!(
            "cannot run `{php}` ({e}): these tests compare our float output with PHP 8.2 and need \
             php8.2-cli on PATH (CI installs it; locally `apt-get install php8.2-cli`, or set PHP_BIN)"
        ),
    };
    // Write on a thread: PHP answers line by line and a full stdout pipe would otherwise deadlock us.
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let input = input.to_owned();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child.wait_with_output().expect("php runs to completion");
    writer
        .join()
        .expect("writer thread")
        .expect("writing to php");
    assert!(output.status.success(), "`{php}` failed: {}", output.status);
    String::from_utf8(output.stdout).expect("php printed UTF-8")
}

fn assert_php_8() {
    let version = run_php("echo PHP_MAJOR_VERSION;", "");
    assert_eq!(
        version.trim(),
        "8",
        "the float format is checked against PHP 8 (found PHP {version})"
    );
}

/// A small deterministic generator (splitmix64), so failures reproduce.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// Doubles worth checking: random bit patterns (every exponent), random "human" decimals, large integers,
/// 15-digit integers, binary fractions near 2^50, powers of ten and their neighbours (which include the
/// fixed/exponential switch points).
fn interesting_doubles(count: usize) -> Vec<f64> {
    let mut rng = SplitMix(0x5EED_F10A_7000_0001);
    let mut values = Vec::new();
    for exp in -330..=310 {
        let p: f64 = format!("1e{exp}").parse().expect("valid literal");
        values.extend([
            p,
            -p,
            f64::from_bits(p.to_bits().wrapping_add(1)),
            f64::from_bits(p.to_bits().wrapping_sub(1)),
            1.5 * p,
            9.999_999_999_999_999 * p,
        ]);
    }
    values.extend([
        f64::MIN_POSITIVE,
        f64::MAX,
        f64::MIN,
        f64::EPSILON,
        2f64.powi(53),
        2f64.powi(53) + 2.0,
        2f64.powi(63),
        2f64.powi(64),
        0.1 + 0.2,
    ]);
    while values.len() < count {
        let r = rng.next();
        let f = match r % 6 {
            // A 15-digit integer: the range where `(string)` has a rounding quirk.
            4 => (100_000_000_000_000 + rng.next() % 900_000_000_000_000) as f64,
            // Binary fractions with 15-17 significant digits: where exact decimal ties between two shortest
            // candidates happen (e.g. 608863690781094.25).
            5 => {
                let int = (1u64 << 40) + rng.next() % (1u64 << 53);
                int as f64 + (rng.next() % 8) as f64 / 8.0
            }
            // Any bit pattern (NaNs included: PHP prints every NaN as NAN).
            0 | 1 => f64::from_bits(rng.next()),
            // A short decimal with a random exponent, like numbers people write.
            2 => {
                let mantissa = rng.next() % 10_000_000;
                let exp = (rng.next() % 60) as i32 - 30;
                let text = format!("{mantissa}e{exp}");
                text.parse().expect("valid literal")
            }
            // An integer-valued double around 2^50..2^60.
            _ => (rng.next() >> (4 + rng.next() % 10)) as f64,
        };
        values.push(f);
    }
    values
}

#[test]
fn serialize_matches_php_on_random_doubles_against_php() {
    assert_php_8();
    // PHP_FLOAT_CASES raises the count for a stress run (e.g. 1000000); the default keeps the test ~1 s.
    let count = std::env::var("PHP_FLOAT_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(30_000);
    let values = interesting_doubles(count);
    let input: String = values
        .iter()
        .map(|f| format!("{:016x}\n", f.to_bits()))
        .collect();
    let script = r#"while (($l = fgets(STDIN)) !== false) {
        $f = unpack('E', hex2bin(trim($l)))[1];
        echo serialize($f), "\t", (string)$f, "\n";
    }"#;
    let output = run_php(script, &input);
    let lines: Vec<&str> = output.lines().collect();
    assert_eq!(lines.len(), values.len(), "php answered every value");
    let mut mismatches = Vec::new();
    for (f, line) in values.iter().zip(&lines) {
        let (php_serialized, php_string) = line.split_once('\t').expect("two columns");
        let ours = String::from_utf8_lossy(&Value::Float(*f).to_bytes()).into_owned();
        if ours != php_serialized {
            mismatches.push(format!(
                "{:#018x}: ours {ours} php {php_serialized}",
                f.to_bits()
            ));
        }
        let ours = String::from_utf8_lossy(&error_message_of(*f)).into_owned();
        if ours != php_string {
            mismatches.push(format!(
                "{:#018x}: (string) ours {ours} php {php_string}",
                f.to_bits()
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} mismatches, first: {:#?}",
        mismatches.len(),
        &mismatches[..mismatches.len().min(20)]
    );
}

#[test]
fn parse_matches_php_unserialize_on_float_texts_against_php() {
    assert_php_8();
    let mut rng = SplitMix(0xF10A_7000_0002);
    let mut texts = vec![
        "d:+1.5;".to_owned(),
        "d:.5;".to_owned(),
        "d:5.;".to_owned(),
        "d:1e5;".to_owned(),
        "d:1E+5;".to_owned(),
        "d:1.0E+400;".to_owned(),
        "d:-1.0E+400;".to_owned(),
        "d:1e-400;".to_owned(),
        "d:-0;".to_owned(),
        "d:007.50;".to_owned(),
        "d:2.4703282292062328e-324;".to_owned(),
        "d:2.4703282292062327e-324;".to_owned(),
        "d:1.7976931348623158e308;".to_owned(),
        "d:9007199254740993;".to_owned(),
        "d:0.30000000000000004441;".to_owned(),
    ];
    for _ in 0..5_000 {
        let int_digits = rng.next() % 25;
        let frac_digits = rng.next() % 25;
        let mut text = String::from("d:");
        match rng.next() % 3 {
            0 => text.push('-'),
            1 => text.push('+'),
            _ => {}
        }
        for _ in 0..int_digits {
            text.push(char::from(b'0' + (rng.next() % 10) as u8));
        }
        if frac_digits > 0 || int_digits == 0 {
            text.push('.');
            for _ in 0..frac_digits.max(1) {
                text.push(char::from(b'0' + (rng.next() % 10) as u8));
            }
        }
        if rng.next() % 2 == 0 {
            text.push(if rng.next() % 2 == 0 { 'e' } else { 'E' });
            let exp = (rng.next() % 700) as i64 - 350;
            text.push_str(&format!("{exp:+}"));
        }
        text.push(';');
        texts.push(text);
    }
    let input: String = texts.iter().map(|t| format!("{t}\n")).collect();
    let script = r#"while (($l = fgets(STDIN)) !== false) {
        $v = unserialize(rtrim($l, "\n"));
        echo is_float($v) ? bin2hex(pack('E', $v)) : 'REJECTED', "\n";
    }"#;
    let output = run_php(script, &input);
    let lines: Vec<&str> = output.lines().collect();
    assert_eq!(lines.len(), texts.len(), "php answered every text");
    for (text, php) in texts.iter().zip(&lines) {
        let ours = match value::parse(text.as_bytes(), &Limits::default()) {
            Ok(Value::Float(f)) => format!("{:016x}", f.to_bits()),
            _ => "REJECTED".to_owned(),
        };
        assert_eq!(&ours, php, "{text}");
    }
}
