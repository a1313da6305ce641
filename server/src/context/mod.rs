//! What every capability module works with: the database, the crypto facade,
//! the clock and the settings, and this instance's own state (the send
//! gate, short-lived memos). What several instances must agree on (attempt
//! limits, job leases) lives in the database. Cheap to clone.

pub mod attempts;
pub mod group_write;
pub mod inbox_feed;
pub mod leases;
pub mod send_gate;

use std::any::Any;
use std::collections::HashMap;
use std::future::Future;
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
    /// Registrations and mail requests accepted from one IP per hour.
    pub requests_per_ip_per_hour: u32,
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
            requests_per_ip_per_hour: 20,
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
    pub memo: Arc<Memo>,
    /// This instance's name in leases and claims (random at each start).
    pub instance: Arc<str>,
    /// Wakes the worker that completes registrations and mail requests.
    pub account_requests: Arc<tokio::sync::Notify>,
    /// Closed for disabled accounts: every Send API call passes it.
    pub send_gate: Arc<send_gate::SendGate>,
    /// Changed conversations, for the browsers connected to this instance.
    pub inbox_feed: Arc<inbox_feed::InboxFeed>,
}

/// Values a hot path would otherwise read from the database on every
/// request (the Facebook app's settings, for each webhook delivery), kept in
/// memory for a few seconds. The module that owns a value says how long,
/// and forgets it when it changes it.
#[derive(Default)]
pub struct Memo {
    entries: std::sync::Mutex<MemoEntries>,
}

/// Each value with the time it was read.
type MemoEntries = HashMap<&'static str, (i64, Arc<dyn Any + Send + Sync>)>;

impl Memo {
    /// The value kept under `name` if it was read less than `max_age_secs`
    /// ago (by `now`); otherwise what `load` reads, which is then kept.
    pub async fn get_or_load<T, E, Fut>(&self, name: &'static str, now: i64, max_age_secs: i64, load: impl FnOnce() -> Fut) -> Result<Arc<T>, E>
    where
        T: Send + Sync + 'static,
        Fut: Future<Output = Result<T, E>>,
    {
        let kept = self.entries().get(name).filter(|(at, _)| (0..max_age_secs).contains(&(now - at))).map(|(_, value)| value.clone());
        if let Some(Ok(value)) = kept.map(|value| value.downcast::<T>()) {
            return Ok(value);
        }
        let value = Arc::new(load().await?);
        self.entries().insert(name, (now, value.clone()));
        Ok(value)
    }

    pub fn forget(&self, name: &'static str) {
        self.entries().remove(name);
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, MemoEntries> {
        // A panic while holding the lock leaves the map whole: each change is one insert or remove.
        self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Coordinates the applying of stored webhook deliveries (`messenger::deliveries`).
#[derive(Default)]
pub struct DeliveryQueue {
    /// Wakes the worker when a delivery is stored.
    pub wakeup: tokio::sync::Notify,
    /// Held while deliveries are applied: by the worker, and by the sender
    /// before it decides about recipients a crash interrupted.
    pub applying: tokio::sync::Mutex<()>,
    /// Verified deliveries are stored in group writes.
    pub storing: group_write::GroupWrite,
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
