//! Command-line flags and environment variables. Every flag has a safe
//! default except secrets, which have none.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::error::StartupError;

mod redact;

pub use redact::{without_credentials, Secrets, WITHHELD};

#[derive(Debug, Parser)]
#[command(name = "server", version, about = "Chat FB Top: GDPR-first Messenger marketing, self-hosted")]
pub struct Cli {
    #[command(flatten)]
    pub serve: ServeConfig,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web server (the default when no command is given).
    Serve,
    /// Master-key operations.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Administrator accounts.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// The consent ledger.
    #[command(subcommand)]
    Consent(ConsentCommand),
    /// The database itself.
    #[command(subcommand)]
    Db(DbCommand),
    /// The terms of use and the privacy policy.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// The built frontend (--site-dir).
    #[command(subcommand)]
    Site(SiteCommand),
}

#[derive(Debug, Subcommand)]
pub enum SiteCommand {
    /// Write a brotli 11 and a gzip 9 copy beside each file worth compressing, which the
    /// server then sends as they are; prints the first load's size beside its budget.
    Precompress,
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Publish a new version: every user gets a mail and must accept it at next sign-in.
    /// The mails are queued in the database and sent by the running server.
    Publish {
        /// terms or privacy
        #[arg(long)]
        document: String,
        /// Title shown to users, e.g. "Privacy policy".
        #[arg(long)]
        title: String,
        /// File with the full text.
        #[arg(long)]
        body_file: PathBuf,
        /// What changed, in a few sentences (shown in the mail and at sign-in).
        #[arg(long, default_value = "")]
        summary: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConsentCommand {
    /// Check every account's hash chain; exits non-zero if an entry was edited or removed.
    Verify,
}

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Copy a whole installation's database to another address and verify the copy row
    /// for row: converts an old SurrealKV folder to RocksDB, or moves to a SurrealDB server.
    /// The target must be empty. Stop the server first when either side is embedded.
    Copy {
        /// Source address: rocksdb://PATH, surrealkv://PATH, ws:// or wss:// (credentials from --db-user).
        #[arg(long)]
        from: String,
        /// Target address: rocksdb://PATH, mem:// (a dry run), ws:// or wss://.
        #[arg(long)]
        to: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Generate a new master key and re-wrap every data key under it. Needs a key file
    /// (--master-key-file, or the generated DATA_DIR/master.key).
    Rotate,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create an admin with a one-time password, printed once; it must be changed at first sign-in.
    Create {
        /// The admin's email address.
        #[arg(long)]
        email: String,
    },
}

#[derive(Debug, Clone, Args)]
pub struct ServeConfig {
    /// Folder for the database, the generated TLS certificate and other state.
    #[arg(long, env = "CHATFBTOP_DATA_DIR", default_value = "data", global = true)]
    pub data_dir: PathBuf,

    /// Database address: rocksdb://PATH (embedded, the default is DATA_DIR/rocksdb),
    /// mem:// (in memory, for tests), or ws:// / wss:// for a remote SurrealDB.
    /// surrealkv://PATH is read only by `server db copy`, to convert an old data folder.
    // It may carry credentials (ws://user:password@…): --help never shows the environment's value.
    #[arg(long, env = "CHATFBTOP_DB", hide_env_values = true, global = true)]
    pub db: Option<String>,

    /// Memory for the embedded database engine, in MiB: its block cache and write buffers.
    #[arg(long, env = "CHATFBTOP_DB_MEMORY", default_value_t = 128, value_parser = clap::value_parser!(u64).range(16..=1_048_576), global = true)]
    pub db_memory: u64,

    /// Seconds the database may take to open, crash recovery included, before the start fails.
    #[arg(long, env = "CHATFBTOP_DB_OPEN_TIMEOUT_SECS", default_value_t = 3600, value_parser = clap::value_parser!(u64).range(1..), global = true)]
    pub db_open_timeout_secs: u64,

    /// SurrealDB namespace.
    #[arg(long, env = "CHATFBTOP_DB_NAMESPACE", default_value = "chatfbtop", global = true)]
    pub db_namespace: String,

    /// SurrealDB database name.
    #[arg(long, env = "CHATFBTOP_DB_DATABASE", default_value = "main", global = true)]
    pub db_database: String,

    /// Root user for a remote SurrealDB (ws:// or wss://).
    #[arg(long, env = "CHATFBTOP_DB_USER", global = true)]
    pub db_user: Option<String>,

    /// Password for --db-user. No default: give it through the environment.
    // Both or neither: checked when the database opens (clap's `requires`
    // misses a global flag given after a subcommand when the other comes from the environment).
    #[arg(long, env = "CHATFBTOP_DB_PASSWORD", hide_env_values = true, global = true)]
    pub db_password: Option<String>,

    /// Address to listen on.
    #[arg(long, env = "CHATFBTOP_BIND", default_value = "127.0.0.1", global = true)]
    pub bind: IpAddr,

    /// Port of the application listener (HTTPS; plain HTTP with --behind-proxy).
    #[arg(long, env = "CHATFBTOP_PORT", default_value_t = 8443, global = true)]
    pub port: u16,

    /// Port of the plain-HTTP listener, which only redirects to HTTPS.
    #[arg(long, env = "CHATFBTOP_HTTP_PORT", default_value_t = 8080, global = true)]
    pub http_port: u16,

    /// Do not open the plain-HTTP redirect listener.
    #[arg(long, env = "CHATFBTOP_NO_HTTP_REDIRECT", global = true)]
    pub no_http_redirect: bool,

    /// PEM certificate chain. Without it a self-signed certificate is generated into DATA_DIR/tls.
    #[arg(long, env = "CHATFBTOP_TLS_CERT", requires = "tls_key", global = true)]
    pub tls_cert: Option<PathBuf>,

    /// PEM private key for --tls-cert.
    #[arg(long, env = "CHATFBTOP_TLS_KEY", requires = "tls_cert", global = true)]
    pub tls_key: Option<PathBuf>,

    /// Run behind a TLS-terminating reverse proxy: serve plain HTTP on --port and
    /// trust X-Forwarded-Proto and X-Forwarded-For (never trusted otherwise).
    #[arg(long, env = "CHATFBTOP_BEHIND_PROXY", conflicts_with_all = ["tls_cert", "tls_key"], global = true)]
    pub behind_proxy: bool,

    /// Folder holding the built frontend (Trunk's dist).
    #[arg(long, env = "CHATFBTOP_SITE_DIR", default_value = "dist", global = true)]
    pub site_dir: PathBuf,

    /// File with the master key (base64, one per line, current first). Keep it on another volume.
    /// Without it or CHATFBTOP_MASTER_KEY, a key is generated into DATA_DIR/master.key.
    #[arg(long, env = "CHATFBTOP_MASTER_KEY_FILE", global = true)]
    pub master_key_file: Option<PathBuf>,

    /// The master key itself, base64 (prefer the environment over the command line).
    #[arg(long, env = "CHATFBTOP_MASTER_KEY", hide_env_values = true, global = true)]
    pub master_key: Option<String>,

    /// Where account data keys live: files in DATA_DIR/keys (deleting one shreds the account
    /// even in old database copies), or the database (needed for several instances).
    #[arg(long, env = "CHATFBTOP_KEY_STORE", value_enum, default_value = "files", global = true)]
    pub key_store: KeyStoreKind,

    /// SMTP server, e.g. smtp://user:pass@host:587?tls=required or smtps://user:pass@host.
    /// Without it, mail is written as .eml files into DATA_DIR/mail.
    #[arg(long, env = "CHATFBTOP_SMTP_URL", hide_env_values = true, global = true)]
    pub smtp_url: Option<String>,

    /// Sender of every mail.
    #[arg(long, env = "CHATFBTOP_MAIL_FROM", default_value = "Chat FB Top <no-reply@localhost>", global = true)]
    pub mail_from: String,

    /// Public base URL, for links in mails (default: https://localhost:PORT).
    #[arg(long, env = "CHATFBTOP_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,

    /// Days of sign-in history (time, IP, browser family) kept for security.
    #[arg(long, env = "CHATFBTOP_SIGNIN_HISTORY_DAYS", default_value_t = 30, value_parser = clap::value_parser!(i64).range(1..=3650), global = true)]
    pub signin_history_days: i64,

    /// Registrations and mails asked for (password reset, verification again)
    /// accepted from one IP address per hour; one address gets at most 5.
    /// Raise it when many users share an address (an office behind one NAT).
    #[arg(long, env = "CHATFBTOP_REQUESTS_PER_IP_PER_HOUR", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=100_000), global = true)]
    pub requests_per_ip_per_hour: u32,

    /// Hours a finished data export can be downloaded before its file is deleted.
    #[arg(long, env = "CHATFBTOP_EXPORT_TTL_HOURS", default_value_t = 48, value_parser = clap::value_parser!(i64).range(1..=720), global = true)]
    pub export_ttl_hours: i64,

    /// Folder for finished data exports (encrypted), DATA_DIR/exports by default.
    /// With several instances, one folder they all mount: any of them may serve the download.
    #[arg(long, env = "CHATFBTOP_EXPORTS_DIR", global = true)]
    pub exports_dir: Option<PathBuf>,

    /// Demo mode: Facebook is replaced by the built-in Graph API stand-in, whose
    /// demo Pages have simulated leads, so chat and broadcasts work offline.
    #[arg(long, env = "CHATFBTOP_DEMO", global = true)]
    pub demo: bool,

    /// Seconds that open requests get to finish on shutdown.
    #[arg(long, env = "CHATFBTOP_SHUTDOWN_GRACE_SECS", default_value_t = 10, global = true)]
    pub shutdown_grace_secs: u64,
}

impl ServeConfig {
    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_secs)
    }

