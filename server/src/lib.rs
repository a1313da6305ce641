//! The Chat FB Top server: owns the database, TLS and HTTP surface, and
//! implements the app's server functions.

pub mod backend;
pub mod config;
pub mod crypto;
pub mod data_dir;
pub mod db;
pub mod error;
pub mod http;
pub mod tls;

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use axum_server::tls_rustls::RustlsConfig;
use axum_server::Handle;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::config::ServeConfig;
use crate::data_dir::DataDir;
use crate::db::{Credentials, Database};
use crate::error::StartupError;

/// A started server: its bound addresses, and what is needed to stop it.
pub struct RunningServer {
    /// The application listener (HTTPS, or plain HTTP behind a proxy).
    pub app_addr: SocketAddr,
    /// The HTTP→HTTPS redirect listener, if any.
    pub redirect_addr: Option<SocketAddr>,
    pub db: Database,
    handles: Vec<Handle<SocketAddr>>,
    tasks: Vec<JoinHandle<std::io::Result<()>>>,
    data_dir: DataDir,
    listener_stopped: Arc<Notify>,
}

/// Prepares the data folder, the database and TLS, binds the listeners and
/// starts serving. Every failure is a `StartupError` with one clear sentence.
pub async fn start(config: &ServeConfig) -> Result<RunningServer, StartupError> {
    let data_dir = DataDir::prepare(&config.data_dir)?;
    let address = config.db_address(data_dir.path())?;
    let credentials = match (&config.db_user, &config.db_password) {
        (Some(u), Some(p)) => Some(Credentials { username: u.clone(), password: p.clone() }),
        _ => None,
    };
    let db = Database::open(&address, &config.db_namespace, &config.db_database, credentials).await?;
    tracing::info!(database = %address.describe(), schema = db::SCHEMA_VERSION, "database ready");

    let services = Arc::new(backend::Services { db: db.clone() });
    let app = http::app_router(&config.site_dir, db.clone(), services, config.behind_proxy)
        .into_make_service_with_connect_info::<SocketAddr>();

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
        let server = axum_server::tls_rustls::from_tcp_rustls(app_listener, tls)
            .map_err(StartupError::Serve)?
            .handle(handle);
        tasks.push(spawn_server(Box::pin(server.serve(app))));
        tracing::info!("listening on https://{app_addr}");
    }

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

    Ok(RunningServer { app_addr, redirect_addr, db, handles, tasks, data_dir, listener_stopped })
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
        self.db.close().await;
        drop(self.data_dir);
        outcome
    }

    /// Resolves when any listener stops on its own (an I/O failure), so the
    /// process exits instead of running half-alive.
    pub async fn listener_stopped(&self) {
        self.listener_stopped.notified().await
    }
}
