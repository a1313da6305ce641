//! `/webhooks/messenger`: GET answers Meta's verification; POST accepts a
//! signed delivery and stores it for the worker in `deliveries`. Bad input gets 400, 403 or 413, never a 5xx.

use std::collections::HashMap;

use axum::body::{to_bytes, Body};
use axum::extract::{Query, Request, State};
use axum::response::{IntoResponse, Response};
use http::StatusCode;

use super::settings;
use super::signature::webhook_signature_valid;
use crate::context::Ctx;

pub use super::ingest::DROPPED_EVENTS;

pub const MAX_BODY: usize = 1024 * 1024;

pub async fn verify(State(ctx): State<Ctx>, Query(query): Query<HashMap<String, String>>) -> Response {
    let Ok(settings) = settings::load_recent(&ctx).await else {
        return StatusCode::FORBIDDEN.into_response();
    };
    let Some(app) = settings.as_ref() else {
        return StatusCode::FORBIDDEN.into_response();
    };
    let mode_ok = query.get("hub.mode").is_some_and(|m| m == "subscribe");
    let token_ok =
        query.get("hub.verify_token").is_some_and(|t| t.len() == app.verify_token.len() && constant_time_eq(t.as_bytes(), app.verify_token.as_bytes()));
    match (mode_ok && token_ok, query.get("hub.challenge")) {
        (true, Some(challenge)) => (StatusCode::OK, challenge.clone()).into_response(),
        _ => StatusCode::FORBIDDEN.into_response(),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub async fn receive(State(ctx): State<Ctx>, request: Request<Body>) -> Response {
    let header = request.headers().get("x-hub-signature-256").and_then(|v| v.to_str().ok()).map(str::to_string);
    let body = match to_bytes(request.into_body(), MAX_BODY).await {
        Ok(body) => body,
        Err(_) => return StatusCode::PAYLOAD_TOO_LARGE.into_response(),
    };
    let settings = match settings::load_recent(&ctx).await {
        Ok(settings) => settings,
        Err(e) => {
            tracing::error!(error = %e, "webhook: app settings unreadable");
            return StatusCode::FORBIDDEN.into_response();
        }
    };
    let Some(app) = settings.as_ref() else {
        return StatusCode::FORBIDDEN.into_response();
    };
    let Some(header) = header else {
        return StatusCode::FORBIDDEN.into_response();
    };
    if !webhook_signature_valid(app.app_secret.as_bytes(), &body, &header) {
        return StatusCode::FORBIDDEN.into_response();
    }
    let Ok(delivery) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    if !delivery.is_object() {
        return StatusCode::BAD_REQUEST.into_response();
    }
    match super::deliveries::accept(&ctx, &body, &header, &delivery).await {
        Ok(()) => (StatusCode::OK, "EVENT_RECEIVED").into_response(),
        // A storage failure: Meta delivers at least once and will retry; the
        // replay is then applied once.
        Err(e) => {
            tracing::error!(error = %e, "webhook: delivery not stored");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}
