//! Opt-in proofs. A delivery that makes someone a lead is kept once, as it
//! arrived (the signed bytes), sealed under the installation's key and never
//! exported: one delivery can carry other Pages' and other people's events.
//! Each lead keeps, under its account's key, its own event (which Page, which
//! person, when: no text), the signature header, the body's hash, and the
//! version of the app secret that signed it.
//!
//! Erasing anyone a kept delivery names deletes it (the `lead` table's
//! delete event, and `forget_person` for people who are no lead), and so
//! does the message retention period. A stored delivery not applied yet
//! loses their events instead (`redaction`). The leads that pointed to it keep
//! their own record, which can no longer be re-checked: the trade-off is
//! stated on /privacy and in `docs/opt-in-proofs.md`.

use app::types::{ProofCheck, ProofStatus};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::Digest;
use surrealdb::types::RecordId;
use tokio::sync::OnceCell;

use super::{leads, settings, Result};
use crate::context::Ctx;
use crate::crypto::{Field, SecretKey};
use crate::db::ids::record;

const TABLE: &str = "signed_delivery";
const DELETE_BATCH: i64 = 500;

/// The signed delivery being applied, kept the first time it makes a lead.
pub struct SignedBody<'a> {
    pub raw: &'a [u8],
    pub signature: &'a str,
    pub received_at: i64,
    pub delivery: &'a Value,
    /// Set when erasure took someone out of the body before it was applied
    /// (`redaction`): it is then not what Facebook signed, and is not kept.
    rewritten: Option<SignedSummary>,
    kept: OnceCell<(RecordId, i64)>,
}

/// What is known of the body Facebook signed once a rewritten copy replaced it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SignedSummary {
    pub sha256: String,
    pub bytes: u64,
    pub secret_version: i64,
}

impl SignedSummary {
    pub async fn of(ctx: &Ctx, raw: &[u8], signature: &str) -> Result<Self> {
        Ok(SignedSummary {
            sha256: hex::encode(sha2::Sha256::digest(raw)),
            bytes: raw.len() as u64,
            secret_version: signing_version(ctx, raw, signature).await?,
        })
    }
}

/// What a lead keeps of its opt-in, sealed under its account's key.
#[derive(Debug, Serialize, Deserialize)]
struct OwnRecord {
    page_id: String,
    psid: String,
    timestamp_ms: i64,
    mid: Option<String>,
    kind: String,
    signature: String,
    body_sha256: String,
    body_bytes: u64,
}

/// The fields a new lead is created with.
pub struct LeadProof {
    pub sealed: String,
    /// None when the body was rewritten before it was applied: the weaker proof from the start.
    pub delivery: Option<RecordId>,
    pub secret_version: i64,
}

/// The lead's own opt-in event, as `ingest` classified it.
pub struct OptIn<'a> {
    pub page_id: &'a str,
    pub psid: &'a str,
    pub timestamp_ms: i64,
    pub mid: Option<&'a str>,
    pub kind: &'a str,
}

impl<'a> SignedBody<'a> {
    pub fn new(raw: &'a [u8], signature: &'a str, received_at: i64, delivery: &'a Value) -> Self {
        SignedBody { raw, signature, received_at, delivery, rewritten: None, kept: OnceCell::new() }
    }

    /// A body erasure rewrote: `signed` describes the one Facebook signed.
    pub fn rewritten(raw: &'a [u8], signature: &'a str, received_at: i64, delivery: &'a Value, signed: SignedSummary) -> Self {
        SignedBody { raw, signature, received_at, delivery, rewritten: Some(signed), kept: OnceCell::new() }
    }

    /// Keeps the body (once per delivery) and seals the lead's own part.
    pub async fn proof_for(&self, ctx: &Ctx, account_key: &SecretKey, lead_key: &str, opt_in: &OptIn<'_>) -> Result<LeadProof> {
        let (delivery, secret_version, body_sha256, body_bytes) = match &self.rewritten {
            Some(signed) => (None, signed.secret_version, signed.sha256.clone(), signed.bytes),
            None => {
                let (delivery, version) = self.kept.get_or_try_init(|| self.keep(ctx)).await?.clone();
                (Some(delivery), version, hex::encode(sha2::Sha256::digest(self.raw)), self.raw.len() as u64)
            }
        };
        let own = OwnRecord {
            page_id: opt_in.page_id.to_string(),
            psid: opt_in.psid.to_string(),
            timestamp_ms: opt_in.timestamp_ms,
            mid: opt_in.mid.map(str::to_string),
            kind: opt_in.kind.to_string(),
            signature: self.signature.to_string(),
            body_sha256,
            body_bytes,
        };
        let json = serde_json::to_string(&own).map_err(|e| super::Error::json("sealed content could not be written", e))?;
        Ok(LeadProof { sealed: account_key.seal_str(Field::new("lead", lead_key, "proof"), &json), delivery, secret_version })
    }

