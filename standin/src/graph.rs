//! The Graph API calls the app makes: Facebook Login, Page lookups, webhook
//! subscription, the Send API (with Meta's 300 calls/s per Page) and
//! `ids_for_pages`.

use std::collections::HashMap;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::meta::SimulatedEvent;
use crate::meta::{bearer, graph_error, invalid_token, now_ms};
use crate::state::{FakePage, Inner, SentMessage, StandinState};

/// Message tags Meta retired; a send with one is refused.
const RETIRED_TAGS: &[&str] = &["CONFIRMED_EVENT_UPDATE", "ACCOUNT_UPDATE", "POST_PURCHASE_UPDATE"];

#[derive(Deserialize)]
struct DialogQuery {
    redirect_uri: String,
    state: String,
}

async fn dialog(State(s): State<StandinState>, Query(q): Query<DialogQuery>) -> Response {
    s.lock().requests += 1;
    let code = s.next_id("code");
    let pages: Vec<String> = {
        let mut inner = s.lock();
        if inner.demo {
            let n = inner.pages.values().filter(|p| p.demo).count() + 1;
            let id = format!("99{:013}", now_ms() % 10_000_000_000_000 + n as i64);
            inner.pages.insert(
                id.clone(),
                FakePage { name: format!("Demo Page {n}"), token: format!("demo-token-{id}"), revoked: false, subscribed: false, demo: true },
            );
            vec![id]
        } else {
            inner.pages.iter().filter(|(_, p)| !p.demo).map(|(id, _)| id.clone()).collect()
        }
    };
    s.lock().codes.insert(code.clone(), pages);
    let separator = if q.redirect_uri.contains('?') { '&' } else { '?' };
    let encode = |v: &str| url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>();
    let target = format!("{}{separator}code={}&state={}", q.redirect_uri, encode(&code), encode(&q.state));
    let escaped = target.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;");
    Html(format!(
        "<!doctype html><title>Facebook Login (stand-in)</title><h1>Facebook Login (stand-in)</h1>\
         <p>This is the local Graph API stand-in, not Facebook.</p>\
         <a id=\"continue\" href=\"{escaped}\">Continue and allow access to your Pages</a>"
    ))
    .into_response()
}

async fn access_token(State(s): State<StandinState>, Query(q): Query<HashMap<String, String>>) -> Response {
    let mut inner = s.lock();
    inner.requests += 1;
    if q.get("client_secret").map(String::as_str) != inner.app_secret.as_deref() {
        return graph_error(1, None, "Error validating client secret.", StatusCode::BAD_REQUEST);
    }
    let Some(pages) = q.get("code").and_then(|c| inner.codes.remove(c)) else {
        return graph_error(100, Some(36009), "This authorization code has been used.", StatusCode::BAD_REQUEST);
    };
    inner.counter += 1;
    let token = format!("user-token-{}", inner.counter);
    inner.user_tokens.insert(token.clone(), pages);
    Json(json!({"access_token": token, "token_type": "bearer", "expires_in": 5183944})).into_response()
}

async fn my_accounts(State(s): State<StandinState>, headers: HeaderMap, Query(q): Query<HashMap<String, String>>) -> Response {
    let mut inner = s.lock();
    inner.requests += 1;
    let Some(page_ids) = bearer(&headers, &q).and_then(|t| inner.user_tokens.get(&t).cloned()) else { return invalid_token() };
    let data: Vec<Value> = page_ids
        .iter()
        .filter_map(|id| inner.pages.get(id).map(|p| (id, p)))
        .map(|(id, p)| json!({"access_token": p.token, "category": "Shopping & retail", "name": p.name, "id": id, "tasks": ["MESSAGING", "MODERATE"]}))
        .collect();
    Json(json!({"data": data, "paging": {"cursors": {"before": "QVFIUk", "after": "QVFIUm"}}})).into_response()
}

/// The Page a token belongs to, if it is valid.
fn page_for_token(inner: &Inner, token: &str) -> Option<String> {
    inner.pages.iter().find(|(_, p)| p.token == token && !p.revoked).map(|(id, _)| id.clone())
}

