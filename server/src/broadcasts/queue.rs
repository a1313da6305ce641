//! A campaign's queue: one `campaign_recipient` row per lead of its
//! audience, added in batches by key while the first batches already send.
//!
//! A lead erased while its batch is being added must get no row: its
//! erasure deletes the lead, then its rows, so a row committed after that
//! would outlive it. The same holds for a campaign erased with its Page. Reading the lead inside the batch's transaction is not
//! enough (a snapshot read never conflicts), so each batch, each lead
//! erasure and each campaign erasure write the Page's audience guard (`pages::BUMP_AUDIENCE_EPOCH`):
//! overlapping ones conflict, and the one that commits second runs again,
//! after the other's effect.

use std::time::{Duration, Instant};

use surrealdb::types::{RecordId, SurrealValue};

use super::{audience_conditions, CampaignRow};
use crate::context::Ctx;
use crate::db::{retry_on_conflict, Client};
use crate::messenger::pages::BUMP_AUDIENCE_EPOCH;
use crate::messenger::Result;

const QUEUE_BATCH: i64 = 1_000;

#[derive(Debug, Clone, SurrealValue)]
struct QueueEntry {
    id: RecordId,
    account: RecordId,
    campaign: RecordId,
    lead: RecordId,
    state: String,
    attempts: i64,
    next_attempt_at: i64,
    delivered: bool,
    read: bool,
}

/// While the campaign exists: queue rows for the leads that still exist,
/// then the builder's cursor (`$last`), or the queue's completion when
/// `$last` is NONE.
const ADD_BATCH: &str = "IF record::exists($campaign) { \
    INSERT IGNORE INTO campaign_recipient $entries.filter(|$e| record::exists($e.lead)); \
    IF $last = NONE { UPDATE $campaign SET queue_built = true, total = count(SELECT id FROM campaign_recipient WHERE campaign = $campaign) } \
    ELSE { UPDATE $campaign SET queue_after = $last }; };";

#[derive(Debug, SurrealValue)]
struct LeadKey {
    id: RecordId,
    key: String,
}

fn recipient_id(campaign: &str, lead: &str) -> RecordId {
    RecordId::new("campaign_recipient", format!("{campaign}{lead}"))
}

/// Adds batches of the audience after `after` to the queue for about `budget`
/// (nothing if the queue is complete already).
pub(super) async fn build_queue(ctx: &Ctx, campaign: &CampaignRow, mut after: Option<String>, budget: Duration) -> Result<()> {
    let started = Instant::now();
    while after.is_some() && started.elapsed() < budget {
        after = build_queue_step(ctx, campaign, after).await?;
    }
    Ok(())
}

/// Adds the batch of the audience after `after` to the queue; returns the
/// last key added, or `None` once the queue is complete. Idempotent: a batch
/// repeated after a crash inserts nothing twice.
pub(super) async fn build_queue_step(ctx: &Ctx, campaign: &CampaignRow, after: Option<String>) -> Result<Option<String>> {
    let conditions = audience_conditions(&campaign.include_labels, &campaign.exclude_labels);
    let leads: Vec<LeadKey> = ctx
        .db
        .client()
        .query(format!("SELECT id, key FROM lead WHERE {conditions} AND subscribed = true AND unavailable = false AND key > $after ORDER BY key LIMIT $batch"))
        .bind(("page", campaign.page.clone()))
        .bind(("include", campaign.include_labels.clone()))
        .bind(("exclude", campaign.exclude_labels.clone()))
        .bind(("after", after.unwrap_or_default()))
        .bind(("batch", QUEUE_BATCH))
        .await?
        .take(0)?;
    let campaign_key = campaign.key();
    let last = if (leads.len() as i64) < QUEUE_BATCH { None } else { leads.last().map(|l| l.key.clone()) };
    let entries: Vec<QueueEntry> = leads
        .into_iter()
        .map(|l| QueueEntry {
            id: recipient_id(&campaign_key, &l.key),
            account: campaign.account.clone(),
            campaign: campaign.id.clone(),
            lead: l.id,
            state: "pending".into(),
            attempts: 0,
            next_attempt_at: 0,
            delivered: false,
            read: false,
        })
        .collect();
    commit_batch(ctx.db.client(), &campaign.page, &campaign.id, &entries, &last).await?;
    Ok(last)
}

/// Writes a batch in one transaction with the Page's audience guard, again
/// after a conflict (with an erasure, or another instance's builder).
async fn commit_batch(db: &Client, page: &RecordId, campaign: &RecordId, entries: &[QueueEntry], last: &Option<String>) -> surrealdb::Result<()> {
    retry_on_conflict("campaign queue batch", || async {
        let tx = db.begin().await?;
        let added = add_batch(&tx, page, campaign, entries, last).await;
        tx.finish(added).await
    })
    .await
}

