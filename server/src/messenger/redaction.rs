//! Erasure reaches the webhook deliveries that are stored but not applied
//! yet (one that fails is kept and retried). Each lists the people it names
//! (`people`); erasing one of them marks it in the erasure's transaction
//! (the `lead` table's delete event, or `proofs::forget_person`), and
//! `redact_marked` then rewrites its sealed body without their events, so
//! that they are neither readable in it nor made a lead again when it is
//! applied. The messenger's erasure paths rewrite at once; the webhook
//! worker does it before it applies anything, so an account's erasure is
//! covered on its next pass.
//!
//! A rewritten body is no longer what Facebook signed: it is never kept as
//! a signed delivery, and the leads it makes get the weaker proof (their own
//! record, with the signed body's hash and length) from the start.

use serde_json::Value;
use surrealdb::types::{RecordId, SurrealValue};

use super::proofs::{self, SignedSummary};
use super::{Error, Result};
use crate::context::Ctx;
use crate::crypto::Field;

const TABLE: &str = "webhook_delivery";
const BATCH: i64 = 64;

/// The stored deliveries that name `$ident` (a statement with a WHERE on an
/// indexed field, checked by `index_use`; the lead delete event runs the same).
pub(crate) const NAMING: &str = "SELECT VALUE id FROM webhook_delivery WHERE people CONTAINS $ident";

/// Marks the stored deliveries that name `$ident`, for `redact_marked`.
pub async fn mark_naming(ctx: &Ctx, ident: &str) -> Result<()> {
    let marking = format!("UPDATE ({NAMING}) SET forget = array::union(forget ?? [], [$ident]), redact_due = true");
    ctx.db.client().query(marking).bind(("ident", ident.to_string())).await?.check()?;
    Ok(())
}

/// Marked deliveries (through the `redact_due` index, checked by `index_use`).
pub(crate) const MARKED: &str = "SELECT id, key, body_enc, signature_enc, forget, signed_enc FROM webhook_delivery WHERE redact_due = true LIMIT $batch";

#[derive(Debug, SurrealValue)]
struct Marked {
    id: RecordId,
    key: String,
    body_enc: String,
    signature_enc: String,
    forget: Option<Vec<String>>,
    signed_enc: Option<String>,
}

fn field<'a>(key: &'a str, name: &'a str) -> Field<'a> {
    Field::new(TABLE, key, name)
}

/// The description of the signed body that a rewritten delivery keeps.
pub(super) fn signed_summary(ctx: &Ctx, key: &str, blob: &str) -> Result<SignedSummary> {
    let json = ctx.crypto.system_key().open(field(key, "signed"), blob)?;
    serde_json::from_slice(&json).map_err(|e| Error::json("sealed content could not be read", e))
}

/// Rewrites every marked delivery; returns how many. Waits while deliveries
/// are being applied, so that none is applied from a body read before.
pub async fn redact_forgotten(ctx: &Ctx) -> Result<usize> {
    let _applying = ctx.deliveries.applying.lock().await;
    redact_marked(ctx).await
}

/// As `redact_forgotten`, for a caller that holds `deliveries.applying`.
pub(super) async fn redact_marked(ctx: &Ctx) -> Result<usize> {
    let mut rewritten = 0;
    loop {
        let marked: Vec<Marked> = ctx.db.client().query(MARKED).bind(("batch", BATCH)).await?.take(0)?;
        if marked.is_empty() {
            return Ok(rewritten);
        }
        for row in marked {
            rewrite(ctx, row).await?;
            rewritten += 1;
        }
    }
}

/// One delivery without the events of the people it is marked for. Written
/// only if no further mark arrived meanwhile; the next round takes that one.
async fn rewrite(ctx: &Ctx, row: Marked) -> Result<()> {
    let system = ctx.crypto.system_key();
    let seen = row.forget.clone();
    let forget = row.forget.unwrap_or_default();
    let body = system.open(field(&row.key, "body"), &row.body_enc)?;
    let signed = match &row.signed_enc {
        Some(blob) => signed_summary(ctx, &row.key, blob)?,
        None => {
            let signature = system.open_string(field(&row.key, "signature"), &row.signature_enc)?;
            SignedSummary::of(ctx, &body, &signature).await?
        }
    };
    let mut delivery: Value = serde_json::from_slice(&body).map_err(|e| Error::json("a stored webhook delivery is not JSON", e))?;
    let removed = proofs::without_people(ctx, &mut delivery, &forget);
    let rewritten = serde_json::to_vec(&delivery).map_err(|e| Error::json("a stored webhook delivery could not be written", e))?;
    let signed = serde_json::to_vec(&signed).map_err(|e| Error::json("sealed content could not be written", e))?;
    ctx.db
        .client()
        .query("UPDATE $id SET body_enc = $body, people = $people, signed_enc = $signed, forget = NONE, redact_due = NONE WHERE forget = $seen")
        .bind(("id", row.id))
        .bind(("body", system.seal(field(&row.key, "body"), &rewritten)))
        .bind(("people", proofs::people_named(ctx, &delivery)))
        .bind(("signed", system.seal(field(&row.key, "signed"), &signed)))
        .bind(("seen", seen))
        .await?
        .check()?;
    tracing::info!(delivery = %row.key, events_removed = removed, "an erased person's events were taken out of a stored webhook delivery");
    Ok(())
}
