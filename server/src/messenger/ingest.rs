//! Stores a verified webhook delivery: every event of every entry goes to
//! the account that owns `entry[].id`; events for other Pages are counted
//! and dropped. Replays are stored once (keyed on the mid, or on sender,
//! timestamp and kind). A person's first event makes them a lead, with the
//! proof of their opt-in (`proofs`: the signed delivery is kept once, and the
//! lead holds its own event, the signature and the receipt time).
//!
//! `deliveries` applies each delivery inside a batch's transaction: all of
//! it or none of it, so a replay finds either everything (and is a
//! duplicate) or nothing (and is stored whole). What talks to Facebook
//! (profile lookups, keyword confirmations) runs after the commit, as
//! follow-ups. What a delivery says about campaign messages (their echoes,
//! delivery and read receipts) is returned in the report, for
//! `broadcasts::receipts` to apply on the same transaction: Messenger does
//! not know campaigns.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use app::types::{MessageKind, MessageStatus, PageStatus};
use serde_json::Value;
use surrealdb::types::{RecordId, SurrealValue};

use super::keywords::{self, Keyword};
use super::leads::{self, LeadRecord};
use super::pages::{self, PageRow};
use super::proofs::{OptIn, SignedBody};
use super::{seal, time_key, Result};
use crate::context::Ctx;
use crate::crypto::SecretKey;
use crate::db::ids::key_string;
use crate::db::ids::record;

/// Events that arrived for Pages nobody connected.
pub static DROPPED_EVENTS: AtomicU64 = AtomicU64::new(0);

#[derive(Debug, Default)]
pub struct IngestReport {
    pub stored: u64,
    pub duplicates: u64,
    pub dropped: u64,
    pub status_updates: u64,
    /// Work for after the commit.
    pub follow_ups: Vec<FollowUp>,
    /// For `broadcasts::receipts`, on the same transaction.
    pub campaign_receipts: Vec<CampaignReceipts>,
}

/// Every campaign message carries `metadata = "<prefix><recipient key>"`,
/// which Meta returns in the message's echo.
pub const CAMPAIGN_METADATA_PREFIX: &str = "cfbt:";

/// What one entry of a delivery said about the campaign messages of one
/// Page's account.
#[derive(Debug)]
pub struct CampaignReceipts {
    pub account: RecordId,
    /// Echoes of campaign messages: (recipient key, mid, time in ms).
    pub echoes: Vec<(String, Option<String>, i64)>,
    pub delivered_mids: Vec<String>,
    /// Everything sent to the lead up to the watermark was read.
    pub reads: Vec<ReadMark>,
}

/// Calls to Facebook that a stored delivery asks for; made once it is committed.
#[derive(Debug)]
pub enum FollowUp {
    FetchProfile { lead: RecordId, page: PageRow, psid: String },
    Confirm { lead: RecordId, page: PageRow, text: &'static str },
}

/// Starts the calls to Facebook that committed deliveries asked for.
pub(super) fn run_follow_ups(ctx: &Ctx, follow_ups: Vec<FollowUp>) {
    for follow_up in follow_ups {
        let ctx = ctx.clone();
        tokio::spawn(async move {
            match follow_up {
                FollowUp::FetchProfile { lead, page, psid } => {
                    if let Err(e) = leads::fetch_profile(&ctx, &lead, &page, &psid).await {
                        tracing::warn!(error = %e, "profile fetch failed");
                    }
                }
                FollowUp::Confirm { lead, page, text } => {
                    if let Err(e) = super::inbox::send_automated(&ctx, &page, &lead, text).await {
                        tracing::warn!(error = %e, "keyword confirmation not sent");
                    }
                }
            }
        });
    }
}

/// What one messaging item is.
#[derive(Debug)]
pub(crate) struct Event<'a> {
    psid: &'a str,
    timestamp_ms: i64,
    kind: MessageKind,
    /// Inbound from the person, or an echo of what the Page sent.
    inbound: bool,
    mid: Option<&'a str>,
    text: String,
}

