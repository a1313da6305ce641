//! The inbox: one conversation per lead, bodies sealed. Replies follow
//! Meta's windows (`app::messaging::reply_rule`): inside 24 hours as
//! `RESPONSE`, up to 7 days only as a human reply tagged `HUMAN_AGENT`,
//! beyond that not at all. Graph errors become plain sentences: 551 marks
//! the lead unavailable, 613 queues a retry, 10 is outside the window, 190
//! marks the Page for reconnection.

use app::error::AppError;
use app::messaging::{reply_rule, ReplyRule, MAX_TEXT_CHARS};
use app::types::{Conversation, MessageKind, MessageStatus, MessageView, PageStatus, ReplyOutcome};
use surrealdb::types::{RecordId, SurrealValue};

use super::graph::{text_message, ErrorKind, Graph, GraphError};
use super::leads::{self, LeadRecord};
use super::pages::{self, PageRow};
use super::{open, seal, time_key, Error, Result};
use crate::accounts::Ready;
use crate::context::Ctx;
use crate::crypto::SecretKey;
use crate::db::ids::key_string;
use crate::db::ids::record;

/// Messages of a conversation shown, the newest.
pub const HISTORY: i64 = 200;
const RETRY_BASE_SECS: i64 = 5;
const MAX_ATTEMPTS: i64 = 6;

#[derive(Debug, SurrealValue)]
struct MessageRow {
    id: RecordId,
    direction: String,
    kind: String,
    body_enc: String,
    at: i64,
    status: String,
    key: String,
}

/// The conversation of a lead already checked to be the caller's
/// (`leads::owned`); campaign messages are added by `broadcasts::conversation`.
pub async fn conversation(ctx: &Ctx, caller: &Ready, row: &LeadRecord) -> Result<Conversation> {
    let (session, key) = (&caller.session, &caller.key);
    let page = pages::load(ctx, &key_string(&row.page)).await?;
    let mut rows: Vec<MessageRow> = ctx
        .db
        .client()
        .query("SELECT id, direction, kind, body_enc, at, status, key FROM message WHERE lead = $lead ORDER BY key DESC LIMIT $limit")
        .bind(("lead", row.id.clone()))
        .bind(("limit", HISTORY))
        .await?
        .take(0)?;
    rows.reverse();
    if let Some(last) = rows.last() {
        super::conversations::mark_read(ctx, &session.account_id, &row.id, &last.key).await?;
    }
    let mut messages = Vec::with_capacity(rows.len());
    for m in rows {
        let id = key_string(&m.id);
        messages.push(MessageView {
            text: open(key, "message", &id, "body", &m.body_enc)?,
            id,
            direction: m.direction.parse()?,
            kind: m.kind.parse()?,
            at: m.at,
            status: m.status.parse()?,
        });
    }
    Ok(Conversation {
        lead: leads::view(ctx, row, key).await?,
        messages,
        page_needs_reconnection: page.as_ref().map(|p| p.status()).transpose()?.is_some_and(|s| s != PageStatus::Active),
    })
}

/// The Send API's `messaging_type` and tag for a human reply, or why none is allowed.
pub fn human_reply_type(rule: ReplyRule) -> std::result::Result<(&'static str, Option<&'static str>), AppError> {
    match rule {
        ReplyRule::Standard { .. } => Ok(("RESPONSE", None)),
        ReplyRule::HumanAgent { .. } => Ok(("MESSAGE_TAG", Some("HUMAN_AGENT"))),
        ReplyRule::Closed => Err(AppError::OutsideWindow),
    }
}

fn clean_text(text: &str) -> Result<String> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > MAX_TEXT_CHARS {
        return Err(AppError::InvalidMessage.into());
    }
    Ok(text.to_string())
}

/// A reply written by a person in the inbox.
pub async fn reply(ctx: &Ctx, caller: &Ready, lead: &str, text: &str) -> Result<ReplyOutcome> {
    let (session, key) = (&caller.session, &caller.key);
    let text = clean_text(text)?;
    let lead = leads::owned(ctx, &session.account_id, lead).await?;
    if lead.unavailable {
        return Err(AppError::LeadUnavailable.into());
    }
    let (messaging_type, tag) = human_reply_type(reply_rule(lead.last_interaction_at, ctx.now()))?;
    let page = pages::load(ctx, &key_string(&lead.page)).await?.ok_or(AppError::PageNotFound)?;
    if page.status()? != PageStatus::Active {
        return Err(AppError::PageNeedsReconnection.into());
    }
    send(ctx, &page, key, &lead, &text, messaging_type, tag, MessageKind::Text).await
}

