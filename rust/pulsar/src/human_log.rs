//! Human log lines that say only what happened: text that came from peers (error messages, reasons, class names)
//! or from settings (`moduleName`) has its control characters escaped, so that one record is one line and no
//! peer can forge lines, move the cursor or recolour a terminal. Used by every human format the project writes:
//! `pulsard --log-format human`, `pulsar_log_to_stderr` of the C ABI, and the PHP logger bridges (Monolog-style
//! lines and PSR-3 messages).
//!
//! Machine formats keep the exact text: a JSON log, the C ABI's log queue and a PSR-3 context carry the string as
//! it was, escaped only by JSON's own rules. This module must never shorten, drop or reinterpret text: escaping
//! is reversible by reading, and everything that is not a control character passes through unchanged.

use std::borrow::Cow;
use std::fmt::{self, Write as _};

use tracing::field::{Field, Visit};
use tracing_subscriber::field::RecordFields;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::FormatFields;

/// Whether `c` must not reach a human log line as it is: C0 and C1 control characters and DEL (Unicode's `Cc`),
/// the line and paragraph separators, and the bidirectional overrides and isolates (which reorder what a
/// reader sees).
fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

/// `text` with every control character written as a visible escape: `\n`, `\r`, `\t`, `\x1b` for the other
/// ASCII controls (and DEL, `\x7f`), `\u{85}` for the rest. Borrowed when there is nothing to escape.
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '\n' => escaped.push_str("\\n"),
            '\r' => escaped.push_str("\\r"),
            '\t' => escaped.push_str("\\t"),
            c if c.is_ascii_control() => {
                // Writing into a String cannot fail.
                let _ = write!(escaped, "\\x{:02x}", u32::from(c));
            }
            c if needs_escape(c) => {
                let _ = write!(escaped, "\\u{{{:x}}}", u32::from(c));
            }
            c => escaped.push(c),
        }
    }
    Cow::Owned(escaped)
}

/// The field formatter of the human format (`tracing_subscriber::fmt().fmt_fields(HumanFields)`): as the default
/// one (`message` bare, then `name=value` separated by spaces; `Display` fields as text, `Debug` ones quoted),
/// with [`escape_controls`] applied to every value, span fields (such as `module`) included.
#[derive(Debug, Clone, Copy, Default)]
pub struct HumanFields;

impl<'writer> FormatFields<'writer> for HumanFields {
    fn format_fields<R: RecordFields>(&self, writer: Writer<'writer>, fields: R) -> fmt::Result {
        let mut visitor = HumanVisitor {
            writer,
            first: true,
            result: Ok(()),
        };
        fields.record(&mut visitor);
        visitor.result
    }
}

/// Writes one record's fields into a line.
struct HumanVisitor<'writer> {
    writer: Writer<'writer>,
    first: bool,
    result: fmt::Result,
}

impl Visit for HumanVisitor<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if self.result.is_err() {
            return;
        }
        // `%value` fields arrive here as `Debug` wrappers that print their `Display` text; strings (`record_str`'s
        // default) as their quoted `Debug` text, as in the default formatter.
        let text = format!("{value:?}");
        let text = escape_controls(&text);
        let separator = if std::mem::take(&mut self.first) {
            ""
        } else {
            " "
        };
        self.result = if field.name() == "message" {
            write!(self.writer, "{separator}{text}")
        } else {
            write!(self.writer, "{separator}{}={text}", field.name())
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[test]
    fn control_characters_become_visible_escapes() {
        assert_eq!(
            escape_controls("quota\n\x1b[31mFAKE\x1b[0m\r\tend\u{7f}\u{85}\u{202e}\0"),
            "quota\\n\\x1b[31mFAKE\\x1b[0m\\r\\tend\\x7f\\u{85}\\u{202e}\\x00"
        );
    }

    #[test]
    fn plain_text_is_borrowed_unchanged() {
        let text = "Rate Limit Exceeded: userRateLimitExceeded — квота, 配额, \\n as typed";
        assert!(matches!(escape_controls(text), Cow::Borrowed(t) if t == text));
    }

    /// A writer the test can read afterwards.
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .map_err(|_| std::io::Error::other("poisoned"))?
                .write(bytes)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_record_with_forged_lines_stays_one_line() {
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .fmt_fields(HumanFields)
            .with_ansi(false)
            .without_time()
            .with_writer(move || writer.clone())
            .finish();
        let forged = "quota\n2026-01-01T00:00:00Z  INFO forged line\x1b[2J";
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("pulsar", module = %"mod\nule");
            let _entered = span.enter();
            tracing::info!(error_message = %forged, reason = forged, "pulse {} finished", "x\ny");
        });
        let text =
            String::from_utf8(buffer.0.lock().expect("not poisoned").clone()).expect("UTF-8 lines");
        assert_eq!(text.lines().count(), 1, "{text}");
        assert!(text.ends_with('\n'));
        assert!(text.contains("pulsar{module=mod\\nule}"), "{text}");
        assert!(text.contains("pulse x\\ny finished"), "{text}");
        assert!(
            text.contains("error_message=quota\\n2026-01-01T00:00:00Z  INFO forged line\\x1b[2J"),
            "{text}"
        );
        // A string field keeps the default formatter's quoted Debug form, which escapes on its own.
        assert!(text.contains("reason=\"quota\\n2026"), "{text}");
        assert!(!text.contains('\x1b'), "{text}");
    }
}
