//! Scheduled jobs: retention purges.

use std::time::Duration;

use crate::context::Ctx;

const RETENTION_EVERY: Duration = Duration::from_secs(3600);

/// Purges expired history, sessions and tokens at start and then hourly.
pub async fn run_retention(ctx: Ctx, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    // Exports still running from before this start were cut off by a crash or restart.
    let mut interrupted_before = Some(ctx.now());
    loop {
        purge_once(&ctx, interrupted_before.take()).await;
        tokio::select! {
            _ = shutdown.changed() => return,
            _ = tokio::time::sleep(RETENTION_EVERY) => {}
        }
    }
}

/// One retention pass: sign-in history, dead sessions and tokens, expired exports.
pub async fn purge_once(ctx: &Ctx, interrupted_before: Option<i64>) {
    if let Err(e) = crate::accounts::purge_expired(ctx).await {
        tracing::error!(error = %e, "retention purge failed");
    }
    if let Err(e) = crate::privacy::export::purge_expired(ctx, interrupted_before).await {
        tracing::error!(error = %e, "export purge failed");
    }
}
