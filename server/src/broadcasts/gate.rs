//! Stops a disabled account's sends at once, and pauses its campaigns.
//! Every call to the Send API (a
//! campaign message, a reply, a keyword confirmation) holds a read guard
//! while it checks the account and talks to Facebook; disabling takes the
//! write guard, so it returns only once no send is in the air, and no send
//! of that account starts after. The set is this instance's: another
//! instance stops at its next batch, when it finds the campaign paused.
//!
//! A paused campaign stays paused when the account is enabled again: its
//! owner resumes it (or cancels it). The scheduler pauses too, before it
//! starts due campaigns (`pause_disabled`): a campaign of a disabled account
//! never starts, however the account came to be disabled (while its owner
//! was scheduling, before this instance started and its guard was empty,
//! or before an upgrade that paused nothing).

use surrealdb::types::RecordId;

use crate::context::Ctx;
use crate::db::ids::account_record;
use crate::messenger::Result;

/// A statement with a WHERE on an indexed field (checked by `index_use`).
pub(crate) const ACCOUNT_CAMPAIGNS: &str = "SELECT VALUE id FROM campaign WHERE account = $account";
/// Running or scheduled campaigns of disabled accounts (by the `state` index; few campaigns are in these states).
const DISABLED_ACCOUNTS_CAMPAIGNS: &str = "SELECT VALUE id FROM campaign WHERE state IN ['sending', 'scheduled'] AND account.disabled = true";
const PAUSE: &str = "UPDATE $ids SET state = 'paused', pause_reason = 'Paused: an administrator disabled the account.' WHERE state IN ['sending', 'scheduled']";

/// An administrator disabled the account: no send of it starts from now on,
/// and its running or scheduled campaigns are paused (its owner resumes
/// them, once the account is enabled again).
pub async fn stop_account(ctx: &Ctx, account_id: &str) -> Result<()> {
    ctx.send_gate.close(account_id).await;
    let campaigns: Vec<RecordId> = ctx.db.client().query(ACCOUNT_CAMPAIGNS).bind(("account", account_record(account_id))).await?.take(0)?;
    pause(ctx, campaigns).await
}

/// Enabled again: it may send (its paused campaigns stay paused).
pub async fn allow_account(ctx: &Ctx, account_id: &str) {
    ctx.send_gate.open(account_id).await;
}

/// The scheduler's pass, before it starts due campaigns: any running or
/// scheduled campaign of a disabled account is paused, as disabling does.
pub async fn pause_disabled(ctx: &Ctx) -> Result<()> {
    let campaigns: Vec<RecordId> = ctx.db.client().query(DISABLED_ACCOUNTS_CAMPAIGNS).await?.take(0)?;
    if campaigns.is_empty() {
        return Ok(());
    }
    let paused = campaigns.len();
    pause(ctx, campaigns).await?;
    tracing::info!(paused, "campaigns of disabled accounts paused by the scheduler");
    Ok(())
}

/// The sender and the scheduler write these campaigns too: a conflict runs the pause again.
async fn pause(ctx: &Ctx, campaigns: Vec<RecordId>) -> Result<()> {
    crate::db::retry_on_conflict("pause an account's campaigns", || async { ctx.db.client().query(PAUSE).bind(("ids", campaigns.clone())).await?.check() })
        .await?;
    Ok(())
}