fn attachments_summary(message: &Value) -> Option<String> {
    let list = message["attachments"].as_array()?;
    let kinds: Vec<String> = list.iter().map(|a| format!("[{}]", a["type"].as_str().unwrap_or("attachment"))).collect();
    (!kinds.is_empty()).then(|| kinds.join(" "))
}

pub(crate) fn classify(item: &Value) -> Option<Event<'_>> {
    let timestamp_ms = item["timestamp"].as_i64().unwrap_or(0);
    let sender = item["sender"]["id"].as_str()?;
    if let Some(message) = item.get("message") {
        let echo = message["is_echo"].as_bool().unwrap_or(false);
        let psid = if echo { item["recipient"]["id"].as_str()? } else { sender };
        let text = message["text"].as_str().map(str::to_string);
        let attachments = attachments_summary(message);
        let (kind, text) = if message.get("quick_reply").is_some() {
            (MessageKind::QuickReply, text.unwrap_or_default())
        } else if let (None, Some(a)) = (&text, &attachments) {
            (MessageKind::Attachment, a.clone())
        } else {
            (MessageKind::Text, [text, attachments].into_iter().flatten().collect::<Vec<_>>().join(" "))
        };
        return Some(Event { psid, timestamp_ms, kind, inbound: !echo, mid: message["mid"].as_str(), text });
    }
    if let Some(postback) = item.get("postback") {
        let title = postback["title"].as_str().or(postback["payload"].as_str()).unwrap_or("").to_string();
        return Some(Event { psid: sender, timestamp_ms, kind: MessageKind::Postback, inbound: true, mid: postback["mid"].as_str(), text: title });
    }
    if let Some(optin) = item.get("optin") {
        let text = optin["ref"].as_str().or(optin["type"].as_str()).unwrap_or("opt-in").to_string();
        return Some(Event { psid: sender, timestamp_ms, kind: MessageKind::Optin, inbound: true, mid: None, text });
    }
    None
}

/// The echo of a campaign message: (recipient key, mid, timestamp).
pub(crate) fn campaign_echo(item: &Value) -> Option<(String, Option<String>, i64)> {
    let message = item.get("message")?;
    if message["is_echo"].as_bool() != Some(true) {
        return None;
    }
    let recipient = message["metadata"].as_str()?.strip_prefix(CAMPAIGN_METADATA_PREFIX)?;
    Some((recipient.to_string(), message["mid"].as_str().map(str::to_string), item["timestamp"].as_i64().unwrap_or(0)))
}

/// Where an entry's events go.
#[derive(Clone)]
enum Route {
    /// To the account that holds the Page.
    Active(PageRow, SecretKey),
    /// The account is disabled: nothing is applied, except that a STOP
    /// still suppresses the person (`suppress_only`).
    Disabled(PageRow),
    /// Nobody holds the Page, or it was disconnected: dropped.
    Nowhere,
}

/// Per-delivery cache: each Page, its account's state and key are looked up once.
struct Routing {
    pages: HashMap<String, Route>,
}

impl Routing {
    async fn route(&mut self, ctx: &Ctx, page_id: &str) -> Result<Route> {
        if let Some(route) = self.pages.get(page_id) {
            return Ok(route.clone());
        }
        let route = match pages::load_routed(ctx, &pages::page_key(ctx, page_id)).await? {
            Some(pages::RoutedPage { page, account_disabled }) if page.status()? != PageStatus::Disconnected => {
                // No account row (an erasure under way) counts as disabled.
                if account_disabled.unwrap_or(true) {
                    Route::Disabled(page)
                } else {
                    let key = ctx.crypto.account_key(&page.account_id()).await?;
                    Route::Active(page, key)
                }
            }
            _ => Route::Nowhere,
        };
        self.pages.insert(page_id.to_string(), route.clone());
        Ok(route)
    }
}

