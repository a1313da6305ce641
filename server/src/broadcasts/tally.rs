//! A campaign's counts outlive the leads they count: when a lead is erased,
//! their deliveries are folded into the campaign's tally (counts, and for
//! the chart each send's time with its delivered and read flags, never who)
//! in the transaction that erases them, so the report stays as it was.

use app::types::ChartBucket;
use surrealdb::types::{RecordId, SurrealValue};

use crate::context::Ctx;
use crate::messenger::Result;

/// Run in a lead's guarded deletion (`$id` is the lead), before its
/// deliveries go. Its `SELECT` has the same indexed WHERE as
/// `ERASE_LEAD_DELIVERIES`, which `index_use` checks.
pub(crate) const FOLD_LEAD_DELIVERIES: &str = "FOR $r IN (SELECT account, campaign, state, delivered, read, sent_at, unsubscribed \
       FROM campaign_recipient WHERE lead = $id) { \
     UPSERT type::record('campaign_tally', record::id($r.campaign)) SET account = $r.account, campaign = $r.campaign, \
       sent += IF $r.state = 'sent' THEN 1 ELSE 0 END, \
       failed += IF $r.state = 'failed' THEN 1 ELSE 0 END, \
       skipped += IF $r.state IN ['pending', 'in_flight', 'skipped'] THEN 1 ELSE 0 END, \
       delivered += IF $r.delivered = true THEN 1 ELSE 0 END, \
       read += IF $r.read = true THEN 1 ELSE 0 END, \
       unsubscribed += IF $r.unsubscribed = true THEN 1 ELSE 0 END, \
       sends += IF $r.state = 'sent' AND $r.sent_at != NONE \
         THEN [{ at: $r.sent_at, delivered: $r.delivered = true, read: $r.read = true }] ELSE [] END; \
   }";

/// The tally goes with its campaign (`$id` is the campaign).
pub(crate) const ERASE_CAMPAIGN_TALLY: &str = "DELETE type::record('campaign_tally', record::id($id))";

/// What erased leads contributed to a campaign; all zero while nobody was erased.
#[derive(Debug, Default, SurrealValue)]
pub struct Tally {
    pub sent: i64,
    pub failed: i64,
    pub skipped: i64,
    pub delivered: i64,
    pub read: i64,
    pub unsubscribed: i64,
    pub sends: Vec<TalliedSend>,
}

#[derive(Debug, SurrealValue)]
pub struct TalliedSend {
    pub at: i64,
    pub delivered: bool,
    pub read: bool,
}

pub async fn load(ctx: &Ctx, campaign: &RecordId) -> Result<Tally> {
    let tally: Option<Tally> = ctx
        .db
        .client()
        .query("SELECT sent, failed, skipped, delivered, read, unsubscribed, sends FROM ONLY type::record('campaign_tally', record::id($id))")
        .bind(("id", campaign.clone()))
        .await?
        .take(0)?;
    Ok(tally.unwrap_or_default())
}

impl Tally {
    /// Adds the erased leads' sends to the chart's buckets (`width` seconds each from `start`).
    pub fn add_to_chart(&self, buckets: &mut [ChartBucket], start: i64, width: i64) {
        let Some(last) = buckets.len().checked_sub(1) else { return };
        for send in &self.sends {
            let index = usize::try_from((send.at - start).max(0) / width.max(1)).unwrap_or(last).min(last);
            let bucket = &mut buckets[index];
            bucket.sent += 1;
            bucket.delivered += i64::from(send.delivered);
            bucket.read += i64::from(send.read);
        }
    }
}
