//! The bulk sender. Each campaign has a durable per-recipient queue in the
//! database; every instance runs this loop and claims work through leases.
//!
//! - **Claiming.** A batch of pending recipients is marked `in_flight` with
//!   this instance's lease in one conditional update, so two instances never
//!   claim the same recipient.
//! - **Sending.** Per Page, calls are spaced to the campaign's rate (250/s by
//!   default, at most 300) with bounded concurrency; recipients are read in
//!   batches, never all at once. The window (with its margin), the
//!   subscription and availability are checked at send time.
//! - **The narrow window between Meta's 200 and our write.** Every message
//!   carries `metadata = "cfbt:<recipient>"`, which Meta returns in the
//!   message echo; echoes are recorded in their own table (`campaign_echo`),
//!   so webhooks never conflict with the sender's writes. After a crash, an
//!   `in_flight` recipient whose lease expired is not resent at once: it
//!   waits a further grace period for its echo (Meta retries webhooks, so an
//!   echo for a message Meta accepted arrives once the server is back). With
//!   an echo it is marked sent; only without one is it queued again, and a
//!   recipient is checked for an echo once more just before any resend. A duplicate is
//!   therefore possible only if Meta accepted a message and its echo is
//!   delayed beyond the grace period; a lost message only if Meta accepted it
//!   and never echoes it (then we resend, and the person may get it twice).
//!   We chose to resend rather than drop, with the echo making that rare.
//! - **Crashes.** The engine syncs every commit before acknowledging it
//!   (`db/embedded.rs`), so the queue's states are the whole truth after a
//!   restart: no second record outside the database is needed.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::{json, Value};
use surrealdb::types::{RecordId, SurrealValue};
use tokio::sync::Notify;

use super::queue::{build_queue, build_queue_step};
use super::{template, unsubscribe, CampaignRow};
use crate::context::Ctx;
use crate::messenger::graph::{ErrorKind, Graph, GraphError};
use crate::messenger::leads::{LeadRecord, LIST_FIELDS};
use crate::messenger::pages::{self, PageRow};
use crate::messenger::{MessengerError, Result};
use crate::sessions::key_string;

/// A claim's validity beyond its batch's sending time: longer than a Graph
/// call can take (15 s timeout).
pub const LEASE_SECS: i64 = 20;
/// How long an expired claim waits for its echo before it is queued again.
pub const ECHO_GRACE_SECS: i64 = 10;
const CONCURRENCY: usize = 32;
const OUTCOME_CHUNK: usize = 100;
const MAX_TEMPORARY_ATTEMPTS: i64 = 5;
const MAX_RATE_LIMIT_ATTEMPTS: i64 = 30;
pub const METADATA_PREFIX: &str = "cfbt:";
/// How long one pass keeps sending one campaign before the next pass (other
/// campaigns, recovery of expired claims).
const PASS_SECS: u64 = 10;

fn wakeup() -> &'static Notify {
    static WAKE: OnceLock<Notify> = OnceLock::new();
    WAKE.get_or_init(Notify::new)
}

/// Starts the next pass now (a campaign was started or resumed).
pub fn wake() {
    wakeup().notify_one();
}

/// Spaces calls per Page: each send takes the next slot at 1/rate seconds.
#[derive(Default)]
pub struct Throttle {
    pages: Mutex<HashMap<String, PageSlots>>,
}

#[derive(Default)]
struct PageSlots {
    next: Option<Instant>,
    /// When the calls of the last second went out.
    recent: std::collections::VecDeque<Instant>,
    /// The current pause after a refusal (613), and how many refusals came in a row.
    paused_until: Option<Instant>,
    strikes: u32,
}

/// At most this share of the rate goes out in any one second, however late
/// the calls' slots come round: after a stall (a busy runtime) they would
/// otherwise leave together and overfill one of Meta's counting windows.
/// The rest absorbs network jitter at the windows' edges.
const WINDOW_SHARE: f64 = 0.99;

