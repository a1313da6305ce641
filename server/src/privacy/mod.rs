//! The privacy center: policies, the hash-chained consent ledger, and
//! erasure driven by the data inventory.

pub mod erasure;
pub mod export;
pub mod ledger;
mod sealed_file;
mod zip_stream;

use surrealdb::types::RecordId;

use crate::context::Ctx;

pub const DOCUMENTS: [&str; 2] = ["terms", "privacy"];

const INITIAL_TERMS: &str = "You may use Chat FB Top to talk with people who message your Facebook Pages and to send them \
messages they opted in to. Every bulk message carries an unsubscribe link. You are responsible for the content you send.";
const INITIAL_PRIVACY: &str = "We collect as little as possible: your email, a password hash, an optional display name, and \
your sign-in history (time, IP address, browser family) for security. Personal data is encrypted at rest. We use no \
analytics and make no third-party requests. You can export your data and delete your account at any time.";

/// Publishes version 1 of each document on a fresh installation.
pub async fn ensure_initial_policies(ctx: &Ctx) -> Result<(), surrealdb::Error> {
    for (document, title, body) in [("terms", "Terms of use", INITIAL_TERMS), ("privacy", "Privacy policy", INITIAL_PRIVACY)] {
        let existing: Option<i64> = ctx
            .db
            .client()
            .query("RETURN count(SELECT id FROM policy WHERE document = $document)")
            .bind(("document", document.to_string()))
            .await?
            .take(0)?;
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
    let version: Option<i64> = ctx
        .db
        .client()
        .query("RETURN math::max(SELECT VALUE version FROM policy WHERE document = $document)")
        .bind(("document", document.to_string()))
        .await?
        .take(0)?;
    Ok(version.unwrap_or(0))
}
