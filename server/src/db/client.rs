//! One query surface over the two kinds of SDK handle: the embedded RocksDB
//! engine (opened by us, so that its memory budget reaches it) and the `any`
//! engine (memory, remote servers, and old SurrealKV folders for `db copy`).

use std::borrow::Cow;
use std::future::{Future, IntoFuture};
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;

use surrealdb::engine::any::Any;
use surrealdb::engine::local::Db;
use surrealdb::method::{IntoVariables, Transaction};
use surrealdb::{Connection, IndexedResults, Surreal};

/// Clones share one session: cloning a `Surreal` opens a new one, which a
/// SurrealDB server sets up by replaying the sign-in, an Argon2 verification
/// on its side (62% of its CPU in the two-instance benchmark, with a clone
/// per request and per transaction).
#[derive(Clone)]
pub enum Client {
    Embedded(Arc<Sessions<Db>>),
    Any(Arc<Sessions<Any>>),
    /// Every query runs in one transaction until it is committed; the
    /// session goes back to `Sessions` when it ends.
    EmbeddedTx(Arc<Transaction<Db>>, Arc<Sessions<Db>>),
    AnyTx(Arc<Transaction<Any>>, Arc<Sessions<Any>>),
}

/// The shared session, and sessions that transactions ran on, kept for the next ones.
pub struct Sessions<C: Connection> {
    main: Surreal<C>,
    spare: std::sync::Mutex<Vec<Surreal<C>>>,
}

/// Sessions kept for transactions; more run at once only in bursts.
const SPARE_SESSIONS: usize = 16;

impl<C: Connection> Sessions<C> {
    pub fn new(main: Surreal<C>) -> Arc<Self> {
        Arc::new(Sessions { main, spare: std::sync::Mutex::new(Vec::new()) })
    }

    /// A session of its own for a transaction (the SDK's `begin` takes one).
    fn take(&self) -> Surreal<C> {
        self.spare.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).pop().unwrap_or_else(|| self.main.clone())
    }

    fn give_back(&self, session: Surreal<C>) {
        let mut spare = self.spare.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if spare.len() < SPARE_SESSIONS {
            spare.push(session);
        }
    }

    /// Sessions kept for the next transactions.
    #[cfg(test)]
    pub fn spare_count(&self) -> usize {
        self.spare.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).len()
    }
}

