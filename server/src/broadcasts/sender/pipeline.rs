//! Sending one claimed batch: decide per recipient (skip with the reason,
//! or send), send with bounded concurrency through the throttle and the
//! account's send gate, and record outcomes while sending goes on.

use futures::StreamExt;
use serde_json::Value;

use super::claims::Claimed;
use super::message::{self, Recipient};
use super::outcomes::{write_outcomes, Outcome, RecipientState, Sent};
use super::pacing::Throttle;
use super::{Batch, CONCURRENCY, MAX_RATE_LIMIT_ATTEMPTS, MAX_TEMPORARY_ATTEMPTS, OUTCOME_CHUNK};
use crate::broadcasts::{unsubscribe, CampaignContent, CampaignRow};
use crate::context::Ctx;
use crate::db::ids::key_string;
use crate::error::{Error, Result};
use crate::messenger::graph::{ErrorKind, Graph, GraphError};
use crate::messenger::leads::LeadRecord;
use crate::messenger::pages::{self, PageRow};

/// Sends a claimed batch and records the outcomes. Returns false if the
/// campaign was paused because Facebook rejected the Page's token.
pub(super) async fn send_claimed(ctx: &Ctx, throttle: &Throttle, campaign: &CampaignRow, batch: Batch) -> Result<bool> {
    let window_start = ctx.now() - campaign.margin_hours * 3600;
    let context = SendContext {
        ctx,
        throttle,
        campaign,
        page: &batch.page,
        key: &batch.key,
        graph: &batch.graph,
        token: batch.token.as_deref(),
        page_name: &batch.page_name,
        content: &batch.content,
    };
    let sends: Vec<_> = batch.claimed.iter().map(|c| decide(&context, c, batch.leads.get(&key_string(&c.lead)), window_start)).collect();
    // Sending never waits for the database: the sends are driven on their own,
    // and the writer records what has completed, in small groups, so that
    // receipts find their rows. If writing fails, sending stops.
    let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel();
    let sending = async move {
        let mut results = futures::stream::iter(sends).buffer_unordered(CONCURRENCY);
        while let Some(sent) = results.next().await {
            if done_tx.send(sent).is_err() {
                return;
            }
        }
    };
    let writing = async move {
        let mut token_rejected = false;
        let mut chunk = Vec::with_capacity(OUTCOME_CHUNK);
        while done_rx.recv_many(&mut chunk, OUTCOME_CHUNK).await > 0 {
            let mut outcomes = Vec::with_capacity(chunk.len());
            let mut unavailable = Vec::new();
            for result in chunk.drain(..) {
                match result {
                    Sent::Done(o) => outcomes.push(o),
                    Sent::Unavailable(o, lead) => {
                        outcomes.push(o);
                        unavailable.push(lead);
                    }
                    Sent::TokenRejected(o) => {
                        token_rejected = true;
                        outcomes.push(o);
                    }
                }
            }
            write_outcomes(ctx, outcomes, unavailable, &[RecipientState::InFlight]).await?;
        }
        Ok::<bool, Error>(token_rejected)
    };
    let ((), token_rejected) = tokio::join!(sending, writing);
    let token_rejected = token_rejected?;
    if token_rejected {
        pause_for_token(ctx, campaign, &batch.page).await?;
        return Ok(false);
    }
    Ok(true)
}

/// Skips what must not be sent (with the reason), sends the rest.
async fn decide(context: &SendContext<'_>, c: &Claimed, lead: Option<&LeadRecord>, window_start: i64) -> Sent {
    match lead {
        None => Sent::Done(Outcome::new(c, RecipientState::Skipped, Some("the lead was deleted"))),
        Some(l) if !l.subscribed => Sent::Done(Outcome::new(c, RecipientState::Skipped, Some("unsubscribed"))),
        Some(l) if l.unavailable => Sent::Done(Outcome::new(c, RecipientState::Skipped, Some("unavailable (Facebook error 551)"))),
        Some(l) if l.last_interaction_at.is_none_or(|t| t <= window_start) => {
            Sent::Done(Outcome::new(c, RecipientState::Skipped, Some("outside the messaging window")))
        }
        Some(l) => context.send_one(c, l).await,
    }
}

struct SendContext<'a> {
    ctx: &'a Ctx,
    throttle: &'a Throttle,
    campaign: &'a CampaignRow,
    page: &'a PageRow,
    key: &'a crate::crypto::SecretKey,
    graph: &'a Graph,
    token: Option<&'a str>,
    page_name: &'a str,
    content: &'a CampaignContent,
}

