//! The Chat FB Top server: owns the database, TLS and HTTP surface, and
//! implements the app's server functions.

pub mod accounts;
pub mod admin;
mod allocator;
pub mod backend;
pub mod broadcasts;
pub mod clock;
pub mod config;
pub mod context;
pub mod crypto;
pub mod data_dir;
pub mod db;
pub mod error;
#[cfg(test)]
mod fuzz;
pub mod http;
#[cfg(test)]
mod index_use;
pub mod jobs;
#[cfg(test)]
mod layers;
pub mod mail;
pub mod messenger;
pub mod policies;
pub mod privacy;
pub mod sealed_texts;
pub mod sessions;
pub mod tls;

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use axum_server::tls_rustls::RustlsConfig;
use axum_server::Handle;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::clock::Clock;
use crate::config::ServeConfig;
use crate::context::{Ctx, Settings};
use crate::crypto::{Crypto, Keyring};
use crate::data_dir::DataDir;
use crate::db::{Credentials, Database};
use crate::error::StartupError;
use crate::mail::MailTransport;

/// A started server: its bound addresses, and what is needed to stop it.
pub struct RunningServer {
    /// The application listener (HTTPS, or plain HTTP behind a proxy).
    pub app_addr: SocketAddr,
    /// The HTTP→HTTPS redirect listener, if any.
    pub redirect_addr: Option<SocketAddr>,
    pub db: Database,
    ctx: Ctx,
    handles: Vec<Handle<SocketAddr>>,
    tasks: Vec<JoinHandle<std::io::Result<()>>>,
    background: Vec<JoinHandle<()>>,
    stop_background: tokio::sync::watch::Sender<bool>,
    data_dir: DataDir,
    listener_stopped: Arc<Notify>,
    standin: Option<standin::Standin>,
}

/// The parts every command needs: the locked data folder, the database with
/// its schema, the keys, and the context the capability modules work with.
pub struct Core {
    pub data_dir: DataDir,
    pub ctx: Ctx,
}

/// The server's log filter when `RUST_LOG` is not set.
pub const DEFAULT_LOG_FILTER: &str = "info,surrealdb=warn,surrealkv=warn,rocksdb=warn";

/// Logs to stderr through `RUST_LOG`, or `default` (the server passes
/// `DEFAULT_LOG_FILTER`). Installed before the database opens: until a
/// subscriber is set, the engine's disabled trace spans still format their
/// fields (tracing's `log` fallback), a tenth of erasure's time in a profile.
pub fn init_logging(default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| default.into());
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}

pub async fn open_core(config: &ServeConfig, clock: Arc<dyn Clock>) -> Result<Core, StartupError> {
    let data_dir = DataDir::prepare(&config.data_dir)?;
    let address = serving_address(config, data_dir.path())?;
    let db = Database::open(&address, &config.db_namespace, &config.db_database, credentials(config)?, &config.engine_options()).await?;
    tracing::info!(database = %address.describe(), schema = db::SCHEMA_VERSION, "database ready");
    let ctx = context_on(config, &data_dir, db, clock).await?;
    policies::ensure_initial_policies(&ctx).await.map_err(|e| StartupError::Database { what: "policy table".into(), reason: e.to_string() })?;
    messenger::proof_upgrade::upgrade(&ctx).await.map_err(|e| StartupError::Database { what: "opt-in proofs".into(), reason: e.to_string() })?;
    sealed_texts::upgrade(&ctx).await.map_err(|e| StartupError::Database { what: "label names and campaign texts".into(), reason: e.to_string() })?;
    Ok(Core { data_dir, ctx })
}

fn credentials(config: &ServeConfig) -> Result<Option<Credentials>, StartupError> {
    match (&config.db_user, &config.db_password) {
        (Some(u), Some(p)) => Ok(Some(Credentials { username: u.clone(), password: p.clone() })),
        (None, None) => Ok(None),
        _ => Err(StartupError::IncompleteDbCredentials),
    }
}

/// The address to serve from. SurrealKV is only ever read (by `db copy`), and a
/// new, empty RocksDB is never created beside an earlier release's SurrealKV
/// folder: that would look like an installation that lost all its data.
fn serving_address(config: &ServeConfig, data_dir: &std::path::Path) -> Result<config::DbAddress, StartupError> {
    use config::DbAddress;
    use db::layout::{detect, FolderEngine};
    let address = config.db_address(data_dir)?;
    match &address {
        DbAddress::SurrealKv(path) => Err(StartupError::LegacyDatabase { found: path.clone(), target: Some(data_dir.join(config::DEFAULT_DB_FOLDER)) }),
        DbAddress::RocksDb(path) if config.db.is_none() => {
            let legacy = data_dir.join(config::LEGACY_DB_FOLDER);
            if detect(path) == FolderEngine::Empty && detect(&legacy) == FolderEngine::SurrealKv {
                Err(StartupError::LegacyDatabase { found: legacy, target: Some(path.clone()) })
            } else {
                Ok(address)
            }
        }
        DbAddress::RocksDb(_) | DbAddress::Memory | DbAddress::Remote(_) => Ok(address),
    }
}

