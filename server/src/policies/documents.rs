//! Versioned policies (terms of use, privacy policy). Publishing a version
//! mails every user, and each must accept it before using the app again.

use app::types::PolicyChange;
use surrealdb::types::{RecordId, SurrealValue};

use crate::context::Ctx;
use crate::db::ids::{account_record, key_string};
use crate::error::Result;
use app::error::AppError;

pub const DOCUMENTS: [&str; 2] = ["terms", "privacy"];

const INITIAL_TERMS: &str = "You may use Chat FB Top to talk with people who message your Facebook Pages and to send them \
messages they opted in to. Every bulk message carries an unsubscribe link. You are responsible for the content you send.";
const INITIAL_PRIVACY: &str = "We collect as little as possible: your email, a password hash, an optional display name, and \
your sign-in history (time, IP address, browser family) for security. Personal data is encrypted at rest. We use no \
analytics and make no third-party requests. You can export your data and delete your account at any time.";

/// Publishes version 1 of each document on a fresh installation.
pub async fn ensure_initial_policies(ctx: &Ctx) -> Result<(), surrealdb::Error> {
    for (document, title, body) in [("terms", "Terms of use", INITIAL_TERMS), ("privacy", "Privacy policy", INITIAL_PRIVACY)] {
        let existing: Option<i64> =
            ctx.db.client().query("RETURN count(SELECT id FROM policy WHERE document = $document)").bind(("document", document.to_string())).await?.take(0)?;
        if existing.unwrap_or(0) == 0 {
            // The unique (document, version) index makes a concurrent first start harmless.
            let _ = ctx
                .db
                .client()
                .query("CREATE $id SET document = $document, version = 1, title = $title, body = $body, published_at = $now")
                .bind(("id", RecordId::new("policy", format!("{document}-1"))))
                .bind(("document", document.to_string()))
                .bind(("title", title.to_string()))
                .bind(("body", body.to_string()))
                .bind(("now", ctx.now()))
                .await?
                .check();
        }
    }
    Ok(())
}

pub async fn current_version(ctx: &Ctx, document: &str) -> Result<i64, surrealdb::Error> {
    Ok(latest_of(ctx, document).await?.map_or(0, |p| p.version))
}

#[derive(Debug, SurrealValue)]
struct PolicyRow {
    document: String,
    version: i64,
    title: String,
    body: String,
    summary: Option<String>,
}

/// The latest version of one document.
async fn latest_of(ctx: &Ctx, document: &str) -> Result<Option<PolicyRow>, surrealdb::Error> {
    ctx.db
        .client()
        .query("SELECT document, version, title, body, summary FROM ONLY policy WHERE document = $document ORDER BY version DESC LIMIT 1")
        .bind(("document", document.to_string()))
        .await?
        .take(0)
}

/// The latest version of each document.
async fn latest(ctx: &Ctx) -> Result<Vec<PolicyRow>, surrealdb::Error> {
    let mut out = Vec::new();
    for document in DOCUMENTS {
        out.extend(latest_of(ctx, document).await?);
    }
    Ok(out)
}

/// The latest version of each document, as the sign-up form shows it.
pub async fn current(ctx: &Ctx) -> Result<Vec<PolicyChange>, surrealdb::Error> {
    Ok(latest(ctx).await?.into_iter().map(PolicyRow::into_change).collect())
}

/// The latest version number of each document, as a form that shows
/// them sends them back.
pub async fn current_versions(ctx: &Ctx) -> Result<Vec<app::types::PolicyVersion>, surrealdb::Error> {
    Ok(latest(ctx).await?.into_iter().map(|p| app::types::PolicyVersion { document: p.document, version: p.version }).collect())
}

/// Whether `shown` names exactly the latest version of every document.
pub async fn are_current(ctx: &Ctx, shown: &[app::types::PolicyVersion]) -> Result<bool, surrealdb::Error> {
    let latest = latest(ctx).await?;
    Ok(shown.len() == latest.len() && latest.iter().all(|p| shown.iter().any(|s| s.document == p.document && s.version == p.version)))
}

