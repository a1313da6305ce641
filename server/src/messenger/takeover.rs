//! A Page stays with the account that connected it until that account can
//! no longer use it: Facebook refuses its token (error 190: the Page needs
//! reconnection), or it disconnected the Page. Then a new admin of the Page,
//! whose token Facebook confirms, can connect it. A Page still marked active
//! is checked first: Facebook is asked about its owner's token, and only a
//! 190 lets it pass on.
//!
//! The previous owner keeps their leads and conversations, read-only,
//! under an archived copy of the Page. This is as on "disconnect and keep":
//! from their Pages list they can erase them, as on "disconnect and erase".
//! They are told by mail. Their leads and suppression entries are re-keyed,
//! so that the new owner's never meet them (a person who wrote STOP to the
//! previous owner starts afresh with the new one, as a new lead does); the
//! person's hash stays in `archived_ident`, for erasure. The unsubscribe
//! links the previous owner sent keep working against the archive
//! (`broadcasts::unsubscribe`), and what they record there is keyed by the
//! archive, never the new owner's entry. Their campaigns to
//! the Page are paused and go with the archive, which has no token.
//!
//! All of this runs in the transaction that connects the new owner
//! (`pages::save`): two admins who take over a Page at once cannot both win,
//! and a crash never leaves the previous owner's rows on the new owner's Page.

use app::error::AppError;
use app::types::PageStatus;
use surrealdb::types::{RecordId, SurrealValue};

use super::graph::{ErrorKind, Graph};
use super::pages::{self, PageRow};
use super::{seal, Result};
use crate::context::Ctx;
use crate::db::ids::record;

const BATCH: i64 = 200;

/// Before another account connects a Page its owner holds as active: the
/// owner's token still works, so the Page stays theirs; Facebook refuses it
/// (190), so the Page needs reconnection and may pass on.
pub(super) async fn ask_about_owner(ctx: &Ctx, graph: &Graph, account_id: &str, page_id: &str) -> Result<()> {
    let Some(page) = pages::load(ctx, &pages::page_key(ctx, page_id)).await? else {
        return Ok(());
    };
    if page.account_id() == account_id || page.status()? != PageStatus::Active {
        return Ok(());
    }
    let key = ctx.crypto.account_key(&page.account_id()).await?;
    if let Some(token) = page.token(&key)? {
        match graph.page(page_id, &token).await {
            Err(e) if e.kind() == ErrorKind::TokenInvalid => {}
            Err(e) if e.kind() == ErrorKind::Temporary => return Err(e.into()),
            // Working, or not provably dead: the owner keeps the Page.
            Ok(_) | Err(_) => return Err(AppError::PageAlreadyConnected.into()),
        }
    }
    pages::mark_needs_reconnection(ctx, &page.id).await
}

/// Whom to tell, once the takeover is committed.
pub(super) struct Previous {
    account_id: String,
    page_name: String,
}

/// On `tx`: moves the previous owner's data off the Page record, to an
/// archived copy of the Page.
pub(super) async fn hand_over(tx: &Ctx, previous: &PageRow) -> Result<Previous> {
    let key = tx.crypto.account_key(&previous.account_id()).await?;
    let archive_key = crate::crypto::random_id();
    let archive = record("page", &archive_key);
    let page_name = previous.name(&key)?;
    tx.db
        .client()
        .query(
            "CREATE $archive SET account = $account, page_id = $page_id, name_enc = $name, token_sealed = NONE, status = 'disconnected', \
             bot_disclosure = $bot_disclosure, connected_at = $connected_at",
        )
        .bind(("archive", archive.clone()))
        .bind(("account", previous.account.clone()))
        .bind(("page_id", previous.page_id.clone()))
        .bind(("name", seal(&key, "page", &archive_key, "name", &page_name)))
        .bind(("bot_disclosure", previous.bot_disclosure))
        .bind(("connected_at", previous.connected_at))
        .await?
        .check()?;
    move_rows(tx, &previous.id, &archive, &previous.account).await?;
    Ok(Previous { account_id: previous.account_id(), page_name })
}

/// Tells the previous owner, once the takeover is committed. The Page has
/// changed hands by then: a mail that cannot be queued is the operator's to see.
pub(super) async fn notify(ctx: &Ctx, previous: Previous) {
    let email = match crate::accounts::account_email(ctx, &previous.account_id).await {
        Ok(Some(email)) => email,
        Ok(None) => return,
        Err(e) => {
            tracing::error!(error = %e, "the previous owner of a Page taken over could not be read");
            return;
        }
    };
    let mail = crate::mail::templates::page_taken_over(&email, &previous.page_name, &ctx.link("/pages")).for_account(&previous.account_id);
    if let Err(e) = crate::mail::enqueue(ctx, mail).await {
        tracing::error!(error = %e, "the notice of a Page taken over was not queued");
    }
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

/// The owner's rows that point at `from` now point at `to`: leads (re-keyed)
/// with their messages, campaigns (paused if running or scheduled) and
/// suppression entries (re-keyed).
async fn move_rows(tx: &Ctx, from: &RecordId, to: &RecordId, account: &RecordId) -> Result<()> {
    let client = tx.db.client();
    loop {
        let leads: Vec<LeadIdent> =
            client.query(OWNERS_LEADS_ON_PAGE).bind(("from", from.clone())).bind(("account", account.clone())).bind(("batch", BATCH)).await?.take(0)?;
        if leads.is_empty() {
            break;
        }
        client
            .query(format!(
                "FOR $lead IN $leads {{ \
                   UPDATE ({}) SET page = $to; \
                   UPDATE $lead.id SET page = $to, archived_ident = $lead.ident, ident = string::concat('archived:', record::id($lead.id)); \
                 }}",
                LEAD_MESSAGES.replace("$lead", "$lead.id")
            ))
            .bind(("leads", leads))
            .bind(("to", to.clone()))
            .await?
            .check()?;
    }
    let owned = |table: &str| OWNERS_ROWS.replace("{table}", table);
    let campaigns: Vec<RecordId> = client.query(owned("campaign")).bind(("account", account.clone())).await?.take(0)?;
    let suppressions: Vec<RecordId> = client.query(owned("suppression")).bind(("account", account.clone())).await?.take(0)?;
    client
        .query(
            "UPDATE $campaigns SET state = 'paused', pause_reason = 'Paused: another account connected the Page.' \
             WHERE page = $from AND state IN ['sending', 'scheduled']; \
             UPDATE $campaigns SET page = $to WHERE page = $from; \
             FOR $entry IN (SELECT id, at FROM $suppressions WHERE page = $from) { \
               CREATE suppression SET account = $account, page = $to, at = $entry.at; \
               DELETE $entry.id; \
             };",
        )
        .bind(("campaigns", campaigns))
        .bind(("suppressions", suppressions))
        .bind(("account", account.clone()))
        .bind(("from", from.clone()))
        .bind(("to", to.clone()))
        .await?
        .check()?;
    Ok(())
}