/// The keys and the context the capability modules work with, on an open database.
async fn context_on(config: &ServeConfig, data_dir: &DataDir, db: Database, clock: Arc<dyn Clock>) -> Result<Ctx, StartupError> {
    let keyring =
        Keyring::load(config.master_key_file.as_deref(), config.master_key.as_deref(), data_dir.path()).map_err(|e| StartupError::Keys(e.to_string()))?;
    let store = match config.key_store {
        config::KeyStoreKind::Files => crypto::DataKeyStore::Files(data_dir.path().join("keys")),
        config::KeyStoreKind::Database => crypto::DataKeyStore::Database,
    };
    let crypto = Crypto::open(Arc::new(keyring), db.clone(), store).await.map_err(|e| StartupError::Keys(e.to_string()))?;
    let settings = Settings {
        public_url: config.public_url.clone().unwrap_or_else(|| format!("https://localhost:{}", config.port)),
        signin_history_days: config.signin_history_days,
        requests_per_ip_per_hour: config.requests_per_ip_per_hour,
        exports_dir: config.exports_dir.clone().unwrap_or_else(|| data_dir.path().join("exports")),
        export_ttl_secs: config.export_ttl_hours * 3600,
        demo: config.demo,
        ..Settings::default()
    };
    Ok(Ctx {
        db,
        crypto,
        clock,
        settings: Arc::new(settings),
        mail_wakeup: Arc::new(Notify::new()),
        deliveries: Arc::default(),
        memo: Arc::default(),
        instance: data_dir.instance_id()?.into(),
        account_requests: Arc::new(Notify::new()),
        send_gate: Arc::default(),
        inbox_feed: Arc::default(),
    })
}

/// Prepares the data folder, the database and TLS, binds the listeners and
/// starts serving. Every failure is a `StartupError` with one clear sentence.
pub async fn start(config: &ServeConfig) -> Result<RunningServer, StartupError> {
    start_with_clock(config, Arc::new(clock::SystemClock)).await
}

pub async fn start_with_clock(config: &ServeConfig, clock: Arc<dyn Clock>) -> Result<RunningServer, StartupError> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let Core { data_dir, ctx } = open_core(config, clock).await?;
    let db = ctx.db.clone();

    let transport = match &config.smtp_url {
        Some(url) => MailTransport::smtp(url).map_err(|e| StartupError::Mail(e.to_string()))?,
        None => {
            let dir = data_dir.path().join("mail");
            tracing::info!(folder = %dir.display(), "no --smtp-url: mail is written as .eml files");
            MailTransport::files(dir).map_err(|e| StartupError::Mail(e.to_string()))?
        }
    };
    let from = mail::parse_sender(&config.mail_from).map_err(|e| StartupError::Mail(e.to_string()))?;
    let (stop_background, background_stop) = tokio::sync::watch::channel(false);
    let background = vec![
        tokio::spawn(mail::run_worker(ctx.clone(), transport, from, background_stop.clone())),
        tokio::spawn(jobs::run_retention(ctx.clone(), background_stop.clone())),
        tokio::spawn(accounts::run_worker(ctx.clone(), background_stop.clone())),
        tokio::spawn(messenger::inbox::run_retries(ctx.clone(), background_stop.clone())),
        tokio::spawn(messenger::live::run(ctx.clone(), background_stop.clone())),
        tokio::spawn(messenger::deliveries::run(ctx.clone(), background_stop.clone(), broadcasts::receipts::apply)),
        tokio::spawn(broadcasts::sender::run(ctx.clone(), background_stop)),
    ];

    let services = Arc::new(backend::Services { ctx: ctx.clone() });
    let app = http::app_router(&config.site_dir, ctx.clone(), services, config.behind_proxy).into_make_service_with_connect_info::<SocketAddr>();

    let app_listener = bind(SocketAddr::new(config.bind, config.port))?;
    let app_addr = app_listener.local_addr().map_err(StartupError::Serve)?;
    let mut handles = Vec::new();
    let mut tasks = Vec::new();
    let listener_stopped = Arc::new(Notify::new());
    let spawn_server = |serving: std::pin::Pin<Box<dyn std::future::Future<Output = std::io::Result<()>> + Send>>| {
        let stopped = listener_stopped.clone();
        tokio::spawn(async move {
            let result = serving.await;
            stopped.notify_one();
            result
        })
    };

    let handle = Handle::new();
    handles.push(handle.clone());
    if config.behind_proxy {
        let server = axum_server::from_tcp(app_listener).map_err(StartupError::Serve)?.handle(handle);
        tasks.push(spawn_server(Box::pin(server.serve(app))));
        tracing::info!(addr = %app_addr, "serving plain HTTP for a TLS-terminating proxy");
    } else {
        let (cert, key) = tls::certificate_paths(data_dir.path(), config.tls_cert.as_deref(), config.tls_key.as_deref())?;
        let tls = RustlsConfig::from_config(tls::server_config(&cert, &key)?);
        let server = axum_server::tls_rustls::from_tcp_rustls(app_listener, tls).map_err(StartupError::Serve)?.handle(handle);
        tasks.push(spawn_server(Box::pin(server.serve(app))));
        tracing::info!("listening on https://{app_addr}");
    }

    let standin = if config.demo { Some(start_demo_standin(&ctx, app_addr, config.behind_proxy).await?) } else { None };

    let mut redirect_addr = None;
    if !config.behind_proxy && !config.no_http_redirect {
        let listener = bind(SocketAddr::new(config.bind, config.http_port))?;
        redirect_addr = Some(listener.local_addr().map_err(StartupError::Serve)?);
        let handle = Handle::new();
        handles.push(handle.clone());
        let server = axum_server::from_tcp(listener).map_err(StartupError::Serve)?.handle(handle);
        tasks.push(spawn_server(Box::pin(server.serve(http::redirect_router(app_addr.port()).into_make_service()))));
        tracing::info!("redirecting http://{} to HTTPS", redirect_addr.unwrap_or(app_addr));
    }

    Ok(RunningServer { app_addr, redirect_addr, db, ctx, handles, tasks, background, stop_background, data_dir, listener_stopped, standin })
}

