//! Why a start failed. Each message is one sentence for the operator.

use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("the data folder {path} cannot be written ({source})")]
    DataDirNotWritable { path: PathBuf, source: std::io::Error },

    #[error("the data folder {path} is already in use by another Chat FB Top process; stop it or choose another --data-dir")]
    DataDirLocked { path: PathBuf },

    #[error("unsupported database address {0:?}; use mem://, rocksdb://PATH, ws://HOST:PORT or wss://HOST:PORT")]
    InvalidDbAddress(String),

    #[error("--db-user and --db-password go together: give both (the password through CHATFBTOP_DB_PASSWORD)")]
    IncompleteDbCredentials,

    #[error("{} holds a SurrealKV database from an earlier release, which this release no longer serves; stop the server and convert it once with `server db copy --from surrealkv://{} --to rocksdb://{}`, then start again", found.display(), found.display(), target.as_deref().unwrap_or(&found.with_extension("rocksdb")).display())]
    LegacyDatabase { found: PathBuf, target: Option<PathBuf> },

    #[error("{0} holds files that are not a RocksDB database; give --db another folder")]
    NotADatabase(PathBuf),

    #[error("the {what} could not be opened ({reason})")]
    Database { what: String, reason: String },

    #[error("the database has schema version {found}, newer than the {supported} this binary supports; run a newer Chat FB Top")]
    SchemaTooNew { found: u32, supported: u32 },

    #[error("the TLS certificate or key at {path} could not be used ({reason})")]
    Tls { path: PathBuf, reason: String },

    #[error("cannot listen on {addr} ({source})")]
    Bind { addr: SocketAddr, source: std::io::Error },

    #[error("the encryption keys could not be loaded ({0})")]
    Keys(String),

    #[error("mail is misconfigured ({0})")]
    Mail(String),

    #[error("{0}")]
    Command(String),

    #[error("the server stopped unexpectedly ({0})")]
    Serve(std::io::Error),
}
