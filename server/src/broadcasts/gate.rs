//! Stops a disabled account's sends at once, and pauses its campaigns.
//! Every call to the Send API (a
//! campaign message, a reply, a keyword confirmation) holds a read guard
//! while it checks the account and talks to Facebook; disabling takes the
//! write guard, so it returns only once no send is in the air, and no send
//! of that account starts after. The set is this instance's: another
//! instance stops at its next batch, when it finds the campaign paused.

use crate::context::Ctx;
use crate::db::ids::account_record;
use crate::messenger::Result;

/// A statement with a WHERE on an indexed field (checked by `index_use`).
pub(crate) const ACCOUNT_CAMPAIGNS: &str = "SELECT VALUE id FROM campaign WHERE account = $account";

/// An administrator disabled the account: no send of it starts from now on,
/// and its running or scheduled campaigns are paused (its owner resumes
/// them, once the account is enabled again).
pub async fn stop_account(ctx: &Ctx, account_id: &str) -> Result<()> {
    ctx.send_gate.close(account_id).await;
    let campaigns: Vec<surrealdb::types::RecordId> = ctx.db.client().query(ACCOUNT_CAMPAIGNS).bind(("account", account_record(account_id))).await?.take(0)?;
    ctx.db
        .client()
        .query("UPDATE $ids SET state = 'paused', pause_reason = 'Paused: an administrator disabled the account.' WHERE state IN ['sending', 'scheduled']")
        .bind(("ids", campaigns))
        .await?
        .check()?;
    Ok(())
}

/// Enabled again: it may send (its paused campaigns stay paused).
pub async fn allow_account(ctx: &Ctx, account_id: &str) {
    ctx.send_gate.open(account_id).await;
}