    /// The database address, defaulting to RocksDB inside the data folder.
    pub fn db_address(&self, data_dir: &Path) -> Result<DbAddress, StartupError> {
        match &self.db {
            Some(raw) => DbAddress::parse(raw),
            None => Ok(DbAddress::RocksDb(data_dir.join(DEFAULT_DB_FOLDER))),
        }
    }

    /// How the embedded engine is sized and how long opening it may take.
    pub fn engine_options(&self) -> EngineOptions {
        EngineOptions { memory_bytes: self.db_memory * 1024 * 1024, open_timeout: Duration::from_secs(self.db_open_timeout_secs) }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum KeyStoreKind {
    Files,
    Database,
}

/// The embedded database's folder inside the data folder.
pub const DEFAULT_DB_FOLDER: &str = "rocksdb";
/// Where releases before RocksDB kept their SurrealKV database.
pub const LEGACY_DB_FOLDER: &str = "db";

/// Settings for the embedded engine; a remote server ignores the memory budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EngineOptions {
    pub memory_bytes: u64,
    pub open_timeout: Duration,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions { memory_bytes: 128 * 1024 * 1024, open_timeout: Duration::from_secs(3600) }
    }
}

/// Where the data lives. Parsed up front so a typo fails at start with one sentence.
#[derive(Clone, PartialEq, Eq)]
pub enum DbAddress {
    Memory,
    RocksDb(PathBuf),
    /// Earlier releases' engine: only ever read, by `server db copy`.
    SurrealKv(PathBuf),
    Remote(String),
}