/// An automated message (keyword confirmations), inside the standard window
/// only, with the Page's bot disclosure when it asked for one.
pub async fn send_automated(ctx: &Ctx, page: &PageRow, lead: &RecordId, text: &str) -> Result<ReplyOutcome> {
    let key = ctx.crypto.account_key(&page.account_id()).await?;
    let lead = leads::owned(ctx, &page.account_id(), &key_string(lead)).await?;
    if !reply_rule(lead.last_interaction_at, ctx.now()).window_open() || lead.unavailable {
        return Err(AppError::OutsideWindow.into());
    }
    let text = if page.bot_disclosure { format!("{} {text}", super::keywords::BOT_DISCLOSURE) } else { text.to_string() };
    send(ctx, page, &key, &lead, &text, "RESPONSE", None, MessageKind::Automated).await
}

/// Records the outbound message, then calls the Send API.
#[allow(clippy::too_many_arguments)]
async fn send(
    ctx: &Ctx,
    page: &PageRow,
    key: &SecretKey,
    lead: &LeadRecord,
    text: &str,
    messaging_type: &str,
    tag: Option<&str>,
    kind: MessageKind,
) -> Result<ReplyOutcome> {
    let now = ctx.now();
    let message_key = time_key(now);
    let body = seal(key, "message", &message_key, "body", text);
    // The schema event writes the lead too, which a delivery may be writing:
    // again after a conflict (the CREATE did not happen then).
    crate::db::retry_on_conflict("store a reply", || async {
        ctx.db
            .client()
            .query(
                "CREATE $id SET account = $account, page = $page, lead = $lead, key = $key, direction = 'outbound', kind = $kind, \
             body_enc = $body, at = $now, at_ms = $now_ms, status = $status, tag = $tag, attempts = 1",
            )
            .bind(("id", record("message", &message_key)))
            .bind(("account", page.account.clone()))
            .bind(("page", page.id.clone()))
            .bind(("lead", lead.id.clone()))
            .bind(("key", message_key.clone()))
            .bind(("kind", kind.as_str()))
            .bind(("status", MessageStatus::Sending.as_str()))
            .bind(("body", body.clone()))
            .bind(("now", now))
            .bind(("now_ms", now * 1000))
            .bind(("tag", tag.map(str::to_string)))
            .await?
            .check()
            .map(drop)
    })
    .await?;
    let result = deliver(ctx, page, key, lead, text, messaging_type, tag).await;
    settle(ctx, page, lead, &record("message", &message_key), result, 1).await
}

async fn deliver(
    ctx: &Ctx,
    page: &PageRow,
    key: &SecretKey,
    lead: &LeadRecord,
    text: &str,
    messaging_type: &str,
    tag: Option<&str>,
) -> std::result::Result<String, SendFailure> {
    let token = page.token(key).map_err(SendFailure::Internal)?.ok_or(SendFailure::Graph(GraphError::Api { code: 190, subcode: None, http_status: 400 }))?;
    let psid = lead.psid(key).map_err(SendFailure::Internal)?;
    let app = pages::app_settings(ctx).await.map_err(SendFailure::Internal)?;
    // Held through the call: disabling the account waits for it.
    let Some(_open) = ctx.send_gate.enter(&page.account_id()).await else {
        return Err(SendFailure::Internal(AppError::AccountDisabled.into()));
    };
    Graph::new(&app).send(&page.page_id, &token, &text_message(&psid, text, messaging_type, tag)).await.map_err(SendFailure::Graph)
}

enum SendFailure {
    Graph(GraphError),
    Internal(Error),
}

