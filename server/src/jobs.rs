//! Scheduled jobs: retention purges.

use std::time::Duration;

use crate::context::Ctx;

const RETENTION_EVERY: Duration = Duration::from_secs(3600);

/// Purges expired history, sessions and tokens at start and then hourly.
pub async fn run_retention(ctx: Ctx, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    loop {
        if let Err(e) = crate::accounts::purge_expired(&ctx).await {
            tracing::error!(error = %e, "retention purge failed");
        }
        tokio::select! {
            _ = shutdown.changed() => return,
            _ = tokio::time::sleep(RETENTION_EVERY) => {}
        }
    }
}