/// The first pause after a 613. A refusal within `OVERLOAD_WINDOW` after the
/// previous pause ended doubles it, up to `MAX_BACK_OFF`.
const FIRST_BACK_OFF: Duration = Duration::from_millis(50);
const MAX_BACK_OFF: Duration = Duration::from_secs(2);
const OVERLOAD_WINDOW: Duration = Duration::from_millis(250);

impl Throttle {
    async fn acquire(&self, page: &str, rate: i64) {
        let slot = {
            let mut pages = self.pages.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            let entry = pages.entry(page.to_string()).or_default();
            let slot = entry.next.filter(|t| *t > now).unwrap_or(now);
            entry.next = Some(slot + Duration::from_secs_f64(1.0 / rate.max(1) as f64));
            slot
        };
        tokio::time::sleep_until(slot.into()).await;
        let per_second = ((rate.max(1) as f64 * WINDOW_SHARE).floor() as usize).max(1);
        loop {
            let wait = {
                let mut pages = self.pages.lock().unwrap_or_else(|p| p.into_inner());
                let now = Instant::now();
                let recent = &mut pages.entry(page.to_string()).or_default().recent;
                while recent.front().is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1)) {
                    recent.pop_front();
                }
                if recent.len() < per_second {
                    recent.push_back(now);
                    return;
                }
                recent.front().map_or(Duration::ZERO, |t| Duration::from_secs(1).saturating_sub(now.duration_since(*t)))
            };
            tokio::time::sleep(wait).await;
        }
    }

    /// After a 613: a pause before the next call to this Page, returned. At
    /// our pace a refusal usually means that a few calls landed in one of
    /// Meta's counting windows, so the first pause is short; refusals that
    /// come right after it double it, so that a real overload is not
    /// hammered. A refusal of a call already under way during a pause does
    /// not count again.
    pub fn back_off(&self, page: &str) -> Duration {
        let mut pages = self.pages.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let entry = pages.entry(page.to_string()).or_default();
        match entry.paused_until {
            Some(until) if now < until => return until - now,
            Some(until) if now.duration_since(until) < OVERLOAD_WINDOW => entry.strikes += 1,
            _ => entry.strikes = 1,
        }
        let pause = FIRST_BACK_OFF.saturating_mul(1 << (entry.strikes - 1).min(10)).min(MAX_BACK_OFF);
        let until = now + pause;
        entry.paused_until = Some(until);
        entry.next = Some(entry.next.map_or(until, |next| next.max(until)));
        pause
    }
}

pub async fn run(ctx: Ctx, mut stop: tokio::sync::watch::Receiver<bool>) {
    let instance = crate::crypto::random_id();
    let throttle = Throttle::default();
    loop {
        let worked = match tick(&ctx, &instance, &throttle).await {
            Ok(worked) => worked,
            Err(e) => {
                tracing::warn!(error = %e, "broadcast pass failed; retrying");
                false
            }
        };
        if *stop.borrow() {
            return;
        }
        if !worked {
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                _ = wakeup().notified() => {}
                _ = stop.changed() => return,
            }
        }
    }
}

/// One pass over every sending campaign. Returns whether anything was done.
/// A statement with a WHERE on an indexed field (checked by `index_use`).
pub(crate) const START_DUE_CAMPAIGNS: &str =
    "UPDATE campaign SET state = 'sending', started_at = started_at ?? $now WHERE state = 'scheduled' AND scheduled_at <= $now";

pub async fn tick(ctx: &Ctx, instance: &str, throttle: &Throttle) -> Result<bool> {
    let now = ctx.now();
    ctx.db.client().query(START_DUE_CAMPAIGNS).bind(("now", now)).await?.check()?;
    let campaigns: Vec<CampaignRow> = ctx.db.client().query("SELECT * FROM campaign WHERE state = 'sending' LIMIT 20").await?.take(0)?;
    let mut worked = false;
    for campaign in campaigns {
        if !campaign.queue_built {
            // Sending starts with the first batch of the queue, not after the
            // last: the first batch is added, then the rest while sending.
            let after = build_queue_step(ctx, &campaign, campaign.queue_after.clone()).await?;
            let budget = Duration::from_secs(PASS_SECS);
            let (built, sent) = tokio::join!(build_queue(ctx, &campaign, after, budget), send_batch(ctx, instance, throttle, &campaign));
            built?;
            sent?;
            worked = true;
            continue;
        }
        recover_expired(ctx, &campaign).await?;
        if send_batch(ctx, instance, throttle, &campaign).await? > 0 {
            worked = true;
        } else {
            complete_if_done(ctx, &campaign).await?;
        }
    }
    Ok(worked)
}