/// Demo mode: the Graph API stand-in runs in-process and the Facebook app
/// settings point at it (unless an admin configured a real Facebook app).
async fn start_demo_standin(ctx: &Ctx, app_addr: SocketAddr, behind_proxy: bool) -> Result<standin::Standin, StartupError> {
    let fail = |reason: String| StartupError::Command(format!("demo mode: {reason}"));
    let existing = messenger::settings::load(ctx).await.map_err(|e| fail(e.to_string()))?;
    if existing.as_ref().is_some_and(|s| s.graph_base_url.starts_with("https://")) {
        return Err(fail("a real Facebook app is configured; demo mode would hide it. Start without --demo.".into()));
    }
    let secret = crypto::random_id();
    let scheme = if behind_proxy { "http" } else { "https" };
    let webhook = format!("{scheme}://127.0.0.1:{}/webhooks/messenger", app_addr.port());
    let config = standin::StandinConfig { app_secret: Some(secret.clone()), webhook_url: Some(webhook), demo: true, control_token: None };
    let running = standin::Standin::start(SocketAddr::from(([127, 0, 0, 1], 0)), config).await.map_err(|e| fail(e.to_string()))?;
    let settings = messenger::settings::AppSettings {
        app_id: "demo".into(),
        app_secret: zeroize::Zeroizing::new(secret),
        verify_token: zeroize::Zeroizing::new(crypto::random_id()),
        graph_base_url: running.base_url(),
        graph_version: "v21.0".into(),
    };
    messenger::settings::save(ctx, &settings).await.map_err(|e| fail(e.to_string()))?;
    tracing::info!(graph = %running.base_url(), "demo mode: Facebook is simulated by the built-in stand-in");
    Ok(running)
}

fn bind(addr: SocketAddr) -> Result<TcpListener, StartupError> {
    let listener = TcpListener::bind(addr).map_err(|source| StartupError::Bind { addr, source })?;
    listener.set_nonblocking(true).map_err(|source| StartupError::Bind { addr, source })?;
    Ok(listener)
}

impl RunningServer {
    /// Stops accepting connections, lets open requests finish within `grace`,
    /// then releases the database and the data-folder lock.
    pub async fn shutdown(self, grace: Duration) -> Result<(), StartupError> {
        for handle in &self.handles {
            handle.graceful_shutdown(Some(grace));
        }
        self.wait().await
    }

    /// Waits until every listener has stopped, then closes the database
    /// before the data-folder lock is released.
    pub async fn wait(self) -> Result<(), StartupError> {
        let mut outcome = Ok(());
        for task in self.tasks {
            let result = match task.await {
                Ok(result) => result,
                Err(e) => Err(std::io::Error::other(e)),
            };
            if let (Err(e), Ok(())) = (result, &outcome) {
                outcome = Err(StartupError::Serve(e));
            }
        }
        if let Some(standin) = &self.standin {
            standin.stop();
        }
        let _ = self.stop_background.send(true);
        for job in self.background {
            let _ = job.await;
        }
        drop(self.ctx);
        self.db.close().await;
        drop(self.data_dir);
        outcome
    }

