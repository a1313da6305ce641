//! The webhook's queue. A verified delivery is kept in one durable write,
//! sealed under the system key, and Meta gets its 200 at once; a worker
//! applies stored deliveries in batches, one transaction per batch, and the
//! same transaction deletes them. A crash in between leaves the delivery
//! stored, and it is applied after the restart. A delivery Meta sends again
//! is stored again and found to be a duplicate when applied.

use std::time::Duration;

use serde_json::Value;
use surrealdb::types::{RecordId, SurrealValue};

use super::ingest::{self, CampaignReceipts, FollowUp};
use super::proofs::SignedBody;
use super::{time_key, Error, Result};
use crate::context::Ctx;
use crate::crypto::Field;
use crate::db::ids::record;

const TABLE: &str = "webhook_delivery";
/// Deliveries applied in one transaction.
const BATCH: i64 = 64;
/// How often a batch's transaction is tried when it conflicts with other writers.
const ATTEMPTS: u64 = 4;
/// The worker also looks without being woken: for deliveries stored before a
/// restart, by another instance, or postponed after a failure.
const POLL: Duration = Duration::from_secs(2);
const MAX_POSTPONE_SECS: i64 = 300;

/// Due deliveries, oldest first, through the `retry_at` index (checked by `index_use`).
pub(crate) const DUE_BATCH: &str = "SELECT id, key, body_enc, signature_enc, received_at, failures, retry_at, signed_enc FROM webhook_delivery \
     WHERE retry_at <= $now ORDER BY retry_at LIMIT $n";

/// Applies a batch's campaign receipts on its transaction. Campaigns are
/// not Messenger's to know: the caller passes `broadcasts::receipts::apply`.
pub type ApplyReceipts = for<'a> fn(&'a Ctx, Vec<CampaignReceipts>) -> futures::future::BoxFuture<'a, Result<()>>;

#[derive(Debug, SurrealValue)]
struct Stored {
    id: RecordId,
    key: String,
    body_enc: String,
    signature_enc: String,
    received_at: i64,
    failures: i64,
    retry_at: i64,
    /// Set once erasure rewrote the body (`redaction`).
    signed_enc: Option<String>,
}

/// A delivery as it is first stored: with the people it names, so that
/// erasing one of them finds it (`redaction`).
#[derive(Debug, SurrealValue)]
struct NewDelivery {
    id: RecordId,
    key: String,
    body_enc: String,
    signature_enc: String,
    received_at: i64,
    failures: i64,
    retry_at: i64,
    people: Vec<String>,
}

/// Keeps a verified delivery durably and wakes the worker. Deliveries that
/// arrive while a write is under way go together into the next one: one
/// transaction, synced once, for the whole group (a group commit). Each
/// caller returns only once its own delivery is stored.
pub async fn accept(ctx: &Ctx, raw_body: &[u8], signature: &str, delivery: &Value) -> Result<()> {
    let now = ctx.now();
    let key = time_key(now);
    let system = ctx.crypto.system_key();
    let row = NewDelivery {
        id: record(TABLE, &key),
        body_enc: system.seal(Field::new(TABLE, &key, "body"), raw_body),
        signature_enc: system.seal_str(Field::new(TABLE, &key, "signature"), signature),
        key,
        received_at: now,
        failures: 0,
        retry_at: now,
        people: super::proofs::people_named(ctx, delivery),
    };
    let db = ctx.db.clone();
    let written = ctx.deliveries.storing.write(row.into_value(), move |rows| store_group(db, rows)).await;
    written.map_err(|e| Error::internal("a webhook delivery was not stored", e))?;
    ctx.deliveries.wakeup.notify_one();
    Ok(())
}

/// Writes a group of deliveries in one transaction.
async fn store_group(db: crate::db::Database, rows: Vec<surrealdb::types::Value>) -> std::result::Result<(), String> {
    let result = db.client().query("INSERT INTO webhook_delivery $rows RETURN NONE").bind(("rows", rows)).await.and_then(|r| r.check());
    result.map(|_| ()).map_err(|e| e.to_string())
}

/// The worker: applies what is stored whenever a delivery arrives, and every
/// few seconds regardless.
pub async fn run(ctx: Ctx, mut stop: tokio::sync::watch::Receiver<bool>, apply_receipts: ApplyReceipts) {
    loop {
        if let Err(e) = apply_pending(&ctx, apply_receipts).await {
            tracing::error!(error = %e, "stored webhook deliveries could not be read; trying again");
        }
        tokio::select! {
            _ = stop.changed() => return,
            _ = ctx.deliveries.wakeup.notified() => {}
            _ = tokio::time::sleep(POLL) => {}
        }
    }
}

