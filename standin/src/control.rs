//! The control endpoints (`/_standin/...`): tests and benchmarks set the
//! stand-in up, play people, and read what it received.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use crate::meta::SimulatedEvent;
use crate::state::{SentMessage, StandinState};

#[derive(Deserialize)]
struct AppControl {
    app_secret: String,
    webhook_url: String,
}

async fn control_app(State(s): State<StandinState>, Json(c): Json<AppControl>) -> StatusCode {
    s.configure_app(&c.app_secret, &c.webhook_url);
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
struct PageControl {
    id: String,
    name: String,
    token: String,
}

async fn control_page(State(s): State<StandinState>, Json(c): Json<PageControl>) -> StatusCode {
    s.add_page(&c.id, &c.name, &c.token);
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
struct RevokeControl {
    page_id: String,
}

async fn control_revoke(State(s): State<StandinState>, Json(c): Json<RevokeControl>) -> StatusCode {
    s.revoke(&c.page_id);
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
struct FailControl {
    psid: String,
    code: i64,
}

async fn control_fail(State(s): State<StandinState>, Json(c): Json<FailControl>) -> StatusCode {
    s.fail_for(&c.psid, c.code);
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
struct BehaviourControl {
    #[serde(default)]
    delay_ms: u64,
    #[serde(default)]
    fail_next_5xx: u32,
    #[serde(default = "default_rate")]
    rate_per_sec: u32,
    #[serde(default)]
    webhooks: Option<WebhookControl>,
}

#[derive(Deserialize)]
struct WebhookControl {
    echoes: bool,
    deliveries: bool,
    read_every: u64,
}

fn default_rate() -> u32 {
    300
}

async fn control_behaviour(State(s): State<StandinState>, Json(c): Json<BehaviourControl>) -> StatusCode {
    s.set_behaviour(c.delay_ms, c.fail_next_5xx, c.rate_per_sec);
    if let Some(w) = c.webhooks {
        s.set_webhooks(w.echoes, w.deliveries, w.read_every);
    }
    StatusCode::NO_CONTENT
}

async fn control_sent(State(s): State<StandinState>) -> Json<Vec<SentMessage>> {
    Json(s.sent())
}

/// For a stand-in in its own process: progress without copying every message.
async fn control_counters(State(s): State<StandinState>) -> Json<serde_json::Value> {
    let (requests, rate_limited) = s.counters();
    Json(serde_json::json!({
        "sent": s.sent_count(), "requests": requests, "rate_limited": rate_limited, "pending_webhooks": s.pending_webhooks(),
    }))
}

async fn control_simulate(State(s): State<StandinState>, Json(event): Json<SimulatedEvent>) -> Response {
    match s.simulate(event).await {
        Ok((status, body)) => Json(json!({"app_status": status, "body": body})).into_response(),
        Err(e) => (StatusCode::BAD_GATEWAY, e).into_response(),
    }
}

pub(crate) fn routes(state: StandinState) -> Router<StandinState> {
    Router::new()
        .route("/_standin/app", post(control_app))
        .route("/_standin/pages", post(control_page))
        .route("/_standin/revoke", post(control_revoke))
        .route("/_standin/fail", post(control_fail))
        .route("/_standin/behaviour", post(control_behaviour))
        .route("/_standin/sent", get(control_sent))
        .route("/_standin/counters", get(control_counters))
        .route("/_standin/simulate", post(control_simulate))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), require_control_token))
}

/// The control endpoints play Facebook and the people who write to Pages:
/// only whoever holds the token (printed at start, or given) may use them.
async fn require_control_token(State(s): State<StandinState>, request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let given = request.headers().get("x-standin-token").and_then(|v| v.to_str().ok()).unwrap_or("").as_bytes().to_vec();
    let expected = s.control_token().into_bytes();
    let same = given.len() == expected.len() && given.iter().zip(&expected).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0;
    if same {
        next.run(request).await
    } else {
        (StatusCode::UNAUTHORIZED, "the stand-in's control token (x-standin-token) is missing or wrong").into_response()
    }
}
