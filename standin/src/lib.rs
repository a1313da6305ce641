//! A local stand-in for the Graph API, part of the project: the integration
//! tests, Playwright, the benchmarks and `--demo` talk to it instead of
//! Facebook. It answers the calls the app makes in Meta's shapes, enforces
//! 300 calls/s per Page (error 613), can be told to fail for chosen PSIDs
//! (551, 10), to be slow or to answer 5xx, and plays leads by posting
//! correctly signed webhook deliveries to the app.
//!
//! Control endpoints live under `/_standin/`; see `router`.//!
//! Its own crate, so that the compiler keeps it independent of the server:
//! it is a fake of Meta, not part of the app. The server links it only for
//! `--demo`; tests, benchmarks and Playwright run it (`standin` binary).

mod control;
mod graph;
mod meta;
mod state;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;

pub use meta::{meta_serialise, sign, SimulatedEvent};
pub use state::{SentMessage, StandinConfig, StandinState};

/// The Graph API calls and the control endpoints.
pub fn router(state: StandinState) -> Router {
    graph::routes().merge(control::routes(state.clone())).with_state(state)
}

/// A running stand-in on a local port.
pub struct Standin {
    pub addr: SocketAddr,
    pub state: StandinState,
    handle: axum_server::Handle<SocketAddr>,
    stop_flag: Arc<std::sync::atomic::AtomicBool>,
}

impl Standin {
    pub async fn start(bind: SocketAddr, config: StandinConfig) -> std::io::Result<Standin> {
        let state = StandinState::new(config);
        let listener = std::net::TcpListener::bind(bind)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let handle = axum_server::Handle::new();
        let server = axum_server::from_tcp(listener)?.handle(handle.clone());
        let app = router(state.clone());
        tokio::spawn(async move {
            if let Err(e) = server.serve(app.into_make_service()).await {
                tracing::error!(error = %e, "the Graph API stand-in stopped");
            }
        });
        let flusher = state.clone();
        let stop_flag = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopped = stop_flag.clone();
        tokio::spawn(async move {
            let client = reqwest::Client::builder().danger_accept_invalid_certs(true).timeout(Duration::from_secs(10)).build().expect("static client settings");
            loop {
                tokio::time::sleep(Duration::from_millis(100)).await;
                if stopped.load(std::sync::atomic::Ordering::Relaxed) {
                    return;
                }
                flusher.flush_webhooks(&client).await;
            }
        });
        Ok(Standin { addr, state, handle, stop_flag })
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn stop(&self) {
        self.stop_flag.store(true, std::sync::atomic::Ordering::Relaxed);
        self.handle.shutdown();
    }
}
