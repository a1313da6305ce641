//! The text of every notice. Each says why it was sent. Plain text is the
//! source; the transport adds an HTML part made from it (no tracking
//! pixels, no remote images).

use super::{Mail, NoticeKind};

fn mail(kind: NoticeKind, to: &str, subject: &str, body: String, why: &str) -> Mail {
    let body = format!("{body}\n\n-- \nWhy you get this mail: {why}\nChat FB Top sends no marketing mail.\n");
    Mail { kind, to: to.to_string(), subject: subject.to_string(), body, account: None, purge_when_sent: false }
}

const SECURITY: &str = "it is a security notice about your account, which cannot be turned off.";

pub fn account_created(to: &str, verify_link: &str) -> Mail {
    mail(
        NoticeKind::AccountCreated,
        to,
        "Welcome to Chat FB Top: please verify your email",
        format!(
            "Your Chat FB Top account was created.\n\nVerify your email address with this link (valid for 24 hours, usable once):\n\n{verify_link}\n\n\
             If you did not sign up, ignore this mail: an account whose address is not verified is deleted after 7 days."
        ),
        "someone created an account with this address.",
    )
}

/// Sent instead of a second welcome, so registration never reveals whether an address has an account.
pub fn registration_attempt(to: &str, signin_link: &str) -> Mail {
    mail(
        NoticeKind::RegistrationAttempt,
        to,
        "Someone tried to sign up with your email",
        format!(
            "Someone tried to create a Chat FB Top account with this address, which already has one.\n\n\
             If it was you, sign in here, or reset your password from the sign-in page:\n\n{signin_link}\n\n\
             If it was not you, nothing has changed and you can ignore this mail."
        ),
        SECURITY,
    )
}

pub fn email_verified(to: &str) -> Mail {
    mail(NoticeKind::EmailVerified, to, "Your email address is verified", "Your email address is now verified. You can sign in.".into(), SECURITY)
}

pub fn password_changed(to: &str) -> Mail {
    mail(
        NoticeKind::PasswordChanged,
        to,
        "Your password was changed",
        "The password of your Chat FB Top account was just changed, and every other session was signed out.\n\n\
         If this was not you, reset your password at once from the sign-in page."
            .into(),
        SECURITY,
    )
}

pub fn password_reset_requested(to: &str, reset_link: &str) -> Mail {
    mail(
        NoticeKind::PasswordResetRequested,
        to,
        "Reset your Chat FB Top password",
        format!(
            "A password reset was requested for your account. Choose a new password with this link \
             (valid for 1 hour, usable once):\n\n{reset_link}\n\nIf you did not ask for this, ignore this mail."
        ),
        SECURITY,
    )
}

pub fn email_change_verify(to: &str, confirm_link: &str) -> Mail {
    mail(
        NoticeKind::EmailChangeVerify,
        to,
        "Confirm your new email address",
        format!("Confirm this address for your Chat FB Top account (valid for 24 hours, usable once):\n\n{confirm_link}"),
        "someone asked to move a Chat FB Top account to this address.",
    )
}

pub fn email_changed(old_address: &str) -> Mail {
    mail(
        NoticeKind::EmailChanged,
        old_address,
        "The email address of your account was changed",
        "The email address of your Chat FB Top account was changed, and this address no longer receives its mail.\n\n\
         If this was not you, contact the administrator of this installation at once."
            .into(),
        SECURITY,
    )
}

pub fn account_deleted(to: &str) -> Mail {
    let mut m = mail(
        NoticeKind::AccountDeleted,
        to,
        "Your Chat FB Top account was deleted",
        "Your account and every piece of its data were deleted, as you asked. Its encryption key was destroyed, so \
         no copy of the old data can be read. This is the last mail you get from us, and this message itself is \
         removed from our outbox once sent."
            .into(),
        "you deleted your account; we confirm it once.",
    );
    m.purge_when_sent = true;
    m
}

pub fn export_ready(to: &str, link: &str, hours: i64) -> Mail {
    mail(
        NoticeKind::ExportReady,
        to,
        "Your data export is ready",
        format!(
            "The copy of your data that you asked for is ready. Sign in and download it from your data page:\n\n{link}\n\n\
             It can be downloaded for {hours} hours, by you only; then the file is deleted."
        ),
        "you asked for a copy of your data. You can turn these mails off in your account settings.",
    )
}

pub fn policy_updated(to: &str, title: &str, summary: &str, link: &str) -> Mail {
    let summary = if summary.is_empty() { String::new() } else { format!("What changed: {summary}\n\n") };
    mail(
        NoticeKind::PolicyUpdated,
        to,
        &format!("We updated our {title}"),
        format!(
            "We published a new version of our {title}.\n\n{summary}\
             At your next sign-in you can read it and accept it, download your data, or delete your account:\n\n{link}"
        ),
        "our policies changed, and you have a right to know. You can turn these mails off in your account settings; \
         you will still be asked at your next sign-in.",
    )
}

pub fn new_signin(to: &str, browser: &str, ip: &str, link: &str) -> Mail {
    mail(
        NoticeKind::NewSignin,
        to,
        "New sign-in to your Chat FB Top account",
        format!(
            "Your account was just signed in to from a device or network we had not seen: {browser}, IP address {ip}.\n\n\
             If this was you, there is nothing to do. If not, change your password and end the session here:\n\n{link}"
        ),
        "we warn you about sign-ins from new devices or networks. You can turn this off in your account settings.",
    )
}

pub fn page_taken_over(to: &str, page_name: &str, pages_link: &str) -> Mail {
    mail(
        NoticeKind::PageTakenOver,
        to,
        "Your Page was connected by another account",
        format!(
            "Your account could no longer use the Page \"{page_name}\" (Facebook stopped accepting its access, or the Page was disconnected), \
             and another Chat FB Top account, whose access Facebook confirms, has now connected it.\n\n\
             Your leads and conversations from that Page are kept, read-only, under a disconnected copy of the Page. \
             Its campaigns are paused. You can erase them from your Pages:\n\n{pages_link}\n\n\
             If you still manage this Page on Facebook, reconnect it from another Page admin's account, or contact the administrator."
        ),
        SECURITY,
    )
}

pub fn campaign_paused(to: &str, campaign: &str, reason: &str, link: &str) -> Mail {
    mail(
        NoticeKind::CampaignPaused,
        to,
        "Your campaign was paused",
        format!("Your campaign \"{campaign}\" was paused: {reason}\n\nOpen it here to see what was sent, and resume it once the cause is fixed:\n\n{link}"),
        "it is a notice about a campaign you started, which needs your action.",
    )
}

pub fn breach_notice(to: &str, nature: &str, consequences: &str, measures: &str) -> Mail {
    mail(
        NoticeKind::BreachNotice,
        to,
        "Important: a security incident affecting your data",
        format!(
            "We are writing to tell you about a personal data breach at this Chat FB Top installation.\n\n\
             What happened: {nature}\n\nLikely consequences: {consequences}\n\nWhat we did: {measures}\n\n\
             We recommend that you change your password. If you have questions, reply to the administrator of this installation."
        ),
        "the law requires us to tell you when a breach is likely to put your rights at risk (GDPR Art. 34). This notice cannot be turned off.",
    )
}
