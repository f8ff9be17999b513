//! The generic PHP value model, with a strict parser and a byte-exact writer.
//!
//! Strings are bytes (PHP strings are byte strings; protected names hold NULs). Objects keep their class name
//! and their properties in order with their visibility, so `write(parse(b)) == b` for everything PHP 8.2's
//! `serialize()` produces within the supported subset (no references `r:`/`R:`, no `C:`, no enums `E:`).
//!
//! The parser must never: panic or index out of bounds on any input, allocate more than the remaining input
//! could justify, recurse deeper than [`Limits::max_depth`] (capped at [`DEPTH_CAP`]), or accept anything
//! outside the grammar below (no "best effort" recovery, no trailing bytes).
//!
//! Grammar accepted (PHP 8.2's `unserialize()` subset, stricter where PHP only warns):
//! - `N;`, `b:0;`, `b:1;`
//! - `i:[+-]?[0-9]+;` within `i64`
//! - `d:` then `NAN`, `INF`, `-INF` or `[+-]?(d+|d+.d*|.d+)([eE][+-]?d+)?`, then `;`
//! - `s:<len>:"<len bytes>";`, `a:<n>:{<key><value>...}` with `i:`/`s:` keys
//! - `O:<len>:"<class>":<n>:{<name><value>...}`; names are `s:` (visibility-mangled) or `i:` (public)
//!
//! Lengths and counts are unsigned decimal digits (leading zeros are accepted, as PHP does).
//!
//! Layout: this file holds the model ([`Value`], [`Object`], [`Limits`]); `parse` the parser ([`parse()`]),
//! `write` the writer ([`write()`]).

mod parse;
mod write;

pub use parse::parse;
pub use write::write;
use write::write_object;

/// Bounds the parser enforces before allocating. The defaults fit every protocol message with a wide margin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted input, in bytes.
    pub max_input: usize,
    /// Deepest nesting of arrays/objects (the top-level value is depth 1; scalars do not nest). Values above
    /// [`DEPTH_CAP`] act as [`DEPTH_CAP`].
    pub max_depth: usize,
    /// Most elements (array entries plus object properties) in the whole input.
    pub max_elements: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_input: 1 << 20,
            max_depth: 16,
            max_elements: 4096,
        }
    }
}

/// Visibility of an object property, as encoded in its serialized name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Visibility {
    /// `name`
    Public,
    /// `\0*\0name`
    Protected,
    /// `\0Class\0name`, holding the declaring class.
    Private(Vec<u8>),
}

/// An array key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Key {
    /// `i:N;`
    Int(i64),
    /// `s:N:"...";`
    Str(Vec<u8>),
}

/// One property of an object.
#[derive(Debug, Clone, PartialEq)]
pub struct Property {
    /// The bare name, without the visibility prefix.
    pub name: Vec<u8>,
    /// Public, protected or private.
    pub visibility: Visibility,
    /// The value.
    pub value: Value,
}

/// An object: its class name and its properties in serialized order. Plain data; nothing is instantiated.
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    /// Fully qualified class name as written (PHP treats it case-insensitively).
    pub class: Vec<u8>,
    /// Properties in order.
    pub properties: Vec<Property>,
}

/// A PHP value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `N;`
    Null,
    /// `b:0;` / `b:1;`
    Bool(bool),
    /// `i:N;`
    Int(i64),
    /// `d:X;` (written the way PHP 8.2 writes it with `serialize_precision = -1`)
    Float(f64),
    /// `s:N:"...";` (any bytes)
    Str(Vec<u8>),
    /// `a:N:{...}` with keys in order.
    Array(Vec<(Key, Value)>),
    /// `O:N:"Class":M:{...}`
    Object(Object),
}

/// Hard ceiling on [`Limits::max_depth`]: larger settings are treated as this.
///
/// The parser recurses once per nesting level (and so do `Drop` and [`write()`] on the resulting [`Value`]), so an
/// unbounded depth setting would let hostile input overflow the stack, which aborts the process rather than
/// returning an error. 256 levels is far beyond any protocol message and far below any thread's stack.
pub const DEPTH_CAP: usize = 256;

impl Value {
    /// PHP's `(bool)` of this value: false for null, false, `0`, `0.0` and `-0.0`, `""`, `"0"` and the empty
    /// array; true for everything else (`NAN`, `"0.0"` and every object included).
    pub fn is_truthy(&self) -> bool {
        match self {
            Value::Null => false,
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::Float(f) => *f != 0.0,
            Value::Str(s) => !(s.is_empty() || s.as_slice() == b"0"),
            Value::Array(entries) => !entries.is_empty(),
            Value::Object(_) => true,
        }
    }

    /// `serialize()` bytes of this value.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        write(self, &mut out);
        out
    }
}

impl Object {
    /// `serialize()` bytes of this object (the same as `Value::Object(self.clone()).to_bytes()`).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        write_object(self, &mut out);
        out
    }

    /// The first property with this bare name, whatever its visibility (PHP accepts public-style keys for
    /// protected properties when unserializing, so peers may send either).
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.properties
            .iter()
            .find(|p| p.name == name.as_bytes())
            .map(|p| &p.value)
    }

    /// Whether the class name equals `class`, ignoring ASCII case as PHP does (a leading `\` is ignored too).
    pub fn class_is(&self, class: &str) -> bool {
        let own = self.class.strip_prefix(b"\\").unwrap_or(&self.class);
        own.eq_ignore_ascii_case(class.as_bytes())
    }
}