impl SendContext<'_> {
    async fn send_one(&self, claimed: &Claimed, lead: &LeadRecord) -> Sent {
        let Some(token) = self.token else {
            return Sent::TokenRejected(Outcome::new(claimed, RecipientState::Pending, None));
        };
        let body = match self.message(claimed, lead) {
            Ok(body) => body,
            Err(e) => {
                tracing::error!(error = %e, "a broadcast message could not be built");
                return Sent::Done(Outcome::new(claimed, RecipientState::Failed, Some("the lead's data could not be read")));
            }
        };
        self.throttle.acquire(&self.page.page_id, self.campaign.rate_per_sec).await;
        // Held through the call: disabling the account waits for it.
        let Some(_open) = self.ctx.send_gate.enter(&self.page.account_id()).await else {
            return Sent::Done(Outcome::new(claimed, RecipientState::Pending, None));
        };
        let result = self.graph.send(&self.page.page_id, token, &body).await;
        let now = self.ctx.now();
        match result {
            Ok(mid) => {
                Sent::Done(Outcome { mid: Some(mid), sent_at: Some(now), sent_at_ms: Some(now * 1000), ..Outcome::new(claimed, RecipientState::Sent, None) })
            }
            Err(e) => self.failure(claimed, lead, e, now),
        }
    }

    fn failure(&self, claimed: &Claimed, lead: &LeadRecord, error: GraphError, now: i64) -> Sent {
        let attempts = claimed.attempts + 1;
        let retry = |delay: i64| Outcome { attempts, next_attempt_at: now + delay, ..Outcome::new(claimed, RecipientState::Pending, None) };
        match error.kind() {
            ErrorKind::Unavailable => {
                Sent::Unavailable(Outcome::new(claimed, RecipientState::Skipped, Some("unavailable (Facebook error 551)")), lead.id.clone())
            }
            ErrorKind::OutsideWindow => Sent::Done(Outcome::new(claimed, RecipientState::Skipped, Some("outside the messaging window (Facebook error 10)"))),
            ErrorKind::TokenInvalid => Sent::TokenRejected(Outcome::new(claimed, RecipientState::Pending, None)),
            ErrorKind::RateLimited if attempts < MAX_RATE_LIMIT_ATTEMPTS => {
                self.throttle.back_off(&self.page.page_id);
                Sent::Done(retry(1 + attempts.min(10)))
            }
            ErrorKind::Temporary if attempts < MAX_TEMPORARY_ATTEMPTS => Sent::Done(retry(1 << attempts)),
            ErrorKind::Temporary | ErrorKind::RateLimited => Sent::Done(Outcome {
                attempts,
                ..Outcome::new(claimed, RecipientState::Failed, Some("Facebook kept failing (timeouts, server errors or rate limits)"))
            }),
            ErrorKind::InvalidRequest => {
                Sent::Done(Outcome { attempts, ..Outcome::new(claimed, RecipientState::Failed, Some("rejected by Facebook as invalid (error 100)")) })
            }
            ErrorKind::Other => {
                let reason = match error {
                    GraphError::Api { code, .. } => format!("Facebook error {code}"),
                    other => other.to_string(),
                };
                Sent::Done(Outcome { attempts, ..Outcome::new(claimed, RecipientState::Failed, Some(&reason)) })
            }
        }
    }

    /// Opens what the message needs from the lead, then builds it (`message::build`).
    fn message(&self, claimed: &Claimed, lead: &LeadRecord) -> Result<Value> {
        let first_name = lead.first_name(self.key)?;
        let full_name = lead.name(self.key)?;
        let psid = lead.psid(self.key)?;
        let unsubscribe_link = unsubscribe::link(self.ctx, &lead.key(), &key_string(&lead.page));
        let recipient_key = key_string(&claimed.id);
        let to = Recipient {
            recipient_key: &recipient_key,
            psid: &psid,
            first_name: first_name.as_deref(),
            full_name: full_name.as_deref(),
            unsubscribe_link: &unsubscribe_link,
        };
        let from = message::Sender { page_name: self.page_name, bot_disclosure: self.page.bot_disclosure };
        Ok(message::build(self.content, &from, &to))
    }
}

/// Error 190: the campaign pauses, the Page is marked, the owner gets a mail.
async fn pause_for_token(ctx: &Ctx, campaign: &CampaignRow, page: &PageRow) -> Result<()> {
    pages::mark_needs_reconnection(ctx, &page.id).await?;
    let paused: Vec<Value> = ctx
        .db
        .client()
        .query("UPDATE $id SET state = 'paused', pause_reason = $reason WHERE state = 'sending' RETURN id")
        .bind(("id", campaign.id.clone()))
        .bind(("reason", "Facebook no longer accepts the Page's access token (error 190): reconnect the Page, then resume."))
        .await?
        .take(0)?;
    if !paused.is_empty() {
        let account = key_string(&campaign.account);
        let name = campaign.content(&ctx.crypto.account_key(&account).await?)?.name;
        if let Ok(Some(email)) = crate::accounts::account_email(ctx, &account).await {
            let mail = crate::mail::templates::campaign_paused(
                &email,
                &name,
                "Facebook no longer accepts the Page's access token. Reconnect the Page, then resume the campaign.",
                &ctx.link(&format!("/campaigns/{}", campaign.key())),
            )
            .for_account(&account);
            if let Err(e) = crate::mail::enqueue(ctx, mail).await {
                tracing::error!(error = %e, "campaign pause notice not queued");
            }
        }
        tracing::warn!(campaign = %campaign.key(), "campaign paused: page token rejected");
    }
    Ok(())
}
