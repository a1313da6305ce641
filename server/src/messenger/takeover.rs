//! A Page stays with the account that connected it until that account can
//! no longer use it: Facebook refused its token (error 190: the Page needs
//! reconnection), or it disconnected the Page. Then a new admin of the Page,
//! whose token Facebook confirms, can connect it.
//!
//! The previous owner keeps their leads and conversations, read-only,
//! under an archived copy of the Page. This is as on "disconnect and keep":
//! from their Pages list they can erase them. They are told by mail. Their
//! leads are re-keyed, so that the new owner's leads never meet them; the
//! person's hash stays in `archived_ident`, for erasure. Their campaigns to
//! the Page are paused.

use surrealdb::types::{RecordId, SurrealValue};

use super::pages::PageRow;
use super::{seal, Result};
use crate::context::Ctx;
use crate::db::ids::key_string;
use crate::db::ids::record;

const BATCH: i64 = 200;

/// Moves the previous owner's data off the Page record; returns the archive.
pub(super) async fn archive_previous_owner(ctx: &Ctx, previous: &PageRow) -> Result<RecordId> {
    let key = ctx.crypto.account_key(&previous.account_id()).await?;
    let archive_key = crate::crypto::random_id();
    let archive = record("page", &archive_key);
    let name = previous.name(&key)?;
    ctx.db
        .client()
        .query(
            "CREATE $archive SET account = $account, page_id = $page_id, name_enc = $name, token_sealed = NONE, status = 'disconnected', \
             bot_disclosure = $bot_disclosure, connected_at = $connected_at",
        )
        .bind(("archive", archive.clone()))
        .bind(("account", previous.account.clone()))
        .bind(("page_id", previous.page_id.clone()))
        .bind(("name", seal(&key, "page", &archive_key, "name", &name)))
        .bind(("bot_disclosure", previous.bot_disclosure))
        .bind(("connected_at", previous.connected_at))
        .await?
        .check()?;
    move_rows(ctx, &previous.id, &archive, &previous.account).await?;
    if let Ok(Some(email)) = crate::accounts::account_email(ctx, &previous.account_id()).await {
        let mail = crate::mail::templates::page_taken_over(&email, &name, &ctx.link("/pages")).for_account(&previous.account_id());
        crate::mail::enqueue(ctx, mail).await?;
    }
    tracing::info!(page = %previous.key(), "page taken over; the previous owner's data is archived");
    Ok(archive)
}

#[derive(Debug, SurrealValue)]
struct LeadIdent {
    id: RecordId,
    ident: String,
}

/// Statements with a WHERE on an indexed field (checked by `index_use`).
pub(crate) const OWNERS_LEADS_ON_PAGE: &str = "SELECT id, ident FROM lead WHERE page = $from AND account = $account LIMIT $batch";
pub(crate) const LEAD_MESSAGES: &str = "SELECT VALUE id FROM message WHERE lead = $lead";
pub(crate) const OWNERS_ROWS: &str = "SELECT VALUE id FROM {table} WHERE account = $account";

/// The owner's rows that point at `from` now point at `to`: leads (re-keyed),
/// their messages, campaigns (paused if running) and suppression entries.
/// Run again after the Page changed hands, for anything written meanwhile.
pub(super) async fn move_rows(ctx: &Ctx, from: &RecordId, to: &RecordId, account: &RecordId) -> Result<()> {
    loop {
        let leads: Vec<LeadIdent> = ctx
            .db
            .client()
            .query(OWNERS_LEADS_ON_PAGE)
            .bind(("from", from.clone()))
            .bind(("account", account.clone()))
            .bind(("batch", BATCH))
            .await?
            .take(0)?;
        if leads.is_empty() {
            break;
        }
        for lead in leads {
            let messages: Vec<RecordId> = ctx.db.client().query(LEAD_MESSAGES).bind(("lead", lead.id.clone())).await?.take(0)?;
            ctx.db
                .client()
                .query("UPDATE $messages SET page = $to; UPDATE $lead SET page = $to, archived_ident = $ident, ident = $archived")
                .bind(("messages", messages))
                .bind(("to", to.clone()))
                .bind(("lead", lead.id.clone()))
                .bind(("archived", format!("archived:{}", key_string(&lead.id))))
                .bind(("ident", lead.ident))
                .await?
                .check()?;
        }
    }
    let owned = |table: &str| OWNERS_ROWS.replace("{table}", table);
    let campaigns: Vec<RecordId> = ctx.db.client().query(owned("campaign")).bind(("account", account.clone())).await?.take(0)?;
    let suppressions: Vec<RecordId> = ctx.db.client().query(owned("suppression")).bind(("account", account.clone())).await?.take(0)?;
    ctx.db
        .client()
        .query(
            "UPDATE $campaigns SET state = 'paused', pause_reason = 'Paused: another account connected the Page.' \
             WHERE page = $from AND state IN ['sending', 'scheduled']; \
             UPDATE $campaigns SET page = $to WHERE page = $from; \
             UPDATE $suppressions SET page = $to WHERE page = $from;",
        )
        .bind(("campaigns", campaigns))
        .bind(("suppressions", suppressions))
        .bind(("from", from.clone()))
        .bind(("to", to.clone()))
        .await?
        .check()?;
    Ok(())
}
