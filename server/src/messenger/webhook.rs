//! `/webhooks/messenger`: GET answers Meta's verification; POST accepts a
//! signed delivery. Bad input gets 400, 403 or 413, never a 5xx. Routing
//! the events to accounts comes with the rest of the Messenger issue; until
//! a Page is connected, every event is counted and dropped.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::{to_bytes, Body};
use axum::extract::{Query, Request, State};
use axum::response::{IntoResponse, Response};
use http::StatusCode;

use super::settings;
use super::signature::webhook_signature_valid;
use crate::context::Ctx;

pub const MAX_BODY: usize = 1024 * 1024;

/// Events that arrived for Pages nobody connected.
pub static DROPPED_EVENTS: AtomicU64 = AtomicU64::new(0);

pub async fn verify(State(ctx): State<Ctx>, Query(query): Query<HashMap<String, String>>) -> Response {
    let Ok(Some(app)) = settings::load(&ctx).await else {
        return StatusCode::FORBIDDEN.into_response();
    };
    let mode_ok = query.get("hub.mode").is_some_and(|m| m == "subscribe");
    let token_ok = query
        .get("hub.verify_token")
        .is_some_and(|t| t.len() == app.verify_token.len() && constant_time_eq(t.as_bytes(), app.verify_token.as_bytes()));
    match (mode_ok && token_ok, query.get("hub.challenge")) {
        (true, Some(challenge)) => (StatusCode::OK, challenge.clone()).into_response(),
        _ => StatusCode::FORBIDDEN.into_response(),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub async fn receive(State(ctx): State<Ctx>, request: Request<Body>) -> Response {
    let header = request
        .headers()
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body = match to_bytes(request.into_body(), MAX_BODY).await {
        Ok(body) => body,
        Err(_) => return StatusCode::PAYLOAD_TOO_LARGE.into_response(),
    };
    let app = match settings::load(&ctx).await {
        Ok(Some(app)) => app,
        Ok(None) => return StatusCode::FORBIDDEN.into_response(),
        Err(e) => {
            tracing::error!(error = %e, "webhook: app settings unreadable");
            return StatusCode::FORBIDDEN.into_response();
        }
    };
    let Some(header) = header else { return StatusCode::FORBIDDEN.into_response() };
    if !webhook_signature_valid(app.app_secret.as_bytes(), &body, &header) {
        return StatusCode::FORBIDDEN.into_response();
    }
    let Ok(delivery) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let events: u64 = delivery["entry"]
        .as_array()
        .map(|entries| entries.iter().map(|e| e["messaging"].as_array().map_or(0, |m| m.len() as u64)).sum())
        .unwrap_or(0);
    DROPPED_EVENTS.fetch_add(events, Ordering::Relaxed);
    (StatusCode::OK, "EVENT_RECEIVED").into_response()
}
