//! Scheduled jobs: retention purges, on one instance at a time.

use std::time::Duration;

use crate::context::leases::{self, Job};
use crate::context::Ctx;

const RETENTION_EVERY: Duration = Duration::from_secs(3600);
/// Held across two passes, so the holder keeps it; a dead holder's runs out.
const RETENTION_LEASE_SECS: i64 = 2 * 3600 + 60;

/// Purges expired history, sessions and tokens at start and then hourly,
/// on whichever instance holds the retention lease.
pub async fn run_retention(ctx: Ctx, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    // This instance's exports still running from before this start were cut off by a crash or restart.
    if let Err(e) = crate::privacy::export::purge_expired(&ctx, Some(ctx.now())).await {
        tracing::error!(error = %e, "interrupted exports could not be marked failed");
    }
    loop {
        match leases::hold(&ctx, Job::Retention, RETENTION_LEASE_SECS).await {
            Ok(true) => purge_once(&ctx, None).await,
            Ok(false) => tracing::debug!("another instance runs the retention purges"),
            Err(e) => tracing::error!(error = %e, "the retention lease could not be read"),
        }
        tokio::select! {
            _ = shutdown.changed() => break,
            _ = tokio::time::sleep(RETENTION_EVERY) => {}
        }
    }
    if let Err(e) = leases::release(&ctx, Job::Retention).await {
        tracing::warn!(error = %e, "the retention lease was not given up; it runs out instead");
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
    match crate::context::attempts::purge_expired(ctx).await {
        Ok(limits) => tracing::debug!(limits, "expired attempt limits deleted"),
        Err(e) => tracing::error!(error = %e, "attempt limit purge failed"),
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
