//! Delivers due outbox rows. A row is leased before sending, so several
//! server instances on one database do not send the same mail twice.

use std::time::Duration;

use lettre::message::Mailbox;
use surrealdb::types::{RecordId, SurrealValue};

use super::transport::{MailTransport, TransportError};
use crate::context::Ctx;
use crate::crypto::Field;
use crate::error::Result;

const BATCH: i64 = 20;
const LEASE_SECS: i64 = 120;
const MAX_BACKOFF_SECS: i64 = 15 * 60;
const POLL: Duration = Duration::from_secs(2);

#[derive(Debug, SurrealValue)]
struct DueRow {
    id: RecordId,
    recipient_enc: Option<String>,
    subject_enc: Option<String>,
    body_enc: Option<String>,
    attempts: i64,
    purge_when_sent: bool,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    pub sent: usize,
    pub retrying: usize,
    pub failed: usize,
}

/// Seconds to wait after the given number of failed attempts: 10 s, 20 s, …, capped at 15 min.
fn backoff(attempts: i64) -> i64 {
    (5_i64 << attempts.clamp(1, 20)).min(MAX_BACKOFF_SECS)
}

pub async fn deliver_due(ctx: &Ctx, transport: &MailTransport, from: &Mailbox) -> Result<DeliveryReport> {
    let now = ctx.now();
    let due: Vec<DueRow> = ctx
        .db
        .client()
        .query(
            "SELECT id, recipient_enc, subject_enc, body_enc, attempts, purge_when_sent FROM outbox \
             WHERE status = 'pending' AND next_attempt_at <= $now AND (lease_until = NONE OR lease_until < $now) \
             ORDER BY next_attempt_at LIMIT $batch",
        )
        .bind(("now", now))
        .bind(("batch", BATCH))
        .await?
        .take(0)?;
    let mut report = DeliveryReport::default();
    for row in due {
        if !claim(ctx, &row.id, now).await? {
            continue;
        }
        let outcome = match open_row(ctx, &row) {
            Some((to, subject, body)) => transport.send(from, &to, &subject, &body).await,
            None => Err(TransportError::Permanent),
        };
        let query = match outcome {
            Ok(()) if row.purge_when_sent => {
                report.sent += 1;
                "DELETE $id"
            }
            Ok(()) => {
                report.sent += 1;
                // Delivered: the content is no longer needed, so it is not kept.
                "UPDATE $id SET status = 'sent', sent_at = $now, recipient_enc = NONE, subject_enc = NONE, \
                 body_enc = NONE, lease_until = NONE, last_error = NONE"
            }
            Err(TransportError::Permanent) => {
                report.failed += 1;
                "UPDATE $id SET status = 'failed', recipient_enc = NONE, subject_enc = NONE, body_enc = NONE, \
                 lease_until = NONE, last_error = 'permanent failure', attempts += 1"
            }
            Err(_) => {
                report.retrying += 1;
                "UPDATE $id SET attempts += 1, next_attempt_at = $retry_at, lease_until = NONE, \
                 last_error = 'temporary failure'"
            }
        };
        ctx.db.client().query(query).bind(("id", row.id.clone())).bind(("now", now)).bind(("retry_at", now + backoff(row.attempts + 1))).await?.check()?;
    }
    if report != DeliveryReport::default() {
        tracing::info!(sent = report.sent, retrying = report.retrying, failed = report.failed, "outbox run");
    }
    Ok(report)
}

async fn claim(ctx: &Ctx, id: &RecordId, now: i64) -> Result<bool> {
    let claimed: Vec<RecordId> = ctx
        .db
        .client()
        .query(
            "UPDATE $id SET lease_until = $until WHERE status = 'pending' \
             AND (lease_until = NONE OR lease_until < $now) RETURN VALUE id",
        )
        .bind(("id", id.clone()))
        .bind(("until", now + LEASE_SECS))
        .bind(("now", now))
        .await?
        .take(0)?;
    Ok(!claimed.is_empty())
}

fn open_row(ctx: &Ctx, row: &DueRow) -> Option<(String, String, String)> {
    let key = ctx.crypto.system_key();
    let id = match &row.id.key {
        surrealdb::types::RecordIdKey::String(s) => s.as_str(),
        _ => return None,
    };
    let open = |name: &str, blob: &Option<String>| key.open_string(Field::new("outbox", id, name), blob.as_deref()?).ok();
    Some((open("recipient", &row.recipient_enc)?, open("subject", &row.subject_enc)?, open("body", &row.body_enc)?))
}

/// Runs until `shutdown` fires: delivers whatever is due, then sleeps until
/// woken by a new mail or the poll interval passes.
pub async fn run_worker(ctx: Ctx, transport: MailTransport, from: Mailbox, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    loop {
        if let Err(e) = deliver_due(&ctx, &transport, &from).await {
            tracing::error!(error = %e, "outbox run failed");
        }
        tokio::select! {
            _ = shutdown.changed() => return,
            _ = ctx.mail_wakeup.notified() => {}
            _ = tokio::time::sleep(POLL) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::backoff;

    #[test]
    fn backoff_grows_and_is_capped() {
        assert_eq!(backoff(1), 10);
        assert_eq!(backoff(2), 20);
        assert!(backoff(5) > backoff(4));
        assert_eq!(backoff(30), 15 * 60);
    }
}
