//! What every capability module works with: the database, the crypto facade,
//! the clock and the settings. Cheap to clone.

use std::sync::Arc;

use crate::clock::Clock;
use crate::crypto::Crypto;
use crate::db::Database;

#[derive(Clone, Debug)]
pub struct Settings {
    /// Base URL for links in mails, e.g. `https://chat.example.org`.
    pub public_url: String,
    pub session_idle_secs: i64,
    pub session_absolute_secs: i64,
    pub session_persistent_secs: i64,
    pub signin_history_days: i64,
    /// Where export files are written (encrypted).
    pub exports_dir: std::path::PathBuf,
    /// How long a finished export can be downloaded.
    pub export_ttl_secs: i64,
    /// Facebook is simulated by the built-in stand-in (`--demo`).
    pub demo: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            public_url: "https://localhost:8443".to_string(),
            session_idle_secs: 30 * 60,
            session_absolute_secs: 8 * 3600,
            session_persistent_secs: 30 * 86_400,
            signin_history_days: 30,
            exports_dir: std::path::PathBuf::from("data/exports"),
            export_ttl_secs: 48 * 3600,
            demo: false,
        }
    }
}

#[derive(Clone)]
pub struct Ctx {
    pub db: Database,
    pub crypto: Crypto,
    pub clock: Arc<dyn Clock>,
    pub settings: Arc<Settings>,
    pub mail_wakeup: Arc<tokio::sync::Notify>,
    pub deliveries: Arc<DeliveryQueue>,
}

/// Coordinates the applying of stored webhook deliveries (`messenger::deliveries`).
#[derive(Default)]
pub struct DeliveryQueue {
    /// Wakes the worker when a delivery is stored.
    pub wakeup: tokio::sync::Notify,
    /// Held while deliveries are applied: by the worker, and by the sender
    /// before it decides about recipients a crash interrupted.
    pub applying: tokio::sync::Mutex<()>,
}

impl Ctx {
    /// The same context on another database handle (a transaction).
    pub fn with_db(&self, db: Database) -> Ctx {
        Ctx { db, ..self.clone() }
    }

    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// A link into the app, for mails.
    pub fn link(&self, path_and_query: &str) -> String {
        format!("{}{}", self.settings.public_url.trim_end_matches('/'), path_and_query)
    }
}

/// What a request tells us about its sender. Read once per server function.
#[derive(Clone, Debug)]
pub struct RequestInfo {
    pub session_token: Option<String>,
    pub ip: std::net::IpAddr,
    pub user_agent: String,
}