async fn object(
    State(s): State<StandinState>,
    Path((_, id)): Path<(String, String)>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let mut inner = s.lock();
    inner.requests += 1;
    let Some(token_page) = bearer(&headers, &q).and_then(|t| page_for_token(&inner, &t)) else { return invalid_token() };
    if let Some(page) = inner.pages.get(&id) {
        if token_page != id {
            return invalid_token();
        }
        return Json(json!({"id": id, "name": page.name})).into_response();
    }
    match inner.people.get(&id) {
        Some(person) if person.page_id == token_page => Json(json!({"first_name": person.first_name, "last_name": person.last_name, "id": id})).into_response(),
        _ => graph_error(
            100,
            Some(33),
            "Unsupported get request. Object does not exist, cannot be loaded due to missing permissions, or does not support this operation.",
            StatusCode::BAD_REQUEST,
        ),
    }
}

async fn subscribe(
    State(s): State<StandinState>,
    Path((_, id)): Path<(String, String)>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let demo = {
        let mut inner = s.lock();
        inner.requests += 1;
        if bearer(&headers, &q).and_then(|t| page_for_token(&inner, &t)).as_deref() != Some(id.as_str()) {
            return invalid_token();
        }
        let page = inner.pages.get_mut(&id).expect("token matched this page");
        let first_time = !page.subscribed;
        page.subscribed = true;
        page.demo && first_time
    };
    if demo {
        tokio::spawn(play_demo_leads(s.clone(), id));
    }
    Json(json!({"success": true})).into_response()
}

/// Demo mode: a few people write to a freshly subscribed demo Page.
async fn play_demo_leads(s: StandinState, page_id: String) {
    let people = [
        ("Amélie", "Laurent", "Bonjour ! Do you ship to Lyon?"),
        ("Jonas", "Becker", "Hi, is the spring collection in stock?"),
        ("Sofia", "Rossi", "Can I change my order from yesterday?"),
    ];
    for (i, (first, last, text)) in people.into_iter().enumerate() {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let event = SimulatedEvent {
            first_name: Some(first.into()),
            last_name: Some(last.into()),
            ..SimulatedEvent::text(&page_id, &format!("{page_id}{i:03}"), text)
        };
        if let Err(e) = s.simulate(event).await {
            tracing::warn!(error = %e, "demo lead could not write");
        }
    }
}

async fn send_page(
    State(s): State<StandinState>,
    Path((_, id)): Path<(String, String)>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
    body: Json<Value>,
) -> Response {
    send(s, Some(id), headers, q, body.0).await
}

async fn send_me(State(s): State<StandinState>, headers: HeaderMap, Query(q): Query<HashMap<String, String>>, body: Json<Value>) -> Response {
    send(s, None, headers, q, body.0).await
}

