//! The text of every notice. Plain text, no tracking pixels, no remote images.

use super::Mail;

const SIGNATURE: &str = "\n\n-- \nChat FB Top. You get this mail because of an action on your account; \
we send no marketing mail.\n";

fn mail(kind: &'static str, to: &str, subject: &str, body: String) -> Mail {
    Mail { kind, to: to.to_string(), subject: subject.to_string(), body: body + SIGNATURE, account: None, purge_when_sent: false }
}

pub fn account_created(to: &str, verify_link: &str) -> Mail {
    mail(
        "account_created",
        to,
        "Welcome to Chat FB Top: please verify your email",
        format!(
            "Your Chat FB Top account was created.\n\nVerify your email address with this link (valid for 24 hours, usable once):\n\n{verify_link}\n\n\
             If you did not sign up, ignore this mail and the account stays unverified."
        ),
    )
}

/// Sent instead of a second welcome, so registration never reveals whether an address has an account.
pub fn registration_attempt(to: &str, signin_link: &str) -> Mail {
    mail(
        "registration_attempt",
        to,
        "Someone tried to sign up with your email",
        format!(
            "Someone tried to create a Chat FB Top account with this address, which already has one.\n\n\
             If it was you, sign in here, or reset your password from the sign-in page:\n\n{signin_link}\n\n\
             If it was not you, nothing has changed and you can ignore this mail."
        ),
    )
}

pub fn email_verified(to: &str) -> Mail {
    mail("email_verified", to, "Your email address is verified", "Your email address is now verified. You can sign in.".to_string())
}

pub fn password_changed(to: &str) -> Mail {
    mail(
        "password_changed",
        to,
        "Your password was changed",
        "The password of your Chat FB Top account was just changed, and every other session was signed out.\n\n\
         If this was not you, reset your password at once from the sign-in page."
            .to_string(),
    )
}

pub fn password_reset_requested(to: &str, reset_link: &str) -> Mail {
    mail(
        "password_reset_requested",
        to,
        "Reset your Chat FB Top password",
        format!(
            "A password reset was requested for your account. Choose a new password with this link \
             (valid for 1 hour, usable once):\n\n{reset_link}\n\nIf you did not ask for this, ignore this mail."
        ),
    )
}

pub fn email_change_verify(to: &str, confirm_link: &str) -> Mail {
    mail(
        "email_change_verify",
        to,
        "Confirm your new email address",
        format!("Confirm this address for your Chat FB Top account (valid for 24 hours, usable once):\n\n{confirm_link}"),
    )
}

pub fn email_changed(old_address: &str) -> Mail {
    mail(
        "email_changed",
        old_address,
        "The email address of your account was changed",
        "The email address of your Chat FB Top account was changed, and this address no longer receives its mail.\n\n\
         If this was not you, contact the administrator of this installation at once."
            .to_string(),
    )
}

pub fn account_deleted(to: &str) -> Mail {
    let mut m = mail(
        "account_deleted",
        to,
        "Your Chat FB Top account was deleted",
        "Your account and every piece of its data were deleted, as you asked. Its encryption key was destroyed, so \
         no copy of the old data can be read. This is the last mail you get from us, and this message itself is \
         removed from our outbox once sent."
            .to_string(),
    );
    m.purge_when_sent = true;
    m
}

pub fn export_ready(to: &str, link: &str, hours: i64) -> Mail {
    mail(
        "export_ready",
        to,
        "Your data export is ready",
        format!(
            "The copy of your data that you asked for is ready. Sign in and download it from your data page:\n\n{link}\n\n\
             It can be downloaded for {hours} hours, by you only; then the file is deleted."
        ),
    )
}