/// A disabled account's Page: its events are not applied (no lead, no
/// message, no reply), but a STOP is never lost: the person goes on the
/// Page's suppression list, and their lead, if any, is unsubscribed.
async fn suppress_only(ctx: &Ctx, page: &PageRow, items: &[Value]) -> Result<()> {
    for event in items.iter().filter_map(classify).filter(|e| e.inbound && e.kind == MessageKind::Text) {
        if keywords::classify(&event.text) != Some(Keyword::Stop) {
            continue;
        }
        match leads::find_by_ident(ctx, &leads::lead_ident(ctx, &page.page_id, event.psid)).await? {
            Some(lead) => leads::set_subscribed(ctx, &lead, &page.page_id, event.psid, false).await?,
            None => {
                ctx.db
                    .client()
                    .query("UPSERT $suppression SET account = $account, page = $page, at = $now")
                    .bind(("suppression", record("suppression", &suppression_key(ctx, &page.page_id, event.psid))))
                    .bind(("account", page.account.clone()))
                    .bind(("page", page.id.clone()))
                    .bind(("now", ctx.now()))
                    .await?
                    .check()?;
            }
        }
        tracing::info!(page = %page.key(), "STOP kept for a disabled account's Page");
    }
    Ok(())
}

/// Every write of one delivery, on `ctx` (a batch's transaction). Times are
/// the delivery's arrival, not the moment it is applied.
pub(super) async fn ingest(ctx: &Ctx, proof: &SignedBody<'_>) -> Result<IngestReport> {
    let mut report = IngestReport::default();
    let mut routing = Routing { pages: HashMap::new() };
    let Some(entries) = proof.delivery["entry"].as_array() else {
        return Ok(report);
    };
    for entry in entries {
        let items = entry["messaging"].as_array().map(Vec::as_slice).unwrap_or(&[]);
        let page_id = match &entry["id"] {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => String::new(),
        };
        let route = routing.route(ctx, &page_id).await?;
        let Route::Active(page, key) = route else {
            if let Route::Disabled(page) = &route {
                suppress_only(ctx, page, items).await?;
            }
            report.dropped += items.len() as u64;
            DROPPED_EVENTS.fetch_add(items.len() as u64, Ordering::Relaxed);
            continue;
        };
        // Echoes of campaign messages and delivery and read receipts are
        // applied together, a few writes per entry rather than per event.
        let mut echoes = Vec::new();
        let mut delivered_mids: Vec<String> = Vec::new();
        let mut reads: HashMap<String, i64> = HashMap::new();
        for item in items {
            if let Some(echo) = campaign_echo(item) {
                echoes.push(echo);
            } else if let Some(delivery) = item.get("delivery") {
                delivered_mids.extend(delivery["mids"].as_array().into_iter().flatten().filter_map(|m| m.as_str().map(str::to_string)));
            } else if let (Some(read), Some(psid)) = (item.get("read"), item["sender"]["id"].as_str()) {
                let watermark = read["watermark"].as_i64().unwrap_or(0);
                let entry = reads.entry(psid.to_string()).or_insert(watermark);
                *entry = (*entry).max(watermark);
            } else {
                handle_item(ctx, &page, &key, &page_id, item, proof, &mut report).await?;
            }
        }
        report.status_updates += (echoes.len() + delivered_mids.len() + reads.len()) as u64;
        if !delivered_mids.is_empty() {
            ctx.db
                .client()
                // Rows are found by a SELECT on the `mid` index, then updated by id: an UPDATE … WHERE
                // (or an IN over a list) walks the whole table.
                .query(
                    "FOR $mid IN $mids { \
                       UPDATE (SELECT VALUE id FROM message WHERE mid = $mid) SET status = 'delivered' WHERE page = $page AND status = 'sent'; \
                     }",
                )
                .bind(("mids", delivered_mids.clone()))
                .bind(("page", page.id.clone()))
                .await?
                .check()?;
        }
        let reads = read_marks(ctx, &page_id, reads);
        if !reads.is_empty() {
            apply_reads(ctx, &reads).await?;
        }
        if !(echoes.is_empty() && delivered_mids.is_empty() && reads.is_empty()) {
            report.campaign_receipts.push(CampaignReceipts { account: page.account.clone(), echoes, delivered_mids, reads });
        }
    }
    Ok(report)
}

