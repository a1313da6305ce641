//! Attempt limits, per IP and per address: after 5 failed sign-ins or
//! password re-checks, or 5 registrations or mail requests, each new one
//! doubles the wait (2 s, 4 s, … up to 15 minutes). Kept in the database,
//! so every instance counts the same attempts; each key is stored as a
//! keyed hash, never as the IP or address itself.

use surrealdb::types::{RecordId, SurrealValue};

use super::Ctx;
use crate::db::ids::record;
use crate::db::retry_on_conflict;
use crate::error::Result;
use app::error::AppError;

pub const FREE_FAILURES: i64 = 5;
const MAX_DELAY_SECS: i64 = 15 * 60;
/// Failures older than this are forgotten.
const FORGET_AFTER_SECS: i64 = 24 * 3600;

/// Requests limited however they turn out, per IP or per address.
pub const REQUESTS_PER_ADDRESS_PER_HOUR: i64 = 5;
const QUOTA_WINDOW_SECS: i64 = 3600;

/// Expired limits, through the `forget_at` index (checked by `index_use`).
pub(crate) const EXPIRED_LIMITS: &str = "SELECT VALUE id FROM attempt_limit WHERE forget_at < $now LIMIT 1000";

/// One key's failures and its hourly quota of requests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, SurrealValue)]
pub struct Limit {
    failures: i64,
    last_failure: i64,
    blocked_until: i64,
    quota_start: i64,
    quota_count: i64,
    /// When nothing in it matters any more (the retention purge deletes it).
    forget_at: i64,
}

impl Limit {
    /// Err(seconds to wait) while the key is blocked.
    pub fn blocked(&self, now: i64) -> std::result::Result<(), u64> {
        match self.blocked_until > now {
            true => Err((self.blocked_until - now) as u64),
            false => Ok(()),
        }
    }

    pub fn after_failure(mut self, now: i64) -> Limit {
        if now - self.last_failure >= FORGET_AFTER_SECS {
            self.failures = 0;
        }
        self.failures += 1;
        self.last_failure = now;
        if self.failures >= FREE_FAILURES {
            let doublings = (self.failures - FREE_FAILURES + 1).min(20);
            self.blocked_until = now + (1_i64 << doublings).min(MAX_DELAY_SECS);
        }
        self.with_forget_at()
    }

    /// For requests limited however they turn out (registrations, mails
    /// asked for): at most `limit` per key in an hour that starts at the
    /// first. Err(seconds until that hour ends) beyond it; otherwise counts this one.
    pub fn taken(mut self, limit: i64, now: i64) -> std::result::Result<Limit, u64> {
        if self.quota_count == 0 || now - self.quota_start >= QUOTA_WINDOW_SECS {
            (self.quota_start, self.quota_count) = (now, 0);
        }
        if self.quota_count >= limit {
            return Err((self.quota_start + QUOTA_WINDOW_SECS - now).max(1) as u64);
        }
        self.quota_count += 1;
        Ok(self.with_forget_at())
    }

    fn with_forget_at(mut self) -> Limit {
        let failures_matter_until = if self.failures > 0 { (self.last_failure + FORGET_AFTER_SECS).max(self.blocked_until) } else { 0 };
        let quota_matters_until = if self.quota_count > 0 { self.quota_start + QUOTA_WINDOW_SECS } else { 0 };
        self.forget_at = failures_matter_until.max(quota_matters_until);
        self
    }
}

fn limit_record(ctx: &Ctx, key: &str) -> RecordId {
    record("attempt_limit", &ctx.crypto.keyed_index("attempt-limit", key))
}

fn too_many(retry_after_secs: u64) -> crate::error::Error {
    AppError::TooManyAttempts { retry_after_secs }.into()
}

async fn load(client: &crate::db::Client, id: &RecordId) -> surrealdb::Result<Limit> {
    let found: Option<Limit> = client
        .query("SELECT failures, last_failure, blocked_until, quota_start, quota_count, forget_at FROM ONLY $id")
        .bind(("id", id.clone()))
        .await?
        .take(0)?;
    Ok(found.unwrap_or_default())
}

