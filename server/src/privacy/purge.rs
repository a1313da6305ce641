//! The hourly purge of the account flows' expired rows: sign-in history
//! past its retention, dead sessions and links, unverified accounts.

use surrealdb::types::RecordId;

use crate::context::Ctx;
use crate::db::ids::key_string;
use crate::error::Result;

/// Deletes sign-in history past its retention, dead sessions and tokens,
/// and expired unverified accounts. Returns how many of each went.
pub async fn purge_expired(ctx: &Ctx) -> Result<app::types::PurgeReport> {
    let now = ctx.now();
    let retention = crate::policies::retention::retention_settings(ctx).await?;
    let mut response = ctx
        .db
        .client()
        .query(
            "RETURN count(SELECT id FROM signin_event WHERE at < $history_cutoff); \
             RETURN count(SELECT id FROM session WHERE expires_at <= $now OR (persistent = false AND last_used_at <= $idle_cutoff)); \
             RETURN count(SELECT id FROM account_token WHERE expires_at <= $now); \
             DELETE signin_event WHERE at < $history_cutoff; \
             DELETE session WHERE expires_at <= $now OR (persistent = false AND last_used_at <= $idle_cutoff); \
             DELETE account_token WHERE expires_at <= $now;",
        )
        .bind(("history_cutoff", now - retention.signin_history_days * 86_400))
        .bind(("now", now))
        .bind(("idle_cutoff", now - ctx.settings.session_idle_secs))
        .await?
        .check()?;
    let signins: Option<i64> = response.take(0)?;
    let sessions: Option<i64> = response.take(1)?;
    let links: Option<i64> = response.take(2)?;
    Ok(app::types::PurgeReport {
        at: now,
        signins: signins.unwrap_or(0),
        sessions: sessions.unwrap_or(0),
        links: links.unwrap_or(0),
        exports: 0,
        leads: 0,
        messages: 0,
        unverified_accounts: purge_unverified(ctx).await?,
    })
}

/// How long an account may wait for its address to be verified.
pub const UNVERIFIED_EXPIRE_SECS: i64 = 7 * 86_400;

/// A statement with a WHERE on an indexed field (checked by `index_use`).
pub(crate) const EXPIRED_UNVERIFIED: &str = "SELECT VALUE id FROM account WHERE email_verified = false AND created_at < $cutoff LIMIT $batch";

/// Accounts whose address was never verified, a week on: otherwise they
/// would hold the address from its owner for good. Erased like any account,
/// without the farewell mail (the address never proved to be theirs).
async fn purge_unverified(ctx: &Ctx) -> Result<i64> {
    let mut purged = 0;
    loop {
        let ids: Vec<RecordId> =
            ctx.db.client().query(EXPIRED_UNVERIFIED).bind(("cutoff", ctx.now() - UNVERIFIED_EXPIRE_SECS)).bind(("batch", 100)).await?.take(0)?;
        if ids.is_empty() {
            return Ok(purged);
        }
        for id in ids {
            super::erasure::erase(ctx, &key_string(&id), None).await?;
            purged += 1;
        }
    }
}
