//! Record ids: our keys are random strings, turned into ids here and back.
//! Every module above `db` names records through these.

use surrealdb::types::{RecordId, RecordIdKey};

/// The key part of a record id, as we write it.
pub fn key_string(id: &RecordId) -> String {
    match &id.key {
        RecordIdKey::String(s) => s.clone(),
        RecordIdKey::Number(n) => n.to_string(),
        other => format!("{other:?}"),
    }
}

pub fn record(table: &str, key: &str) -> RecordId {
    RecordId::new(table, key.to_string())
}

pub fn account_record(account_id: &str) -> RecordId {
    record("account", account_id)
}

/// A key as we generate them (random alphanumerics): anything else from a
/// request is refused before it reaches a query.
pub fn valid_key(key: &str) -> bool {
    !key.is_empty() && key.len() <= 80 && key.bytes().all(|b| b.is_ascii_alphanumeric())
}
