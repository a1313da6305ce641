//! Leads: people who wrote to a Page, keyed by (Page, PSID), each with the
//! sealed proof of their opt-in. Labels, filters and name search (names are
//! encrypted, so search decrypts page by page on the server, in bounded
//! batches), deletion, and "verify proof".

use std::collections::HashMap;

use app::error::AppError;
use app::messaging::{reply_rule, STANDARD_WINDOW_SECS};
use app::types::{LabelView, LeadFilter, LeadPage, LeadRow, ProofCheck, WindowFilter};
use surrealdb::types::{RecordId, SurrealValue};

use super::pages::{self, PageRow};
use super::{open, Result};
use crate::accounts::Ready;
use crate::context::Ctx;
use crate::crypto::SecretKey;
use crate::db::ids::{account_record, key_string};
use crate::db::ids::{record, valid_key};

const PAGE_SIZE: usize = 50;
const SCAN_BATCH: i64 = 500;
/// A search answers after this many leads even with fewer matches; the UI offers "search further".
const SCAN_LIMIT: u64 = 20_000;
const DELETE_BATCH: i64 = 1_000;

#[derive(Debug, Clone, SurrealValue)]
pub struct LeadRecord {
    pub id: RecordId,
    pub account: RecordId,
    pub page: RecordId,
    pub key: String,
    pub psid_enc: String,
    pub first_name_enc: Option<String>,
    pub last_name_enc: Option<String>,
    pub subscribed: bool,
    pub unavailable: bool,
    pub last_interaction_at: Option<i64>,
    pub created_at: i64,
    pub labels: Vec<RecordId>,
}

/// The columns the list needs (not the proof).
pub const LIST_FIELDS: &str =
    "id, account, page, key, psid_enc, first_name_enc, last_name_enc, subscribed, unavailable, last_interaction_at, created_at, labels";

impl LeadRecord {
    pub fn key(&self) -> String {
        key_string(&self.id)
    }

    pub fn psid(&self, key: &SecretKey) -> Result<String> {
        open(key, "lead", &self.key(), "psid", &self.psid_enc)
    }

    pub fn first_name(&self, key: &SecretKey) -> Result<Option<String>> {
        self.first_name_enc.as_deref().map(|b| open(key, "lead", &self.key(), "first_name", b)).transpose()
    }

    pub fn last_name(&self, key: &SecretKey) -> Result<Option<String>> {
        self.last_name_enc.as_deref().map(|b| open(key, "lead", &self.key(), "last_name", b)).transpose()
    }

    pub fn name(&self, key: &SecretKey) -> Result<Option<String>> {
        let first = self.first_name(key)?;
        let last = self.last_name(key)?;
        let full = [first, last].into_iter().flatten().filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" ");
        Ok((!full.is_empty()).then_some(full))
    }
}

pub fn lead_ident(ctx: &Ctx, page_id: &str, psid: &str) -> String {
    ctx.crypto.keyed_index("lead", &format!("{page_id}|{psid}"))
}

/// A statement with a WHERE on an indexed field (checked by `index_use`).
pub(crate) const ARCHIVED_WITH_IDENT: &str = "SELECT VALUE id FROM lead WHERE archived_ident = $ident";

/// The person's leads kept by a Page's previous owners (`takeover`).
pub async fn archived_with_ident(ctx: &Ctx, ident: &str) -> Result<Vec<RecordId>> {
    Ok(ctx.db.client().query(ARCHIVED_WITH_IDENT).bind(("ident", ident.to_string())).await?.take(0)?)
}

pub async fn find_by_ident(ctx: &Ctx, ident: &str) -> Result<Option<LeadRecord>> {
    let rows: Vec<LeadRecord> =
        ctx.db.client().query(format!("SELECT {LIST_FIELDS} FROM lead WHERE ident = $ident LIMIT 1")).bind(("ident", ident.to_string())).await?.take(0)?;
    Ok(rows.into_iter().next())
}