    async fn keep(&self, ctx: &Ctx) -> Result<(RecordId, i64)> {
        let key = ctx.crypto.keyed_index("signed_delivery", &hex::encode(sha2::Sha256::digest(self.raw)));
        let id = record(TABLE, &key);
        ctx.db
            .client()
            .query("UPSERT $id SET body_enc = $body, received_at = $at, people = $people")
            .bind(("id", id.clone()))
            .bind(("body", ctx.crypto.system_key().seal(Field::new(TABLE, &key, "body"), self.raw)))
            .bind(("at", self.received_at))
            .bind(("people", people_named(ctx, self.delivery)))
            .await?
            .check()?;
        Ok((id, signing_version(ctx, self.raw, self.signature).await?))
    }
}

/// The lists of an entry that hold events about people.
const EVENT_LISTS: [&str; 2] = ["messaging", "standby"];

/// The people an event names: its sender and recipient, unless the entry's Page.
fn people_in<'a>(item: &'a Value, page_id: &'a str) -> impl Iterator<Item = String> + 'a {
    ["sender", "recipient"].into_iter().filter_map(move |side| match &item[side]["id"] {
        Value::String(s) if s != page_id => Some(s.clone()),
        Value::Number(n) if n.to_string() != page_id => Some(n.to_string()),
        _ => None,
    })
}

/// The lead `ident` of everyone a delivery names: each sender and recipient
/// that is not the entry's Page.
pub fn people_named(ctx: &Ctx, delivery: &Value) -> Vec<String> {
    let mut people = Vec::new();
    for entry in delivery["entry"].as_array().into_iter().flatten() {
        let page_id = entry_page(entry);
        for list in EVENT_LISTS {
            for item in entry[list].as_array().into_iter().flatten() {
                people.extend(people_in(item, &page_id).map(|id| leads::lead_ident(ctx, &page_id, &id)));
            }
        }
    }
    people.sort();
    people.dedup();
    people
}

/// Takes out every event that names one of `forget` (lead idents); returns
/// how many went.
pub fn without_people(ctx: &Ctx, delivery: &mut Value, forget: &[String]) -> usize {
    let mut removed = 0;
    for entry in delivery.get_mut("entry").and_then(Value::as_array_mut).into_iter().flatten() {
        let page_id = entry_page(entry);
        for list in EVENT_LISTS {
            let Some(items) = entry.get_mut(list).and_then(Value::as_array_mut) else { continue };
            let before = items.len();
            items.retain(|item| !people_in(item, &page_id).any(|id| forget.contains(&leads::lead_ident(ctx, &page_id, &id))));
            removed += before - items.len();
        }
    }
    removed
}

/// The newest secret version whose signature matches; the current one if
/// none does (the proof then shows as not matching).
async fn signing_version(ctx: &Ctx, raw: &[u8], signature: &str) -> Result<i64> {
    let versions = settings::secret_versions(ctx).await?;
    let signed = versions.iter().find(|(_, secret)| super::signature::webhook_signature_valid(secret.as_bytes(), raw, signature));
    Ok(signed.or(versions.first()).map(|(v, _)| *v).unwrap_or(0))
}

/// A statement with a WHERE on an indexed field (checked by `index_use`).
pub(crate) const NAMING: &str = "SELECT VALUE id FROM signed_delivery WHERE people CONTAINS $ident";

/// Deletes the kept deliveries that name a person who is no lead here (Meta's
/// deletion callback maps a person to Pages where they may never have
/// become one). A lead's own erasure does this through the delete event.
/// Stored deliveries not applied yet that name them are marked, for
/// `redaction` to take them out.
pub async fn forget_person(ctx: &Ctx, page_id: &str, psid: &str) -> Result<()> {
    let ident = leads::lead_ident(ctx, page_id, psid);
    let ids: Vec<RecordId> = ctx.db.client().query(NAMING).bind(("ident", ident.clone())).await?.take(0)?;
    if !ids.is_empty() {
        ctx.db.client().query("DELETE $ids").bind(("ids", ids)).await?.check()?;
    }
    super::redaction::mark_naming(ctx, &ident).await
}

