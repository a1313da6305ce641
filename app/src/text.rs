//! Rules for text people type, shared by the server's checks.

/// A one-line field (a name, a title, a button) holds no control
/// characters: a line break would start a new line wherever the text is
/// used, in a mail's body or headers among others.
pub fn is_single_line(value: &str) -> bool {
    !value.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    use super::is_single_line;

    #[test]
    fn letters_spaces_and_accents_make_a_single_line() {
        assert!(is_single_line("Soldes d'hiver à Zürich – 20 %"));
        assert!(is_single_line(""));
    }

    #[test]
    fn line_breaks_tabs_and_escapes_do_not() {
        for bad in ["Sale\r\nBcc: x@example.org", "Sale\n", "a\rb", "a\tb", "a\u{1b}[31mb", "a\u{0}b", "a\u{85}b"] {
            assert!(!is_single_line(bad), "{bad:?}");
        }
    }
}
