//! Stops a disabled account's sends at once, and pauses its campaigns.
//! Every call to the Send API (a
//! campaign message, a reply, a keyword confirmation) holds a read guard
//! while it checks the account and talks to Facebook; disabling takes the
//! write guard, so it returns only once no send is in the air, and no send
//! of that account starts after. The set is this instance's: another
//! instance stops at its next batch, when it finds the campaign paused.

use std::collections::HashSet;

use tokio::sync::{RwLock, RwLockReadGuard};

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

#[derive(Default)]
pub struct SendGate {
    closed: RwLock<HashSet<String>>,
}

/// Held for the length of one send.
pub struct Open<'a> {
    _guard: RwLockReadGuard<'a, HashSet<String>>,
}

impl SendGate {
    /// Leave to send for the account, or None if it is disabled.
    pub async fn enter(&self, account_id: &str) -> Option<Open<'_>> {
        let guard = self.closed.read().await;
        (!guard.contains(account_id)).then_some(Open { _guard: guard })
    }

    /// Returns once no send is in the air; none of the account's starts after.
    pub async fn close(&self, account_id: &str) {
        self.closed.write().await.insert(account_id.to_string());
    }

    pub async fn open(&self, account_id: &str) {
        self.closed.write().await.remove(account_id);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::SendGate;

    #[tokio::test]
    async fn closing_waits_for_the_send_in_the_air_and_then_lets_none_of_the_account_start() {
        let gate = Arc::new(SendGate::default());
        let open = gate.enter("a").await.expect("open at first");
        let closing = tokio::spawn({
            let gate = gate.clone();
            async move { gate.close("a").await }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!closing.is_finished(), "a send is in the air");
        drop(open);
        closing.await.unwrap();
        assert!(gate.enter("a").await.is_none(), "closed for the account");
        assert!(gate.enter("b").await.is_some(), "other accounts still send");
        gate.open("a").await;
        assert!(gate.enter("a").await.is_some());
    }
}
