//! One-time conversions at start of data that earlier releases wrote. Each
//! is marked done in `data_upgrade:<name>`, so later starts skip its scan.

use surrealdb::types::RecordId;

use super::Client;

fn mark(name: &str) -> RecordId {
    RecordId::new("data_upgrade", name.to_string())
}

pub async fn is_done(db: &Client, name: &str) -> surrealdb::Result<bool> {
    let done: Option<i64> = db.query("SELECT VALUE done_at FROM ONLY $id").bind(("id", mark(name))).await?.take(0)?;
    Ok(done.is_some())
}

pub async fn mark_done(db: &Client, name: &str, now: i64) -> surrealdb::Result<()> {
    db.query("UPSERT $id SET done_at = $now").bind(("id", mark(name))).bind(("now", now)).await?.check()?;
    Ok(())
}
