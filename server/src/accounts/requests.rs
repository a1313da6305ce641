//! Registrations, mail requests (password reset, verification again) and
//! email changes are answered at once and completed here, by a worker. What
//! they do depends on whether the address has an account (create it, or
//! warn its owner; mail a link, or nothing), and doing that before
//! answering let anyone who timed the answer tell which addresses have
//! accounts. The request path does the same work for every address:
//! checks, the password hash or check, and one sealed row. Nothing is lost:
//! the row stays until its work is done.

use serde::{Deserialize, Serialize};

use super::*;

/// What a request asks for, sealed under the system key until done. An
/// email change names the session that asked: it must still live when the
/// change is carried out.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(super) enum AccountRequest {
    Register {
        email: String,
        display_name: Option<String>,
        password_hash: String,
        /// The policy versions the form showed; a request queued before
        /// they were sent along has none, and records the current ones.
        #[serde(default)]
        accepted: Vec<app::types::PolicyVersion>,
        /// The hash of the registering browser's sign-up cookie.
        #[serde(default)]
        signup_nonce_hash: Option<String>,
    },
    ResetPassword {
        email: String,
    },
    ResendVerification {
        email: String,
    },
    ChangeEmail {
        account_id: String,
        session_id: String,
        new_email: String,
    },
}

const TABLE: &str = "account_request";
const BATCH: i64 = 20;
/// How long a claimed request is someone's before another worker may try it.
pub const REQUEST_LEASE_SECS: i64 = 60;

pub(super) async fn enqueue(ctx: &Ctx, request: &AccountRequest) -> Result<()> {
    let id = random_id();
    let json = serde_json::to_string(request).map_err(|e| Error::json("an account request could not be read or written", e))?;
    let now = ctx.now();
    ctx.db
        .client()
        .query("CREATE $id SET request_enc = $request, created_at = $now, attempts = 0, retry_at = $now")
        .bind(("id", RecordId::new(TABLE, id.clone())))
        .bind(("request", ctx.crypto.system_key().seal_str(Field::new(TABLE, &id, "request"), &json)))
        .bind(("now", now))
        .await?
        .check()?;
    ctx.account_requests.notify_one();
    Ok(())
}

/// Completes requests until shutdown, woken by `enqueue` (and every second,
/// for requests another instance stored or one that failed and is due again).
pub async fn run_worker(ctx: Ctx, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    loop {
        let wait = match complete_due(&ctx).await {
            Ok(0) => std::time::Duration::from_secs(1),
            Ok(_) => continue,
            Err(e) => {
                tracing::error!(error = %e, "account requests could not be completed; retrying");
                std::time::Duration::from_secs(1)
            }
        };
        tokio::select! {
            _ = ctx.account_requests.notified() => {}
            _ = tokio::time::sleep(wait) => {}
            _ = shutdown.changed() => return,
        }
    }
}

#[derive(Clone, Debug, SurrealValue)]
struct Due {
    id: RecordId,
    request_enc: String,
    attempts: i64,
}

/// A statement with a WHERE on an indexed field (checked by `index_use`).
pub(crate) const DUE_REQUESTS: &str = "SELECT id, request_enc, attempts FROM account_request WHERE retry_at <= $now ORDER BY retry_at LIMIT $batch";

/// Completes the requests that are due; returns how many it took.
pub async fn complete_due(ctx: &Ctx) -> Result<usize> {
    let now = ctx.now();
    let due: Vec<Due> = ctx.db.client().query(DUE_REQUESTS).bind(("now", now)).bind(("batch", BATCH)).await?.take(0)?;
    let taken = due.len();
    for row in due {
        // Claimed first, so that two instances do not both complete it.
        let claimed: Vec<RecordId> = ctx
            .db
            .client()
            .query("UPDATE $id SET retry_at = $lease WHERE retry_at <= $now RETURN VALUE id")
            .bind(("id", row.id.clone()))
            .bind(("lease", now + REQUEST_LEASE_SECS))
            .bind(("now", now))
            .await?
            .take(0)?;
        if claimed.is_empty() {
            continue;
        }
        match complete_off_runtime(ctx, &row).await {
            Ok(()) => {
                ctx.db.client().query("DELETE $id").bind(("id", row.id)).await?.check()?;
            }
            Err(e) => {
                tracing::warn!(error = %e, attempts = row.attempts + 1, "an account request failed; it is tried again");
                ctx.db
                    .client()
                    .query("UPDATE $id SET attempts += 1, retry_at = $retry")
                    .bind(("id", row.id))
                    .bind(("retry", now + (5_i64 << row.attempts.clamp(0, 6))))
                    .await?
                    .check()?;
            }
        }
    }
    Ok(taken)
}

/// Completes one request on the blocking pool. That is many statements,
/// which a database in this process can answer without ever yielding
/// (mem:// does): on the async runtime, each request completed during a
/// burst of sign-ups took a whole turn from every request and webhook
/// (tens of milliseconds unoptimised; a second at a time for a batch).
async fn complete_off_runtime(ctx: &Ctx, row: &Due) -> Result<()> {
    let (ctx, row, runtime) = (ctx.clone(), row.clone(), tokio::runtime::Handle::current());
    match tokio::task::spawn_blocking(move || runtime.block_on(complete_one(&ctx, &row))).await {
        Ok(outcome) => outcome,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => Err(Error::internal("an account request was not completed", e)),
    }
}

async fn complete_one(ctx: &Ctx, row: &Due) -> Result<()> {
    let key = key_string(&row.id);
    let json = ctx.crypto.system_key().open_string(Field::new(TABLE, &key, "request"), &row.request_enc)?;
    let request: AccountRequest = serde_json::from_str(&json).map_err(|e| Error::json("an account request could not be read or written", e))?;
    match request {
        AccountRequest::Register { email, display_name, password_hash, accepted, signup_nonce_hash } => {
            let new = super::registration::NewAccount { email: &email, display_name: display_name.as_deref(), password_hash: &password_hash };
            super::registration::complete(ctx, &new, &accepted, signup_nonce_hash.as_deref()).await
        }
        AccountRequest::ResetPassword { email } => super::credentials::mail_reset_link(ctx, &email).await,
        AccountRequest::ResendVerification { email } => super::registration::mail_verification_again(ctx, &email).await,
        AccountRequest::ChangeEmail { account_id, session_id, new_email } => {
            super::credentials::start_email_change(ctx, &account_id, &session_id, &new_email).await
        }
    }
}
