//! Erasure, driven by the data inventory: every category's rows for the
//! account are deleted, then the account's data key is destroyed
//! (crypto-shredding), and a last mail goes to the former address.

use app::inventory::{Owner, INVENTORY};
use surrealdb::types::RecordId;

use crate::context::Ctx;
use crate::mail::{self, templates};
use crate::sessions::account_record;

#[derive(Debug, thiserror::Error)]
pub enum ErasureError {
    #[error("database error: {0}")]
    Database(#[from] surrealdb::Error),
    #[error(transparent)]
    Keys(#[from] crate::crypto::KeyStoreError),
    #[error(transparent)]
    Mail(#[from] crate::mail::MailError),
    #[error(transparent)]
    Export(#[from] super::export::ExportError),
    #[error("send journal: {0}")]
    Journal(#[from] std::io::Error),
}

const DELETE_BATCH: i64 = 1_000;

/// Table and field names come from the constant inventory, never from input;
/// this check keeps it that way before they are placed into a query.
fn identifier(name: &str) -> &str {
    assert!(
        !name.is_empty() && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
        "inventory names must be plain identifiers: {name}"
    );
    name
}

/// Deletes every row of one category that belongs to the account.
async fn delete_category(ctx: &Ctx, table: &str, owner: Owner, account_id: &str) -> Result<(), surrealdb::Error> {
    let table = identifier(table);
    match owner {
        Owner::RecordKey => {
            ctx.db.client().query("DELETE $id").bind(("id", RecordId::new(table, account_id.to_string()))).await?.check()?;
        }
        Owner::Field(field) => {
            // In batches: one DELETE over every row would hold them all in memory.
            let select = format!("SELECT VALUE id FROM {table} WHERE {} = $account LIMIT $batch", identifier(field));
            loop {
                let ids: Vec<RecordId> = ctx
                    .db
                    .client()
                    .query(select.as_str())
                    .bind(("account", account_record(account_id)))
                    .bind(("batch", DELETE_BATCH))
                    .await?
                    .take(0)?;
                if ids.is_empty() {
                    break;
                }
                ctx.db.client().query("DELETE $ids").bind(("ids", ids)).await?.check()?;
            }
        }
        // Kept on purpose; it names the account only by its random id.
        Owner::Retained => {}
    }
    Ok(())
}

/// Rows of one category that belong to the account.
pub async fn count_category(ctx: &Ctx, table: &str, owner: Owner, account_id: &str) -> Result<i64, surrealdb::Error> {
    let table = identifier(table);
    let count: Option<i64> = match owner {
        Owner::RecordKey => ctx
            .db
            .client()
            .query("RETURN count(SELECT id FROM $id)")
            .bind(("id", RecordId::new(table, account_id.to_string())))
            .await?
            .take(0)?,
        Owner::Field(field) => {
            let query = format!("RETURN count(SELECT id FROM {table} WHERE {} = $account)", identifier(field));
            ctx.db.client().query(query).bind(("account", account_record(account_id))).await?.take(0)?
        }
        Owner::Retained => {
            let query = format!("RETURN count(SELECT id FROM {table} WHERE target_id = $id)");
            ctx.db.client().query(query).bind(("id", account_id.to_string())).await?.take(0)?
        }
    };
    Ok(count.unwrap_or(0))
}

/// Erases the account completely. `former_email` gets the final notice.
pub async fn erase(ctx: &Ctx, account_id: &str, former_email: &str) -> Result<(), ErasureError> {
    super::export::delete_files_of(ctx, account_id).await?;
    // The campaigns' send journals are files, outside the database.
    for campaign in crate::broadcasts::campaigns_of(ctx, account_id).await? {
        ctx.journal.forget(&campaign)?;
    }
    // Everything that points at the account first, the account and its key last.
    for category in INVENTORY.iter().filter(|c| c.owner != Owner::RecordKey) {
        delete_category(ctx, category.table, category.owner, account_id).await?;
    }
    for category in INVENTORY.iter().filter(|c| c.owner == Owner::RecordKey) {
        delete_category(ctx, category.table, category.owner, account_id).await?;
    }
    ctx.crypto.destroy_account_key(account_id).await?;
    // Not linked to the account (it is gone); the row is deleted once sent.
    mail::enqueue(ctx, templates::account_deleted(former_email)).await?;
    tracing::info!(account = %account_id, "account erased");
    Ok(())
}