impl DbAddress {
    pub fn parse(raw: &str) -> Result<Self, StartupError> {
        let raw = raw.trim();
        if raw == "mem://" || raw == "memory" {
            return Ok(DbAddress::Memory);
        }
        if let Some(path) = raw.strip_prefix("rocksdb://") {
            if path.is_empty() {
                return Err(StartupError::InvalidDbAddress(without_credentials(raw)));
            }
            return Ok(DbAddress::RocksDb(PathBuf::from(path)));
        }
        if let Some(path) = raw.strip_prefix("surrealkv://") {
            if path.is_empty() {
                return Err(StartupError::InvalidDbAddress(without_credentials(raw)));
            }
            return Ok(DbAddress::SurrealKv(PathBuf::from(path)));
        }
        if let Some(host) = raw.strip_prefix("ws://").or_else(|| raw.strip_prefix("wss://")) {
            if host.is_empty() || host.starts_with('/') {
                return Err(StartupError::InvalidDbAddress(without_credentials(raw)));
            }
            return Ok(DbAddress::Remote(raw.to_string()));
        }
        Err(StartupError::InvalidDbAddress(without_credentials(raw)))
    }

    /// The endpoint string SurrealDB's `any` engine understands.
    pub fn endpoint(&self) -> String {
        match self {
            DbAddress::Memory => "mem://".to_string(),
            DbAddress::RocksDb(path) => format!("rocksdb://{}", path.display()),
            DbAddress::SurrealKv(path) => format!("surrealkv://{}", path.display()),
            DbAddress::Remote(url) => url.clone(),
        }
    }