#[derive(Debug, SurrealValue)]
struct Echo {
    id: RecordId,
    mid: Option<String>,
    at_ms: i64,
}

/// The echoes recorded for these recipients, by recipient key.
async fn echoes_of(ctx: &Ctx, recipients: &[RecordId]) -> Result<HashMap<String, Echo>> {
    let ids: Vec<RecordId> = recipients.iter().map(|r| RecordId::new("campaign_echo", key_string(r))).collect();
    let found: Vec<Echo> = ctx.db.client().query("SELECT id, mid, at_ms FROM $ids").bind(("ids", ids)).await?.take(0)?;
    Ok(found.into_iter().map(|e| (key_string(&e.id), e)).collect())
}

/// Marks recipients sent from their echoes.
async fn mark_echoed(ctx: &Ctx, echoed: Vec<(RecordId, &Echo)>) -> Result<()> {
    if echoed.is_empty() {
        return Ok(());
    }
    let outcomes: Vec<Outcome> = echoed
        .into_iter()
        .map(|(id, e)| Outcome {
            id,
            state: "sent".into(),
            reason: None,
            mid: e.mid.clone(),
            sent_at: Some(e.at_ms / 1000),
            sent_at_ms: Some(e.at_ms),
            attempts: 1,
            next_attempt_at: 0,
        })
        .collect();
    write_outcomes(ctx, outcomes, Vec::new(), &["in_flight", "pending"]).await
}

/// Claims of a crashed instance, after the lease and the echo grace: sent if
/// Meta echoed them, queued again otherwise.
async fn recover_expired(ctx: &Ctx, campaign: &CampaignRow) -> Result<()> {
    let expired: Vec<RecordId> = ctx
        .db
        .client()
        .query("SELECT VALUE id FROM campaign_recipient WHERE campaign = $campaign AND state = 'in_flight' AND lease_until < $cutoff LIMIT 1000")
        .bind(("campaign", campaign.id.clone()))
        .bind(("cutoff", ctx.now() - ECHO_GRACE_SECS))
        .await?
        .take(0)?;
    if expired.is_empty() {
        return Ok(());
    }
    // Echoes acknowledged to Meta but not yet applied count too.
    crate::messenger::deliveries::apply_pending(ctx).await?;
    let echoes = echoes_of(ctx, &expired).await?;
    let (echoed, silent): (Vec<RecordId>, Vec<RecordId>) = expired.into_iter().partition(|r| echoes.contains_key(&key_string(r)));
    tracing::info!(echoed = echoed.len(), requeued = silent.len(), "recovered recipients of an interrupted sender");
    mark_echoed(
        ctx,
        echoed
            .into_iter()
            .map(|r| {
                let e = &echoes[&key_string(&r)];
                (r, e)
            })
            .collect(),
    )
    .await?;
    ctx.db
        .client()
        .query("UPDATE $ids SET state = 'pending', lease_owner = NONE, lease_until = NONE, recovered = true WHERE state = 'in_flight'")
        .bind(("ids", silent))
        .await?
        .check()?;
    Ok(())
}

