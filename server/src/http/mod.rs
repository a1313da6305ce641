//! The HTTP surface: the SPA, `/api` server functions, `/healthz`, and the
//! middleware every response passes through.

mod client_ip;
mod headers;
mod origin;
mod redirect;
mod spa;

use std::path::Path;
use std::sync::Arc;

use app::backend::SharedBackend;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use http::StatusCode;
use leptos::prelude::provide_context;
use tower_http::compression::CompressionLayer;

pub use client_ip::ClientIp;
pub use headers::SecurityHeaders;

use crate::db::Database;

/// A header map from pairs, for the middleware tests.
#[cfg(test)]
pub(crate) fn header_map(pairs: &[(&'static str, &'static str)]) -> http::HeaderMap {
    let mut h = http::HeaderMap::new();
    for (k, v) in pairs {
        h.append(*k, v.parse().unwrap());
    }
    h
}

pub fn app_router(site_dir: &Path, db: Database, backend: SharedBackend, behind_proxy: bool) -> Router {
    let shell = spa::SpaShell::load(site_dir);
    let security = Arc::new(SecurityHeaders::new(&shell.inline_script_hashes));
    Router::new()
        .route("/api/{*fn_name}", get(server_fn).post(server_fn))
        .route_layer(axum::middleware::from_fn(origin::same_origin_posts))
        .with_state(backend)
        .route("/healthz", get(healthz).with_state(db))
        .merge(spa::router(site_dir, &shell))
        .layer(CompressionLayer::new())
        .layer(from_fn_with_state(security, headers::security_headers))
        .layer(from_fn_with_state(behind_proxy, client_ip::resolve_client))
}

/// The plain-HTTP listener's whole app.
pub fn redirect_router(https_port: u16) -> Router {
    let security = Arc::new(SecurityHeaders::new(&[]));
    Router::new()
        .fallback(redirect::to_https)
        .with_state(https_port)
        .layer(from_fn_with_state(security, headers::security_headers))
}

async fn server_fn(State(backend): State<SharedBackend>, request: Request<Body>) -> Response {
    leptos_axum::handle_server_fns_with_context(move || provide_context(backend.clone()), request)
        .await
        .into_response()
}

async fn healthz(State(db): State<Database>) -> Response {
    match db.health().await {
        Ok(version) => Json(serde_json::json!({
            "status": "ok",
            "database": "ok",
            "schema_version": version,
        }))
        .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check: database unavailable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(serde_json::json!({ "status": "degraded", "database": "unavailable" })),
            )
                .into_response()
        }
    }
}