/// The lead, if it belongs to the account; "not found" otherwise.
pub async fn owned(ctx: &Ctx, account_id: &str, lead: &str) -> Result<LeadRecord> {
    if !valid_key(lead) {
        return Err(AppError::LeadNotFound.into());
    }
    let row: Option<LeadRecord> = ctx.db.client().query(format!("SELECT {LIST_FIELDS} FROM ONLY $id")).bind(("id", record("lead", lead))).await?.take(0)?;
    match row {
        Some(row) if key_string(&row.account) == account_id => Ok(row),
        _ => Err(AppError::LeadNotFound.into()),
    }
}

async fn label_names(ctx: &Ctx, account_id: &str) -> Result<HashMap<String, String>> {
    Ok(super::labels::labels_of(ctx, account_id).await?.into_iter().map(|l| (l.id, l.name)).collect())
}

pub fn to_view(ctx: &Ctx, row: &LeadRecord, key: &SecretKey, page_name: &str, labels: &HashMap<String, String>) -> Result<LeadRow> {
    Ok(LeadRow {
        id: row.key(),
        page: key_string(&row.page),
        page_name: page_name.to_string(),
        name: row.name(key)?,
        subscribed: row.subscribed,
        unavailable: row.unavailable,
        reply: reply_rule(row.last_interaction_at, ctx.now()),
        last_interaction_at: row.last_interaction_at,
        opted_in_at: row.created_at,
        labels: row
            .labels
            .iter()
            .filter_map(|l| {
                let id = key_string(l);
                labels.get(&id).map(|name| LabelView { id, name: name.clone() })
            })
            .collect(),
    })
}

/// One lead, as the list shows it.
pub async fn view(ctx: &Ctx, row: &LeadRecord, key: &SecretKey) -> Result<LeadRow> {
    let page = pages::load(ctx, &key_string(&row.page)).await?;
    let page_name = page.map(|p| p.name(key)).transpose()?.unwrap_or_default();
    let labels = label_names(ctx, &key_string(&row.account)).await?;
    to_view(ctx, row, key, &page_name, &labels)
}

/// The leads list: one Page (the first if none is chosen), newest first, filtered
/// in the database; name search decrypts batch by batch and stops at a page of
/// matches or after `SCAN_LIMIT` leads, answering with a cursor to go on.
pub async fn leads(ctx: &Ctx, caller: &Ready, filter: LeadFilter) -> Result<LeadPage> {
    let (session, key) = (&caller.session, &caller.key);
    list_for(ctx, &session.account_id, key, filter).await
}

