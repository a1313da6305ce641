//! Progress and statistics: counts per state (live while sending, with an
//! ETA), delivered and read counts from the webhooks, unsubscribes after
//! the campaign, sends over time for the chart, and the report of failures
//! and skips with their reasons. Each adds what erased leads counted
//! (`tally`), so the report stays as it was.

use app::types::{CampaignDetail, CampaignProgress, CampaignState, CampaignSummary, ChartBucket, ReportRow};
use serde_json::Value;
use surrealdb::types::{RecordId, SurrealValue};

use super::{eta, owned, tally, CampaignRow};
use crate::accounts::Ready;
use crate::context::Ctx;
use crate::crypto::SecretKey;
use crate::db::ids::key_string;
use crate::messenger::leads::{LeadRecord, LIST_FIELDS};
use crate::messenger::{pages, Result};

const CHART_BUCKETS: i64 = 24;
const REPORT_ROWS: i64 = 100;

pub async fn progress(ctx: &Ctx, campaign: &CampaignRow) -> Result<CampaignProgress> {
    progress_with(ctx, campaign, &tally::load(ctx, &campaign.id).await?).await
}

/// Counts per state and receipts, plus what erased leads counted (`erased`).
async fn progress_with(ctx: &Ctx, campaign: &CampaignRow, erased: &tally::Tally) -> Result<CampaignProgress> {
    let mut response = ctx
        .db
        .client()
        .query(
            "SELECT state, count() AS n FROM campaign_recipient WHERE campaign = $id GROUP BY state; \
             RETURN count(SELECT id FROM campaign_recipient WHERE campaign = $id AND delivered = true); \
             RETURN count(SELECT id FROM campaign_recipient WHERE campaign = $id AND read = true); \
             RETURN count(SELECT id FROM campaign_recipient WHERE campaign = $id AND unsubscribed = true);",
        )
        .bind(("id", campaign.id.clone()))
        .await?;
    let by_state: Vec<Value> = response.take(0)?;
    let delivered: Option<i64> = response.take(1)?;
    let read: Option<i64> = response.take(2)?;
    let unsubscribed: Option<i64> = response.take(3)?;
    let mut p = CampaignProgress {
        delivered: delivered.unwrap_or(0) + erased.delivered,
        read: read.unwrap_or(0) + erased.read,
        unsubscribed: unsubscribed.unwrap_or(0) + erased.unsubscribed,
        sent: erased.sent,
        failed: erased.failed,
        skipped: erased.skipped,
        ..Default::default()
    };
    for row in by_state {
        let n = row["n"].as_i64().unwrap_or(0);
        match row["state"].as_str() {
            Some("pending") => p.pending = n,
            Some("in_flight") => p.in_flight = n,
            Some("sent") => p.sent += n,
            Some("failed") => p.failed += n,
            Some("skipped") => p.skipped += n,
            _ => {}
        }
    }
    p.total = p.pending + p.in_flight + p.sent + p.failed + p.skipped;
    let sending = campaign.state()? == CampaignState::Sending;
    p.preparing = sending && !campaign.queue_built;
    if sending && !p.preparing {
        let (recent, measured_secs) = recent_sends(ctx, campaign).await?;
        p.eta_secs = Some(eta::eta_secs(p.pending + p.in_flight, recent, measured_secs, campaign.rate_per_sec));
    }
    Ok(p)
}

/// Messages sent in the last `RATE_WINDOW_SECS`, and the seconds they were
/// sent over (from the first of them to now, both whole seconds counted):
/// time before the first send, building the queue, is not sending time.
async fn recent_sends(ctx: &Ctx, campaign: &CampaignRow) -> Result<(i64, i64)> {
    let now = ctx.now();
    let row: Option<Value> = ctx
        .db
        .client()
        .query(
            "SELECT count() AS n, math::min(sent_at) AS first FROM campaign_recipient \
               WHERE campaign = $id AND state = 'sent' AND sent_at > $since GROUP ALL",
        )
        .bind(("id", campaign.id.clone()))
        .bind(("since", now - eta::RATE_WINDOW_SECS))
        .await?
        .take(0)?;
    let Some(row) = row else { return Ok((0, 0)) };
    let recent = row["n"].as_i64().unwrap_or(0);
    let span = row["first"].as_i64().map_or(0, |first| now - first + 1);
    Ok((recent, span))
}

pub async fn summary(ctx: &Ctx, row: &CampaignRow, key: &SecretKey) -> Result<CampaignSummary> {
    summary_with(ctx, row, key, &tally::load(ctx, &row.id).await?).await
}

/// The summary, with the erased leads' tally already read (the detail page uses it again).
async fn summary_with(ctx: &Ctx, row: &CampaignRow, key: &SecretKey, erased: &tally::Tally) -> Result<CampaignSummary> {
    let page = pages::load(ctx, &key_string(&row.page)).await?;
    Ok(CampaignSummary {
        id: row.key(),
        name: row.content(key)?.name,
        page_name: page.map(|p| p.name(key)).transpose()?.unwrap_or_default(),
        state: row.state()?,
        scheduled_at: row.scheduled_at,
        schedule_label: row.schedule_label.clone(),
        created_at: row.created_at,
        started_at: row.started_at,
        finished_at: row.finished_at,
        progress: progress_with(ctx, row, erased).await?,
        pause_reason: row.pause_reason.clone(),
    })
}

