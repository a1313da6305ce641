//! Campaign text: `{{first_name}}`, `{{last_name}}` and `{{page_name}}`,
//! each name with a fallback, and the unsubscribe footer every message
//! carries. Pure: the server sends with it, the composer checks as you type.

const VARIABLES: &[&str] = &["first_name", "last_name", "page_name"];
/// Room kept for the footer ("\n\nUnsubscribe: https://host/u/<token>").
pub const UNSUBSCRIBE_RESERVE: usize = 160;

/// The variables used, or a sentence saying what is wrong.
pub fn validate(text: &str) -> Result<(), String> {
    if text.trim().is_empty() {
        return Err("write the message text.".into());
    }
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or_else(|| "a {{ is not closed with }}.".to_string())?;
        let name = after[..end].trim();
        if !VARIABLES.contains(&name) {
            return Err(format!("unknown variable {{{{{name}}}}}: use {{{{first_name}}}}, {{{{last_name}}}} or {{{{page_name}}}}."));
        }
        rest = &after[end + 2..];
    }
    Ok(())
}

/// Fills the variables; a missing or empty name takes its fallback.
pub fn render(text: &str, first: Option<&str>, last: Option<&str>, fallback_first: &str, fallback_last: &str, page_name: &str) -> String {
    let mut out = String::with_capacity(text.len() + 32);
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            return out;
        };
        let value = match after[..end].trim() {
            "first_name" => first.filter(|f| !f.trim().is_empty()).unwrap_or(fallback_first),
            "last_name" => last.filter(|l| !l.trim().is_empty()).unwrap_or(fallback_last),
            "page_name" => page_name,
            _ => "",
        };
        out.push_str(value);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    // A fallback left empty must not leave a double space or a space before punctuation.
    out.split(' ').filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" ").replace(" ,", ",").replace(" !", "!")
}

pub fn unsubscribe_footer(link: &str) -> String {
    format!("\n\nUnsubscribe: {link}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_and_their_fallbacks() {
        let text = "Hi {{first_name}} {{ last_name }}, news from {{page_name}}!";
        assert_eq!(render(text, Some("Ana"), Some("Lopez"), "there", "", "Fleur"), "Hi Ana Lopez, news from Fleur!");
        assert_eq!(render(text, None, None, "there", "", "Fleur"), "Hi there, news from Fleur!");
        assert_eq!(render(text, Some(""), None, "friend", "", "Fleur"), "Hi friend, news from Fleur!");
        assert!(validate(text).is_ok());
        assert!(validate("Hi {{email}}").unwrap_err().contains("unknown variable {{email}}"));
        assert!(validate("Hi {{first_name").is_err());
        assert!(validate("  ").is_err());
    }
}