/// The list for an account whose key is already open (the benchmark calls this).
pub async fn list_for(ctx: &Ctx, account_id: &str, key: &SecretKey, filter: LeadFilter) -> Result<LeadPage> {
    let page: PageRow = match &filter.page {
        Some(p) => pages::owned(ctx, account_id, p).await?,
        None => {
            let first: Vec<PageRow> = ctx
                .db
                .client()
                .query("SELECT * FROM page WHERE account = $account ORDER BY connected_at, id LIMIT 1")
                .bind(("account", account_record(account_id)))
                .await?
                .take(0)?;
            match first.into_iter().next() {
                Some(p) => p,
                None => return Ok(LeadPage { leads: Vec::new(), next: None, scanned: 0, total: Some(0) }),
            }
        }
    };
    let page_name = page.name(key)?;
    let labels = label_names(ctx, account_id).await?;
    let label = match &filter.label {
        Some(l) if labels.contains_key(l) => Some(record("label", l)),
        Some(_) => return Err(AppError::LabelNotFound.into()),
        None => None,
    };
    let mut filters = vec!["page = $page"];
    if label.is_some() {
        filters.push("$label IN labels");
    }
    if filter.subscribed.is_some() {
        filters.push("subscribed = $subscribed");
    }
    match filter.window {
        Some(WindowFilter::Open) => filters.push("last_interaction_at > $window_start"),
        Some(WindowFilter::Closed) => filters.push("(last_interaction_at IS NONE OR last_interaction_at <= $window_start)"),
        None => {}
    }
    // The paging cursor comes right after the Page, as the (page, key) index reads them.
    let mut conditions = filters.clone();
    conditions.insert(1, "key < $before");
    let query = format!("SELECT {LIST_FIELDS} FROM lead WHERE {} ORDER BY key DESC LIMIT $limit", conditions.join(" AND "));
    let needle = filter.search.trim().to_lowercase();
    let total = if needle.is_empty() && filter.after.is_none() {
        // Counted for the first page only.
        let counted: Option<i64> = ctx
            .db
            .client()
            .query(format!("SELECT VALUE n FROM (SELECT count() AS n FROM lead WHERE {} GROUP ALL)", filters.join(" AND ")))
            .bind(("page", page.id.clone()))
            .bind(("label", label.clone()))
            .bind(("subscribed", filter.subscribed.unwrap_or(true)))
            .bind(("window_start", ctx.now() - STANDARD_WINDOW_SECS))
            .await?
            .take(0)?;
        Some(counted.unwrap_or(0).max(0) as u64)
    } else {
        None
    };
    let mut before = filter.after.clone().filter(|a| valid_key(a)).unwrap_or_else(|| "~".to_string());
    let mut leads = Vec::new();
    let mut scanned = 0u64;
    loop {
        let limit = if needle.is_empty() { PAGE_SIZE as i64 } else { SCAN_BATCH };
        let rows: Vec<LeadRecord> = ctx
            .db
            .client()
            .query(query.as_str())
            .bind(("page", page.id.clone()))
            .bind(("before", before.clone()))
            .bind(("label", label.clone()))
            .bind(("subscribed", filter.subscribed.unwrap_or(true)))
            .bind(("window_start", ctx.now() - STANDARD_WINDOW_SECS))
            .bind(("limit", limit))
            .await?
            .take(0)?;
        let exhausted = (rows.len() as i64) < limit;
        for row in &rows {
            scanned += 1;
            before = row.key.clone();
            if !needle.is_empty() && !row.name(key)?.is_some_and(|n| n.to_lowercase().contains(&needle)) {
                continue;
            }
            leads.push(to_view(ctx, row, key, &page_name, &labels)?);
            if leads.len() == PAGE_SIZE {
                break;
            }
        }
        if exhausted && leads.len() < PAGE_SIZE {
            return Ok(LeadPage { leads, next: None, scanned, total });
        }
        if leads.len() == PAGE_SIZE || scanned >= SCAN_LIMIT || needle.is_empty() {
            return Ok(LeadPage { leads, next: Some(before), scanned, total });
        }
    }
}

/// Subscribes or unsubscribes a lead. Unsubscribing puts them on the Page's
/// suppression list (a keyed hash of Page and PSID, so it outlives the lead).
pub async fn set_subscribed(ctx: &Ctx, lead: &LeadRecord, page_id: &str, psid: &str, subscribed: bool) -> Result<()> {
    // An archived copy of a Page taken over has the live Page's Facebook id:
    // its entries are keyed by the archive, so that they never overwrite or
    // erase the new owner's entry for the same person.
    let page_record = key_string(&lead.page);
    let keyed_by = if page_record == super::pages::page_key(ctx, page_id) { page_id } else { page_record.as_str() };
    let suppression = record("suppression", &super::ingest::suppression_key(ctx, keyed_by, psid));
    let statement = if subscribed {
        "UPDATE $lead SET subscribed = true; DELETE $suppression"
    } else {
        "UPDATE $lead SET subscribed = false; UPSERT $suppression SET account = $account, page = $page, at = $now"
    };
    // Unsubscribing also marks the lead's last campaign delivery (a schema
    // event), which a delivery or read receipt may be updating: both
    // statements are idempotent, so they run again after a conflict.
    crate::db::retry_on_conflict("subscription change", || async {
        ctx.db
            .client()
            .query(statement)
            .bind(("lead", lead.id.clone()))
            .bind(("suppression", suppression.clone()))
            .bind(("account", lead.account.clone()))
            .bind(("page", lead.page.clone()))
            .bind(("now", ctx.now()))
            .await?
            .check()
            .map(drop)
    })
    .await?;
    Ok(())
}

/// Deletes a lead and everything about it: conversation, labels, proof,
/// and what `dependents` names.
pub async fn delete_lead(ctx: &Ctx, caller: &Ready, lead: &str, dependents: &Dependents) -> Result<()> {
    let session = &caller.session;
    let row = owned(ctx, &session.account_id, lead).await?;
    erase_lead(ctx, &row.id, dependents).await
}