/// Refuses while any of `keys` is blocked.
pub async fn check(ctx: &Ctx, keys: &[&str]) -> Result<()> {
    let now = ctx.now();
    for key in keys {
        load(ctx.db.client(), &limit_record(ctx, key)).await?.blocked(now).map_err(too_many)?;
    }
    Ok(())
}

/// Reads, changes and writes a key's limit in one transaction, again after
/// a conflict with another instance. Err(seconds) is `change`'s refusal.
async fn update(ctx: &Ctx, key: &str, change: impl Fn(Limit) -> std::result::Result<Limit, u64>) -> Result<std::result::Result<(), u64>> {
    let id = limit_record(ctx, key);
    let client = ctx.db.client();
    let outcome = retry_on_conflict("attempt limit", || async {
        let tx = client.begin().await?;
        let verdict = match load(&tx, &id).await {
            Ok(current) => change(current),
            Err(e) => {
                tx.cancel().await;
                return Err(e);
            }
        };
        let Ok(next) = verdict else {
            tx.cancel().await;
            return Ok(verdict.map(drop));
        };
        let written = tx.query("UPSERT $id CONTENT $limit").bind(("id", id.clone())).bind(("limit", next)).await.and_then(|r| r.check()).map(drop);
        tx.finish(written).await.map(|()| Ok(()))
    })
    .await?;
    Ok(outcome)
}

pub async fn record_failure(ctx: &Ctx, key: &str) -> Result<()> {
    let now = ctx.now();
    update(ctx, key, |limit| Ok(limit.after_failure(now))).await?.map_err(too_many)
}

/// Counts one request against `key`'s hourly `limit`, or refuses it.
pub async fn take(ctx: &Ctx, key: &str, limit: i64) -> Result<()> {
    let now = ctx.now();
    update(ctx, key, |current| current.taken(limit, now)).await?.map_err(too_many)
}

pub async fn reset(ctx: &Ctx, key: &str) -> Result<()> {
    ctx.db.client().query("DELETE $id").bind(("id", limit_record(ctx, key))).await?.check()?;
    Ok(())
}

/// Deletes the limits nothing depends on any more; returns how many.
pub async fn purge_expired(ctx: &Ctx) -> Result<usize> {
    let mut purged = 0;
    loop {
        let ids: Vec<RecordId> = ctx.db.client().query(EXPIRED_LIMITS).bind(("now", ctx.now())).await?.take(0)?;
        if ids.is_empty() {
            return Ok(purged);
        }
        purged += ids.len();
        retry_on_conflict("attempt limit purge", || async { ctx.db.client().query("DELETE $ids").bind(("ids", ids.clone())).await?.check().map(drop) }).await?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_failures_are_free_then_delays_grow() {
        let mut limit = Limit::default();
        for _ in 0..FREE_FAILURES - 1 {
            limit = limit.after_failure(1000);
            assert_eq!(limit.blocked(1000), Ok(()));
        }
        limit = limit.after_failure(1000);
        assert_eq!(limit.blocked(1000), Err(2));
        assert_eq!(limit.blocked(1002), Ok(()));
        limit = limit.after_failure(1002);
        assert_eq!(limit.blocked(1002), Err(4));
        for _ in 0..30 {
            limit = limit.after_failure(2000);
        }
        assert_eq!(limit.blocked(2000), Err(900), "capped at 15 minutes");
        assert_eq!(limit.after_failure(2000 + FORGET_AFTER_SECS).failures, 1, "a day later, the count starts again");
    }

    #[test]
    fn a_quota_allows_its_limit_per_hour_then_says_when_the_hour_ends() {
        let mut limit = Limit::default();
        for _ in 0..3 {
            limit = limit.taken(3, 1000).expect("within the quota");
        }
        assert_eq!(limit.taken(3, 1000), Err(3600));
        assert_eq!(limit.taken(3, 4000), Err(600), "the hour began with the first request");
        assert!(limit.taken(3, 4600).is_ok(), "a new hour");
    }

    #[test]
    fn a_limit_is_forgotten_only_once_nothing_in_it_matters() {
        let failed = Limit::default().after_failure(1000);
        assert_eq!(failed.forget_at, 1000 + FORGET_AFTER_SECS);
        let asked = Limit::default().taken(3, 5000).unwrap();
        assert_eq!(asked.forget_at, 5000 + QUOTA_WINDOW_SECS);
    }
}
