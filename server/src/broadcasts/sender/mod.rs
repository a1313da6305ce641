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

mod claims;
mod echo;
mod message;
mod outcomes;
mod pacing;
mod pipeline;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use super::queue::{build_queue, build_queue_step};
use super::{CampaignContent, CampaignRow};
use crate::context::leases::{self, Job};
use crate::context::Ctx;
use crate::messenger::graph::Graph;
use crate::messenger::leads::LeadRecord;
use crate::messenger::pages::PageRow;
use crate::messenger::Result;
use claims::{claim_batch, recover_expired, release, Claimed};
pub use echo::confirm_echoes;
pub use pacing::Throttle;
use pipeline::send_claimed;

/// A claim's validity beyond its batch's sending time: longer than a Graph
/// call can take (15 s timeout).
pub const LEASE_SECS: i64 = 20;
/// How long an expired claim waits for its echo before it is queued again.
pub const ECHO_GRACE_SECS: i64 = 10;
const CONCURRENCY: usize = 32;
const OUTCOME_CHUNK: usize = 100;
const MAX_TEMPORARY_ATTEMPTS: i64 = 5;
const MAX_RATE_LIMIT_ATTEMPTS: i64 = 30;
/// The instance that starts scheduled campaigns renews this every pass; if
/// it dies, another starts them after at most this long.
const SCHEDULER_LEASE_SECS: i64 = 15;
/// Held by the instance that builds queues, renewed every pass (longer than
/// one pass's build); if it dies, another builds on after at most this long.
const QUEUE_LEASE_SECS: i64 = 30;
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

pub async fn run(ctx: Ctx, mut stop: tokio::sync::watch::Receiver<bool>) {
    let instance = ctx.instance.to_string();
    let throttle = Throttle::shared(ctx.db.clone());
    loop {
        let worked = match tick(&ctx, &instance, &throttle).await {
            Ok(worked) => worked,
            Err(e) => {
                tracing::warn!(error = %e, "broadcast pass failed; retrying");
                false
            }
        };
        if *stop.borrow() {
            break;
        }
        if !worked {
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                _ = wakeup().notified() => {}
                _ = stop.changed() => break,
            }
        }
    }
    for job in [Job::ScheduledCampaigns, Job::QueueBuilding] {
        if let Err(e) = leases::release(&ctx, job).await {
            tracing::warn!(error = %e, "a sender lease was not given up; it runs out instead");
        }
    }
}

/// A statement with a WHERE on an indexed field (checked by `index_use`).
pub(crate) const START_DUE_CAMPAIGNS: &str =
    "UPDATE campaign SET state = 'sending', started_at = started_at ?? $now WHERE state = 'scheduled' AND scheduled_at <= $now";

/// One pass over every sending campaign. Returns whether anything was done.
pub async fn tick(ctx: &Ctx, instance: &str, throttle: &Throttle) -> Result<bool> {
    let now = ctx.now();
    if leases::hold(ctx, Job::ScheduledCampaigns, SCHEDULER_LEASE_SECS).await? {
        super::gate::pause_disabled(ctx).await?;
        ctx.db.client().query(START_DUE_CAMPAIGNS).bind(("now", now)).await?.check()?;
    }
    let campaigns: Vec<CampaignRow> = ctx.db.client().query("SELECT * FROM campaign WHERE state = 'sending' LIMIT 20").await?.take(0)?;
    let mut worked = false;
    for campaign in campaigns {
        if !campaign.queue_built {
            // One instance adds the queue's batches (builders would conflict on
            // the audience guard); every instance sends what is queued meanwhile.
            if leases::hold(ctx, Job::QueueBuilding, QUEUE_LEASE_SECS).await? {
                // Sending starts with the first batch of the queue, not after the
                // last: the first batch is added, then the rest while sending.
                let after = build_queue_step(ctx, &campaign, campaign.queue_after.clone()).await?;
                let building = build_queue(ctx, &campaign, after, Duration::from_secs(PASS_SECS));
                send_while_building(ctx, instance, throttle, &campaign, building).await?;
                worked = true;
            } else if send_batch(ctx, instance, throttle, &campaign).await? > 0 {
                worked = true;
            }
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

/// Sends what is queued for as long as `building` adds to the queue (and
/// what is left of the batch then), so that no batch waits for the build.
async fn send_while_building(
    ctx: &Ctx,
    instance: &str,
    throttle: &Throttle,
    campaign: &CampaignRow,
    building: impl std::future::Future<Output = Result<()>>,
) -> Result<()> {
    let built = AtomicBool::new(false);
    let build = async {
        let result = building.await;
        built.store(true, Ordering::Release);
        result
    };
    let send = async {
        loop {
            let finished = built.load(Ordering::Acquire);
            let claimed = send_batch(ctx, instance, throttle, campaign).await?;
            if finished {
                return Ok(());
            }
            if claimed == 0 {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    };
    let (built, sent) = tokio::join!(build, send);
    built?;
    sent
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
    content: CampaignContent,
}

async fn still_sending(ctx: &Ctx, campaign: &CampaignRow) -> Result<bool> {
    let state: Option<String> = ctx.db.client().query("SELECT VALUE state FROM ONLY $id").bind(("id", campaign.id.clone())).await?.take(0)?;
    Ok(state.as_deref() == Some("sending"))
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