/// A statement with a WHERE on an indexed field (checked by `index_use`).
pub(crate) const RECEIVED_BEFORE: &str = "SELECT VALUE id FROM signed_delivery WHERE received_at < $cutoff LIMIT $batch";

/// The message retention period: kept deliveries older than it are deleted
/// (they hold messages). Returns how many.
pub async fn purge_older_than(ctx: &Ctx, cutoff: i64) -> Result<i64> {
    let mut purged = 0;
    loop {
        let ids: Vec<RecordId> = ctx.db.client().query(RECEIVED_BEFORE).bind(("cutoff", cutoff)).bind(("batch", DELETE_BATCH)).await?.take(0)?;
        if ids.is_empty() {
            return Ok(purged);
        }
        purged += ids.len() as i64;
        ctx.db.client().query("DELETE $ids").bind(("ids", ids)).await?.check()?;
    }
}

/// A lead's proof fields, as stored.
pub(super) struct StoredProof {
    pub proof_enc: Option<String>,
    pub proof_delivery: Option<RecordId>,
    pub proof_secret_version: Option<i64>,
    pub proof_received_at: i64,
}

/// "Verify proof": the kept body is checked against the secret that signed
/// it, and must contain the lead's own event.
pub(super) async fn check(ctx: &Ctx, account_key: &SecretKey, lead_key: &str, stored: StoredProof) -> Result<ProofCheck> {
    let own = match &stored.proof_enc {
        Some(blob) => account_key.open_string(Field::new("lead", lead_key, "proof"), blob)?,
        None => return Err(super::Error::internal("sealed content could not be read", "a lead without its proof")),
    };
    let own: OwnRecord = serde_json::from_str(&own).map_err(|e| super::Error::json("sealed content could not be read", e))?;
    let body = match &stored.proof_delivery {
        Some(id) => {
            let sealed: Option<String> = ctx.db.client().query("SELECT VALUE body_enc FROM ONLY $id").bind(("id", id.clone())).await?.take(0)?;
            match sealed {
                Some(blob) => Some(ctx.crypto.system_key().open(Field::new(TABLE, &crate::db::ids::key_string(id), "body"), &blob)?),
                None => None,
            }
        }
        None => None,
    };
    let secret = match stored.proof_secret_version {
        Some(version) => settings::secret_of_version(ctx, version).await?,
        None => None,
    };
    let status = match (&body, &secret) {
        (None, _) => ProofStatus::BodyDeleted,
        (Some(body), Some(secret)) if signed(secret.as_bytes(), body, &own.signature) && names_own_event(body, &own) => ProofStatus::Valid,
        (Some(_), _) => ProofStatus::Invalid,
    };
    Ok(ProofCheck {
        status,
        secret_version: stored.proof_secret_version.filter(|_| body.is_some()),
        received_at: stored.proof_received_at,
        signature_header: own.signature,
        body_sha256: own.body_sha256,
        body_bytes: own.body_bytes,
    })
}

fn signed(secret: &[u8], body: &[u8], signature: &str) -> bool {
    super::signature::webhook_signature_valid(secret, body, signature)
}

/// The kept body holds the lead's own event: their PSID as the sender, on
/// their Page, at their time (and with their message id, if it had one).
fn names_own_event(body: &[u8], own: &OwnRecord) -> bool {
    let Ok(delivery) = serde_json::from_slice::<Value>(body) else { return false };
    delivery["entry"].as_array().into_iter().flatten().filter(|entry| entry_page(entry) == own.page_id).any(|entry| {
        entry["messaging"].as_array().into_iter().flatten().any(|item| {
            item["sender"]["id"].as_str() == Some(own.psid.as_str())
                && item["timestamp"].as_i64() == Some(own.timestamp_ms)
                && own.mid.as_deref().is_none_or(|mid| item["message"]["mid"].as_str() == Some(mid) || item["postback"]["mid"].as_str() == Some(mid))
        })
    })
}

pub(crate) fn entry_page(entry: &Value) -> String {
    match &entry["id"] {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}
