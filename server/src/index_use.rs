//! Every `UPDATE`/`DELETE … WHERE` on an indexed field walks its index, not
//! the whole table (and so does the webhook worker's look for due
//! deliveries): each statement is asked for its plan with `EXPLAIN`.
//! The others find their rows with a `SELECT` on an index first and then
//! write by id (`UPDATE (SELECT VALUE id …)`, `DELETE $ids`). Not listed: the
//! hourly purges by `expires_at`/`created_at` (sessions, tokens, Page logins)
//! and the export-job sweep, whose fields have no index; those tables stay small.

use crate::config::{DbAddress, EngineOptions};
use crate::db::Database;

/// (where it is used, the statement).
const STATEMENTS: &[(&str, &str)] = &[
    ("sessions::revoke_token", crate::sessions::REVOKE_TOKEN),
    ("sessions::revoke_all", crate::sessions::REVOKE_ALL),
    ("accounts::issue_token", crate::accounts::DROP_TOKENS_FOR),
    ("accounts::consume_token", crate::accounts::CONSUME_TOKEN),
    ("accounts::complete_due", crate::accounts::DUE_REQUESTS),
    ("privacy::purge_unverified", crate::privacy::EXPIRED_UNVERIFIED),
    ("broadcasts::sender::tick", crate::broadcasts::sender::START_DUE_CAMPAIGNS),
    ("broadcasts::cancel_campaign", crate::broadcasts::SKIP_PENDING_RECIPIENTS),
    ("broadcasts::gate::stop_account", crate::broadcasts::gate::ACCOUNT_CAMPAIGNS),
    ("messenger::leads::erase_lead", crate::broadcasts::ERASE_LEAD_DELIVERIES),
    ("messenger::leads::erase_lead", crate::messenger::leads::ERASE_LEAD_MESSAGES),
    ("broadcasts::erase_page_campaigns", crate::broadcasts::ERASE_CAMPAIGN_QUEUE),
    ("broadcasts::erase_page_campaigns", crate::broadcasts::ERASE_CAMPAIGN_ECHOES),
    ("messenger::labels::delete_label", crate::messenger::labels::UNLABEL_LEADS),
    ("messenger::pages::facebook_login_start", crate::messenger::pages::DROP_PAGE_LOGINS),
    ("messenger::deliveries::apply_pending", crate::messenger::deliveries::DUE_BATCH),
    ("messenger::proofs::forget_person (and the lead delete event)", crate::messenger::proofs::NAMING),
    ("messenger::proofs::forget_person (and the lead delete event)", crate::messenger::redaction::NAMING),
    ("messenger::redaction::redact_marked", crate::messenger::redaction::MARKED),
    ("messenger::proofs::purge_older_than", crate::messenger::proofs::RECEIVED_BEFORE),
    ("messenger::settings::purge_unused_secrets", crate::messenger::settings::PROOFS_SIGNED_WITH),
    ("messenger::leads::archived_with_ident", crate::messenger::leads::ARCHIVED_WITH_IDENT),
    ("messenger::takeover::move_rows", crate::messenger::takeover::OWNERS_LEADS_ON_PAGE),
    ("messenger::takeover::move_rows", crate::messenger::takeover::LEAD_MESSAGES),
    ("context::attempts::purge_expired", crate::context::attempts::EXPIRED_LIMITS),
];

#[tokio::test]
async fn every_update_or_delete_on_an_indexed_field_uses_its_index() {
    let db = Database::open(&DbAddress::Memory, "test", "test", None, &EngineOptions::default()).await.expect("mem:// opens");
    let mut scans = Vec::new();
    for (site, statement) in STATEMENTS {
        let plan: Vec<serde_json::Value> = db
            .client()
            .query(format!("{statement} EXPLAIN"))
            .bind(("hash", "h"))
            .bind(("account", surrealdb::types::RecordId::new("account", "a")))
            .bind(("keep", surrealdb::types::RecordId::new("session", "s")))
            .bind(("purpose", "p"))
            .bind(("now", 0))
            .bind(("campaign", surrealdb::types::RecordId::new("campaign", "c")))
            .bind(("lead", surrealdb::types::RecordId::new("lead", "l")))
            .bind(("id", surrealdb::types::RecordId::new("campaign", "c")))
            .bind(("n", 64))
            .bind(("ident", "i"))
            .bind(("cutoff", 0))
            .bind(("batch", 10))
            .bind(("version", 1))
            .bind(("from", surrealdb::types::RecordId::new("page", "p")))
            .await
            .unwrap_or_else(|e| panic!("{site}: {e}"))
            .take(0)
            .unwrap_or_else(|e| panic!("{site}: {e}"));
        let plan = serde_json::Value::Array(plan).to_string();
        println!("{site}: {plan}");
        if !plan.contains("Index") || plan.contains("Iterate Table") || plan.contains("TableScan") {
            scans.push(format!("{site}: {plan}"));
        }
    }
    assert!(scans.is_empty(), "these walk the whole table:\n{}", scans.join("\n"));
}