    /// The context the capability modules work with (for embedding and tests).
    pub fn context(&self) -> &Ctx {
        &self.ctx
    }

    /// The blind index of an email, as stored (for tests and admin search).
    pub fn email_index(&self, email: &str) -> String {
        self.ctx.crypto.email_index(email)
    }

    /// The retention purge, as the hourly job runs it.
    pub async fn purge_expired(&self) {
        jobs::purge_once(&self.ctx, None).await
    }

    /// Resolves when any listener stops on its own (an I/O failure), so the
    /// process exits instead of running half-alive.
    pub async fn listener_stopped(&self) {
        self.listener_stopped.notified().await
    }
}

/// `server keys rotate`: returns how many stored keys were re-wrapped.
pub async fn rotate_keys(config: &ServeConfig) -> Result<usize, StartupError> {
    let core = open_core(config, Arc::new(clock::SystemClock)).await?;
    let moved = crypto::rotate_master_key(core.ctx.crypto.keyring(), &core.ctx.db, core.ctx.crypto.data_key_store())
        .await
        .map_err(|e| StartupError::Keys(e.to_string()))?;
    core.close().await;
    Ok(moved)
}

/// `server admin create`: returns the one-time password.
pub async fn create_admin(config: &ServeConfig, email: &str) -> Result<String, StartupError> {
    let core = open_core(config, Arc::new(clock::SystemClock)).await?;
    let result = accounts::create_admin(&core.ctx, email).await;
    core.close().await;
    result.map_err(|e| match e {
        error::Error::User(app::error::AppError::InvalidEmail) => StartupError::Command("the email is invalid or already has an account".into()),
        other => StartupError::Command(other.to_string()),
    })
}

/// `server policy publish`: returns the new version and the number of mails queued.
pub async fn publish_policy(config: &ServeConfig, document: &str, title: &str, body: &str, summary: &str) -> Result<(i64, usize), StartupError> {
    let core = open_core(config, Arc::new(clock::SystemClock)).await?;
    let result = policies::documents::publish(&core.ctx, document, title, body, summary).await;
    core.close().await;
    result.map_err(|e| StartupError::Command(e.to_string()))
}

/// `server consent verify`.
pub async fn verify_consents(config: &ServeConfig) -> Result<policies::ledger::Verification, StartupError> {
    let core = open_core(config, Arc::new(clock::SystemClock)).await?;
    let result = policies::ledger::verify(&core.ctx).await;
    core.close().await;
    result.map_err(|e| StartupError::Command(e.to_string()))
}

/// `server db copy`: copies and verifies the database, then checks the consent
/// ledger's hash chains on the copy with this installation's keys.
pub async fn copy_database(config: &ServeConfig, from: &str, to: &str) -> Result<(db::copy::CopyReport, policies::ledger::Verification), StartupError> {
    let data_dir = DataDir::prepare(&config.data_dir)?;
    let (from, to) = (config::DbAddress::parse(from)?, config::DbAddress::parse(to)?);
    let ends = db::copy::Endpoints { from: &from, to: &to, namespace: &config.db_namespace, database: &config.db_database };
    let credentials = credentials(config)?;
    let (target, report) = db::copy::copy(ends, || credentials.clone(), &config.engine_options()).await?;
    let core = Core { ctx: context_on(config, &data_dir, target, Arc::new(clock::SystemClock)).await?, data_dir };
    if config.key_store == config::KeyStoreKind::Database {
        let moved = core.ctx.crypto.import_key_files(&core.data_dir.path().join("keys")).await;
        let moved = moved.map_err(|e| StartupError::Keys(e.to_string()))?;
        tracing::info!(keys = moved, "the data folder's account keys were added to the copy's data_key table");
    }
    let verification = policies::ledger::verify(&core.ctx).await;
    core.close().await;
    let verification = verification.map_err(|e| StartupError::Command(e.to_string()))?;
    if !verification.problems.is_empty() {
        return Err(StartupError::Command(format!(
            "the copy's consent ledger does not verify ({} problems); keep using the source",
            verification.problems.len()
        )));
    }
    Ok((report, verification))
}

impl Core {
    /// Closes the database before the data-folder lock is released.
    pub async fn close(self) {
        let Core { data_dir, ctx } = self;
        let db = ctx.db.clone();
        drop(ctx);
        db.close().await;
        drop(data_dir);
    }
}
