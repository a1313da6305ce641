//! Retention periods: the command line gives the defaults, admins change
//! them in the panel (stored in `setting:retention`), and the purge job
//! applies them and records what it deleted.

use app::types::{PurgeReport, RetentionSettings};
use surrealdb::types::RecordId;

use crate::context::Ctx;

pub fn defaults(ctx: &Ctx) -> RetentionSettings {
    RetentionSettings {
        signin_history_days: ctx.settings.signin_history_days,
        inactive_leads_days: 180,
        messages_days: 90,
        export_hours: ctx.settings.export_ttl_secs / 3600,
    }
}

pub fn valid(r: &RetentionSettings) -> bool {
    let days = 1..=3650;
    days.contains(&r.signin_history_days) && days.contains(&r.inactive_leads_days) && days.contains(&r.messages_days) && (1..=720).contains(&r.export_hours)
}

async fn read<T: serde::de::DeserializeOwned>(ctx: &Ctx, key: &str) -> Result<Option<T>, surrealdb::Error> {
    let raw: Option<String> =
        ctx.db.client().query("SELECT VALUE value FROM ONLY $id").bind(("id", RecordId::new("setting", key.to_string()))).await?.take(0)?;
    Ok(raw.and_then(|v| serde_json::from_str(&v).ok()))
}

async fn write<T: serde::Serialize>(ctx: &Ctx, key: &str, value: &T) -> Result<(), surrealdb::Error> {
    ctx.db
        .client()
        .query("UPSERT $id SET value = $value, updated_at = time::now()")
        .bind(("id", RecordId::new("setting", key.to_string())))
        .bind(("value", serde_json::to_string(value).unwrap_or_default()))
        .await?
        .check()?;
    Ok(())
}

pub async fn retention_settings(ctx: &Ctx) -> Result<RetentionSettings, surrealdb::Error> {
    Ok(read(ctx, "retention").await?.filter(valid).unwrap_or_else(|| defaults(ctx)))
}

pub async fn save(ctx: &Ctx, settings: &RetentionSettings) -> Result<(), surrealdb::Error> {
    write(ctx, "retention", settings).await
}

pub async fn last_purge(ctx: &Ctx) -> Result<Option<PurgeReport>, surrealdb::Error> {
    read(ctx, "last_purge").await
}

pub async fn record_purge(ctx: &Ctx, report: &PurgeReport) -> Result<(), surrealdb::Error> {
    write(ctx, "last_purge", report).await
}