/// The batch's writes, in the transaction `tx`.
async fn add_batch(tx: &Client, page: &RecordId, campaign: &RecordId, entries: &[QueueEntry], last: &Option<String>) -> surrealdb::Result<()> {
    tx.query(BUMP_AUDIENCE_EPOCH)
        .query(ADD_BATCH)
        .bind(("page", page.clone()))
        .bind(("entries", entries.to_vec()))
        .bind(("campaign", campaign.clone()))
        .bind(("last", last.clone()))
        .await?
        .check()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{DbAddress, EngineOptions};
    use crate::db::{is_conflict, Database};
    use crate::messenger::pages::delete_guarded;

    /// A Page, a campaign still building its queue, and two leads.
    async fn audience(address: &DbAddress) -> Database {
        let db = Database::open(address, "test", "test", None, &EngineOptions::default()).await.expect("the database opens");
        let lead = |key: &str| {
            format!(
                "CREATE lead:{key} SET account = account:a, page = page:p, key = '{key}', ident = '{key}', psid_enc = 'x', proof_body_enc = 'x', \
                 proof_signature_enc = 'x', proof_received_at = 0, subscribed = true, unavailable = false, created_at = 0, labels = [];"
            )
        };
        db.client()
            .query(format!(
                "CREATE page:p SET account = account:a, page_id = '1', name_enc = 'x', status = 'active', bot_disclosure = false, connected_at = 0; \
                 CREATE campaign:c SET account = account:a, page = page:p, content_enc = 'x', include_labels = [], exclude_labels = [], margin_hours = 23, rate_per_sec = 250, \
                 state = 'sending', queue_built = false, total = 0, created_at = 0; {} {}",
                lead("kept"),
                lead("erased")
            ))
            .await
            .unwrap()
            .check()
            .unwrap();
        db
    }

    fn entry(lead: &str) -> QueueEntry {
        QueueEntry {
            id: recipient_id("c", lead),
            account: RecordId::new("account", "a"),
            campaign: RecordId::new("campaign", "c"),
            lead: RecordId::new("lead", lead),
            state: "pending".into(),
            attempts: 0,
            next_attempt_at: 0,
            delivered: false,
            read: false,
        }
    }

    async fn queued(db: &Database) -> Vec<RecordId> {
        db.client().query("SELECT VALUE lead FROM campaign_recipient ORDER BY lead").await.unwrap().take(0).unwrap()
    }

    fn page() -> RecordId {
        RecordId::new("page", "p")
    }

    fn campaign() -> RecordId {
        RecordId::new("campaign", "c")
    }

    #[tokio::test]
    async fn a_lead_erased_after_its_batch_was_read_gets_no_queue_row() {
        let db = audience(&DbAddress::Memory).await;
        db.client().query("DELETE lead:erased").await.unwrap().check().unwrap();
        commit_batch(db.client(), &page(), &campaign(), &[entry("kept"), entry("erased")], &None).await.unwrap();
        assert_eq!(queued(&db).await, [RecordId::new("lead", "kept")]);
    }

    #[tokio::test]
    async fn a_lead_erased_while_its_batch_is_being_written_makes_the_batch_conflict_and_its_retry_leaves_the_lead_out() {
        let dir = tempfile::tempdir().unwrap();
        for address in [DbAddress::Memory, DbAddress::RocksDb(dir.path().join("db"))] {
            let db = audience(&address).await;
            let batch = [entry("kept"), entry("erased")];
            let tx = db.client().begin().await.unwrap();
            add_batch(&tx, &page(), &campaign(), &batch, &None).await.unwrap();
            // The erasure commits while the batch's transaction is open; its
            // snapshot still shows the lead.
            delete_guarded(db.client(), &page(), &RecordId::new("lead", "erased"), super::super::ERASE_LEAD_DELIVERIES).await.unwrap();
            let refused = tx.commit().await.expect_err("the batch conflicts with the erasure");
            assert!(is_conflict(&refused), "{address:?}: {refused}");
            commit_batch(db.client(), &page(), &campaign(), &batch, &None).await.unwrap();
            assert_eq!(queued(&db).await, [RecordId::new("lead", "kept")], "{address:?}");
            db.close().await;
        }
    }

    #[tokio::test]
    async fn a_guarded_deletion_whose_companion_statement_fails_deletes_nothing() {
        let db = audience(&DbAddress::Memory).await;
        commit_batch(db.client(), &page(), &campaign(), &[entry("erased")], &None).await.unwrap();
        let lead = RecordId::new("lead", "erased");
        let failed = delete_guarded(db.client(), &page(), &lead, "THROW 'cut off'").await;
        assert!(failed.is_err());
        let left: Option<RecordId> = db.client().query("SELECT VALUE id FROM ONLY $id").bind(("id", lead)).await.unwrap().take(0).unwrap();
        assert!(left.is_some(), "the lead stays, so that the erasure can be run again");
        assert_eq!(queued(&db).await.len(), 1);
    }

    #[tokio::test]
    async fn a_campaign_erased_while_a_batch_is_being_written_gets_no_queue_rows() {
        let db = audience(&DbAddress::Memory).await;
        let tx = db.client().begin().await.unwrap();
        add_batch(&tx, &page(), &campaign(), &[entry("kept")], &Some("kept".into())).await.unwrap();
        delete_guarded(db.client(), &page(), &campaign(), super::super::ERASE_CAMPAIGN_QUEUE).await.unwrap();
        assert!(tx.commit().await.is_err_and(|e| is_conflict(&e)));
        commit_batch(db.client(), &page(), &campaign(), &[entry("kept")], &Some("kept".into())).await.unwrap();
        assert!(queued(&db).await.is_empty());
    }
}
