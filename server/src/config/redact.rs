//! Withholding the credentials of a database address. An engine's message
//! may repeat the address as given, percent-decoded, normalised by a URL
//! parser, quoted, or only its password: every one of those forms is
//! replaced, whatever the case of its letters.

/// What replaces a credential in any text that may be logged or shown.
pub const WITHHELD: &str = "[credentials withheld]";

/// The forms in which one address's (and one password's) credentials may
/// appear in a message.
#[derive(Clone, Default)]
pub struct Secrets {
    /// Longest first, so that a form containing another is replaced whole.
    forms: Vec<String>,
}

// Never print the secrets themselves, not even in a debug dump.
impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secrets({} forms withheld)", self.forms.len())
    }
}

impl Secrets {
    /// The credentials in `address` (`scheme://user:password@host…`), if it has any.
    pub fn of_address(address: &str) -> Self {
        let mut secrets = Secrets::default();
        let Some(userinfo) = userinfo(address) else { return secrets };
        secrets.add(userinfo);
        // What a URL parser makes of it: it encodes some characters the text left raw.
        let parsed = url::Url::parse(address.trim()).ok();
        match userinfo.split_once(':') {
            Some((_, password)) => {
                secrets.add(password);
                if let Some(url) = &parsed {
                    if let Some(normalised) = url.password() {
                        secrets.add(normalised);
                        secrets.add(&format!("{}:{normalised}", url.username()));
                    }
                }
            }
            // A lone user part may be a token.
            None => {
                if let Some(url) = &parsed {
                    secrets.add(url.username());
                }
            }
        }
        secrets
    }

    /// Adds a password given apart from the address (`--db-password`).
    pub fn with_password(mut self, password: &str) -> Self {
        self.add(password);
        self
    }

    /// Adds another address's credentials.
    pub fn and(mut self, other: Secrets) -> Self {
        for form in other.forms {
            self.push(form);
        }
        self
    }

    /// `text` with every form of every credential replaced.
    pub fn redact(&self, text: &str) -> String {
        let mut text = text.to_string();
        for form in &self.forms {
            text = replace_ignoring_ascii_case(&text, form, WITHHELD);
        }
        text
    }

    /// A secret, raw, percent-decoded, and as a debug dump quotes it.
    fn add(&mut self, secret: &str) {
        if secret.is_empty() {
            return;
        }
        let decoded = percent_decoded(secret);
        for form in [secret.to_string(), escaped(secret), escaped(&decoded), decoded] {
            self.push(form);
        }
    }

    fn push(&mut self, form: String) {
        if !form.is_empty() && !self.forms.contains(&form) {
            self.forms.push(form);
            self.forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
        }
    }
}

/// The part before the last `@` of the authority. The last `@` of the whole
/// text counts: a password may hold an unencoded `/`, `?` or `#`, and
/// withholding too much is better than too little.
fn userinfo(address: &str) -> Option<&str> {
    let address = address.trim();
    let rest = address.split_once("://").map_or(address, |(_, rest)| rest);
    rest.rfind('@').map(|at| &rest[..at]).filter(|info| !info.is_empty())
}

/// `address` as it may be shown: what comes before the host is withheld.
pub fn without_credentials(address: &str) -> String {
    let trimmed = address.trim();
    let (scheme, rest) = match trimmed.split_once("://") {
        Some((scheme, rest)) => (Some(scheme), rest),
        None => (None, trimmed),
    };
    match (rest.rfind('@'), scheme) {
        (Some(at), Some(scheme)) => format!("{scheme}://{WITHHELD}@{}", &rest[at + 1..]),
        (Some(at), None) => format!("{WITHHELD}@{}", &rest[at + 1..]),
        (None, _) => trimmed.to_string(),
    }
}

fn percent_decoded(text: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", text.replace('+', "%2B")).as_bytes()).next().map(|(_, v)| v.into_owned()).unwrap_or_default()
}