/// Export and erasure read an account's rows page by page; each page must
/// seek to where the last one ended (a range on the `(account, record_key)`
/// index with the limit applied in the scan), or paging turns quadratic.
#[tokio::test]
async fn export_and_erasure_pages_seek_the_account_and_record_key_index() {
    let db = Database::open(&DbAddress::Memory, "test", "test", None, &EngineOptions::default()).await.expect("mem:// opens");
    let mut wrong = Vec::new();
    for category in app::inventory::INVENTORY {
        let app::inventory::Owner::Field(field) = category.owner else { continue };
        for projection in ["*", "id, record_key"] {
            let plan: Vec<serde_json::Value> = db
                .client()
                .query(format!("{} EXPLAIN", crate::privacy::keyset_page(category.table, field, projection)))
                .bind(("account", surrealdb::types::RecordId::new("account", "a")))
                .bind(("after", "k"))
                .bind(("limit", 500))
                .await
                .unwrap_or_else(|e| panic!("{}: {e}", category.table))
                .take(0)
                .unwrap_or_else(|e| panic!("{}: {e}", category.table));
            let plan = serde_json::Value::Array(plan).to_string();
            let seeks =
                plan.contains(&format!("\"index\":\"{}_account_key\"", category.table)) && plan.contains("MoreThan") && plan.contains("\"limit\":\"$limit\"");
            if !seeks || plan.contains("Sort") {
                wrong.push(format!("{} ({projection}): {plan}", category.table));
            }
        }
    }
    assert!(wrong.is_empty(), "these pages do not seek the (account, record_key) index:\n{}", wrong.join("\n"));
}

/// An index whose fields begin another index's serves nothing the longer one
/// does not, and costs every write and deletion (unique ones are constraints
/// and stay).
#[tokio::test]
async fn no_plain_index_repeats_the_start_of_another() {
    let db = Database::open(&DbAddress::Memory, "test", "test", None, &EngineOptions::default()).await.expect("mem:// opens");
    let info: Option<serde_json::Value> = db.client().query("INFO FOR DB").await.unwrap().take(0).unwrap();
    let info = info.expect("database info");
    let tables: Vec<String> = info["tables"].as_object().expect("tables").keys().cloned().collect();
    let mut redundant = Vec::new();
    for table in &tables {
        let info: Option<serde_json::Value> = db.client().query(format!("INFO FOR TABLE {table}")).await.unwrap().take(0).unwrap();
        let info = info.expect("table info");
        let indexes: Vec<(String, Vec<String>, bool)> = info["indexes"]
            .as_object()
            .expect("indexes")
            .iter()
            .filter_map(|(name, definition)| {
                let definition = definition.as_str()?;
                let fields = definition.split(" FIELDS ").nth(1)?.split(" UNIQUE").next()?;
                let fields = fields.split(',').map(|f| f.trim().to_string()).collect();
                Some((name.clone(), fields, definition.contains(" UNIQUE")))
            })
            .collect();
        for (name, fields, unique) in &indexes {
            let longer = indexes.iter().find(|(other, f, _)| other != name && f.len() > fields.len() && f.starts_with(fields));
            if let (false, Some((other, _, _))) = (unique, longer) {
                redundant.push(format!("{table}: {name} begins {other}"));
            }
        }
    }
    assert!(tables.len() > 10, "the schema's tables were read: {tables:?}");
    assert!(redundant.is_empty(), "redundant indexes: {redundant:?}");
}