async fn send(s: StandinState, path_page: Option<String>, headers: HeaderMap, q: HashMap<String, String>, body: Value) -> Response {
    let delay = {
        let mut inner = s.lock();
        inner.requests += 1;
        inner.delay_ms
    };
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let mut inner = s.lock();
    let Some(page_id) = bearer(&headers, &q).and_then(|t| page_for_token(&inner, &t)) else { return invalid_token() };
    if path_page.as_ref().is_some_and(|p| p != &page_id) {
        return invalid_token();
    }
    if inner.fail_next_5xx > 0 {
        inner.fail_next_5xx -= 1;
        return graph_error(2, None, "An unexpected error has occurred. Please retry your request later.", StatusCode::INTERNAL_SERVER_ERROR);
    }
    // 300 calls per second per Page, counted per wall-clock second.
    let second = now_ms() / 1000;
    let limit = inner.rate_per_sec;
    let window = inner.windows.entry(page_id.clone()).or_insert((second, 0));
    if window.0 != second {
        *window = (second, 0);
    }
    window.1 += 1;
    if limit > 0 && window.1 > limit {
        inner.rate_limited += 1;
        return graph_error(613, None, "Calls to this api have exceeded the rate limit.", StatusCode::BAD_REQUEST);
    }
    let Some(psid) = body["recipient"]["id"].as_str().map(str::to_string) else {
        return graph_error(100, None, "(#100) The parameter recipient is required", StatusCode::BAD_REQUEST);
    };
    let messaging_type = body["messaging_type"].as_str().unwrap_or("").to_string();
    let tag = body["tag"].as_str().map(str::to_string);
    if tag.as_deref().is_some_and(|t| RETIRED_TAGS.contains(&t)) {
        return graph_error(100, Some(1893061), "(#100) Tag is no longer supported.", StatusCode::BAD_REQUEST);
    }
    if !["RESPONSE", "UPDATE", "MESSAGE_TAG"].contains(&messaging_type.as_str()) || (messaging_type == "MESSAGE_TAG") != tag.is_some() {
        return graph_error(100, None, "(#100) Param messaging_type or tag is invalid", StatusCode::BAD_REQUEST);
    }
    match inner.failures.get(&psid) {
        Some(551) => return graph_error(551, Some(1545041), "This person isn't available right now.", StatusCode::BAD_REQUEST),
        Some(613) => return graph_error(613, None, "Calls to this api have exceeded the rate limit.", StatusCode::BAD_REQUEST),
        Some(10) => return graph_error(10, Some(2018278), "(#10) This message is sent outside of allowed window.", StatusCode::BAD_REQUEST),
        _ => {}
    }
    let message = &body["message"];
    let template = &message["attachment"]["payload"];
    let Some(text) = message["text"].as_str().or(template["text"].as_str()).map(str::to_string) else {
        return graph_error(100, None, "(#100) The parameter message is required", StatusCode::BAD_REQUEST);
    };
    inner.counter += 1;
    let message_id = format!("m_standin_{}", inner.counter);
    let at_ms = now_ms();
    let metadata = message["metadata"].as_str().map(str::to_string);
    inner.sent.push(SentMessage {
        page_id: page_id.clone(),
        psid: psid.clone(),
        messaging_type,
        tag,
        text: text.clone(),
        metadata: metadata.clone(),
        quick_replies: message["quick_replies"].as_array().map_or(0, Vec::len),
        button: template["buttons"][0]["title"].as_str().map(str::to_string),
        message_id: message_id.clone(),
        at_ms,
    });
    if inner.echoes {
        let mut echo = json!({"is_echo": true, "app_id": 1, "mid": message_id, "text": text});
        if let Some(m) = &metadata {
            echo["metadata"] = json!(m);
        }
        let item = json!({"sender": {"id": page_id}, "recipient": {"id": psid}, "timestamp": at_ms, "message": echo});
        inner.outbox.push((at_ms, page_id.clone(), item));
    }
    if inner.deliveries {
        let item =
            json!({"sender": {"id": psid}, "recipient": {"id": page_id}, "timestamp": at_ms + 1, "delivery": {"mids": [message_id], "watermark": at_ms}});
        inner.outbox.push((at_ms + 1000, page_id.clone(), item));
        if inner.read_every > 0 && inner.counter.is_multiple_of(inner.read_every) {
            let item = json!({"sender": {"id": psid}, "recipient": {"id": page_id}, "timestamp": at_ms + 2, "read": {"watermark": at_ms}});
            inner.outbox.push((at_ms + 1500, page_id.clone(), item));
        }
    }
    Json(json!({"recipient_id": psid, "message_id": message_id})).into_response()
}

async fn ids_for_pages(
    State(s): State<StandinState>,
    Path((_, asid)): Path<(String, String)>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let mut inner = s.lock();
    inner.requests += 1;
    let expected = inner.app_secret.as_ref().map(|secret| format!("|{secret}"));
    if !bearer(&headers, &q).is_some_and(|t| expected.as_ref().is_some_and(|e| t.ends_with(e.as_str()))) {
        return invalid_token();
    }
    let data: Vec<Value> = inner
        .people
        .iter()
        .filter(|(_, p)| p.app_scoped_id == asid)
        .map(|(psid, p)| json!({"id": psid, "page": {"id": p.page_id, "name": inner.pages.get(&p.page_id).map(|x| x.name.clone())}}))
        .collect();
    Json(json!({"data": data})).into_response()
}

pub(crate) fn routes() -> Router<StandinState> {
    Router::new()
        .route("/{version}/dialog/oauth", get(dialog))
        .route("/{version}/oauth/access_token", get(access_token))
        .route("/{version}/me/accounts", get(my_accounts))
        .route("/{version}/me/messages", post(send_me))
        .route("/{version}/{id}", get(object))
        .route("/{version}/{id}/messages", post(send_page))
        .route("/{version}/{id}/subscribed_apps", post(subscribe))
        .route("/{version}/{id}/ids_for_pages", get(ids_for_pages))
}
