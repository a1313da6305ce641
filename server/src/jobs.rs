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

/// One retention pass: sign-in history, dead sessions and tokens, expired
/// exports. What it deleted is recorded for the admin panel.
pub async fn purge_once(ctx: &Ctx, interrupted_before: Option<i64>) {
    let mut report = match crate::privacy::purge_expired(ctx).await {
        Ok(report) => report,
        Err(e) => {
            tracing::error!(error = %e, "retention purge failed");
            return;
        }
    };
    match crate::privacy::export::purge_expired(ctx, interrupted_before).await {
        Ok(exports) => report.exports = exports,
        Err(e) => tracing::error!(error = %e, "export purge failed"),
    }
    match crate::messenger::leads::purge_expired(ctx, &crate::broadcasts::DEPENDENTS).await {
        Ok((leads, messages)) => {
            report.leads = leads;
            report.messages = messages;
        }
        Err(e) => tracing::error!(error = %e, "lead and message purge failed"),
    }
    if let Err(e) = crate::policies::retention::record_purge(ctx, &report).await {
        tracing::error!(error = %e, "recording the purge failed");
    }
    tracing::info!(
        signins = report.signins,
        sessions = report.sessions,
        links = report.links,
        unverified_accounts = report.unverified_accounts,
        exports = report.exports,
        leads = report.leads,
        messages = report.messages,
        "retention purge"
    );
}
