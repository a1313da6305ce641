//! The HTTP surface: the SPA, `/api` server functions, `/healthz`, and the
//! middleware every response passes through.

mod client_ip;
mod events;
mod headers;
mod origin;
pub mod precompress;
mod redirect;
mod spa;

use std::path::Path;
use std::sync::Arc;

use app::backend::SharedBackend;
use axum::body::Body;
use axum::extract::{Path as AxumPath, Request, State};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use http::StatusCode;
use leptos::prelude::provide_context;
use tower_http::compression::CompressionLayer;

pub use client_ip::{request_info, ClientIp};
pub use headers::SecurityHeaders;

use crate::context::Ctx;
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

pub fn app_router(site_dir: &Path, ctx: Ctx, backend: SharedBackend, behind_proxy: bool) -> Router {
    let shell = spa::SpaShell::load(site_dir);
    let security = Arc::new(SecurityHeaders::new(&shell.inline_script_hashes));
    Router::new()
        .route("/api/{*fn_name}", get(server_fn).post(server_fn))
        .route_layer(axum::middleware::from_fn(origin::same_origin_posts))
        .with_state(backend)
        .route("/healthz", get(healthz).with_state(ctx.db.clone()))
        .route("/exports/{id}", get(export_download).with_state(ctx.clone()))
        .route("/events/inbox", get(events::inbox).with_state(ctx.clone()))
        .route(
            "/webhooks/messenger",
            get(crate::messenger::webhook::verify)
                .post(crate::messenger::webhook::receive)
                // The handler reads at most 1 MiB itself, to answer 413 rather than fail.
                .layer(axum::extract::DefaultBodyLimit::disable())
                .with_state(ctx.clone()),
        )
        .route(
            "/webhooks/meta/data-deletion",
            axum::routing::post(|state, form| crate::messenger::deletion::callback(state, form, &crate::broadcasts::DEPENDENTS))
                .layer(axum::extract::DefaultBodyLimit::max(64 * 1024))
                .with_state(ctx),
        )
        .merge(spa::router(site_dir, &shell))
        .layer(CompressionLayer::new())
        .layer(from_fn_with_state(security, headers::security_headers))
        .layer(from_fn_with_state(behind_proxy, client_ip::resolve_client))
}

/// The plain-HTTP listener's whole app.
pub fn redirect_router(https_port: u16) -> Router {
    let security = Arc::new(SecurityHeaders::new(&[]));
    Router::new().fallback(redirect::to_https).with_state(https_port).layer(from_fn_with_state(security, headers::security_headers))
}

async fn server_fn(State(backend): State<SharedBackend>, request: Request<Body>) -> Response {
    leptos_axum::handle_server_fns_with_context(move || provide_context(backend.clone()), request).await.into_response()
}

/// The owner's data export, decrypted as it streams; 404 for anyone else.
async fn export_download(State(ctx): State<Ctx>, AxumPath(id): AxumPath<String>, headers: http::HeaderMap) -> Response {
    let not_found = || (StatusCode::NOT_FOUND, "This export does not exist, is not yours, or has expired.").into_response();
    let Some(token) = crate::sessions::token_from_headers(&headers) else { return not_found() };
    let Ok(Some(session)) = crate::sessions::authenticate(&ctx, &token).await else { return not_found() };
    let reader = match crate::privacy::export::open_for_download(&ctx, &session.account_id, &id).await {
        Ok(reader) => reader,
        Err(e) => {
            tracing::info!(error = %e, "export download refused");
            return not_found();
        }
    };
    let chunks = futures::stream::unfold(Some(reader), |reader| async move {
        let mut reader = reader?;
        let read = tokio::task::spawn_blocking(move || {
            let chunk = reader.next_chunk();
            (reader, chunk)
        })
        .await;
        match read {
            Ok((reader, Ok(Some(chunk)))) => Some((Ok(axum::body::Bytes::from(chunk.to_vec())), Some(reader))),
            Ok((_, Ok(None))) => None,
            Ok((_, Err(e))) => Some((Err(e), None)),
            Err(e) => Some((Err(std::io::Error::other(e)), None)),
        }
    });
    // Fused: the compression layer may poll once more after the end.
    let chunks = futures::StreamExt::fuse(chunks);
    (
        [(http::header::CONTENT_TYPE, "application/zip"), (http::header::CONTENT_DISPOSITION, "attachment; filename=\"chatfbtop-data.zip\"")],
        Body::from_stream(chunks),
    )
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
            (StatusCode::SERVICE_UNAVAILABLE, Json(serde_json::json!({ "status": "degraded", "database": "unavailable" }))).into_response()
        }
    }
}