impl PolicyRow {
    fn into_change(self) -> PolicyChange {
        PolicyChange { document: self.document, version: self.version, title: self.title, summary: self.summary.unwrap_or_default(), body: self.body }
    }
}

/// The policy versions the account has not accepted yet.
pub async fn pending_for(ctx: &Ctx, account_id: &str) -> Result<Vec<PolicyChange>, surrealdb::Error> {
    let mut pending = Vec::new();
    for policy in latest(ctx).await? {
        let accepted: Option<i64> = ctx
            .db
            .client()
            .query("SELECT VALUE version FROM ONLY consent WHERE account = $account AND document = $document ORDER BY version DESC LIMIT 1")
            .bind(("account", account_record(account_id)))
            .bind(("document", policy.document.clone()))
            .await?
            .take(0)?;
        if accepted.unwrap_or(0) < policy.version {
            pending.push(policy.into_change());
        }
    }
    Ok(pending)
}

/// Publishes a new version and mails every user who wants policy notices.
/// Returns the new version number and how many mails were queued.
pub async fn publish(ctx: &Ctx, document: &str, title: &str, body: &str, summary: &str) -> Result<(i64, usize)> {
    if !DOCUMENTS.contains(&document) {
        return Err(AppError::InvalidPolicy.into());
    }
    if title.trim().is_empty() || body.trim().is_empty() {
        return Err(AppError::InvalidPolicy.into());
    }
    // The title is a mail's subject line, and the summary goes into its body.
    app::text::require_single_line([("The title", title.trim()), ("The summary", summary.trim())])?;
    let version = current_version(ctx, document).await? + 1;
    ctx.db
        .client()
        .query("CREATE $id SET document = $document, version = $version, title = $title, body = $body, summary = $summary, published_at = $now")
        .bind(("id", RecordId::new("policy", format!("{document}-{version}"))))
        .bind(("document", document.to_string()))
        .bind(("version", version))
        .bind(("title", title.trim().to_string()))
        .bind(("body", body.to_string()))
        .bind(("summary", summary.trim().to_string()))
        .bind(("now", ctx.now()))
        .await?
        .check()?;
    let mailed = notify_all(ctx, title.trim(), summary.trim()).await?;
    tracing::info!(document, version, mailed, "policy published");
    Ok((version, mailed))
}

#[derive(Debug, SurrealValue)]
struct Recipient {
    id: RecordId,
    email_enc: String,
}

async fn notify_all(ctx: &Ctx, title: &str, summary: &str) -> Result<usize> {
    let mut mailed = 0;
    let mut start = 0i64;
    loop {
        let page: Vec<Recipient> = ctx
            .db
            .client()
            .query("SELECT id, email_enc FROM account WHERE notify_policy_updates = true AND disabled = false ORDER BY id LIMIT 500 START $start")
            .bind(("start", start))
            .await?
            .take(0)?;
        for recipient in &page {
            let id = key_string(&recipient.id);
            let key = ctx.crypto.account_key(&id).await?;
            let email = key.open_string(crate::crypto::Field::new("account", &id, "email"), &recipient.email_enc)?;
            crate::mail::enqueue(ctx, crate::mail::templates::policy_updated(&email, title, summary, &ctx.link("/")).for_account(&id)).await?;
            mailed += 1;
        }
        if page.len() < 500 {
            return Ok(mailed);
        }
        start += 500;
    }
}

/// Starts the recipient list that a recipient change appends to the privacy policy.
pub const RECIPIENTS_HEADING: &str = "\n\nRecipients of personal data:\n";

/// The text of the latest version of a document, without a recipient list
/// (a re-publication carries the list anew).
pub async fn current_body(ctx: &Ctx, document: &str) -> Result<String, surrealdb::Error> {
    let body = latest_of(ctx, document).await?.map(|p| p.body).unwrap_or_default();
    Ok(body.split(RECIPIENTS_HEADING).next().unwrap_or_default().to_string())
}