async fn handle_item(ctx: &Ctx, page: &PageRow, key: &SecretKey, page_id: &str, item: &Value, proof: &SignedBody<'_>, report: &mut IngestReport) -> Result<()> {
    let Some(event) = classify(item) else {
        return Ok(());
    };
    let dedupe = match event.mid {
        Some(mid) => format!("{page_id}|mid:{mid}"),
        None => format!("{page_id}|{}|{}|{}", event.psid, event.timestamp_ms, event.kind.as_str()),
    };
    // The echo of a reply sent from the inbox: already in the conversation.
    if !event.inbound {
        if let Some(mid) = event.mid {
            let ours: Vec<Value> = ctx.db.client().query("SELECT id FROM message WHERE mid = $mid LIMIT 1").bind(("mid", mid.to_string())).await?.take(0)?;
            if !ours.is_empty() {
                report.duplicates += 1;
                return Ok(());
            }
        }
    }
    let ident = ctx.crypto.keyed_index("event", &dedupe);
    let seen: Vec<Value> = ctx.db.client().query("SELECT id FROM message WHERE ident = $ident LIMIT 1").bind(("ident", ident.clone())).await?.take(0)?;
    if !seen.is_empty() {
        report.duplicates += 1;
        return Ok(());
    }
    let now = proof.received_at;
    let lead_ident = leads::lead_ident(ctx, page_id, event.psid);
    let (lead, new_lead) = match leads::find_by_ident(ctx, &lead_ident).await? {
        Some(lead) => (lead, false),
        // An echo for someone who never wrote here: no opt-in, nothing to keep.
        None if !event.inbound => return Ok(()),
        None => (create_lead(ctx, page, key, &event, page_id, &lead_ident, proof).await?, true),
    };
    let message_key = time_key(now);
    let at = (event.timestamp_ms / 1000).min(now);
    ctx.db
        .client()
        .query(
            "CREATE $id SET account = $account, page = $page, lead = $lead, key = $key, ident = $ident, mid = $mid, \
             direction = $direction, kind = $kind, body_enc = $body, at = $at, at_ms = $at_ms, status = $status, attempts = 0",
        )
        .bind(("id", record("message", &message_key)))
        .bind(("account", page.account.clone()))
        .bind(("page", page.id.clone()))
        .bind(("lead", lead.id.clone()))
        .bind(("key", message_key.clone()))
        .bind(("ident", ident))
        .bind(("mid", event.mid.map(str::to_string)))
        .bind(("direction", if event.inbound { "inbound" } else { "outbound" }))
        .bind(("kind", if event.inbound { event.kind } else { MessageKind::Echo }.as_str()))
        .bind(("body", seal(key, "message", &message_key, "body", &event.text)))
        .bind(("at", at))
        .bind(("at_ms", event.timestamp_ms))
        .bind(("status", if event.inbound { MessageStatus::Received } else { MessageStatus::Sent }.as_str()))
        .await?
        .check()?;
    report.stored += 1;
    // The standard window opens at each message or postback from the person.
    if event.inbound && matches!(event.kind, MessageKind::Text | MessageKind::QuickReply | MessageKind::Attachment | MessageKind::Postback) {
        ctx.db
            .client()
            .query("UPDATE $id SET last_interaction_at = $at WHERE last_interaction_at IS NONE OR last_interaction_at < $at")
            .bind(("id", lead.id.clone()))
            .bind(("at", at))
            .await?
            .check()?;
    }
    if event.inbound && event.kind == MessageKind::Text {
        if let Some(keyword) = keywords::classify(&event.text) {
            let text = apply_keyword(ctx, &lead, page_id, event.psid, keyword).await?;
            report.follow_ups.push(FollowUp::Confirm { lead: lead.id.clone(), page: page.clone(), text });
        }
    }
    if new_lead {
        report.follow_ups.push(FollowUp::FetchProfile { lead: lead.id.clone(), page: page.clone(), psid: event.psid.to_string() });
    }
    Ok(())
}

/// A read receipt: the lead (by its indexed `ident`) read everything sent
/// to them up to the watermark (ms).
#[derive(Clone, Debug, SurrealValue)]
pub struct ReadMark {
    pub ident: String,
    pub watermark: i64,
}

fn read_marks(ctx: &Ctx, page_id: &str, reads: HashMap<String, i64>) -> Vec<ReadMark> {
    reads.into_iter().map(|(psid, watermark)| ReadMark { ident: leads::lead_ident(ctx, page_id, &psid), watermark }).collect()
}