/// Applies every stored delivery that is due, batch by batch; returns how
/// many were applied. Also called by the sender before it decides about
/// recipients a crash interrupted, so that an echo Meta was told we
/// received is seen. A batch that fails is applied one delivery at a time,
/// so one bad delivery never holds back the others; it stays stored and is
/// tried again later. Deliveries an erasure marked are rewritten first (`redaction`).
pub async fn apply_pending(ctx: &Ctx, apply_receipts: ApplyReceipts) -> Result<usize> {
    let _applying = ctx.deliveries.applying.lock().await;
    let mut applied = 0;
    loop {
        super::redaction::redact_marked(ctx).await?;
        let batch: Vec<Stored> = ctx.db.client().query(DUE_BATCH).bind(("now", ctx.now())).bind(("n", BATCH)).await?.take(0)?;
        if batch.is_empty() {
            return Ok(applied);
        }
        match apply_batch(ctx, &batch, apply_receipts).await {
            Ok(count) => applied += count,
            Err(e) => {
                tracing::warn!(error = %e, deliveries = batch.len(), "a batch of webhook deliveries failed; applying them one by one");
                for stored in &batch {
                    match apply_batch(ctx, std::slice::from_ref(stored), apply_receipts).await {
                        Ok(count) => applied += count,
                        Err(e) => postpone(ctx, stored, &e).await?,
                    }
                }
            }
        }
    }
}

/// How many stored deliveries are waiting to be applied now (not counting
/// those postponed after a failure).
pub async fn due(ctx: &Ctx) -> Result<i64> {
    let count: Option<i64> =
        ctx.db.client().query("RETURN count(SELECT id FROM webhook_delivery WHERE retry_at <= $now)").bind(("now", ctx.now())).await?.take(0)?;
    Ok(count.unwrap_or(0))
}

/// Returns how many of the batch it applied.
async fn apply_batch(ctx: &Ctx, batch: &[Stored], apply_receipts: ApplyReceipts) -> Result<usize> {
    let mut attempt = 1;
    loop {
        let tx = ctx.with_db(ctx.db.begin().await?);
        let result = apply_in(&tx, batch, apply_receipts).await;
        let Ctx { db, .. } = tx;
        let outcome = match result {
            Ok(applied) => db.commit().await.map(|()| applied).map_err(Error::from),
            Err(e) => {
                db.cancel().await;
                Err(e)
            }
        };
        match outcome {
            Ok((count, follow_ups)) => {
                ingest::run_follow_ups(ctx, follow_ups);
                return Ok(count);
            }
            Err(e) if attempt < ATTEMPTS => {
                tracing::debug!(error = %e, attempt, "a batch of webhook deliveries conflicted; trying again");
                tokio::time::sleep(Duration::from_millis(20 * attempt)).await;
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Every delivery of the batch, then their deletion, on one transaction:
/// how many, and the work for after the commit.
async fn apply_in(tx: &Ctx, batch: &[Stored], apply_receipts: ApplyReceipts) -> Result<(usize, Vec<FollowUp>)> {
    let system = tx.crypto.system_key();
    let mut follow_ups = Vec::new();
    let mut receipts = Vec::new();
    // Another instance may have applied some of them since they were read,
    // and an erasure may have marked some: those wait for their rewrite.
    let ids: Vec<RecordId> = batch.iter().map(|s| s.id.clone()).collect();
    let present: Vec<RecordId> = tx.db.client().query("SELECT VALUE id FROM $ids WHERE redact_due != true").bind(("ids", ids)).await?.take(0)?;
    for stored in batch.iter().filter(|s| present.contains(&s.id)) {
        let body = system.open(Field::new(TABLE, &stored.key, "body"), &stored.body_enc)?;
        let signature = system.open_string(Field::new(TABLE, &stored.key, "signature"), &stored.signature_enc)?;
        let delivery: Value = serde_json::from_slice(&body).map_err(|e| Error::json("a stored webhook delivery is not JSON", e))?;
        let proof = match &stored.signed_enc {
            Some(blob) => {
                let signed = super::redaction::signed_summary(tx, &stored.key, blob)?;
                SignedBody::rewritten(&body, &signature, stored.received_at, &delivery, signed)
            }
            None => SignedBody::new(&body, &signature, stored.received_at, &delivery),
        };
        let report = ingest::ingest(tx, &proof).await?;
        follow_ups.extend(report.follow_ups);
        receipts.extend(report.campaign_receipts);
    }
    if !receipts.is_empty() {
        apply_receipts(tx, receipts).await?;
    }
    let applied = present.len();
    tx.db.client().query("DELETE $ids").bind(("ids", present)).await?.check()?;
    Ok((applied, follow_ups))
}

/// A delivery that could not be applied stays stored and is tried again,
/// later each time (up to five minutes apart).
async fn postpone(ctx: &Ctx, stored: &Stored, error: &Error) -> Result<()> {
    let failures = stored.failures + 1;
    let delay = 2_i64.saturating_pow(u32::try_from(failures.min(16)).unwrap_or(16)).min(MAX_POSTPONE_SECS);
    tracing::error!(error = %error, delivery = %stored.key, failures, retry_in_secs = delay, "a stored webhook delivery could not be applied; it is kept and tried again");
    ctx.db
        .client()
        .query("UPDATE $id SET failures = $failures, retry_at = $retry_at")
        .bind(("id", stored.id.clone()))
        .bind(("failures", failures))
        .bind(("retry_at", ctx.now() + delay))
        .await?
        .check()?;
    Ok(())
}