/// A query being built; awaiting it runs it.
pub enum Query<'r> {
    Embedded(surrealdb::method::Query<'r, Db>),
    Any(surrealdb::method::Query<'r, Any>),
}

impl Client {
    pub fn query<'r>(&'r self, sql: impl Into<Cow<'r, str>>) -> Query<'r> {
        match self {
            Client::Embedded(db) => Query::Embedded(db.main.query(sql)),
            Client::Any(db) => Query::Any(db.main.query(sql)),
            Client::EmbeddedTx(tx, _) => Query::Embedded(tx.query(sql)),
            Client::AnyTx(tx, _) => Query::Any(tx.query(sql)),
        }
    }

    /// A client whose queries all run in one new transaction.
    pub async fn begin(&self) -> surrealdb::Result<Client> {
        match self {
            Client::Embedded(db) => Ok(Client::EmbeddedTx(Arc::new(db.take().begin().await?), db.clone())),
            Client::Any(db) => Ok(Client::AnyTx(Arc::new(db.take().begin().await?), db.clone())),
            Client::EmbeddedTx(..) | Client::AnyTx(..) => Err(not_a_session("a transaction cannot be nested")),
        }
    }

    /// Commits a client from `begin`; its clones must be gone by then.
    pub async fn commit(self) -> surrealdb::Result<()> {
        let still_used = || not_a_session("the transaction is still in use");
        match self {
            Client::EmbeddedTx(tx, db) => Arc::try_unwrap(tx).map_err(|_| still_used())?.commit().await.map(|session| db.give_back(session)),
            Client::AnyTx(tx, db) => Arc::try_unwrap(tx).map_err(|_| still_used())?.commit().await.map(|session| db.give_back(session)),
            Client::Embedded(_) | Client::Any(_) => Err(not_a_session("nothing to commit outside a transaction")),
        }
    }

    /// Commits a client from `begin` if its statements succeeded (`done`),
    /// and rolls it back if not.
    pub async fn finish(self, done: surrealdb::Result<()>) -> surrealdb::Result<()> {
        match done {
            Ok(()) => self.commit().await,
            Err(e) => {
                self.cancel().await;
                Err(e)
            }
        }
    }

    /// Rolls back a client from `begin` (dropping it without committing does too, later).
    pub async fn cancel(self) {
        let _ = match self {
            Client::EmbeddedTx(tx, db) => match Arc::try_unwrap(tx) {
                Ok(tx) => tx.cancel().await.map(|session| db.give_back(session)),
                Err(_) => Ok(()),
            },
            Client::AnyTx(tx, db) => match Arc::try_unwrap(tx) {
                Ok(tx) => tx.cancel().await.map(|session| db.give_back(session)),
                Err(_) => Ok(()),
            },
            Client::Embedded(_) | Client::Any(_) => Ok(()),
        };
    }

    pub async fn use_ns_db(&self, namespace: &str, database: &str) -> surrealdb::Result<()> {
        match self {
            Client::Embedded(db) => db.main.use_ns(namespace).use_db(database).await.map(drop),
            Client::Any(db) => db.main.use_ns(namespace).use_db(database).await.map(drop),
            Client::EmbeddedTx(..) | Client::AnyTx(..) => Err(not_a_session("a transaction keeps its namespace")),
        }
    }

    /// Writes the selected database (definitions and records) to a SurrealQL file.
    pub async fn export_to(&self, file: PathBuf) -> surrealdb::Result<()> {
        match self {
            Client::Embedded(db) => db.main.export(file).await,
            Client::Any(db) => db.main.export(file).await,
            Client::EmbeddedTx(..) | Client::AnyTx(..) => Err(not_a_session("export runs outside a transaction")),
        }
    }

    /// Runs a SurrealQL file written by `export_to` (it starts with `OPTION IMPORT`).
    pub async fn import_from(&self, file: PathBuf) -> surrealdb::Result<()> {
        match self {
            Client::Embedded(db) => db.main.import(file).await,
            // The SDK imports files over HTTP only; over WebSocket the file runs
            // as one query. It is read whole, so the machine needs its size in memory.
            Client::Any(db) => {
                let text = tokio::fs::read_to_string(&file).await.map_err(|e| surrealdb::Error::internal(format!("the export could not be read: {e}")))?;
                db.main.query(text).await?.check().map(drop)
            }
            Client::EmbeddedTx(..) | Client::AnyTx(..) => Err(not_a_session("import runs outside a transaction")),
        }
    }
}

fn not_a_session(why: &str) -> surrealdb::Error {
    surrealdb::Error::internal(why.to_string())
}

impl<'r> Query<'r> {
    pub fn bind(self, vars: impl IntoVariables) -> Self {
        match self {
            Query::Embedded(q) => Query::Embedded(q.bind(vars)),
            Query::Any(q) => Query::Any(q.bind(vars)),
        }
    }

    /// Appends another statement to the same request.
    pub fn query(self, sql: impl Into<Cow<'r, str>>) -> Self {
        match self {
            Query::Embedded(q) => Query::Embedded(q.query(sql)),
            Query::Any(q) => Query::Any(q.query(sql)),
        }
    }
}

impl<'r> IntoFuture for Query<'r> {
    type Output = surrealdb::Result<IndexedResults>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send + 'r>>;

    fn into_future(self) -> Self::IntoFuture {
        match self {
            Query::Embedded(q) => Box::pin(q.into_future()),
            Query::Any(q) => Box::pin(q.into_future()),
        }
    }
}