/// The text as `{:?}` shows it, without the quotes.
fn escaped(text: &str) -> String {
    let quoted = format!("{text:?}");
    quoted[1..quoted.len() - 1].to_string()
}

/// Replaces `needle` in `haystack`, comparing ASCII letters without case (a
/// percent-encoding may be written `%2f` or `%2F`). Works on bytes: a whole
/// UTF-8 needle can only match at character boundaries.
fn replace_ignoring_ascii_case(haystack: &str, needle: &str, with: &str) -> String {
    let (bytes, wanted) = (haystack.as_bytes(), needle.as_bytes());
    if wanted.is_empty() || bytes.len() < wanted.len() {
        return haystack.to_string();
    }
    let mut out = String::with_capacity(haystack.len());
    let (mut copied, mut at) = (0, 0);
    while at + wanted.len() <= bytes.len() {
        if bytes[at..at + wanted.len()].eq_ignore_ascii_case(wanted) {
            out.push_str(&haystack[copied..at]);
            out.push_str(with);
            at += wanted.len();
            copied = at;
        } else {
            at += 1;
        }
    }
    out.push_str(&haystack[copied..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADDRESS: &str = "wss://root:s3cr%40t%2Fx^y@db.example:443/rpc";

    #[test]
    fn the_raw_form_of_an_address_loses_its_credentials() {
        let said = format!("cannot connect to {ADDRESS}: refused");
        assert_eq!(Secrets::of_address(ADDRESS).redact(&said), format!("cannot connect to wss://{WITHHELD}@db.example:443/rpc: refused"));
    }

    #[test]
    fn percent_decoded_normalised_quoted_and_password_only_forms_are_withheld_too() {
        let secrets = Secrets::of_address(ADDRESS);
        for said in [
            "sign-in as root with password s3cr@t/x^y refused",
            "url wss://root:s3cr%40t%2Fx%5Ey@db.example:443/rpc is unreachable",
            "url wss://root:S3CR%40T%2fX%5EY@db.example is unreachable",
            "password \"s3cr%40t%2Fx^y\" refused",
            "password s3cr%40t%2Fx^y refused",
        ] {
            let shown = secrets.redact(said);
            for secret in ["s3cr", "x^y", "x%5Ey", "%2Fx", "%2fX"] {
                assert!(!shown.contains(secret), "{secret:?} left in {shown:?}");
            }
            assert!(shown.contains(WITHHELD), "{shown}");
        }
    }

    #[test]
    fn a_password_given_apart_and_in_quotes_is_withheld() {
        let secrets = Secrets::default().with_password("pa\"ss word");
        let shown = secrets.redact(r#"auth failed for Credentials { password: "pa\"ss word" } (pa"ss word)"#);
        assert!(!shown.contains("pa\\\"ss") && !shown.contains("pa\"ss") && !shown.contains("ss word"), "{shown}");
    }

    #[test]
    fn an_address_without_a_scheme_or_with_a_slash_in_its_password_is_withheld_up_to_its_last_at() {
        assert_eq!(without_credentials("root:secret@db:8000"), format!("{WITHHELD}@db:8000"));
        assert_eq!(without_credentials("ws://root:pa/ss#w@db:8000"), format!("ws://{WITHHELD}@db:8000"));
        assert!(!Secrets::of_address("ws://root:pa/ss#w@db:8000").redact("ws://root:pa/ss#w@db:8000 and pa/ss#w").contains("pa/ss"));
        assert_eq!(without_credentials("ws://db:8000/rpc"), "ws://db:8000/rpc");
    }

    #[test]
    fn nothing_is_withheld_from_an_address_without_credentials_and_an_empty_password_changes_nothing() {
        let text = "ws://db.internal:8000 refused: wrong answer";
        assert_eq!(Secrets::of_address("ws://db.internal:8000").redact(text), text);
        assert_eq!(Secrets::of_address("ws://root:@db:8000").redact("root said no"), "root said no", "an empty password matches nothing");
        assert!(format!("{:?}", Secrets::of_address(ADDRESS)).contains("withheld"));
    }
}
