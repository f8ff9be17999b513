//! Decode errors: what was wrong and at which byte offset.

use thiserror::Error;

/// Everything that can go wrong while reading a message. Offsets count bytes from the start of the input.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WireError {
    /// The input ended in the middle of a value.
    #[error("truncated input: expected more bytes at offset {offset}")]
    Incomplete {
        /// Where more bytes were expected.
        offset: usize,
    },
    /// A byte that the format does not allow at this place.
    #[error("invalid syntax at offset {offset}: {what}")]
    Syntax {
        /// Offset of the offending byte.
        offset: usize,
        /// What was expected.
        what: &'static str,
    },
    /// A size, depth or count limit of [`crate::Limits`] was exceeded.
    #[error("limit exceeded at offset {offset}: {what}")]
    Limit {
        /// Offset of the value that broke the limit.
        offset: usize,
        /// Which limit.
        what: &'static str,
    },
    /// Bytes follow the complete value (PHP ignores them with a warning; we refuse).
    #[error("trailing bytes after the value at offset {offset}")]
    Trailing {
        /// Offset of the first extra byte.
        offset: usize,
    },
    /// A feature of the format this protocol never uses (references, custom `C:` serialization, enums).
    #[error("unsupported construct at offset {offset}: {what}")]
    Unsupported {
        /// Offset of the construct.
        offset: usize,
        /// Which construct.
        what: &'static str,
    },
    /// Well-formed PHP, but not the protocol message that was expected here.
    #[error("unexpected message: {0}")]
    Unexpected(String),
}