/// Writes outcomes, retrying on a transaction conflict; a row is only
/// changed while it is still in one of `from` states.
async fn write_outcomes(ctx: &Ctx, outcomes: Vec<Outcome>, unavailable: Vec<RecordId>, from: &[&str]) -> Result<()> {
    let from: Vec<String> = from.iter().map(|s| s.to_string()).collect();
    let mut attempt = 0;
    loop {
        let result = ctx
            .db
            .client()
            .query(
                "FOR $o IN $outcomes { UPDATE $o.id SET state = $o.state, reason = $o.reason, mid = $o.mid ?? mid, \
                 sent_at = $o.sent_at ?? sent_at, sent_at_ms = $o.sent_at_ms ?? sent_at_ms, attempts = $o.attempts, \
                 next_attempt_at = $o.next_attempt_at, lease_owner = NONE, lease_until = NONE WHERE state IN $from }; \
                 UPDATE $unavailable SET unavailable = true;",
            )
            .bind(("outcomes", outcomes.iter().map(Outcome::copy).collect::<Vec<_>>()))
            .bind(("unavailable", unavailable.clone()))
            .bind(("from", from.clone()))
            .await
            .and_then(|r| r.check());
        match result {
            Ok(_) => return Ok(()),
            Err(e) if attempt < 5 => {
                attempt += 1;
                tracing::debug!(error = %e, attempt, "outcome write retried");
                tokio::time::sleep(Duration::from_millis(10 << attempt)).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

#[derive(Debug, SurrealValue)]
struct Claimed {
    id: RecordId,
    lead: RecordId,
    attempts: i64,
    /// Queued again after a crash: Meta may have echoed it since.
    recovered: Option<bool>,
}

#[derive(Debug, SurrealValue)]
struct Outcome {
    id: RecordId,
    state: String,
    reason: Option<String>,
    mid: Option<String>,
    sent_at: Option<i64>,
    sent_at_ms: Option<i64>,
    attempts: i64,
    next_attempt_at: i64,
}

impl Outcome {
    fn copy(&self) -> Outcome {
        Outcome {
            id: self.id.clone(),
            state: self.state.clone(),
            reason: self.reason.clone(),
            mid: self.mid.clone(),
            sent_at: self.sent_at,
            sent_at_ms: self.sent_at_ms,
            attempts: self.attempts,
            next_attempt_at: self.next_attempt_at,
        }
    }

    fn new(claimed: &Claimed, state: &str, reason: Option<&str>) -> Self {
        Outcome {
            id: claimed.id.clone(),
            state: state.into(),
            reason: reason.map(str::to_string),
            mid: None,
            sent_at: None,
            sent_at_ms: None,
            attempts: claimed.attempts,
            next_attempt_at: 0,
        }
    }
}

enum Sent {
    Done(Outcome),
    Unavailable(Outcome, RecordId),
    TokenRejected(Outcome),
}

/// About two seconds of sending per claim, so the claim's own queries are a small share.
fn batch_size(rate: i64) -> i64 {
    (rate * 2).clamp(10, 600)
}

/// How long a claim is valid: a batch is claimed while the one before it is
/// sending, so its lease covers both batches' sending time and a Graph call.
pub fn lease_secs(rate: i64) -> i64 {
    let rate = rate.max(1);
    LEASE_SECS + 2 * ((batch_size(rate) + rate - 1) / rate)
}

/// Sends this campaign's batches back to back for up to `PASS_SECS`: the next
/// batch is claimed while the current one is sending, so that the throttle
/// never waits for the database. Returns how many recipients were claimed.
async fn send_batch(ctx: &Ctx, instance: &str, throttle: &Throttle, campaign: &CampaignRow) -> Result<usize> {
    let Some(mut batch) = claim_batch(ctx, instance, campaign).await? else {
        return Ok(0);
    };
    let started = Instant::now();
    let mut count = 0;
    loop {
        count += batch.count;
        let claim_next = started.elapsed() < Duration::from_secs(PASS_SECS);
        let (sent, next) = tokio::join!(send_claimed(ctx, throttle, campaign, batch), async {
            if claim_next {
                claim_batch(ctx, instance, campaign).await
            } else {
                Ok(None)
            }
        });
        let keep_going = match sent {
            Ok(keep_going) => keep_going,
            Err(e) => {
                if let Ok(Some(next)) = next {
                    release(ctx, instance, campaign, next).await?;
                }
                return Err(e);
            }
        };
        match next? {
            None => break,
            Some(next) if keep_going && still_sending(ctx, campaign).await? => batch = next,
            Some(next) => {
                release(ctx, instance, campaign, next).await?;
                break;
            }
        }
    }
    Ok(count)
}

/// A batch claimed by this instance, with what sending it needs.
struct Batch {
    /// Recipients claimed, including those found echoed already.
    count: usize,
    /// Recipients to send to.
    claimed: Vec<Claimed>,
    leads: HashMap<String, LeadRecord>,
    page: PageRow,
    key: crate::crypto::SecretKey,
    graph: Graph,
    token: Option<String>,
    page_name: String,
    /// What the campaign says, opened once per batch.
    content: super::CampaignContent,
}

async fn still_sending(ctx: &Ctx, campaign: &CampaignRow) -> Result<bool> {
    let state: Option<String> = ctx.db.client().query("SELECT VALUE state FROM ONLY $id").bind(("id", campaign.id.clone())).await?.take(0)?;
    Ok(state.as_deref() == Some("sending"))
}

/// Gives back a batch claimed but not sent (the campaign was paused or
/// cancelled meanwhile, or sending failed): queued again, or skipped if the
/// campaign was cancelled.
async fn release(ctx: &Ctx, instance: &str, campaign: &CampaignRow, batch: Batch) -> Result<()> {
    let ids: Vec<RecordId> = batch.claimed.iter().map(|c| c.id.clone()).collect();
    ctx.db
        .client()
        .query(
            "IF $campaign.state = 'cancelled' { \
                 UPDATE $ids SET state = 'skipped', reason = 'campaign cancelled', lease_owner = NONE, lease_until = NONE WHERE state = 'in_flight' AND lease_owner = $me \
             } ELSE { \
                 UPDATE $ids SET state = 'pending', lease_owner = NONE, lease_until = NONE WHERE state = 'in_flight' AND lease_owner = $me \
             }",
        )
        .bind(("campaign", campaign.id.clone()))
        .bind(("ids", ids))
        .bind(("me", instance.to_string()))
        .await?
        .check()?;
    Ok(())
}

/// Claims the next batch of pending recipients and loads what sending them
/// needs; recipients echoed already are marked sent here, not sent again.
async fn claim_batch(ctx: &Ctx, instance: &str, campaign: &CampaignRow) -> Result<Option<Batch>> {
    let now = ctx.now();
    let ids: Vec<RecordId> = ctx
        .db
        .client()
        .query("SELECT VALUE id FROM campaign_recipient WHERE campaign = $campaign AND state = 'pending' AND next_attempt_at <= $now LIMIT $n")
        .bind(("campaign", campaign.id.clone()))
        .bind(("now", now))
        .bind(("n", batch_size(campaign.rate_per_sec)))
        .await?
        .take(0)?;
    if ids.is_empty() {
        return Ok(None);
    }
    let claimed: Vec<Claimed> = ctx
        .db
        .client()
        .query(
            "UPDATE $ids SET state = 'in_flight', lease_owner = $me, lease_until = $until \
             WHERE state = 'pending' RETURN id, lead, attempts, recovered",
        )
        .bind(("ids", ids))
        .bind(("me", instance.to_string()))
        .bind(("until", now + lease_secs(campaign.rate_per_sec)))
        .await?
        .take(0)?;
    if claimed.is_empty() {
        return Ok(None);
    }
    // A late echo for a recovered recipient may be acknowledged and not yet applied.
    if claimed.iter().any(|c| c.recovered == Some(true)) {
        crate::messenger::deliveries::apply_pending(ctx).await?;
    }
    let Some(page) = pages::load(ctx, &key_string(&campaign.page)).await? else {
        return Ok(None);
    };
    let key = ctx.crypto.account_key(&page.account_id()).await?;
    let lead_ids: Vec<RecordId> = claimed.iter().map(|c| c.lead.clone()).collect();
    let leads: Vec<LeadRecord> = ctx.db.client().query(format!("SELECT {LIST_FIELDS} FROM $ids")).bind(("ids", lead_ids)).await?.take(0)?;
    let leads: HashMap<String, LeadRecord> = leads.into_iter().map(|l| (key_string(&l.id), l)).collect();
    let app = pages::app_settings(ctx).await?;
    let graph = Graph::new(&app);
    let token = page.token(&key)?;
    let page_name = page.name(&key)?;
    let content = campaign.content(&key)?;

    // Echoed already (a late echo for a recipient queued again): sent, not resent.
    let count = claimed.len();
    let echoes = echoes_of(ctx, &claimed.iter().map(|c| c.id.clone()).collect::<Vec<_>>()).await?;
    let (echoed, claimed): (Vec<Claimed>, Vec<Claimed>) = claimed.into_iter().partition(|c| echoes.contains_key(&key_string(&c.id)));
    mark_echoed(ctx, echoed.iter().map(|c| (c.id.clone(), &echoes[&key_string(&c.id)])).collect()).await?;
    Ok(Some(Batch { count, claimed, leads, page, key, graph, token, page_name, content }))
}

/// Sends a claimed batch and records the outcomes. Returns false if the
/// campaign was paused because Facebook rejected the Page's token.
async fn send_claimed(ctx: &Ctx, throttle: &Throttle, campaign: &CampaignRow, batch: Batch) -> Result<bool> {
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
            write_outcomes(ctx, outcomes, unavailable, &["in_flight"]).await?;
        }
        Ok::<bool, MessengerError>(token_rejected)
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
        None => Sent::Done(Outcome::new(c, "skipped", Some("the lead was deleted"))),
        Some(l) if !l.subscribed => Sent::Done(Outcome::new(c, "skipped", Some("unsubscribed"))),
        Some(l) if l.unavailable => Sent::Done(Outcome::new(c, "skipped", Some("unavailable (Facebook error 551)"))),
        Some(l) if l.last_interaction_at.is_none_or(|t| t <= window_start) => Sent::Done(Outcome::new(c, "skipped", Some("outside the messaging window"))),
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
    content: &'a super::CampaignContent,
}

impl SendContext<'_> {
    async fn send_one(&self, claimed: &Claimed, lead: &LeadRecord) -> Sent {
        let Some(token) = self.token else {
            return Sent::TokenRejected(Outcome { state: "pending".into(), ..Outcome::new(claimed, "pending", None) });
        };
        let body = match self.message(claimed, lead) {
            Ok(body) => body,
            Err(e) => {
                tracing::error!(error = %e, "a broadcast message could not be built");
                return Sent::Done(Outcome::new(claimed, "failed", Some("the lead's data could not be read")));
            }
        };
        self.throttle.acquire(&self.page.page_id, self.campaign.rate_per_sec).await;
        // Held through the call: disabling the account waits for it.
        let Some(_open) = self.ctx.send_gate.enter(&self.page.account_id()).await else {
            return Sent::Done(Outcome::new(claimed, "pending", None));
        };
        let result = self.graph.send(&self.page.page_id, token, &body).await;
        let now = self.ctx.now();
        match result {
            Ok(mid) => Sent::Done(Outcome { mid: Some(mid), sent_at: Some(now), sent_at_ms: Some(now * 1000), ..Outcome::new(claimed, "sent", None) }),
            Err(e) => self.failure(claimed, lead, e, now),
        }
    }

    fn failure(&self, claimed: &Claimed, lead: &LeadRecord, error: GraphError, now: i64) -> Sent {
        let attempts = claimed.attempts + 1;
        let retry = |delay: i64| Outcome { attempts, next_attempt_at: now + delay, ..Outcome::new(claimed, "pending", None) };
        match error.kind() {
            ErrorKind::Unavailable => Sent::Unavailable(Outcome::new(claimed, "skipped", Some("unavailable (Facebook error 551)")), lead.id.clone()),
            ErrorKind::OutsideWindow => Sent::Done(Outcome::new(claimed, "skipped", Some("outside the messaging window (Facebook error 10)"))),
            ErrorKind::TokenInvalid => Sent::TokenRejected(Outcome::new(claimed, "pending", None)),
            ErrorKind::RateLimited if attempts < MAX_RATE_LIMIT_ATTEMPTS => {
                self.throttle.back_off(&self.page.page_id);
                Sent::Done(retry(1 + attempts.min(10)))
            }
            ErrorKind::Temporary if attempts < MAX_TEMPORARY_ATTEMPTS => Sent::Done(retry(1 << attempts)),
            ErrorKind::Temporary | ErrorKind::RateLimited => {
                Sent::Done(Outcome { attempts, ..Outcome::new(claimed, "failed", Some("Facebook kept failing (timeouts, server errors or rate limits)")) })
            }
            ErrorKind::InvalidRequest => {
                Sent::Done(Outcome { attempts, ..Outcome::new(claimed, "failed", Some("rejected by Facebook as invalid (error 100)")) })
            }
            ErrorKind::Other => {
                let reason = match error {
                    GraphError::Api { code, .. } => format!("Facebook error {code}"),
                    other => other.to_string(),
                };
                Sent::Done(Outcome { attempts, ..Outcome::new(claimed, "failed", Some(&reason)) })
            }
        }
    }

    /// The Send API body: the text with its variables, the bot disclosure if
    /// the Page asked for one, and the unsubscribe link, always.
    fn message(&self, claimed: &Claimed, lead: &LeadRecord) -> Result<Value> {
        let first = lead.first_name(self.key)?;
        let name = lead.name(self.key)?;
        let last = match (&first, &name) {
            (Some(f), Some(n)) => n.strip_prefix(f.as_str()).map(|l| l.trim().to_string()),
            (None, Some(n)) => Some(n.clone()),
            _ => None,
        };
        let c = self.content;
        let mut text = template::render(&c.text, first.as_deref(), last.as_deref(), &c.fallback_first_name, &c.fallback_last_name, self.page_name);
        if self.page.bot_disclosure {
            text = format!("{} {text}", crate::messenger::keywords::BOT_DISCLOSURE);
        }
        text.push_str(&template::unsubscribe_footer(&unsubscribe::link(self.ctx, &lead.key(), &key_string(&lead.page))));
        let metadata = format!("{METADATA_PREFIX}{}", key_string(&claimed.id));
        let message = match (&c.button_title, &c.button_url) {
            (Some(title), Some(url)) => json!({
                "attachment": {"type": "template", "payload": {"template_type": "button", "text": text,
                    "buttons": [{"type": "web_url", "url": url, "title": title}]}},
                "metadata": metadata,
            }),
            _ => {
                let mut m = json!({"text": text, "metadata": metadata});
                if !c.quick_replies.is_empty() {
                    m["quick_replies"] =
                        c.quick_replies.iter().enumerate().map(|(i, q)| json!({"content_type": "text", "title": q, "payload": format!("QR_{i}")})).collect();
                }
                m
            }
        };
        let psid = lead.psid(self.key)?;
        // A proactive message inside the window: UPDATE, never a message tag.
        Ok(json!({"recipient": {"id": psid}, "messaging_type": "UPDATE", "message": message}))
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

async fn complete_if_done(ctx: &Ctx, campaign: &CampaignRow) -> Result<()> {
    let mut response = ctx
        .db
        .client()
        .query(
            "RETURN count(SELECT id FROM campaign_recipient WHERE campaign = $id AND state = 'pending'); \
             RETURN count(SELECT id FROM campaign_recipient WHERE campaign = $id AND state = 'in_flight');",
        )
        .bind(("id", campaign.id.clone()))
        .await?;
    let pending: Option<i64> = response.take(0)?;
    let in_flight: Option<i64> = response.take(1)?;
    if pending.unwrap_or(0) + in_flight.unwrap_or(0) == 0 {
        ctx.db
            .client()
            .query("UPDATE $id SET state = 'completed', finished_at = $now WHERE state = 'sending'")
            .bind(("id", campaign.id.clone()))
            .bind(("now", ctx.now()))
            .await?
            .check()?;
        tracing::info!(campaign = %campaign.key(), "campaign completed");
    }
    Ok(())
}

#[derive(Debug, SurrealValue)]
struct EchoRow {
    id: RecordId,
    campaign: RecordId,
    mid: Option<String>,
    at_ms: i64,
}

/// Echoes of campaign messages (recipient key, mid, time): recorded, so that
/// those recipients count as sent even if our own write was lost to a crash.
pub async fn confirm_echoes(ctx: &Ctx, account: &RecordId, echoes: Vec<(String, Option<String>, i64)>) -> Result<()> {
    // A recipient key is the campaign's random key (30 hex characters) followed by the lead's.
    let rows: Vec<EchoRow> = echoes
        .into_iter()
        .filter(|(key, _, _)| crate::messenger::valid_key(key) && key.len() > 30)
        .map(|(key, mid, at_ms)| EchoRow { campaign: RecordId::new("campaign", key[..30].to_string()), id: RecordId::new("campaign_echo", key), mid, at_ms })
        .collect();
    ctx.db
        .client()
        // Only for recipients that exist: a late echo must not bring back a trace of an erased lead.
        .query(
            "FOR $e IN $rows { IF record::exists(type::record('campaign_recipient', record::id($e.id))) { \
             UPSERT $e.id SET account = $account, campaign = $e.campaign, mid = $e.mid, at_ms = $e.at_ms } }",
        )
        .bind(("rows", rows))
        .bind(("account", account.clone()))
        .await?
        .check()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_lone_refusal_pauses_briefly_and_refusals_right_after_double_the_pause() {
        let throttle = Throttle::default();
        assert_eq!(throttle.back_off("page"), FIRST_BACK_OFF);
        assert!(throttle.back_off("page") <= FIRST_BACK_OFF, "a call under way during the pause does not count again");
        let started = Instant::now();
        throttle.acquire("page", 300).await;
        assert!(started.elapsed() >= FIRST_BACK_OFF - Duration::from_millis(5), "the next call waits out the pause");
        assert_eq!(throttle.back_off("page"), FIRST_BACK_OFF * 2, "refused right after the pause: overload");
        tokio::time::sleep(FIRST_BACK_OFF * 2).await;
        assert_eq!(throttle.back_off("page"), FIRST_BACK_OFF * 4);
        assert_eq!(throttle.back_off("other page"), FIRST_BACK_OFF, "per Page");
        tokio::time::sleep(FIRST_BACK_OFF * 4 + OVERLOAD_WINDOW + Duration::from_millis(20)).await;
        assert_eq!(throttle.back_off("page"), FIRST_BACK_OFF, "after a calm spell, short again");
    }

    #[tokio::test]
    async fn late_slots_never_put_more_than_the_rate_into_one_second() {
        let throttle = std::sync::Arc::new(Throttle::default());
        let rate = 10;
        let started = Instant::now();
        // 12 calls at 10/s take their slots (over 1.1 s), then the runtime stalls past all of them.
        let calls: Vec<_> = (0..12)
            .map(|_| {
                let throttle = throttle.clone();
                tokio::spawn(async move {
                    throttle.acquire("page", rate).await;
                    started.elapsed()
                })
            })
            .collect();
        tokio::task::yield_now().await;
        std::thread::sleep(Duration::from_millis(1_300));
        let mut at = Vec::new();
        for call in calls {
            at.push(call.await.unwrap());
        }
        at.sort();
        let per_second = (rate as f64 * WINDOW_SHARE).floor() as usize;
        for (i, t) in at.iter().enumerate() {
            let in_window = at[i..].iter().filter(|u| **u < *t + Duration::from_secs(1)).count();
            assert!(in_window <= per_second, "{in_window} calls within a second from call {i}: {at:?}");
        }
    }
}
