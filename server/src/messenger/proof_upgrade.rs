//! One-time conversions at start. For data written before schema step 12:
//! the app secret gets version 1, and each lead's proof, which held the whole
//! signed body under the account's key, becomes a kept delivery plus the
//! lead's own record (`proofs`). Marked done in `data_upgrade:shared_proofs`,
//! so later starts do not scan the leads again. For step 17: stored webhook
//! deliveries not applied yet get the list of people they name, so that
//! erasure finds them (`redaction`; `data_upgrade:pending_delivery_people`).

use serde_json::Value;
use surrealdb::types::{RecordId, SurrealValue};

use super::proofs::{self, OptIn, SignedBody};
use super::{open, settings, Result};
use crate::context::Ctx;
use crate::crypto::Field;
use crate::db::ids::key_string;

const MARK: &str = "shared_proofs";
const PEOPLE_MARK: &str = "pending_delivery_people";
const BATCH: i64 = 200;

#[derive(Debug, SurrealValue)]
struct LegacyLead {
    id: RecordId,
    account: RecordId,
    page_id: String,
    psid_enc: String,
    proof_body_enc: String,
    proof_signature_enc: String,
    proof_received_at: i64,
}

pub async fn upgrade(ctx: &Ctx) -> Result<()> {
    convert_proofs(ctx).await?;
    list_people_of_pending_deliveries(ctx).await
}

#[derive(Debug, SurrealValue)]
struct PendingDelivery {
    id: RecordId,
    key: String,
    body_enc: String,
}

/// Deliveries stored before step 17 name nobody yet: they get their list.
async fn list_people_of_pending_deliveries(ctx: &Ctx) -> Result<()> {
    if crate::db::data_upgrade::is_done(ctx.db.client(), PEOPLE_MARK).await? {
        return Ok(());
    }
    let mut listed = 0;
    loop {
        let rows: Vec<PendingDelivery> =
            ctx.db.client().query("SELECT id, key, body_enc FROM webhook_delivery WHERE people = NONE LIMIT $batch").bind(("batch", BATCH)).await?.take(0)?;
        if rows.is_empty() {
            break;
        }
        for row in rows {
            let body = ctx.crypto.system_key().open(Field::new("webhook_delivery", &row.key, "body"), &row.body_enc)?;
            // Stored only once checked to be JSON; anything else names nobody.
            let delivery: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let people = proofs::people_named(ctx, &delivery);
            ctx.db.client().query("UPDATE $id SET people = $people").bind(("id", row.id)).bind(("people", people)).await?.check()?;
            listed += 1;
        }
    }
    crate::db::data_upgrade::mark_done(ctx.db.client(), PEOPLE_MARK, ctx.now()).await?;
    tracing::info!(listed, "stored webhook deliveries now list the people they name");
    Ok(())
}

async fn convert_proofs(ctx: &Ctx) -> Result<()> {
    if crate::db::data_upgrade::is_done(ctx.db.client(), MARK).await? {
        return Ok(());
    }
    if let Some(app) = settings::load(ctx).await? {
        settings::version_secret(ctx, &app.app_secret).await?;
    }
    let mut converted = 0;
    loop {
        let rows: Vec<LegacyLead> = ctx
            .db
            .client()
            .query(
                "SELECT id, account, page.page_id AS page_id, psid_enc, proof_body_enc, proof_signature_enc, proof_received_at \
                 FROM lead WHERE proof_body_enc IS NOT NONE LIMIT $batch",
            )
            .bind(("batch", BATCH))
            .await?
            .take(0)?;
        if rows.is_empty() {
            break;
        }
        for row in rows {
            convert(ctx, row).await?;
            converted += 1;
        }
    }
    crate::db::data_upgrade::mark_done(ctx.db.client(), MARK, ctx.now()).await?;
    tracing::info!(converted, "opt-in proofs converted to kept deliveries");
    Ok(())
}

async fn convert(ctx: &Ctx, row: LegacyLead) -> Result<()> {
    let lead_key = key_string(&row.id);
    let key = ctx.crypto.account_key(&key_string(&row.account)).await?;
    let raw = key.open(Field::new("lead", &lead_key, "proof_body"), &row.proof_body_enc)?;
    let signature = open(&key, "lead", &lead_key, "proof_signature", &row.proof_signature_enc)?;
    let psid = open(&key, "lead", &lead_key, "psid", &row.psid_enc)?;
    let delivery: Value = serde_json::from_slice(&raw).unwrap_or(Value::Null);
    let item = own_item(&delivery, &row.page_id, &psid);
    let kind = ["message", "postback", "optin"].into_iter().find(|k| item.get(*k).is_some()).unwrap_or("message");
    let mid = item["message"]["mid"].as_str().or(item["postback"]["mid"].as_str());
    let opt_in = OptIn { page_id: &row.page_id, psid: &psid, timestamp_ms: item["timestamp"].as_i64().unwrap_or(0), mid, kind };
    let proof = SignedBody::new(&raw, &signature, row.proof_received_at, &delivery).proof_for(ctx, &key, &lead_key, &opt_in).await?;
    ctx.db
        .client()
        .query(
            "UPDATE $id SET proof_enc = $proof, proof_delivery = $delivery, proof_secret_version = $version, \
             proof_body_enc = NONE, proof_signature_enc = NONE",
        )
        .bind(("id", row.id))
        .bind(("proof", proof.sealed))
        .bind(("delivery", proof.delivery))
        .bind(("version", proof.secret_version))
        .await?
        .check()?;
    Ok(())
}

/// The person's first event on their Page in the body (Null if none).
fn own_item<'a>(delivery: &'a Value, page_id: &str, psid: &str) -> &'a Value {
    delivery["entry"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|entry| proofs::entry_page(entry) == page_id)
        .flat_map(|entry| entry["messaging"].as_array().into_iter().flatten())
        .find(|item| item["sender"]["id"].as_str() == Some(psid))
        .unwrap_or(&NOTHING)
}

static NOTHING: Value = Value::Null;
