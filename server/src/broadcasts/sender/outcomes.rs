//! What became of each claimed recipient, written in groups: a row changes
//! only while it is still in the state the writer expects.

use std::time::Duration;

use surrealdb::types::{RecordId, SurrealValue};

use super::claims::Claimed;
use crate::context::Ctx;
use crate::messenger::Result;

/// Writes outcomes, retrying on a transaction conflict; a row is only
/// changed while it is still in one of `from` states.
pub(super) async fn write_outcomes(ctx: &Ctx, outcomes: Vec<Outcome>, unavailable: Vec<RecordId>, from: &[RecipientState]) -> Result<()> {
    let from: Vec<String> = from.iter().map(|s| s.as_str().to_string()).collect();
    let mut attempt = 0;
    loop {
        let result = ctx
            .db
            .client()
            .query(
                "FOR $o IN $outcomes { UPDATE $o.id SET state = $o.state, reason = $o.reason, mid = $o.mid ?? mid, \
                 sent_at = $o.sent_at ?? sent_at, sent_at_ms = $o.sent_at_ms ?? sent_at_ms, attempts = $o.attempts, \
                 next_attempt_at = $o.next_attempt_at, sent_by = IF $o.state = 'sent' { $me } ELSE { sent_by }, \
                 lease_owner = NONE, lease_until = NONE WHERE state IN $from }; \
                 UPDATE $unavailable SET unavailable = true;",
            )
            .bind(("outcomes", outcomes.iter().map(Outcome::row).collect::<Vec<_>>()))
            .bind(("unavailable", unavailable.clone()))
            .bind(("from", from.clone()))
            .bind(("me", ctx.instance.to_string()))
            .await
            .and_then(|r| r.check());
        match result {
            Ok(_) => return Ok(()),
            Err(e) if attempt < 5 => {
                attempt += 1;
                tracing::debug!(error = %e, attempt, "outcome write retried");
                tokio::time::sleep(Duration::from_millis(10 << attempt)).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// A queue row's state (`campaign_recipient.state`), stored by its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RecipientState {
    Pending,
    InFlight,
    Sent,
    Skipped,
    Failed,
}

impl RecipientState {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            RecipientState::Pending => "pending",
            RecipientState::InFlight => "in_flight",
            RecipientState::Sent => "sent",
            RecipientState::Skipped => "skipped",
            RecipientState::Failed => "failed",
        }
    }
}

#[derive(Debug)]
pub(super) struct Outcome {
    pub(super) id: RecordId,
    pub(super) state: RecipientState,
    pub(super) reason: Option<String>,
    pub(super) mid: Option<String>,
    pub(super) sent_at: Option<i64>,
    pub(super) sent_at_ms: Option<i64>,
    pub(super) attempts: i64,
    pub(super) next_attempt_at: i64,
}

/// An outcome as the database stores it.
#[derive(Debug, SurrealValue)]
struct OutcomeRow {
    id: RecordId,
    state: String,
    reason: Option<String>,
    mid: Option<String>,
    sent_at: Option<i64>,
    sent_at_ms: Option<i64>,
    attempts: i64,
    next_attempt_at: i64,
}

impl Outcome {
    fn row(&self) -> OutcomeRow {
        OutcomeRow {
            id: self.id.clone(),
            state: self.state.as_str().to_string(),
            reason: self.reason.clone(),
            mid: self.mid.clone(),
            sent_at: self.sent_at,
            sent_at_ms: self.sent_at_ms,
            attempts: self.attempts,
            next_attempt_at: self.next_attempt_at,
        }
    }

    pub(super) fn new(claimed: &Claimed, state: RecipientState, reason: Option<&str>) -> Self {
        Outcome {
            id: claimed.id.clone(),
            state,
            reason: reason.map(str::to_string),
            mid: None,
            sent_at: None,
            sent_at_ms: None,
            attempts: claimed.attempts,
            next_attempt_at: 0,
        }
    }
}

pub(super) enum Sent {
    Done(Outcome),
    Unavailable(Outcome, RecordId),
    TokenRejected(Outcome),
}
