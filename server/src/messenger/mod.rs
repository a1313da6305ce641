//! Messenger: the Facebook app settings, Meta's signatures, the Graph API
//! client, connected Pages, the webhook and its ingest, leads with their
//! opt-in proof, labels, the inbox, STOP keywords and Meta's data-deletion
//! callback.

pub mod conversations;
pub mod deletion;
pub mod deliveries;
pub mod graph;
pub mod inbox;
pub mod ingest;
pub mod keywords;
pub mod labels;
pub mod leads;
pub mod live;
pub mod pages;
pub mod proof_upgrade;
pub mod proofs;
pub mod redaction;
pub mod settings;
pub mod signature;
pub mod takeover;
pub mod webhook;

use std::sync::atomic::{AtomicU64, Ordering};

use crate::crypto::{Field, SecretKey};

pub use crate::error::{Error, Result};

/// A record key that sorts by creation time (seconds, then a per-process
/// counter) and stays unique across instances (random suffix).
pub fn time_key(now: i64) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed) % 0x100_0000;
    let mut suffix = [0u8; 4];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut suffix);
    format!("{now:011}{n:06x}{}", hex::encode(suffix))
}

pub fn seal(key: &SecretKey, table: &str, record: &str, field: &str, value: &str) -> String {
    key.seal_str(Field::new(table, record, field), value)
}

pub fn open(key: &SecretKey, table: &str, record: &str, field: &str, blob: &str) -> Result<String> {
    Ok(key.open_string(Field::new(table, record, field), blob)?)
}
