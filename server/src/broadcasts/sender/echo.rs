//! Echoes of campaign messages: Meta returns each message's `metadata`, so
//! a recipient whose send Meta accepted counts as sent even if our own write
//! was lost to a crash.

use std::collections::HashMap;

use surrealdb::types::{RecordId, SurrealValue};

use super::outcomes::{write_outcomes, Outcome, RecipientState};
use crate::context::Ctx;
use crate::db::ids::key_string;
use crate::messenger::Result;

#[derive(Debug, SurrealValue)]
pub(super) struct Echo {
    id: RecordId,
    mid: Option<String>,
    at_ms: i64,
}

/// The echoes recorded for these recipients, by recipient key.
pub(super) async fn echoes_of(ctx: &Ctx, recipients: &[RecordId]) -> Result<HashMap<String, Echo>> {
    let ids: Vec<RecordId> = recipients.iter().map(|r| RecordId::new("campaign_echo", key_string(r))).collect();
    let found: Vec<Echo> = ctx.db.client().query("SELECT id, mid, at_ms FROM $ids").bind(("ids", ids)).await?.take(0)?;
    Ok(found.into_iter().map(|e| (key_string(&e.id), e)).collect())
}

/// Marks recipients sent from their echoes.
pub(super) async fn mark_echoed(ctx: &Ctx, echoed: Vec<(RecordId, &Echo)>) -> Result<()> {
    if echoed.is_empty() {
        return Ok(());
    }
    let outcomes: Vec<Outcome> = echoed
        .into_iter()
        .map(|(id, e)| Outcome {
            id,
            state: RecipientState::Sent,
            reason: None,
            mid: e.mid.clone(),
            sent_at: Some(e.at_ms / 1000),
            sent_at_ms: Some(e.at_ms),
            attempts: 1,
            next_attempt_at: 0,
        })
        .collect();
    write_outcomes(ctx, outcomes, Vec::new(), &[RecipientState::InFlight, RecipientState::Pending]).await
}

#[derive(Debug, SurrealValue)]
struct EchoRow {
    id: RecordId,
    campaign: RecordId,
    mid: Option<String>,
    at_ms: i64,
}

/// Echoes of campaign messages (recipient key, mid, time): recorded, so that
/// those recipients count as sent even if our own write was lost to a crash.
pub async fn confirm_echoes(ctx: &Ctx, account: &RecordId, echoes: Vec<(String, Option<String>, i64)>) -> Result<()> {
    // A recipient key is the campaign's random key (30 hex characters) followed by the lead's.
    let rows: Vec<EchoRow> = echoes
        .into_iter()
        .filter(|(key, _, _)| crate::db::ids::valid_key(key) && key.len() > 30)
        .map(|(key, mid, at_ms)| EchoRow { campaign: RecordId::new("campaign", key[..30].to_string()), id: RecordId::new("campaign_echo", key), mid, at_ms })
        .collect();
    ctx.db
        .client()
        // Only for recipients that exist: a late echo must not bring back a trace of an erased lead.
        .query(
            "FOR $e IN $rows { IF record::exists(type::record('campaign_recipient', record::id($e.id))) { \
             UPSERT $e.id SET account = $account, campaign = $e.campaign, mid = $e.mid, at_ms = $e.at_ms } }",
        )
        .bind(("rows", rows))
        .bind(("account", account.clone()))
        .await?
        .check()?;
    Ok(())
}