/// Read receipts on the conversation, all in one request.
async fn apply_reads(ctx: &Ctx, marks: &[ReadMark]) -> Result<()> {
    ctx.db
        .client()
        .query(
            "FOR $m IN $marks { \
               LET $lead = (SELECT VALUE id FROM lead WHERE ident = $m.ident LIMIT 1)[0]; \
               IF $lead != NONE { \
                 UPDATE (SELECT VALUE id FROM message WHERE lead = $lead) SET status = 'read' WHERE direction = 'outbound' AND at_ms <= $m.watermark AND status IN ['sent', 'delivered']; \
               }; \
             }",
        )
        .bind(("marks", marks.to_vec()))
        .await?
        .check()?;
    Ok(())
}

pub fn suppression_key(ctx: &Ctx, page_id: &str, psid: &str) -> String {
    ctx.crypto.keyed_index("suppress", &format!("{page_id}|{psid}"))
}

async fn create_lead(ctx: &Ctx, page: &PageRow, key: &SecretKey, event: &Event<'_>, page_id: &str, ident: &str, proof: &SignedBody<'_>) -> Result<LeadRecord> {
    let now = proof.received_at;
    let lead_key = time_key(now);
    let psid = event.psid;
    let psid_enc = seal(key, "lead", &lead_key, "psid", psid);
    let opt_in = OptIn { page_id, psid, timestamp_ms: event.timestamp_ms, mid: event.mid, kind: event.kind.as_str() };
    let kept = proof.proof_for(ctx, key, &lead_key, &opt_in).await?;
    let suppressed: Option<Value> =
        ctx.db.client().query("SELECT id FROM ONLY $id").bind(("id", record("suppression", &suppression_key(ctx, page_id, psid)))).await?.take(0)?;
    ctx.db
        .client()
        .query(
            "CREATE $id SET account = $account, page = $page, key = $key, ident = $ident, psid_enc = $psid, \
             proof_enc = $proof, proof_delivery = $delivery, proof_secret_version = $secret_version, proof_received_at = $now, \
             subscribed = $subscribed, unavailable = false, created_at = $now, labels = []",
        )
        .bind(("id", record("lead", &lead_key)))
        .bind(("account", page.account.clone()))
        .bind(("page", page.id.clone()))
        .bind(("key", lead_key.clone()))
        .bind(("ident", ident.to_string()))
        .bind(("psid", psid_enc.clone()))
        .bind(("proof", kept.sealed))
        .bind(("delivery", kept.delivery))
        .bind(("secret_version", kept.secret_version))
        .bind(("now", now))
        .bind(("subscribed", suppressed.is_none()))
        .await?
        .check()?;
    Ok(LeadRecord {
        id: record("lead", &lead_key),
        account: page.account.clone(),
        page: page.id.clone(),
        key: lead_key,
        psid_enc,
        first_name_enc: None,
        last_name_enc: None,
        subscribed: suppressed.is_none(),
        unavailable: false,
        last_interaction_at: None,
        created_at: now,
        labels: Vec::new(),
    })
}

/// STOP puts the lead on the Page's suppression list; START takes them off.
/// Either way the lead gets a confirmation (their message just opened the
/// window): its text is returned, to be sent once the change is committed.
async fn apply_keyword(ctx: &Ctx, lead: &LeadRecord, page_id: &str, psid: &str, keyword: Keyword) -> Result<&'static str> {
    let confirmation = match keyword {
        Keyword::Stop => keywords::STOP_CONFIRMATION,
        Keyword::Start => keywords::START_CONFIRMATION,
    };
    leads::set_subscribed(ctx, lead, page_id, psid, keyword == Keyword::Start).await?;
    tracing::info!(lead = %key_string(&lead.id), ?keyword, "subscription changed by keyword");
    Ok(confirmation)
}

/// For the benchmark and tests: a lead's record id from its Page and PSID.
pub async fn lead_for(ctx: &Ctx, page_id: &str, psid: &str) -> Result<Option<RecordId>> {
    Ok(leads::find_by_ident(ctx, &leads::lead_ident(ctx, page_id, psid)).await?.map(|l| l.id))
}