/// Writes the outcome of a send and turns Graph errors into the user's sentence.
async fn settle(
    ctx: &Ctx,
    page: &PageRow,
    lead: &LeadRecord,
    message: &RecordId,
    result: std::result::Result<String, SendFailure>,
    attempts: i64,
) -> Result<ReplyOutcome> {
    let set = |status: MessageStatus, mid: Option<String>, retry_at: Option<i64>| {
        ctx.db
            .client()
            .query("UPDATE $id SET status = $status, mid = $mid ?? mid, retry_at = $retry_at, attempts = $attempts")
            .bind(("id", message.clone()))
            .bind(("status", status.as_str()))
            .bind(("mid", mid))
            .bind(("retry_at", retry_at))
            .bind(("attempts", attempts))
    };
    let error = match result {
        Ok(mid) => {
            set(MessageStatus::Sent, Some(mid), None).await?.check()?;
            return Ok(ReplyOutcome::Sent);
        }
        Err(SendFailure::Internal(e)) => {
            set(MessageStatus::Failed, None, None).await?.check()?;
            return Err(e);
        }
        Err(SendFailure::Graph(e)) => e,
    };
    let kind = error.kind();
    if matches!(kind, ErrorKind::RateLimited | ErrorKind::Temporary) && attempts < MAX_ATTEMPTS {
        let delay = RETRY_BASE_SECS << (attempts - 1).min(6);
        set(MessageStatus::Queued, None, Some(ctx.now() + delay)).await?.check()?;
        tracing::info!(code = ?error, "reply queued for a retry");
        return Ok(ReplyOutcome::Queued);
    }
    set(MessageStatus::Failed, None, None).await?.check()?;
    Err(match kind {
        ErrorKind::Unavailable => {
            ctx.db.client().query("UPDATE $id SET unavailable = true").bind(("id", lead.id.clone())).await?.check()?;
            AppError::LeadUnavailable
        }
        ErrorKind::OutsideWindow => AppError::OutsideWindow,
        ErrorKind::TokenInvalid => {
            pages::mark_needs_reconnection(ctx, &page.id).await?;
            AppError::PageNeedsReconnection
        }
        ErrorKind::InvalidRequest => AppError::MessageRejected,
        _ => {
            tracing::warn!(error = %error, "reply failed");
            AppError::FacebookUnavailable
        }
    }
    .into())
}

#[derive(Debug, SurrealValue)]
struct QueuedRow {
    id: RecordId,
    page: RecordId,
    lead: RecordId,
    body_enc: String,
    tag: Option<String>,
    attempts: i64,
}

/// Sends replies that were queued after a 613 or a temporary failure. Returns how many were tried.
pub async fn retry_queued(ctx: &Ctx) -> Result<usize> {
    let rows: Vec<QueuedRow> = ctx
        .db
        .client()
        .query("SELECT id, page, lead, body_enc, tag, attempts FROM message WHERE status = 'queued' AND retry_at <= $now LIMIT 50")
        .bind(("now", ctx.now()))
        .await?
        .take(0)?;
    let tried = rows.len();
    for row in rows {
        let Some(page) = pages::load(ctx, &key_string(&row.page)).await? else { continue };
        let key = ctx.crypto.account_key(&page.account_id()).await?;
        let Ok(lead) = leads::owned(ctx, &page.account_id(), &key_string(&row.lead)).await else { continue };
        let text = open(&key, "message", &key_string(&row.id), "body", &row.body_enc)?;
        let messaging_type = if row.tag.is_some() { "MESSAGE_TAG" } else { "RESPONSE" };
        let attempts = row.attempts + 1;
        // Claimed first: another instance's pass may have found it too.
        let claimed: Vec<RecordId> = ctx
            .db
            .client()
            .query("UPDATE $id SET status = 'sending' WHERE status = 'queued' RETURN VALUE id")
            .bind(("id", row.id.clone()))
            .await
            .and_then(|r| r.check())
            .and_then(|mut r| r.take(0))
            .unwrap_or_default();
        if claimed.is_empty() {
            continue;
        }
        let result = deliver(ctx, &page, &key, &lead, &text, messaging_type, row.tag.as_deref()).await;
        if let Err(e) = settle(ctx, &page, &lead, &row.id, result, attempts).await {
            tracing::info!(error = %e, "queued reply could not be sent");
        }
    }
    Ok(tried)
}

/// The background loop for queued replies.
pub async fn run_retries(ctx: Ctx, mut stop: tokio::sync::watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_secs(2)) => {}
            _ = stop.changed() => return,
        }
        if let Err(e) = retry_queued(&ctx).await {
            tracing::warn!(error = %e, "reply retry pass failed");
        }
    }
}
