//! The send gate's state: the accounts whose sends are stopped on this
//! instance (`broadcasts::gate` closes and opens it).

use std::collections::HashSet;

use tokio::sync::{RwLock, RwLockReadGuard};

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