#[derive(Debug, SurrealValue)]
struct ReportEntry {
    lead: RecordId,
    state: String,
    reason: Option<String>,
}

pub async fn campaign(ctx: &Ctx, caller: &Ready, id: &str) -> Result<CampaignDetail> {
    let (session, key) = (&caller.session, &caller.key);
    let row = owned(ctx, &session.account_id, id).await?;
    // Erased leads count as they were counted before their erasure: read once for all three.
    let erased = tally::load(ctx, &row.id).await?;
    let summary = summary_with(ctx, &row, key, &erased).await?;
    Ok(CampaignDetail {
        input: row.input(key)?,
        chart: chart(ctx, &row, &erased).await?,
        reasons: reasons(ctx, &row, &erased).await?,
        report: report(ctx, &row, key).await?,
        summary,
    })
}

/// Sends over time in up to 24 buckets, with their delivered and read counts.
async fn chart(ctx: &Ctx, row: &CampaignRow, erased: &tally::Tally) -> Result<Vec<ChartBucket>> {
    let Some(start) = row.started_at else { return Ok(Vec::new()) };
    let end = row.finished_at.unwrap_or_else(|| ctx.now()).max(start + 1);
    let width = ((end - start) / CHART_BUCKETS).max(1);
    let mut response = ctx
        .db
        .client()
        .query(
            "SELECT math::floor((sent_at - $start) / $width) AS bucket, count() AS n FROM campaign_recipient \
               WHERE campaign = $id AND state = 'sent' GROUP BY bucket; \
             SELECT math::floor((sent_at - $start) / $width) AS bucket, count() AS n FROM campaign_recipient \
               WHERE campaign = $id AND state = 'sent' AND delivered = true GROUP BY bucket; \
             SELECT math::floor((sent_at - $start) / $width) AS bucket, count() AS n FROM campaign_recipient \
               WHERE campaign = $id AND state = 'sent' AND read = true GROUP BY bucket;",
        )
        .bind(("id", row.id.clone()))
        .bind(("start", start))
        .bind(("width", width))
        .await?;
    let mut buckets: Vec<ChartBucket> = (0..=CHART_BUCKETS).map(|i| ChartBucket { at: start + i * width, sent: 0, delivered: 0, read: 0 }).collect();
    for (index, field) in [(0usize, 0u8), (1, 1), (2, 2)] {
        let rows: Vec<Value> = response.take(index)?;
        for r in rows {
            let b = r["bucket"].as_f64().or_else(|| r["bucket"].as_i64().map(|i| i as f64)).unwrap_or(0.0).max(0.0) as usize;
            let n = r["n"].as_i64().unwrap_or(0);
            if let Some(bucket) = buckets.get_mut(b.min(CHART_BUCKETS as usize)) {
                match field {
                    0 => bucket.sent += n,
                    1 => bucket.delivered += n,
                    _ => bucket.read += n,
                }
            }
        }
    }
    erased.add_to_chart(&mut buckets, start, width);
    while buckets.last().is_some_and(|b| b.sent == 0) && buckets.len() > 1 {
        buckets.pop();
    }
    Ok(buckets)
}

async fn reasons(ctx: &Ctx, row: &CampaignRow, erased: &tally::Tally) -> Result<Vec<(String, i64)>> {
    let rows: Vec<Value> = ctx
        .db
        .client()
        .query("SELECT reason, count() AS n FROM campaign_recipient WHERE campaign = $id AND state IN ['failed', 'skipped'] GROUP BY reason")
        .bind(("id", row.id.clone()))
        .await?
        .take(0)?;
    let mut out: Vec<(String, i64)> = rows.iter().map(|r| (r["reason"].as_str().unwrap_or("unknown").to_string(), r["n"].as_i64().unwrap_or(0))).collect();
    if erased.failed + erased.skipped > 0 {
        out.push(("the lead has since erased their data (the reason went with it)".into(), erased.failed + erased.skipped));
    }
    out.sort_by_key(|r| std::cmp::Reverse(r.1));
    Ok(out)
}

async fn report(ctx: &Ctx, row: &CampaignRow, key: &SecretKey) -> Result<Vec<ReportRow>> {
    let entries: Vec<ReportEntry> = ctx
        .db
        .client()
        .query("SELECT lead, state, reason FROM campaign_recipient WHERE campaign = $id AND state IN ['failed', 'skipped'] LIMIT $n")
        .bind(("id", row.id.clone()))
        .bind(("n", REPORT_ROWS))
        .await?
        .take(0)?;
    let lead_ids: Vec<RecordId> = entries.iter().map(|e| e.lead.clone()).collect();
    let leads: Vec<LeadRecord> = ctx.db.client().query(format!("SELECT {LIST_FIELDS} FROM $ids")).bind(("ids", lead_ids)).await?.take(0)?;
    let mut out = Vec::with_capacity(entries.len());
    for e in entries {
        let lead = leads.iter().find(|l| l.id == e.lead);
        out.push(ReportRow {
            lead: key_string(&e.lead),
            lead_name: lead.map(|l| l.name(key)).transpose()?.flatten(),
            state: e.state,
            reason: e.reason.unwrap_or_default(),
        });
    }
    Ok(out)
}
