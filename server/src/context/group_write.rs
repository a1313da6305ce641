//! A group commit: rows that arrive while a write is under way go together
//! into the next one, so many callers share one transaction and one sync.
//! Each caller returns only once its own row is stored.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use surrealdb::types::Value;
use tokio::sync::oneshot;

type Outcome = Result<(), String>;

/// Rows waiting for the next group write, each with its waiter.
#[derive(Default)]
pub struct GroupWrite {
    arriving: Mutex<Vec<(Value, oneshot::Sender<Outcome>)>>,
    /// Held by the caller that writes the waiting rows as one group.
    storing: tokio::sync::Mutex<()>,
    /// Group writes made since the start (each one transaction, synced once).
    groups_stored: Arc<AtomicU64>,
}

impl GroupWrite {
    /// Stores `row` with whatever else is waiting, through `store`, which
    /// writes all the rows it is given in one transaction.
    pub async fn write<Store, Written>(&self, row: Value, store: Store) -> Outcome
    where
        Store: FnOnce(Vec<Value>) -> Written,
        Written: Future<Output = Outcome> + Send + 'static,
    {
        let (stored, outcome) = oneshot::channel();
        self.arriving().push((row, stored));
        {
            let _storing = self.storing.lock().await;
            let group = std::mem::take(&mut *self.arriving());
            if !group.is_empty() {
                let (rows, waiters): (Vec<Value>, Vec<_>) = group.into_iter().unzip();
                let written = store(rows);
                let groups_stored = self.groups_stored.clone();
                // On its own task: a caller that goes away (its client hung
                // up) must not cancel the others' write halfway.
                let write = tokio::spawn(async move {
                    let outcome = written.await;
                    if outcome.is_ok() {
                        groups_stored.fetch_add(1, Ordering::Relaxed);
                    }
                    for waiter in waiters {
                        // A waiter that went away has nobody to tell.
                        let _ = waiter.send(outcome.clone());
                    }
                });
                let _ = write.await;
            }
        }
        outcome.await.unwrap_or_else(|_| Err("the group write stopped before it finished".into()))
    }

    pub fn groups_stored(&self) -> u64 {
        self.groups_stored.load(Ordering::Relaxed)
    }

    fn arriving(&self) -> MutexGuard<'_, Vec<(Value, oneshot::Sender<Outcome>)>> {
        // Each change is one push or one take, so a panic elsewhere leaves the list whole.
        self.arriving.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
