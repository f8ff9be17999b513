//! PHP's float-to-text conversions, reproduced digit for digit.
//!
//! Two conversions matter here:
//! - `serialize()` (`serialize_precision = -1`): the *shortest* digits that read back as the same double
//!   (`zend_gcvt` fed by `zend_dtoa` mode 0), laid out with 17 as the "fixed or exponential" threshold.
//! - `(string)$float` (`precision = 14`): the double rounded to 14 significant digits, trailing zeros removed,
//!   laid out with 14 as the threshold. Only used to turn a float `errorMessage` into text.
//!
//! The layout rules (from `php_gcvt`, checked against `php8.2-cli`, see `tests/php_floats.rs`): with `decpt` the
//! position of the decimal point relative to the digits (`0.d1d2… × 10^decpt`),
//! - `decpt < -3` or `decpt > threshold`: exponential, `d1.d2d3…E±x` (at least one digit after the point, so
//!   `1.0E+25`; the exponent has no leading zeros and always a sign);
//! - `decpt <= 0`: `0.` then `-decpt` zeros then the digits (`0.0001`);
//! - otherwise: the digits with the point after `decpt` of them, padded with zeros and without a point when
//!   there is no fraction (`1`, `1000000000000000`, `2.5`).
//!
//! `NAN`, `INF` and `-INF` are spelled that way; negative zero is `-0`.
//!
//! This module must never panic: it only formats numbers we already hold.

/// Appends what PHP 8.2's `serialize()` writes for `value` between `d:` and `;`.
pub(crate) fn write_serialized(value: f64, out: &mut Vec<u8>) {
    if let Some(special) = special(value) {
        out.extend_from_slice(special);
        return;
    }
    // Rust's `{:e}` without a precision gives the shortest digits that round-trip and, among those, the ones
    // closest to the exact value: the same contract as `zend_dtoa` mode 0, except for exact ties (see
    // `shortest_digits`).
    let (digits, decpt) = shortest_digits(value.abs());
    layout(value.is_sign_negative(), &digits, decpt, 17, out);
}

/// The shortest round-trip digits of a finite, non-negative `value` (no trailing zeros) and the decimal point
/// position, exactly as `zend_dtoa` mode 0 picks them.
///
/// When the exact binary value lies exactly halfway between two shortest candidates that both round-trip
/// (`608863690781094.25` between `…094.2` and `…094.3`), Rust's formatter rounds the last digit up while
/// `zend_dtoa` rounds half to even (`…094.2`, which PHP prints). Rust only ever errs upwards, so a result
/// ending in an odd digit is checked: if one less in the last digit still round-trips and the value is exactly
/// the midpoint, the even candidate is PHP's.
fn shortest_digits(value: f64) -> (Vec<u8>, i64) {
    let (mut digits, decpt) = split_sci(&format!("{value:e}"));
    let Some(&last) = digits.last() else {
        return (digits, decpt);
    };
    if (last - b'0') % 2 == 1 {
        let mut lower = digits.clone();
        if let Some(l) = lower.last_mut() {
            *l -= 1;
        }
        // Cheap test first: most odd endings have no round-tripping neighbour, and the midpoint test formats
        // the exact expansion.
        if round_trips(&lower, decpt, value) && is_exact_midpoint(value, &digits, decpt) {
            digits = lower;
            strip_trailing_zeros(&mut digits);
        }
    }
    (digits, decpt)
}

/// Whether `value` is exactly halfway between `digits` and the number one less in the last digit, i.e. its exact
/// decimal expansion is `digits - 1` followed by a single `5`.
fn is_exact_midpoint(value: f64, digits: &[u8], decpt: i64) -> bool {
    // A double's exact decimal expansion has at most 767 significant digits; 800 shows all of them.
    let (exact, exact_decpt) = split_sci(&format!("{value:.800e}"));
    if exact_decpt != decpt {
        return false;
    }
    let n = digits.len();
    let (Some(head), Some(&five), Some(tail)) = (exact.get(..n), exact.get(n), exact.get(n + 1..))
    else {
        return false;
    };
    let mut below = digits.to_vec();
    if let Some(l) = below.last_mut() {
        *l = l.saturating_sub(1);
    }
    head == below.as_slice() && five == b'5' && tail.iter().all(|&d| d == b'0')
}

/// Whether the decimal `0.digits × 10^decpt` reads back as `value`.
fn round_trips(digits: &[u8], decpt: i64, value: f64) -> bool {
    let text = format!("0.{}e{decpt}", std::str::from_utf8(digits).unwrap_or(""));
    text.parse::<f64>()
        .is_ok_and(|back| back.to_bits() == value.to_bits())
}

