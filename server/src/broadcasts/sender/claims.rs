//! Claims: a batch of pending recipients is marked `in_flight` under this
//! instance's lease in one conditional update, so two instances never claim
//! the same recipient; a crashed instance's claims are recovered after the
//! lease and the echo grace.

use std::collections::HashMap;

use surrealdb::types::{RecordId, SurrealValue};

use super::echo::{echoes_of, mark_echoed};
use super::{batch_size, lease_secs, Batch, ECHO_GRACE_SECS};

/// How often a claim looks again after other instances took its rows first.
const CLAIM_ATTEMPTS: usize = 4;
use crate::broadcasts::CampaignRow;
use crate::context::Ctx;
use crate::db::ids::key_string;
use crate::db::is_conflict;
use crate::messenger::graph::Graph;
use crate::messenger::leads::{LeadRecord, LIST_FIELDS};
use crate::messenger::pages;
use crate::messenger::Result;

#[derive(Debug, SurrealValue)]
pub(super) struct Claimed {
    pub(super) id: RecordId,
    pub(super) lead: RecordId,
    pub(super) attempts: i64,
    /// Queued again after a crash: Meta may have echoed it since.
    pub(super) recovered: Option<bool>,
}

/// Claims the next batch of pending recipients and loads what sending them
/// needs; recipients echoed already are marked sent here, not sent again.
pub(super) async fn claim_batch(ctx: &Ctx, instance: &str, campaign: &CampaignRow) -> Result<Option<Batch>> {
    let Some(claimed) = claim_pending(ctx, instance, campaign).await? else {
        return Ok(None);
    };
    // A late echo for a recovered recipient may be acknowledged and not yet applied.
    if claimed.iter().any(|c| c.recovered == Some(true)) {
        crate::messenger::deliveries::apply_pending(ctx, crate::broadcasts::receipts::apply).await?;
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

/// Marks the next pending recipients `in_flight` under this instance's
/// lease. Instances that claim at the same moment pick the same rows: the
/// one that commits second finds them taken (or conflicts) and looks again.
async fn claim_pending(ctx: &Ctx, instance: &str, campaign: &CampaignRow) -> Result<Option<Vec<Claimed>>> {
    for _ in 0..CLAIM_ATTEMPTS {
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
        let claimed: Vec<Claimed> = match ctx
            .db
            .client()
            .query("UPDATE $ids SET state = 'in_flight', lease_owner = $me, lease_until = $until WHERE state = 'pending' RETURN id, lead, attempts, recovered")
            .bind(("ids", ids))
            .bind(("me", instance.to_string()))
            .bind(("until", now + lease_secs(campaign.rate_per_sec)))
            .await
            .and_then(|mut r| r.take(0))
        {
            Ok(claimed) => claimed,
            Err(e) if is_conflict(&e) => continue,
            Err(e) => return Err(e.into()),
        };
        if !claimed.is_empty() {
            return Ok(Some(claimed));
        }
    }
    Ok(None)
}

/// Gives back a batch claimed but not sent (the campaign was paused or
/// cancelled meanwhile, or sending failed): queued again, or skipped if the
/// campaign was cancelled.
pub(super) async fn release(ctx: &Ctx, instance: &str, campaign: &CampaignRow, batch: Batch) -> Result<()> {
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

/// Claims of a crashed instance, after the lease and the echo grace: sent if
/// Meta echoed them, queued again otherwise.
pub(super) async fn recover_expired(ctx: &Ctx, campaign: &CampaignRow) -> Result<()> {
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
    crate::messenger::deliveries::apply_pending(ctx, crate::broadcasts::receipts::apply).await?;
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
