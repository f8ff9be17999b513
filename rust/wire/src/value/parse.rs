//! The strict parser: exactly one value spanning the whole input, within the grammar and [`Limits`] described
//! in the module docs of [`crate::value`].
//!
//! It must never panic or index out of bounds on any input, allocate more than the remaining input could
//! justify, recurse deeper than [`DEPTH_CAP`], or recover from anything outside the grammar.

use super::{Key, Limits, Object, Property, Value, Visibility, DEPTH_CAP};
use crate::WireError;

/// The fewest bytes one array entry or object property can take (`i:0;N;`). Used to bound preallocation by
/// what the remaining input could actually hold, whatever count the input claims.
const MIN_ENTRY_BYTES: usize = 6;

/// Parses exactly one value that must span the whole input. Never panics; every rejection says where.
///
/// Error offsets: [`WireError::Incomplete`] gives where more bytes were needed (the input's end);
/// [`WireError::Syntax`] the offending byte; [`WireError::Limit`] and [`WireError::Unsupported`] the first byte
/// of the offending value (its type tag; 0 for an input over [`Limits::max_input`]);
/// [`WireError::Trailing`] the first byte after the value.
///
/// `Incomplete` means the input ended where the grammar needed more bytes (a truncated message). A declared
/// string length that could never fit within [`Limits::max_input`], or an element count over
/// [`Limits::max_elements`], is a `Limit` instead, found before anything is read or allocated for it.
///
/// [`WireError::Incomplete`]: crate::WireError::Incomplete
/// [`WireError::Syntax`]: crate::WireError::Syntax
/// [`WireError::Limit`]: crate::WireError::Limit
/// [`WireError::Unsupported`]: crate::WireError::Unsupported
/// [`WireError::Trailing`]: crate::WireError::Trailing
pub fn parse(input: &[u8], limits: &Limits) -> Result<Value, crate::WireError> {
    if input.len() > limits.max_input {
        return Err(WireError::Limit {
            offset: 0,
            what: "input longer than max_input",
        });
    }
    let mut parser = Parser {
        input,
        pos: 0,
        max_input: limits.max_input,
        max_depth: limits.max_depth.min(DEPTH_CAP),
        max_elements: limits.max_elements,
        elements: 0,
    };
    let value = parser.value(1)?;
    if parser.pos < input.len() {
        return Err(WireError::Trailing { offset: parser.pos });
    }
    Ok(value)
}

/// Splits a serialized property name into bare name and visibility, as `zend_unmangle_property_name_ex` does,
/// but refusing what PHP only warns about. `Err` carries the reason.
fn unmangle(name: &[u8]) -> Result<(Vec<u8>, Visibility), &'static str> {
    let Some(rest) = name.strip_prefix(b"\0") else {
        return Ok((name.to_vec(), Visibility::Public));
    };
    let Some(nul) = rest.iter().position(|&b| b == 0) else {
        return Err("property name starts with NUL but has no second NUL");
    };
    let (class, bare) = (
        rest.get(..nul).unwrap_or_default(),
        rest.get(nul + 1..).unwrap_or_default(),
    );
    if class.is_empty() {
        return Err("mangled property name with an empty class part");
    }
    if bare.is_empty() {
        return Err("mangled property name with an empty name");
    }
    let visibility = if class == b"*" {
        Visibility::Protected
    } else {
        Visibility::Private(class.to_vec())
    };
    Ok((bare.to_vec(), visibility))
}

/// Whether `byte` may appear in a class name given to `unserialize()` (PHP's own check is the same set:
/// letters, digits, `_`, the namespace separator and every byte from 0x80 on).
fn is_class_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'\\' || byte >= 0x80
}

/// The state of one parse: the input, the read position and the limits with what has been used of them.
///
/// Invariant: `pos <= input.len()`. All reads go through `get`, so even a broken invariant could not panic.
struct Parser<'a> {
    input: &'a [u8],
    pos: usize,
    max_input: usize,
    max_depth: usize,
    max_elements: usize,
    /// Array entries plus object properties announced so far.
    elements: usize,
}

