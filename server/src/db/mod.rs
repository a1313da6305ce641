//! The database handle: one `Surreal<Any>`, so the same code runs on the
//! embedded engines (SurrealKV, memory) and on a remote server.

mod schema;

use std::time::Duration;

use surrealdb::engine::any::Any;
use surrealdb::opt::auth::Root;
use surrealdb::Surreal;

use crate::config::DbAddress;
use crate::error::StartupError;

pub use schema::SCHEMA_VERSION;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
const CLOSE_TIMEOUT: Duration = Duration::from_secs(15);

#[derive(Clone)]
pub struct Database {
    inner: Surreal<Any>,
    address: DbAddress,
}

pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl Database {
    /// Opens the database, selects the namespace and applies the schema.
    pub async fn open(
        address: &DbAddress,
        namespace: &str,
        database: &str,
        credentials: Option<Credentials>,
    ) -> Result<Self, StartupError> {
        let fail = |reason: String| StartupError::Database { what: address.describe(), reason };
        let connect = async {
            let inner = surrealdb::engine::any::connect(address.endpoint())
                .await
                .map_err(|e| fail(e.to_string()))?;
            if let Some(c) = credentials {
                inner
                    .signin(Root { username: c.username, password: c.password })
                    .await
                    .map_err(|e| fail(format!("sign-in refused: {e}")))?;
            }
            inner.use_ns(namespace).use_db(database).await.map_err(|e| fail(e.to_string()))?;
            Ok::<_, StartupError>(inner)
        };
        let inner = tokio::time::timeout(CONNECT_TIMEOUT, connect)
            .await
            .map_err(|_| fail(format!("no answer within {} seconds", CONNECT_TIMEOUT.as_secs())))??;
        let db = Database { inner, address: address.clone() };
        schema::apply(&db.inner).await?;
        Ok(db)
    }

    /// The schema version recorded in the database; an error means it is unreachable.
    pub async fn health(&self) -> Result<u32, surrealdb::Error> {
        schema::recorded_version(&self.inner).await.map(|v| v.unwrap_or(0))
    }

    pub fn client(&self) -> &Surreal<Any> {
        &self.inner
    }

    /// Drops this handle and, for SurrealKV, waits until the engine has shut
    /// down and released its lock: SurrealDB closes the datastore in a
    /// background task once the last handle is gone, and a successor process
    /// must not open the files before that. Call after every other clone is dropped.
    pub async fn close(self) {
        let Database { inner, address } = self;
        drop(inner);
        let DbAddress::SurrealKv(path) = address else { return };
        let deadline = tokio::time::Instant::now() + CLOSE_TIMEOUT;
        loop {
            match std::fs::File::open(path.join("LOCK")).map(|f| f.try_lock().is_ok()) {
                Ok(true) | Err(_) => return,
                Ok(false) if tokio::time::Instant::now() >= deadline => {
                    tracing::warn!("the database did not release its lock within {} seconds", CLOSE_TIMEOUT.as_secs());
                    return;
                }
                Ok(false) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn memory() -> Database {
        Database::open(&DbAddress::Memory, "test", "test", None).await.expect("mem:// opens")
    }

    #[tokio::test]
    async fn fresh_database_gets_current_schema() {
        let db = memory().await;
        assert_eq!(db.health().await.unwrap(), SCHEMA_VERSION);
    }

    #[tokio::test]
    async fn schema_is_applied_idempotently() {
        let db = memory().await;
        schema::apply(db.client()).await.expect("second apply is a no-op");
        schema::apply(db.client()).await.expect("third apply is a no-op");
        assert_eq!(db.health().await.unwrap(), SCHEMA_VERSION);
        let count: Option<i64> = db
            .client()
            .query("RETURN count(SELECT * FROM schema_meta)")
            .await
            .unwrap()
            .take(0)
            .unwrap();
        assert_eq!(count, Some(1), "one schema-version record, not one per start");
    }

    #[tokio::test]
    async fn newer_schema_refuses_to_start() {
        let db = memory().await;
        db.client()
            .query("UPDATE schema_meta:current SET version = $v")
            .bind(("v", i64::from(SCHEMA_VERSION) + 5))
            .await
            .unwrap()
            .check()
            .unwrap();
        let err = schema::apply(db.client()).await.expect_err("must refuse");
        assert!(matches!(err, StartupError::SchemaTooNew { found, supported }
            if found == SCHEMA_VERSION + 5 && supported == SCHEMA_VERSION));
        assert!(err.to_string().contains("newer"), "{err}");
    }

    #[tokio::test]
    async fn unreachable_remote_fails_with_a_clear_error() {
        // A port nobody listens on: the remote engine must fail, not hang.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let address = DbAddress::parse(&format!("ws://127.0.0.1:{port}")).unwrap();
        let err = Database::open(&address, "t", "t", None).await.err().expect("must fail");
        let text = err.to_string();
        assert!(text.contains("remote SurrealDB at ws://127.0.0.1"), "{text}");
    }
}
