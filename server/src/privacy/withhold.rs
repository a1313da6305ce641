//! The export holds no live credential: a link token found in any exported
//! text (a confirmation link in a mail still in the outbox, the unsubscribe
//! link in a sent campaign message) is replaced. Whoever gets hold of an
//! export file must not be able to change an address, reset a password or
//! unsubscribe a lead with it.

use std::borrow::Cow;

const WITHHELD: &str = "[withheld]";

/// Where a token starts: after one of these, up to the first character that
/// cannot be part of one.
const TOKEN_STARTS: &[&str] = &["token=", "/u/"];

fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~' | '%')
}

/// The text with every link token replaced by "[withheld]".
pub fn withhold_links(text: &str) -> Cow<'_, str> {
    if !TOKEN_STARTS.iter().any(|start| text.contains(start)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some((at, start)) = TOKEN_STARTS.iter().filter_map(|s| rest.find(s).map(|at| (at, *s))).min_by_key(|(at, _)| *at) {
        let token_from = at + start.len();
        out.push_str(&rest[..token_from]);
        let token_len = rest[token_from..].find(|c: char| !is_token_char(c)).unwrap_or(rest.len() - token_from);
        if token_len > 0 {
            out.push_str(WITHHELD);
        }
        rest = &rest[token_from + token_len..];
    }
    out.push_str(rest);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::withhold_links;
    use crate::mail::templates;

    #[test]
    fn every_mailed_link_token_is_withheld_and_other_text_is_kept() {
        let token = crate::crypto::random_token();
        let host = "https://chat.example.org";
        for mail in [
            templates::account_created("a@example.org", &format!("{host}/verify-email?token={token}")),
            templates::password_reset_requested("a@example.org", &format!("{host}/reset-password?token={token}")),
            templates::email_change_verify("new@example.org", &format!("{host}/confirm-email?token={token}")),
        ] {
            let kept = withhold_links(&mail.body);
            assert!(!kept.contains(&token), "{kept}");
            assert!(kept.contains("token=[withheld]"), "{kept}");
            assert_eq!(kept.replace("[withheld]", &token), mail.body, "only the token changed");
        }
        let message = format!("Hi!\n\nUnsubscribe: {host}/u/{token}.x9\n");
        assert_eq!(withhold_links(&message), format!("Hi!\n\nUnsubscribe: {host}/u/[withheld]\n"));
        assert_eq!(withhold_links("no links here, and a/u/ at the end/u/"), "no links here, and a/u/ at the end/u/");
        assert_eq!(withhold_links("token=a token=b"), "token=[withheld] token=[withheld]");
    }
}
