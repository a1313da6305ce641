//! Why a start failed. Each message is one sentence for the operator.

use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("the data folder {path} cannot be written ({source})")]
    DataDirNotWritable { path: PathBuf, source: std::io::Error },

    #[error("the data folder {path} is already in use by another Chat FB Top process; stop it or choose another --data-dir")]
    DataDirLocked { path: PathBuf },

    #[error("unsupported database address {0:?}; use mem://, surrealkv://PATH, ws://HOST:PORT or wss://HOST:PORT")]
    InvalidDbAddress(String),

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