/// Rows of other modules that point to leads and Pages, erased with them.
/// Campaigns are not Messenger's to know: every caller that erases passes
/// `broadcasts::DEPENDENTS`.
pub struct Dependents {
    /// Statements (`$id` is the lead) run in the lead's guarded deletion, in order.
    pub of_lead: &'static [&'static str],
    /// Erases their rows of a Page, before its leads go.
    pub of_page: for<'a> fn(&'a Ctx, &'a RecordId) -> futures::future::BoxFuture<'a, Result<()>>,
}

/// A statement with a WHERE on an indexed field (checked by `index_use`).
pub(crate) const ERASE_LEAD_MESSAGES: &str = "DELETE message WHERE lead = $id";

/// Erases one lead, and takes them out of stored deliveries not applied yet (`redaction`).
pub async fn erase_lead(ctx: &Ctx, lead: &RecordId, dependents: &Dependents) -> Result<()> {
    erase_lead_rows(ctx, lead, dependents).await?;
    super::redaction::redact_forgotten(ctx).await?;
    Ok(())
}

/// The lead's rows; the delete event marks the stored deliveries that name them.
async fn erase_lead_rows(ctx: &Ctx, lead: &RecordId, dependents: &Dependents) -> Result<()> {
    delete_in_batches(ctx, "SELECT VALUE id FROM message WHERE lead = $owner LIMIT $batch", lead).await?;
    // The lead, the last of its messages and its dependents (campaign
    // deliveries and their echoes) at once, guarded: a campaign queue batch
    // adds only leads that exist and conflicts with this (`broadcasts::queue`),
    // so none is added after it.
    let page: Option<RecordId> = ctx.db.client().query("SELECT VALUE page FROM ONLY $id").bind(("id", lead.clone())).await?.take(0)?;
    if let Some(page) = page {
        let with = std::iter::once(ERASE_LEAD_MESSAGES).chain(dependents.of_lead.iter().copied()).collect::<Vec<_>>().join("; ");
        pages::delete_guarded(ctx.db.client(), &page, lead, &with).await?;
    }
    tracing::info!(lead = %key_string(lead), "lead erased");
    Ok(())
}

/// A Page's leads, conversations and suppression list (disconnect with erase).
pub async fn erase_page_data(ctx: &Ctx, page: &RecordId, dependents: &Dependents) -> Result<()> {
    (dependents.of_page)(ctx, page).await?;
    for select in [
        "SELECT VALUE id FROM message WHERE page = $owner LIMIT $batch",
        "SELECT VALUE id FROM lead WHERE page = $owner LIMIT $batch",
        "SELECT VALUE id FROM suppression WHERE page = $owner LIMIT $batch",
    ] {
        delete_in_batches(ctx, select, page).await?;
    }
    super::redaction::redact_forgotten(ctx).await?;
    Ok(())
}

async fn delete_in_batches(ctx: &Ctx, select: &'static str, owner: &RecordId) -> Result<()> {
    loop {
        let ids: Vec<RecordId> = ctx.db.client().query(select).bind(("owner", owner.clone())).bind(("batch", DELETE_BATCH)).await?.take(0)?;
        if ids.is_empty() {
            return Ok(());
        }
        // A delivery receipt may update one of these rows meanwhile: again after a conflict.
        crate::db::retry_on_conflict("batch deletion", || async { ctx.db.client().query("DELETE $ids").bind(("ids", ids.clone())).await?.check().map(drop) })
            .await?;
    }
}

#[derive(Debug, SurrealValue)]
struct ProofRow {
    account: RecordId,
    proof_enc: Option<String>,
    proof_delivery: Option<RecordId>,
    proof_secret_version: Option<i64>,
    proof_received_at: i64,
}

/// Recomputes the webhook HMAC over the kept delivery with the app secret
/// that signed it (`proofs::check`).
pub async fn verify_proof(ctx: &Ctx, caller: &Ready, lead: &str) -> Result<ProofCheck> {
    let (session, key) = (&caller.session, &caller.key);
    if !valid_key(lead) {
        return Err(AppError::LeadNotFound.into());
    }
    let row: Option<ProofRow> = ctx
        .db
        .client()
        .query("SELECT account, proof_enc, proof_delivery, proof_secret_version, proof_received_at FROM ONLY $id")
        .bind(("id", record("lead", lead)))
        .await?
        .take(0)?;
    let row = row.filter(|r| key_string(&r.account) == session.account_id).ok_or(AppError::LeadNotFound)?;
    let stored = super::proofs::StoredProof {
        proof_enc: row.proof_enc,
        proof_delivery: row.proof_delivery,
        proof_secret_version: row.proof_secret_version,
        proof_received_at: row.proof_received_at,
    };
    super::proofs::check(ctx, key, lead, stored).await
}

