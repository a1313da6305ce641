//! Versioned schema. Each step is idempotent SurrealQL (`IF NOT EXISTS`), so
//! re-running after a crash mid-way is safe; the version record says which
//! steps a database has seen.

use super::Client;

use crate::error::StartupError;

/// (version, SurrealQL). Append only: never edit a step that has shipped.
const STEPS: &[(u32, &str)] = &[
    (1, include_str!("schema/v001_foundation.surql")),
    (2, include_str!("schema/v002_accounts.surql")),
    (3, include_str!("schema/v003_privacy.surql")),
    (4, include_str!("schema/v004_admin.surql")),
    (5, include_str!("schema/v005_messenger.surql")),
    (6, include_str!("schema/v006_pages_leads.surql")),
    (7, include_str!("schema/v007_broadcasts.surql")),
    (8, include_str!("schema/v008_webhook_deliveries.surql")),
    (9, include_str!("schema/v009_keyset_paging.surql")),
    (10, include_str!("schema/v010_audience_guard.surql")),
    (11, include_str!("schema/v011_one_account_index.surql")),
    (12, include_str!("schema/v012_shared_proofs.surql")),
    (13, include_str!("schema/v013_account_requests.surql")),
    (14, include_str!("schema/v014_sealed_texts.surql")),
    (15, include_str!("schema/v015_page_takeover.surql")),
    (16, include_str!("schema/v016_instances.surql")),
    (17, include_str!("schema/v017_pending_erasure.surql")),
    (18, include_str!("schema/v018_storage_offer.surql")),
    (19, include_str!("schema/v019_campaign_tally.surql")),
    (20, include_str!("schema/v020_live_inbox.surql")),
    (21, include_str!("schema/v021_signup_cookie.surql")),
];

pub const SCHEMA_VERSION: u32 = STEPS[STEPS.len() - 1].0;

const META: &str = "
DEFINE TABLE IF NOT EXISTS schema_meta SCHEMAFULL;
DEFINE FIELD IF NOT EXISTS version ON schema_meta TYPE int;
DEFINE FIELD IF NOT EXISTS updated_at ON schema_meta TYPE datetime;
";

pub(super) async fn recorded_version(db: &Client) -> Result<Option<u32>, surrealdb::Error> {
    let version: Option<i64> = db.query("SELECT VALUE version FROM ONLY schema_meta:current").await?.take(0)?;
    Ok(version.map(|v| u32::try_from(v).unwrap_or(u32::MAX)))
}

pub(super) async fn apply(db: &Client) -> Result<(), StartupError> {
    apply_up_to(db, SCHEMA_VERSION).await
}

/// Applies the steps up to `last`: all of them at start; fewer in tests of a step's migration.
pub(super) async fn apply_up_to(db: &Client, last: u32) -> Result<(), StartupError> {
    let fail = |e: surrealdb::Error| StartupError::Database { what: "database schema".to_string(), reason: e.to_string() };
    db.query(META).await.and_then(|r| r.check()).map_err(fail)?;
    let found = recorded_version(db).await.map_err(fail)?.unwrap_or(0);
    if found > SCHEMA_VERSION {
        return Err(StartupError::SchemaTooNew { found, supported: SCHEMA_VERSION });
    }
    for (version, sql) in STEPS.iter().filter(|(v, _)| *v > found && *v <= last) {
        db.query(*sql).await.and_then(|r| r.check()).map_err(fail)?;
        db.query("UPSERT schema_meta:current SET version = $version, updated_at = time::now()")
            .bind(("version", i64::from(*version)))
            .await
            .and_then(|r| r.check())
            .map_err(fail)?;
        tracing::info!(version, "database schema step applied");
    }
    Ok(())
}
