//! Erasure, driven by the data inventory: every category's rows for the
//! account are deleted, then the account's data key is destroyed
//! (crypto-shredding), and a last mail goes to the former address.

use app::inventory::{DataCategory, Owner, INVENTORY};
use futures::StreamExt;
use surrealdb::types::{RecordId, SurrealValue};

use super::{identifier, keyset_page};

use crate::context::Ctx;
use crate::db::ids::account_record;
use crate::error::Result;
use crate::mail::{self, templates};

const DELETE_BATCH: i64 = 1_000;
/// Categories erased at once.
const ERASURE_CONCURRENCY: usize = 2;

/// One category's deletion, boxed so that several can run side by side.
type Sweep<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), surrealdb::Error>> + Send + 'a>>;

#[derive(Debug, SurrealValue)]
struct Row {
    id: RecordId,
    record_key: String,
}

/// Deletes every row of one category that belongs to the account.
async fn delete_category(ctx: &Ctx, table: &str, owner: Owner, account_id: &str) -> Result<(), surrealdb::Error> {
    let table = identifier(table);
    match owner {
        Owner::RecordKey => {
            ctx.db.client().query("DELETE $id").bind(("id", RecordId::new(table, account_id.to_string()))).await?.check()?;
        }
        Owner::Field(field) => {
            // Again until a sweep finds nothing: a row written behind a
            // sweep while it ran (random keys) is caught by the next one.
            while sweep(ctx, table, field, account_id).await? > 0 {}
        }
        // Kept on purpose; it names the account only by its random id.
        Owner::Retained => {}
        // Deleted as soon as applied; what it brought is erased with the leads and messages.
        Owner::Queued => {}
        // Deleted with the leads that name them (the `lead` table's delete event).
        Owner::Shared => {}
    }
    Ok(())
}

/// Deletes the account's rows of a category in batches, in key order, each
/// batch starting after the last (not at the front of the index, over the
/// rows just deleted); returns how many it deleted. One DELETE over every
/// row would hold them all in memory.
async fn sweep(ctx: &Ctx, table: &str, field: &str, account_id: &str) -> Result<usize, surrealdb::Error> {
    let select = keyset_page(table, field, "id, record_key");
    let mut after = String::new();
    let mut deleted = 0;
    loop {
        let rows: Vec<Row> = ctx
            .db
            .client()
            .query(select.as_str())
            .bind(("account", account_record(account_id)))
            .bind(("after", after.clone()))
            .bind(("limit", DELETE_BATCH))
            .await?
            .take(0)?;
        let Some(last) = rows.last() else { return Ok(deleted) };
        after = last.record_key.clone();
        deleted += rows.len();
        let ids: Vec<RecordId> = rows.into_iter().map(|r| r.id).collect();
        ctx.db.client().query("DELETE $ids").bind(("ids", ids)).await?.check()?;
    }
}

/// Rows of one category that belong to the account.
pub async fn count_category(ctx: &Ctx, table: &str, owner: Owner, account_id: &str) -> Result<i64, surrealdb::Error> {
    let table = identifier(table);
    let count: Option<i64> = match owner {
        Owner::RecordKey => {
            ctx.db.client().query("RETURN count(SELECT id FROM $id)").bind(("id", RecordId::new(table, account_id.to_string()))).await?.take(0)?
        }
        Owner::Field(field) => {
            let query = format!("RETURN count(SELECT id FROM {table} WHERE {} = $account)", identifier(field));
            ctx.db.client().query(query).bind(("account", account_record(account_id))).await?.take(0)?
        }
        Owner::Retained => {
            let query = format!("RETURN count(SELECT id FROM {table} WHERE target_id = $id)");
            ctx.db.client().query(query).bind(("id", account_id.to_string())).await?.take(0)?
        }
        Owner::Queued | Owner::Shared => None,
    };
    Ok(count.unwrap_or(0))
}

/// Erases the account completely. `former_email`, if given, gets the final notice.
pub async fn erase(ctx: &Ctx, account_id: &str, former_email: Option<&str>) -> Result<()> {
    super::export::delete_files_of(ctx, account_id).await?;
    // Everything that points at the account first; then its consent ledger
    // and the account itself together, in one transaction, so that a crash
    // in between never leaves a chain that looks tampered with; its key last.
    let last = |c: &&DataCategory| c.owner == Owner::RecordKey || c.table == "consent";
    // Tables are independent of each other: two at a time keep both cores
    // busy (one DELETE uses one), which nearly halves a large erasure.
    let sweeps: Vec<Sweep<'_>> =
        INVENTORY.iter().filter(|c| !last(c)).map(|c| Box::pin(delete_category(ctx, c.table, c.owner, account_id)) as Sweep<'_>).collect();
    let mut sweeps = futures::stream::iter(sweeps).buffer_unordered(ERASURE_CONCURRENCY);
    while let Some(swept) = sweeps.next().await {
        swept?;
    }
    let tx = ctx.with_db(ctx.db.begin().await?);
    let mut deleted = Ok(());
    // The ledger (a field owner) before the row it points at (the record key).
    for category in INVENTORY.iter().filter(last).filter(|c| c.owner != Owner::RecordKey).chain(INVENTORY.iter().filter(|c| c.owner == Owner::RecordKey)) {
        deleted = delete_category(&tx, category.table, category.owner, account_id).await;
        if deleted.is_err() {
            break;
        }
    }
    let crate::context::Ctx { db, .. } = tx;
    match deleted {
        Ok(()) => db.commit().await?,
        Err(e) => {
            db.cancel().await;
            return Err(e.into());
        }
    }
    // The leads' delete event marked the stored webhook deliveries that name
    // them; the webhook worker takes them out on this pass (`messenger::redaction`).
    ctx.deliveries.wakeup.notify_one();
    ctx.crypto.destroy_account_key(account_id).await?;
    // Not linked to the account (it is gone); the row is deleted once sent.
    if let Some(address) = former_email {
        mail::enqueue(ctx, templates::account_deleted(address)).await?;
    }
    tracing::info!(account = %account_id, "account erased");
    Ok(())
}