/// Fetches first and last name through the user-profile call, where allowed.
pub async fn fetch_profile(ctx: &Ctx, lead: &RecordId, page: &PageRow, psid: &str) -> Result<()> {
    let key = ctx.crypto.account_key(&page.account_id()).await?;
    let Some(token) = page.token(&key)? else {
        return Ok(());
    };
    let app = pages::app_settings(ctx).await?;
    let (first, last) = match super::graph::Graph::new(&app).profile(psid, &token).await {
        Ok(names) => names,
        Err(e) if e.kind() == super::graph::ErrorKind::TokenInvalid => {
            return pages::mark_needs_reconnection(ctx, &page.id).await;
        }
        // Not allowed for this person or Page, or Facebook is down: the lead stays nameless.
        Err(e) => {
            tracing::info!(error = %e, "profile not available");
            return Ok(());
        }
    };
    let lead_key = key_string(lead);
    let seal = |field: &str, value: Option<String>| value.filter(|v| !v.is_empty()).map(|v| super::seal(&key, "lead", &lead_key, field, &v));
    let (first, last) = (seal("first_name", first), seal("last_name", last));
    // A message from the same person may be written meanwhile; retry on a write conflict.
    let mut attempt = 0;
    loop {
        let result = ctx
            .db
            .client()
            .query("UPDATE $id SET first_name_enc = $first, last_name_enc = $last")
            .bind(("id", lead.clone()))
            .bind(("first", first.clone()))
            .bind(("last", last.clone()))
            .await
            .and_then(|r| r.check());
        match result {
            Ok(_) => return Ok(()),
            Err(e) if attempt < 4 => {
                attempt += 1;
                tracing::debug!(error = %e, attempt, "profile update retried");
                tokio::time::sleep(std::time::Duration::from_millis(20 << attempt)).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// The retention purge: leads inactive for the set period (erased with their
/// conversations), messages older than theirs, abandoned Facebook sign-ins.
pub async fn purge_expired(ctx: &Ctx, dependents: &Dependents) -> Result<(i64, i64)> {
    let retention = crate::policies::retention::retention_settings(ctx).await?;
    let now = ctx.now();
    let lead_cutoff = now - retention.inactive_leads_days * 86_400;
    let mut leads = 0;
    loop {
        let ids: Vec<RecordId> = ctx
            .db
            .client()
            .query("SELECT VALUE id FROM lead WHERE (last_interaction_at ?? created_at) < $cutoff LIMIT $batch")
            .bind(("cutoff", lead_cutoff))
            .bind(("batch", DELETE_BATCH))
            .await?
            .take(0)?;
        if ids.is_empty() {
            break;
        }
        for id in &ids {
            erase_lead_rows(ctx, id, dependents).await?;
        }
        leads += ids.len() as i64;
    }
    super::redaction::redact_forgotten(ctx).await?;
    let mut messages = 0;
    loop {
        let ids: Vec<RecordId> = ctx
            .db
            .client()
            .query("SELECT VALUE id FROM message WHERE at < $cutoff LIMIT $batch")
            .bind(("cutoff", now - retention.messages_days * 86_400))
            .bind(("batch", DELETE_BATCH))
            .await?
            .take(0)?;
        if ids.is_empty() {
            break;
        }
        messages += ids.len() as i64;
        ctx.db.client().query("DELETE $ids").bind(("ids", ids)).await?.check()?;
    }
    super::proofs::purge_older_than(ctx, now - retention.messages_days * 86_400).await?;
    super::settings::purge_unused_secrets(ctx).await?;
    ctx.db.client().query("DELETE page_login WHERE created_at < $cutoff").bind(("cutoff", now - super::pages::LOGIN_TTL_SECS)).await?.check()?;
    Ok((leads, messages))
}
