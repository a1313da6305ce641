//! The database handle. Embedded RocksDB is opened by us (so that its
//! memory budget reaches it); memory and remote servers go through the SDK's
//! `any` engine. Everything else sees one `Client`.

mod client;
mod conflict;
pub mod copy;
pub mod data_upgrade;
mod embedded;
#[cfg(test)]
mod engine_patch;
pub mod ids;
pub mod layout;
mod schema;

use std::sync::Arc;
use std::time::Duration;

use surrealdb::opt::auth::Root;
use surrealdb_engine_local::Datastore;

use crate::config::{DbAddress, EngineOptions, Secrets};
use crate::error::StartupError;

pub use client::{Client, Query};
pub use conflict::{is_conflict, retry_on_conflict, CONFLICT_ATTEMPTS};
pub use embedded::engine_config;
pub use schema::SCHEMA_VERSION;

const CLOSE_TIMEOUT: Duration = Duration::from_secs(15);
/// How often a slow open (crash recovery) says it is still working.
const OPEN_PROGRESS_EVERY: Duration = Duration::from_secs(10);

#[derive(Clone)]
pub struct Database {
    inner: Client,
    /// The embedded engine, held so that `close` can wait for it to let go of its files.
    datastore: Option<Arc<Datastore>>,
}

#[derive(Clone)]
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
        options: &EngineOptions,
    ) -> Result<Self, StartupError> {
        let db = Self::connect(address, namespace, database, credentials, options).await?;
        schema::apply(&db.inner).await?;
        Ok(db)
    }

    /// Opens the database and selects the namespace, without touching the schema.
    pub async fn connect(
        address: &DbAddress,
        namespace: &str,
        database: &str,
        credentials: Option<Credentials>,
        options: &EngineOptions,
    ) -> Result<Self, StartupError> {
        check_folder(address)?;
        let secrets = secrets_of(address, credentials.as_ref());
        let fail = |reason: String| open_failed(address, &secrets, &reason);
        let opening = tokio::task::spawn_blocking({
            let (address, options, runtime) = (address.clone(), *options, tokio::runtime::Handle::current());
            move || runtime.block_on(connect_engine(&address, credentials, &options))
        });
        let db = wait_for_open(address, opening, options.open_timeout).await?.map_err(fail)?;
        db.inner.use_ns_db(namespace, database).await.map_err(|e| fail(e.to_string()))?;
        Ok(db)
    }

    /// The schema version recorded in the database; an error means it is unreachable.
    pub async fn health(&self) -> Result<u32, surrealdb::Error> {
        schema::recorded_version(&self.inner).await.map(|v| v.unwrap_or(0))
    }

    pub fn client(&self) -> &Client {
        &self.inner
    }

    /// A handle whose queries all run in one transaction until `commit`:
    /// one durable write for many statements, and all or nothing.
    pub async fn begin(&self) -> Result<Database, surrealdb::Error> {
        Ok(Database { inner: self.inner.begin().await?, datastore: None })
    }

    /// Commits a handle from `begin`; every clone of it must be dropped first.
    pub async fn commit(self) -> Result<(), surrealdb::Error> {
        self.inner.commit().await
    }

    pub async fn cancel(self) {
        self.inner.cancel().await
    }

    /// Drops this handle and, for the embedded engine, waits until it has shut
    /// down and closed its files: the SDK shuts the datastore down in a
    /// background task once the last handle is gone, and a successor (a
    /// restart in this process, or another process) must not open the folder
    /// before that. Call after every other clone is dropped.
    pub async fn close(self) {
        let Database { inner, datastore } = self;
        drop(inner);
        let Some(datastore) = datastore else { return };
        let deadline = tokio::time::Instant::now() + CLOSE_TIMEOUT;
        while Arc::strong_count(&datastore) > 1 {
            if tokio::time::Instant::now() >= deadline {
                tracing::warn!("the database engine did not shut down within {} seconds", CLOSE_TIMEOUT.as_secs());
                let _ = datastore.shutdown().await;
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // The last reference: RocksDB closes here and releases its lock.
        tokio::task::spawn_blocking(move || drop(datastore)).await.ok();
    }
}

/// Every form of the credentials an engine's message may repeat: the
/// address's own, and the password given apart (`--db-password`).
pub(crate) fn secrets_of(address: &DbAddress, credentials: Option<&Credentials>) -> Secrets {
    match credentials {
        Some(c) => address.secrets().with_password(&c.password),
        None => address.secrets(),
    }
}

/// The database could not be opened: the engine's reason, with the credentials withheld.
fn open_failed(address: &DbAddress, secrets: &Secrets, reason: &str) -> StartupError {
    StartupError::Database { what: address.describe(), reason: secrets.redact(reason) }
}

/// Refuses a folder written by the other engine before either engine opens it.
fn check_folder(address: &DbAddress) -> Result<(), StartupError> {
    use layout::FolderEngine;
    match address {
        DbAddress::RocksDb(path) => match layout::detect(path) {
            FolderEngine::Empty | FolderEngine::RocksDb => Ok(()),
            FolderEngine::SurrealKv => Err(StartupError::LegacyDatabase { found: path.clone(), target: None }),
            FolderEngine::Unknown => Err(StartupError::NotADatabase(path.clone())),
        },
        DbAddress::SurrealKv(path) => match layout::detect(path) {
            FolderEngine::SurrealKv => Ok(()),
            FolderEngine::Empty => Err(StartupError::Database { what: address.describe(), reason: "there is no SurrealKV database in that folder".into() }),
            FolderEngine::RocksDb | FolderEngine::Unknown => Err(StartupError::NotADatabase(path.clone())),
        },
        DbAddress::Memory | DbAddress::Remote(_) => Ok(()),
    }
}

async fn connect_engine(address: &DbAddress, credentials: Option<Credentials>, options: &EngineOptions) -> Result<Database, String> {
    if let DbAddress::RocksDb(path) = address {
        let (client, datastore) = embedded::open_rocksdb(path, options).await?;
        return Ok(Database { inner: Client::Embedded(client::Sessions::new(client)), datastore: Some(datastore) });
    }
    let client = surrealdb::engine::any::connect(address.endpoint()).await.map_err(|e| e.to_string())?;
    if let Some(c) = credentials {
        client.signin(Root { username: c.username, password: c.password }).await.map_err(|e| format!("sign-in refused: {e}"))?;
    }
    Ok(Database { inner: Client::Any(client::Sessions::new(client)), datastore: None })
}

/// Waits for the engine to open, logging while crash recovery runs, up to the
/// configured limit (generous by default: a slow recovery is not a failure).
async fn wait_for_open(
    address: &DbAddress,
    mut opening: tokio::task::JoinHandle<Result<Database, String>>,
    limit: Duration,
) -> Result<Result<Database, String>, StartupError> {
    let started = tokio::time::Instant::now();
    loop {
        let tick = tokio::time::sleep(OPEN_PROGRESS_EVERY.min(limit.saturating_sub(started.elapsed())));
        tokio::select! {
            joined = &mut opening => {
                return Ok(joined.unwrap_or_else(|e| Err(format!("the engine stopped while opening ({e})"))));
            }
            _ = tick => {
                let waited = started.elapsed();
                if waited >= limit {
                    return Err(StartupError::Database {
                        what: address.describe(),
                        reason: format!("it did not open within {} seconds (--db-open-timeout-secs)", limit.as_secs()),
                    });
                }
                tracing::info!(database = %address.describe(), seconds = waited.as_secs(), "still opening the database (recovering after an unclean stop can take a while)");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn memory() -> Database {
        Database::open(&DbAddress::Memory, "test", "test", None, &EngineOptions::default()).await.expect("mem:// opens")
    }

    #[tokio::test]
    async fn clones_share_one_session_and_a_transactions_session_is_kept_for_the_next() {
        let db = memory().await;
        let Client::Any(sessions) = db.client().clone() else { panic!("mem:// runs on the any engine") };
        let clone = db.clone();
        assert!(matches!(clone.client(), Client::Any(s) if Arc::ptr_eq(s, &sessions)), "a clone opens no session of its own");
        for _ in 0..3 {
            let tx = db.begin().await.unwrap();
            let one: Option<i64> = tx.client().query("RETURN 1").await.unwrap().take(0).unwrap();
            assert_eq!(one, Some(1));
            tx.commit().await.unwrap();
        }
        assert_eq!(sessions.spare_count(), 1, "three transactions in turn ran on one session of their own");
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
        let count: Option<i64> = db.client().query("RETURN count(SELECT * FROM schema_meta)").await.unwrap().take(0).unwrap();
        assert_eq!(count, Some(1), "one schema-version record, not one per start");
    }

    #[tokio::test]
    async fn newer_schema_refuses_to_start() {
        let db = memory().await;
        db.client().query("UPDATE schema_meta:current SET version = $v").bind(("v", i64::from(SCHEMA_VERSION) + 5)).await.unwrap().check().unwrap();
        let err = schema::apply(db.client()).await.expect_err("must refuse");
        assert!(matches!(err, StartupError::SchemaTooNew { found, supported }
            if found == SCHEMA_VERSION + 5 && supported == SCHEMA_VERSION));
        assert!(err.to_string().contains("newer"), "{err}");
    }

    #[tokio::test]
    async fn rows_written_before_step_9_get_their_record_key_and_new_rows_get_it_from_the_engine() {
        let db = Database::connect(&DbAddress::Memory, "test", "test", None, &EngineOptions::default()).await.expect("mem:// opens");
        schema::apply_up_to(db.client(), 8).await.unwrap();
        let insert = "CREATE $id SET account = account:a, name = 'n', created_at = 0";
        db.client().query(insert).bind(("id", surrealdb::types::RecordId::new("label", "old"))).await.unwrap().check().unwrap();
        schema::apply(db.client()).await.unwrap();
        db.client().query(insert).bind(("id", surrealdb::types::RecordId::new("label", "new"))).await.unwrap().check().unwrap();
        let keys: Vec<String> = db.client().query("SELECT VALUE record_key FROM label ORDER BY record_key").await.unwrap().take(0).unwrap();
        assert_eq!(keys, ["new", "old"]);
    }

    /// Collects what the engine logs while it opens on this thread.
    #[derive(Clone, Default)]
    struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
        type Writer = Captured;
        fn make_writer(&'a self) -> Captured {
            self.clone()
        }
    }

    #[tokio::test]
    async fn the_memory_budget_and_synced_commits_reach_the_embedded_engine() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rocksdb");
        let options = EngineOptions { memory_bytes: 64 << 20, ..EngineOptions::default() };
        let captured = Captured::default();
        let subscriber = tracing_subscriber::fmt().with_writer(captured.clone()).with_ansi(false).with_max_level(tracing::Level::INFO).finish();
        // A current-thread runtime: the engine opens on this thread, under this subscriber.
        let (client, datastore) = {
            let _guard = tracing::subscriber::set_default(subscriber);
            embedded::open_rocksdb(&path, &options).await.expect("opens")
        };
        let said = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        for expected in [
            format!("block cache size: {}B", 48 << 20),
            format!("write buffer size: {}B", 8 << 20),
            "maximum write buffers: 2".to_string(),
            "Sync mode: every transaction commit".to_string(),
        ] {
            let lines: Vec<&str> = said.lines().filter(|l| l.contains("Memory manager") || l.contains("Sync mode")).collect();
            assert!(said.contains(&expected), "{expected:?} not among the engine's settings: {lines:#?}");
        }
        // RocksDB's own record of the options it runs with.
        let options_file = std::fs::read_dir(&path).unwrap().flatten().find(|e| e.file_name().to_string_lossy().starts_with("OPTIONS-"));
        let written = std::fs::read_to_string(options_file.expect("an OPTIONS file").path()).unwrap();
        assert!(written.contains(&format!("write_buffer_size={}", 8 << 20)) && written.contains("manual_wal_flush=true"));

        let db = Database { inner: Client::Embedded(client::Sessions::new(client)), datastore: Some(datastore) };
        db.close().await;
        let again = Database::open(&DbAddress::RocksDb(path), "t", "t", None, &options).await.expect("close released the folder");
        assert_eq!(again.health().await.unwrap(), SCHEMA_VERSION);
        again.close().await;
    }

    #[tokio::test]
    async fn an_open_that_outlasts_its_limit_fails_with_the_setting_named() {
        let never = tokio::spawn(std::future::pending::<Result<Database, String>>());
        let err = wait_for_open(&DbAddress::Memory, never, Duration::from_millis(50)).await.err().expect("times out");
        assert!(err.to_string().contains("--db-open-timeout-secs"), "{err}");
    }

    #[test]
    fn an_open_failure_withholds_the_address_credentials_and_the_password_in_every_form() {
        let address = DbAddress::parse("wss://root:s3cr%40t@db.example:443").unwrap();
        let credentials = Credentials { username: "root".into(), password: "hunter2!".into() };
        let secrets = secrets_of(&address, Some(&credentials));
        let engine_said = "connecting to wss://root:s3cr%40t@db.example:443 as root:s3cr@t failed; sign-in refused for password \"hunter2!\"";
        let text = open_failed(&address, &secrets, engine_said).to_string();
        for secret in ["s3cr", "hunter2"] {
            assert!(!text.contains(secret), "{secret} in: {text}");
        }
        assert!(text.contains("remote SurrealDB at wss://[credentials withheld]@db.example:443"), "{text}");
    }

    #[tokio::test]
    async fn unreachable_remote_fails_with_a_clear_error() {
        // A port nobody listens on: the remote engine must fail, not hang.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let address = DbAddress::parse(&format!("ws://admin:hunter2@127.0.0.1:{port}")).unwrap();
        let err = Database::open(&address, "t", "t", None, &EngineOptions::default()).await.err().expect("must fail");
        let text = err.to_string();
        assert!(text.contains("remote SurrealDB at ws://[credentials withheld]@127.0.0.1"), "{text}");
        assert!(!text.contains("hunter2"), "credentials never reach an error or a log: {text}");
    }
}