/// PHP 8.2's `(string)$value` with the default `precision = 14`.
pub(crate) fn to_php_string(value: f64) -> Vec<u8> {
    let mut out = Vec::new();
    if let Some(special) = special(value) {
        out.extend_from_slice(special);
        return out;
    }
    let abs = value.abs();
    // 14 significant digits, correctly rounded (ties to even on the exact binary value, as `zend_dtoa` mode 2
    // does), without the trailing zeros that `zend_dtoa` strips.
    let (mut digits, decpt) = split_sci(&format!("{abs:.13e}"));
    strip_trailing_zeros(&mut digits);
    // One `zend_dtoa` quirk: an integer of 15 digits (1e14 <= v < 1e15) ending in 5 is an exact tie that its
    // floating-point fast path gives up on; the "small integer" path that takes over rounds half to even and,
    // when that rounds down, keeps trailing zeros: (string)100000000000005.0 is "1.0000000000000E+14".
    if abs.fract() == 0.0 && (1e14..1e15).contains(&abs) {
        // Exact: an integer below 1e15 fits in u64 losslessly.
        let int = abs as u64;
        let (head, last) = (int / 10, int % 10);
        if last == 5 && head % 2 == 0 {
            digits = head.to_string().into_bytes();
        }
    }
    layout(value.is_sign_negative(), &digits, decpt, 14, &mut out);
    out
}

/// Splits Rust's `d.ddde<exp>` text into its digits and the decimal point position `exp + 1`.
fn split_sci(sci: &str) -> (Vec<u8>, i64) {
    // `{:e}` always writes an `e` and a valid exponent; the fallbacks only keep this total without a panic path.
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((sci, "0"));
    let exponent: i64 = exponent.parse().unwrap_or(0);
    let mut digits: Vec<u8> = mantissa.bytes().filter(u8::is_ascii_digit).collect();
    if digits.is_empty() {
        digits.push(b'0');
    }
    (digits, exponent + 1)
}

/// zend_dtoa returns no trailing zeros (the value 0 itself is the single digit "0").
fn strip_trailing_zeros(digits: &mut Vec<u8>) {
    while digits.len() > 1 && digits.last() == Some(&b'0') {
        digits.pop();
    }
}

/// The spellings PHP uses for values without digits.
fn special(value: f64) -> Option<&'static [u8]> {
    if value.is_nan() {
        Some(b"NAN")
    } else if value.is_infinite() {
        Some(if value > 0.0 { b"INF" } else { b"-INF" })
    } else {
        None
    }
}

/// Lays out digits (`0.d1d2… × 10^decpt`) the way `php_gcvt` does, with `threshold` as its `ndigit`.
fn layout(negative: bool, digits: &[u8], decpt: i64, threshold: i64, out: &mut Vec<u8>) {
    if negative {
        out.push(b'-');
    }
    if decpt < -3 || decpt > threshold {
        let (first, rest) = digits.split_first().unwrap_or((&b'0', &[]));
        out.push(*first);
        out.push(b'.');
        if rest.is_empty() {
            out.push(b'0');
        } else {
            out.extend_from_slice(rest);
        }
        out.push(b'E');
        let power = decpt - 1;
        out.push(if power < 0 { b'-' } else { b'+' });
        out.extend_from_slice(power.unsigned_abs().to_string().as_bytes());
    } else if decpt <= 0 {
        out.extend_from_slice(b"0.");
        // decpt is in -3..=0 here.
        for _ in 0..decpt.unsigned_abs() {
            out.push(b'0');
        }
        out.extend_from_slice(digits);
    } else {
        // decpt is in 1..=threshold here, so the conversion cannot fail.
        let int_len = usize::try_from(decpt).unwrap_or(0);
        if digits.len() > int_len {
            let (int_part, frac) = digits.split_at(int_len);
            out.extend_from_slice(int_part);
            out.push(b'.');
            out.extend_from_slice(frac);
        } else {
            out.extend_from_slice(digits);
            for _ in digits.len()..int_len {
                out.push(b'0');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ser(value: f64) -> String {
        let mut out = Vec::new();
        write_serialized(value, &mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    fn string(value: f64) -> String {
        String::from_utf8_lossy(&to_php_string(value)).into_owned()
    }

    #[test]
    fn serialize_layout() {
        assert_eq!(ser(0.0), "0");
        assert_eq!(ser(-0.0), "-0");
        assert_eq!(ser(1.0), "1");
        assert_eq!(ser(0.1), "0.1");
        assert_eq!(ser(-2.5), "-2.5");
        assert_eq!(ser(1e25), "1.0E+25");
        assert_eq!(ser(1.5e-7), "1.5E-7");
        assert_eq!(ser(0.0001), "0.0001");
        assert_eq!(ser(0.00001), "1.0E-5");
        assert_eq!(ser(1e16), "10000000000000000");
        assert_eq!(ser(1e17), "1.0E+17");
    }

    #[test]
    fn string_conversion_uses_precision_14() {
        assert_eq!(string(0.1 + 0.2), "0.3");
        assert_eq!(string(1.0 / 3.0), "0.33333333333333");
        assert_eq!(string(1e14), "1.0E+14");
        assert_eq!(string(1e13), "10000000000000");
        assert_eq!(string(123456789012345678.0), "1.2345678901235E+17");
        assert_eq!(string(999999999999999.9), "1.0E+15");
        assert_eq!(string(-0.0), "-0");
        assert_eq!(string(f64::NAN), "NAN");
        assert_eq!(string(f64::NEG_INFINITY), "-INF");
    }
}