    /// Every form of this address's credentials, to withhold from what is logged or shown.
    pub fn secrets(&self) -> Secrets {
        match self {
            DbAddress::Remote(url) => Secrets::of_address(url),
            DbAddress::Memory | DbAddress::RocksDb(_) | DbAddress::SurrealKv(_) => Secrets::default(),
        }
    }

    /// `text` with this address's credentials (if it has any) withheld, in any form.
    pub fn redact(&self, text: &str) -> String {
        self.secrets().redact(text)
    }

    /// For logs and errors: never includes credentials.
    pub fn describe(&self) -> String {
        match self {
            DbAddress::Memory => "in-memory database".to_string(),
            DbAddress::RocksDb(path) => format!("RocksDB at {}", path.display()),
            DbAddress::SurrealKv(path) => format!("SurrealKV at {}", path.display()),
            DbAddress::Remote(url) => format!("remote SurrealDB at {}", without_credentials(url)),
        }
    }
}

// A debug dump of a configuration shows the address without its credentials.
impl std::fmt::Debug for DbAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DbAddress::Memory => write!(f, "Memory"),
            DbAddress::RocksDb(path) => f.debug_tuple("RocksDb").field(path).finish(),
            DbAddress::SurrealKv(path) => f.debug_tuple("SurrealKv").field(path).finish(),
            DbAddress::Remote(url) => f.debug_tuple("Remote").field(&without_credentials(url)).finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("server").chain(args.iter().copied()))
    }

    #[test]
    fn defaults_are_safe() {
        let cli = parse(&[]).expect("no flags is valid");
        let c = cli.serve;
        assert_eq!(c.bind.to_string(), "127.0.0.1", "listens on loopback only by default");
        assert_eq!(c.port, 8443);
        assert_eq!(c.http_port, 8080);
        assert!(!c.behind_proxy, "forwarded headers are not trusted by default");
        assert_eq!(c.data_dir, PathBuf::from("data"));
        assert!(c.db_password.is_none(), "secrets have no default");
        assert_eq!(c.db_address(Path::new("/srv/data")).unwrap(), DbAddress::RocksDb("/srv/data/rocksdb".into()));
        assert_eq!(c.engine_options().memory_bytes, 128 * 1024 * 1024, "fits a 1 GiB machine");
        assert!(c.engine_options().open_timeout >= Duration::from_secs(600), "crash recovery gets time");
    }

    #[test]
    fn db_addresses_parse() {
        assert_eq!(DbAddress::parse("mem://").unwrap(), DbAddress::Memory);
        assert_eq!(DbAddress::parse("rocksdb:///tmp/x").unwrap(), DbAddress::RocksDb("/tmp/x".into()));
        assert_eq!(DbAddress::parse("rocksdb:///tmp/x").unwrap().endpoint(), "rocksdb:///tmp/x");
        assert_eq!(DbAddress::parse("surrealkv:///tmp/x").unwrap(), DbAddress::SurrealKv("/tmp/x".into()));
        assert_eq!(DbAddress::parse("ws://db.internal:8000").unwrap(), DbAddress::Remote("ws://db.internal:8000".into()));
        assert_eq!(DbAddress::parse("wss://db.example:443").unwrap().endpoint(), "wss://db.example:443");
        let with_password = DbAddress::parse("wss://root:s3cr%40t@db.example:443/rpc").unwrap();
        assert_eq!(with_password.endpoint(), "wss://root:s3cr%40t@db.example:443/rpc", "SurrealDB still gets them");
        assert_eq!(with_password.describe(), "remote SurrealDB at wss://[credentials withheld]@db.example:443/rpc");
        let engine_said = "cannot connect to wss://root:s3cr%40t@db.example:443/rpc: refused";
        assert_eq!(with_password.redact(engine_said), "cannot connect to wss://[credentials withheld]@db.example:443/rpc: refused");
        assert!(!format!("{with_password:?}").contains("s3cr"), "a debug dump withholds them too");
        let refused = DbAddress::parse("postgres://admin:hunter2@db:5432").expect_err("not ours").to_string();
        assert!(!refused.contains("hunter2") && !refused.contains("admin:") && refused.contains("db:5432"), "{refused}");
        for bad in ["", "postgres://x", "surrealkv://", "rocksdb://", "ws://", "tikv://x", "http://db:8000"] {
            let err = DbAddress::parse(bad).expect_err(bad);
            assert!(err.to_string().contains("mem://"), "error names the accepted forms: {err}");
        }
    }

    #[test]
    fn tls_cert_and_key_go_together() {
        assert!(parse(&["--tls-cert", "c.pem"]).is_err());
        assert!(parse(&["--tls-key", "k.pem"]).is_err());
        let ok = parse(&["--tls-cert", "c.pem", "--tls-key", "k.pem"]).unwrap();
        assert_eq!(ok.serve.tls_cert.as_deref(), Some(Path::new("c.pem")));
    }

    #[test]
    fn proxy_mode_excludes_own_certificates() {
        assert!(parse(&["--behind-proxy", "--tls-cert", "c", "--tls-key", "k"]).is_err());
        assert!(parse(&["--behind-proxy"]).unwrap().serve.behind_proxy);
    }

    #[test]
    fn bad_values_are_refused() {
        assert!(parse(&["--port", "99999"]).is_err());
        assert!(parse(&["--bind", "not-an-ip"]).is_err());
        assert!(parse(&["--no-such-flag"]).is_err());
    }

    #[test]
    fn every_flag_that_can_carry_a_secret_hides_its_environment_value_from_help() {
        let command = Cli::command();
        for secret in ["db", "db_password", "master_key", "smtp_url"] {
            let arg = command.get_arguments().find(|a| a.get_id() == secret).unwrap_or_else(|| panic!("--{secret} exists"));
            assert!(arg.is_hide_env_values_set(), "--{secret} shows its environment value in --help");
        }
    }

    #[test]
    fn help_lists_every_flag_with_its_environment_variable() {
        let help = Cli::command().render_long_help().to_string();
        for arg in Cli::command().get_arguments() {
            let Some(long) = arg.get_long() else { continue };
            if matches!(long, "help" | "version") {
                continue;
            }
            assert!(help.contains(&format!("--{long}")), "--{long} missing from --help");
            let env = arg.get_env().unwrap_or_else(|| panic!("--{long} has no env var"));
            assert!(help.contains(env.to_str().unwrap()), "env of --{long} missing from --help");
        }
    }
}
