//! Mail: every message goes into a durable outbox first (recipient, subject
//! and body sealed under the system key), and a worker delivers it with
//! retries, so nothing is lost while the SMTP server is down.

pub mod templates;
mod transport;
mod worker;

use surrealdb::types::RecordId;

use crate::context::Ctx;
use crate::crypto::{random_id, Field};
use crate::error::Result;

pub use transport::{parse_from as parse_sender, MailTransport, TransportError};
pub use worker::{deliver_due, run_worker, DeliveryReport};

/// Every kind of mail the app sends. Stored with the outbox row and logged;
/// never personal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoticeKind {
    AccountCreated,
    RegistrationAttempt,
    EmailVerified,
    PasswordChanged,
    PasswordResetRequested,
    EmailChangeVerify,
    EmailChanged,
    AccountDeleted,
    ExportReady,
    PolicyUpdated,
    NewSignin,
    PageTakenOver,
    CampaignPaused,
    BreachNotice,
}

impl NoticeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeKind::AccountCreated => "account_created",
            NoticeKind::RegistrationAttempt => "registration_attempt",
            NoticeKind::EmailVerified => "email_verified",
            NoticeKind::PasswordChanged => "password_changed",
            NoticeKind::PasswordResetRequested => "password_reset_requested",
            NoticeKind::EmailChangeVerify => "email_change_verify",
            NoticeKind::EmailChanged => "email_changed",
            NoticeKind::AccountDeleted => "account_deleted",
            NoticeKind::ExportReady => "export_ready",
            NoticeKind::PolicyUpdated => "policy_updated",
            NoticeKind::NewSignin => "new_signin",
            NoticeKind::PageTakenOver => "page_taken_over",
            NoticeKind::CampaignPaused => "campaign_paused",
            NoticeKind::BreachNotice => "breach_notice",
        }
    }
}

/// A message ready for the outbox.
#[derive(Clone, Debug)]
pub struct Mail {
    pub kind: NoticeKind,
    pub to: String,
    pub subject: String,
    pub body: String,
    /// The account the mail is about, so erasure can remove it.
    pub account: Option<String>,
    /// Delete the whole outbox row once sent (the mail to an erased account).
    pub purge_when_sent: bool,
}

impl Mail {
    pub fn for_account(mut self, account_id: &str) -> Self {
        self.account = Some(account_id.to_string());
        self
    }
}

/// Queues a mail and wakes the worker. Returns the outbox id.
pub async fn enqueue(ctx: &Ctx, mail: Mail) -> Result<String> {
    enqueue_tagged(ctx, mail, None).await
}

/// As [`enqueue`], tagged with the breach it notifies about (to track delivery).
pub async fn enqueue_tagged(ctx: &Ctx, mail: Mail, breach: Option<&str>) -> Result<String> {
    let id = random_id();
    let key = ctx.crypto.system_key();
    let now = ctx.now();
    ctx.db
        .client()
        .query(
            "CREATE $id SET kind = $kind, account = $account, recipient_enc = $to, subject_enc = $subject, body_enc = $body, \
             status = 'pending', attempts = 0, next_attempt_at = $now, created_at = $now, purge_when_sent = $purge, breach = $breach",
        )
        .bind(("id", RecordId::new("outbox", id.clone())))
        .bind(("kind", mail.kind.as_str()))
        .bind(("to", key.seal_str(Field::new("outbox", &id, "recipient"), &mail.to)))
        .bind(("subject", key.seal_str(Field::new("outbox", &id, "subject"), &mail.subject)))
        .bind(("body", key.seal_str(Field::new("outbox", &id, "body"), &mail.body)))
        .bind(("now", now))
        .bind(("account", mail.account.as_deref().map(crate::db::ids::account_record)))
        .bind(("purge", mail.purge_when_sent))
        .bind(("breach", breach.map(str::to_string)))
        .await?
        .check()?;
    tracing::info!(kind = mail.kind.as_str(), outbox = %id, "mail queued");
    ctx.mail_wakeup.notify_one();
    Ok(id)
}
