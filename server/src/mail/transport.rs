//! Where mail goes: a real SMTP server (`--smtp-url`), or `.eml` files in
//! `DATA_DIR/mail` for local use. The files hold sign-in links and personal
//! data, so, like the keys, they are readable by the server's user only
//! (0600, in a 0700 folder).

use std::path::PathBuf;

use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Body, Mailbox, Message, MultiPart, SinglePart};
use lettre::transport::smtp::AsyncSmtpTransport;
use lettre::{AsyncTransport, Tokio1Executor};

#[derive(Clone)]
pub enum MailTransport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Files(PathBuf),
}

#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// Worth retrying: connection refused, timeouts, 4xx answers.
    #[error("temporary delivery failure")]
    Temporary,
    /// Not worth retrying: 5xx answers, an address that does not parse.
    #[error("permanent delivery failure")]
    Permanent,
    #[error("the SMTP URL is invalid")]
    InvalidUrl,
    #[error("the sender address is invalid")]
    InvalidFrom,
}

impl MailTransport {
    pub fn smtp(url: &str) -> Result<Self, TransportError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url).map_err(|_| TransportError::InvalidUrl)?;
        Ok(MailTransport::Smtp(transport.timeout(Some(std::time::Duration::from_secs(20))).build()))
    }

    pub fn files(dir: PathBuf) -> std::io::Result<Self> {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(&dir)?;
        // A folder an earlier release made with the default umask.
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))?;
        Ok(MailTransport::Files(dir))
    }

    pub async fn send(&self, from: &Mailbox, to: &str, subject: &str, body: &str) -> Result<(), TransportError> {
        let to: Mailbox = to.parse().map_err(|_| TransportError::Permanent)?;
        let message = Message::builder()
            .from(from.clone())
            .to(to)
            .subject(subject)
            .multipart(MultiPart::alternative().singlepart(plain_part(body)).singlepart(SinglePart::html(html_from_text(body))))
            .map_err(|_| TransportError::Permanent)?;
        match self {
            MailTransport::Smtp(smtp) => {
                smtp.send(message).await.map(|_| ()).map_err(|e| if e.is_permanent() { TransportError::Permanent } else { TransportError::Temporary })
            }
            MailTransport::Files(dir) => write_eml(dir, &message.formatted()).await.map_err(|e| {
                tracing::warn!(error = %e, "a mail file could not be written");
                TransportError::Temporary
            }),
        }
    }
}

/// Writes one mail as `<random>.eml`, readable by its owner only from the start.
async fn write_eml(dir: &std::path::Path, formatted: &[u8]) -> std::io::Result<()> {
    use tokio::io::AsyncWriteExt;
    let path = dir.join(format!("{}.eml", crate::crypto::random_id()));
    let mut file = tokio::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path).await?;
    file.write_all(formatted).await?;
    file.sync_all().await
}

fn plain_part(body: &str) -> SinglePart {
    SinglePart::builder().header(ContentType::TEXT_PLAIN).body(eight_bit_body(body))
}

/// The HTML part: the same text, escaped, with links made clickable.
pub fn html_from_text(text: &str) -> String {
    let escape = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;");
    let mut html = String::from("<!DOCTYPE html><html><body style=\"font-family:sans-serif\">");
    for paragraph in text.split("\n\n") {
        let words: Vec<String> = paragraph
            .split(' ')
            .map(
                |word| {
                    if word.starts_with("https://") || word.starts_with("http://") {
                        format!("<a href=\"{0}\">{0}</a>", escape(word))
                    } else {
                        escape(word)
                    }
                },
            )
            .collect();
        html.push_str(&format!("<p>{}</p>", words.join(" ").replace('\n', "<br>")));
    }
    html.push_str("</body></html>");
    html
}

/// 8bit keeps each link on one line (RFC 5322 allows 998 bytes), so it can be
/// clicked or copied as is; lettre would pick quoted-printable past 76.
fn eight_bit_body(body: &str) -> Body {
    let fits = !body.contains('\0') && body.lines().all(|line| line.len() < 998);
    if !fits {
        return Body::new(body.to_string());
    }
    let crlf = body.lines().collect::<Vec<_>>().join("\r\n") + "\r\n";
    Body::dangerous_pre_encoded(crlf.into_bytes(), ContentTransferEncoding::EightBit)
}

pub fn parse_from(from: &str) -> Result<Mailbox, TransportError> {
    from.parse().map_err(|_| TransportError::InvalidFrom)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[tokio::test]
    async fn mail_files_are_readable_by_their_owner_only_even_in_an_older_folder() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("mail");
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let transport = MailTransport::files(dir.clone()).unwrap();
        let from: Mailbox = "Chat FB Top <app@example.org>".parse().unwrap();
        transport.send(&from, "ada@example.org", "Your link", "https://example.org/verify-email?token=abc").await.unwrap();
        let files: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().collect();
        assert_eq!(files.len(), 1);
        assert!(files[0].file_name().to_string_lossy().ends_with(".eml"));
        assert_eq!(files[0].metadata().unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700);
        assert!(std::fs::read_to_string(files[0].path()).unwrap().contains("Subject: Your link"));
    }
}
