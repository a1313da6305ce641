//! Rules for text people type, shared by the server's checks.

use crate::error::AppError;

/// A one-line field (a name, a title, a button, a reason) holds no control
/// characters: a line break would start a new line wherever the text is
/// used, in a mail's body or headers among others. Unicode's own line and
/// paragraph separators break lines too, and the bidirectional overrides
/// and isolates can make a text read differently from what it holds.
pub fn is_single_line(value: &str) -> bool {
    !value.chars().any(|c| c.is_control() || is_line_separator(c) || is_bidi_control(c))
}

/// Checks each named field; the first one that is not a single line is
/// named in the error.
pub fn require_single_line<'a>(fields: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<(), AppError> {
    match fields.into_iter().find(|(_, value)| !is_single_line(value)) {
        Some((field, _)) => Err(AppError::NotSingleLine { field: field.to_string() }),
        None => Ok(()),
    }
}

fn is_line_separator(c: char) -> bool {
    matches!(c, '\u{2028}' | '\u{2029}')
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::{is_single_line, require_single_line};
    use crate::error::AppError;

    #[test]
    fn letters_spaces_and_accents_make_a_single_line() {
        assert!(is_single_line("Soldes d'hiver à Zürich – 20 %"));
        assert!(is_single_line("مرحبا بكم"), "right-to-left text itself is fine");
        assert!(is_single_line(""));
    }

    #[test]
    fn line_breaks_tabs_and_escapes_do_not() {
        for bad in ["Sale\r\nBcc: x@example.org", "Sale\n", "a\rb", "a\tb", "a\u{1b}[31mb", "a\u{0}b", "a\u{85}b"] {
            assert!(!is_single_line(bad), "{bad:?}");
        }
    }

    #[test]
    fn unicode_line_separators_and_bidirectional_overrides_do_not() {
        for bad in ["a\u{2028}b", "a\u{2029}b", "invoice\u{202E}fdp.exe", "a\u{202A}b", "a\u{2066}b", "a\u{2069}b"] {
            assert!(!is_single_line(bad), "{bad:?}");
        }
    }

    #[test]
    fn the_first_field_that_breaks_the_rule_is_named() {
        assert_eq!(require_single_line([("The title", "ok"), ("The summary", "ok")]), Ok(()));
        let refused = require_single_line([("The title", "ok"), ("The summary", "two\nlines"), ("The body", "x\ny")]);
        assert_eq!(refused, Err(AppError::NotSingleLine { field: "The summary".into() }));
    }
}