/// Parser results.
type PResult<T> = Result<T, WireError>;

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.input.get(self.pos).copied()
    }

    fn remaining(&self) -> usize {
        self.input.len().saturating_sub(self.pos)
    }

    /// The next byte; the end of input is `Incomplete` because more bytes could follow.
    fn next(&mut self) -> PResult<u8> {
        let byte = self
            .peek()
            .ok_or(WireError::Incomplete { offset: self.pos })?;
        self.pos += 1;
        Ok(byte)
    }

    fn expect(&mut self, byte: u8, what: &'static str) -> PResult<()> {
        let at = self.pos;
        if self.next()? == byte {
            Ok(())
        } else {
            Err(WireError::Syntax { offset: at, what })
        }
    }

    /// `len` raw bytes. A length the input does not hold is `Incomplete` if the value could still fit within
    /// `max_input`, else a `Limit` on the value starting at `value_start`. Nothing is allocated here.
    fn take(&mut self, len: usize, value_start: usize) -> PResult<&'a [u8]> {
        if len > self.remaining() {
            // +2 for the closing `"` and the `;` or `:` that must follow.
            let needed = self.pos.saturating_add(len).saturating_add(2);
            return Err(if needed > self.max_input {
                WireError::Limit {
                    offset: value_start,
                    what: "declared length exceeds max_input",
                }
            } else {
                WireError::Incomplete {
                    offset: self.input.len(),
                }
            });
        }
        let end = self.pos + len;
        let bytes = self.input.get(self.pos..end).ok_or(WireError::Incomplete {
            offset: self.input.len(),
        })?;
        self.pos = end;
        Ok(bytes)
    }

    /// A length or count: one or more decimal digits, nothing else (no sign). Too large a number saturates to
    /// `usize::MAX`, which every caller's limit check then rejects, so it never reaches an allocation.
    fn length(&mut self) -> PResult<usize> {
        let at = self.pos;
        let first = self.next()?;
        if !first.is_ascii_digit() {
            return Err(WireError::Syntax {
                offset: at,
                what: "expected a decimal length or count",
            });
        }
        let mut n = usize::from(first - b'0');
        while let Some(digit) = self.peek().filter(u8::is_ascii_digit) {
            n = n
                .saturating_mul(10)
                .saturating_add(usize::from(digit - b'0'));
            self.pos += 1;
        }
        Ok(n)
    }

    /// `[+-]?[0-9]+` as an `i64` (PHP writes no `+` but accepts it). Out of range is an error (PHP would clamp).
    fn int(&mut self) -> PResult<i64> {
        let start = self.pos;
        let negative = self.peek() == Some(b'-');
        if matches!(self.peek(), Some(b'-' | b'+')) {
            self.pos += 1;
        }
        let at = self.pos;
        if !self.next()?.is_ascii_digit() {
            return Err(WireError::Syntax {
                offset: at,
                what: "expected a decimal digit",
            });
        }
        self.pos = at;
        // Accumulate the magnitude as u64 so that i64::MIN (whose magnitude is i64::MAX + 1) fits.
        let mut magnitude: u64 = 0;
        let mut overflow = false;
        while let Some(digit) = self.peek().filter(u8::is_ascii_digit) {
            match magnitude
                .checked_mul(10)
                .and_then(|m| m.checked_add(u64::from(digit - b'0')))
            {
                Some(m) => magnitude = m,
                None => overflow = true,
            }
            self.pos += 1;
        }
        let value = if negative {
            0i64.checked_sub_unsigned(magnitude)
        } else {
            i64::try_from(magnitude).ok()
        };
        match value {
            Some(v) if !overflow => Ok(v),
            _ => Err(WireError::Syntax {
                offset: start,
                what: "integer out of the 64-bit range",
            }),
        }
    }

    /// The text of a float up to (not including) its `;`, following PHP's grammar:
    /// `NAN`, `INF`, `-INF`, or `[+-]?(digits | digits.digits? | .digits)([eE][+-]?digits)?`.
    fn float(&mut self) -> PResult<f64> {
        let start = self.pos;
        // No number starts with `N` or `I`, and `-I` can only be `-INF`: once seen, the literal must follow.
        let literal: Option<(&[u8], f64)> = match self.peek() {
            Some(b'N') => Some((b"NAN", f64::NAN)),
            Some(b'I') => Some((b"INF", f64::INFINITY)),
            Some(b'-') if self.input.get(self.pos + 1) == Some(&b'I') => {
                Some((b"-INF", f64::NEG_INFINITY))
            }
            _ => None,
        };
        if let Some((literal, value)) = literal {
            for &expected in literal {
                self.expect(expected, "invalid float literal (NAN, INF or -INF)")?;
            }
            return Ok(value);
        }
        if matches!(self.peek(), Some(b'-' | b'+')) {
            self.pos += 1;
        }
        let mut digits = self.skip_digits();
        if self.peek() == Some(b'.') {
            self.pos += 1;
            digits += self.skip_digits();
        }
        if digits == 0 {
            let at = self.pos;
            self.next()?;
            return Err(WireError::Syntax {
                offset: at,
                what: "expected a digit in a float",
            });
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'-' | b'+')) {
                self.pos += 1;
            }
            if self.skip_digits() == 0 {
                let at = self.pos;
                self.next()?;
                return Err(WireError::Syntax {
                    offset: at,
                    what: "expected a digit in a float exponent",
                });
            }
        }
        let text = self.input.get(start..self.pos).unwrap_or_default();
        // The grammar above is a subset of what Rust's float parser accepts (same decimal forms, exponent with
        // either case and sign); out-of-range values become ±INF or ±0 as with PHP's strtod.
        std::str::from_utf8(text)
            .ok()
            .and_then(|t| t.parse::<f64>().ok())
            .ok_or(WireError::Syntax {
                offset: start,
                what: "invalid float",
            })
    }

    fn skip_digits(&mut self) -> usize {
        let start = self.pos;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
        self.pos - start
    }

    /// The part of a string after its `s`: `:<len>:"<bytes>";`.
    fn string_body(&mut self, value_start: usize) -> PResult<Vec<u8>> {
        self.expect(b':', "expected ':' after the type tag")?;
        let len = self.length()?;
        self.expect(b':', "expected ':' after a string length")?;
        self.expect(b'"', "expected '\"' to open a string")?;
        let bytes = self.take(len, value_start)?;
        self.expect(b'"', "expected '\"' after the string's declared length")?;
        self.expect(b';', "expected ';' after a string")?;
        Ok(bytes.to_vec())
    }

    /// Accounts for a container of `count` elements starting at `value_start`, before anything is allocated
    /// for it, and gives the capacity to reserve: never more than the remaining input could hold.
    fn announce(&mut self, count: usize, value_start: usize) -> PResult<usize> {
        let total = self.elements.saturating_add(count);
        if total > self.max_elements {
            return Err(WireError::Limit {
                offset: value_start,
                what: "more elements than max_elements",
            });
        }
        self.elements = total;
        Ok(count.min(self.remaining() / MIN_ENTRY_BYTES))
    }

    fn check_depth(&self, depth: usize, value_start: usize) -> PResult<()> {
        if depth > self.max_depth {
            return Err(WireError::Limit {
                offset: value_start,
                what: "nesting deeper than max_depth",
            });
        }
        Ok(())
    }

    /// One value at nesting `depth` (the top-level value is 1). Recursion is bounded by `max_depth`, itself
    /// bounded by [`DEPTH_CAP`].
    fn value(&mut self, depth: usize) -> PResult<Value> {
        let start = self.pos;
        let tag = self.next()?;
        match tag {
            b'N' => {
                self.expect(b';', "expected ';' after N")?;
                Ok(Value::Null)
            }
            b'b' => {
                self.expect(b':', "expected ':' after the type tag")?;
                let at = self.pos;
                let value = match self.next()? {
                    b'0' => false,
                    b'1' => true,
                    _ => {
                        return Err(WireError::Syntax {
                            offset: at,
                            what: "a boolean must be 0 or 1",
                        })
                    }
                };
                self.expect(b';', "expected ';' after a boolean")?;
                Ok(Value::Bool(value))
            }
            b'i' => {
                self.expect(b':', "expected ':' after the type tag")?;
                let value = self.int()?;
                self.expect(b';', "expected ';' after an integer")?;
                Ok(Value::Int(value))
            }
            b'd' => {
                self.expect(b':', "expected ':' after the type tag")?;
                let value = self.float()?;
                self.expect(b';', "expected ';' after a float")?;
                Ok(Value::Float(value))
            }
            b's' => Ok(Value::Str(self.string_body(start)?)),
            b'a' => {
                self.check_depth(depth, start)?;
                self.expect(b':', "expected ':' after the type tag")?;
                let count = self.length()?;
                self.expect(b':', "expected ':' after an array's count")?;
                self.expect(b'{', "expected '{' to open an array")?;
                let capacity = self.announce(count, start)?;
                let mut entries = Vec::with_capacity(capacity);
                for _ in 0..count {
                    let key = self.key()?;
                    let value = self.value(depth + 1)?;
                    entries.push((key, value));
                }
                self.expect(b'}', "expected '}' after an array's last entry")?;
                Ok(Value::Array(entries))
            }
            b'O' => {
                self.check_depth(depth, start)?;
                self.expect(b':', "expected ':' after the type tag")?;
                let len = self.length()?;
                self.expect(b':', "expected ':' after a class name's length")?;
                self.expect(b'"', "expected '\"' to open a class name")?;
                let class_at = self.pos;
                let class = self.take(len, start)?;
                if class.is_empty() {
                    return Err(WireError::Syntax {
                        offset: class_at,
                        what: "empty class name",
                    });
                }
                if let Some(bad) = class.iter().position(|&b| !is_class_byte(b)) {
                    return Err(WireError::Syntax {
                        offset: class_at + bad,
                        what: "byte not allowed in a class name",
                    });
                }
                self.expect(b'"', "expected '\"' after the class name's declared length")?;
                self.expect(b':', "expected ':' after a class name")?;
                let count = self.length()?;
                self.expect(b':', "expected ':' after an object's property count")?;
                self.expect(b'{', "expected '{' to open an object")?;
                let capacity = self.announce(count, start)?;
                let mut properties = Vec::with_capacity(capacity);
                for _ in 0..count {
                    let (name, visibility) = self.property_name()?;
                    let value = self.value(depth + 1)?;
                    properties.push(Property {
                        name,
                        visibility,
                        value,
                    });
                }
                self.expect(b'}', "expected '}' after an object's last property")?;
                Ok(Value::Object(Object {
                    class: class.to_vec(),
                    properties,
                }))
            }
            b'r' | b'R' => Err(WireError::Unsupported {
                offset: start,
                what: "references (r:/R:)",
            }),
            b'C' => Err(WireError::Unsupported {
                offset: start,
                what: "custom serialization (C:)",
            }),
            b'E' => Err(WireError::Unsupported {
                offset: start,
                what: "enum cases (E:)",
            }),
            b'S' => Err(WireError::Unsupported {
                offset: start,
                what: "escaped strings (S:)",
            }),
            _ => Err(WireError::Syntax {
                offset: start,
                what: "unknown type tag",
            }),
        }
    }

    /// An array key: `i:` or `s:`, nothing else (PHP refuses other keys too).
    fn key(&mut self) -> PResult<Key> {
        let start = self.pos;
        match self.next()? {
            b'i' => {
                self.expect(b':', "expected ':' after the type tag")?;
                let value = self.int()?;
                self.expect(b';', "expected ';' after an integer")?;
                Ok(Key::Int(value))
            }
            b's' => Ok(Key::Str(self.string_body(start)?)),
            _ => Err(WireError::Syntax {
                offset: start,
                what: "an array key must be i: or s:",
            }),
        }
    }

    /// A property name: a mangled `s:` string, or an `i:` integer (PHP allows numeric property names; they are
    /// public and named by their decimal text).
    fn property_name(&mut self) -> PResult<(Vec<u8>, Visibility)> {
        let start = self.pos;
        match self.key() {
            Ok(Key::Int(i)) => Ok((i.to_string().into_bytes(), Visibility::Public)),
            Ok(Key::Str(name)) => unmangle(&name).map_err(|what| WireError::Syntax {
                // The name's first byte: after `s:<len>:"`.
                offset: self.pos.saturating_sub(name.len() + 2),
                what,
            }),
            Err(WireError::Syntax { offset, .. }) if offset == start => Err(WireError::Syntax {
                offset,
                what: "a property name must be s: or i:",
            }),
            Err(e) => Err(e),
        }
    }
}
