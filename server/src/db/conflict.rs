//! Transactions that write the same key conflict: the engine commits the
//! first and refuses the second, which may simply run again. Writers that
//! meet others on purpose (a guard key) run through `retry_on_conflict`.

use std::future::Future;
use std::time::Duration;

use surrealdb::types::QueryError;

/// How often a conflicting write is tried before its error is returned.
pub const CONFLICT_ATTEMPTS: u32 = 6;

/// Whether the engine refused a commit because another transaction wrote
/// the same key first (safe to run again).
pub fn is_conflict(error: &surrealdb::Error) -> bool {
    error.query_details() == Some(&QueryError::TransactionConflict) || error.to_string().contains("can be retried")
}

/// Runs `write` until it commits, again after each conflict with a short
/// growing pause, at most `CONFLICT_ATTEMPTS` times; other errors return at once.
pub async fn retry_on_conflict<T, F, Fut>(what: &'static str, mut write: F) -> surrealdb::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = surrealdb::Result<T>>,
{
    let mut attempt = 1;
    loop {
        match write().await {
            Err(e) if is_conflict(&e) && attempt < CONFLICT_ATTEMPTS => {
                tracing::debug!(error = %e, attempt, what, "write conflicted; trying again");
                tokio::time::sleep(Duration::from_millis(5 << attempt)).await;
                attempt += 1;
            }
            result => return result,
        }
    }
}
