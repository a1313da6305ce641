//! A local stand-in for the Graph API, part of the project: the integration
//! tests, Playwright, the benchmarks and `--demo` talk to it instead of
//! Facebook. It answers the calls the app makes in Meta's shapes, enforces
//! 300 calls/s per Page (error 613), can be told to fail for chosen PSIDs
//! (551, 10), to be slow or to answer 5xx, and plays leads by posting
//! correctly signed webhook deliveries to the app.
//!
//! Control endpoints live under `/_standin/`; see `router`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

const RETIRED_TAGS: &[&str] = &["CONFIRMED_EVENT_UPDATE", "ACCOUNT_UPDATE", "POST_PURCHASE_UPDATE"];

#[derive(Clone, Debug)]
struct FakePage {
    name: String,
    token: String,
    revoked: bool,
    subscribed: bool,
    demo: bool,
}

#[derive(Clone, Debug)]
struct Person {
    page_id: String,
    first_name: String,
    last_name: String,
    app_scoped_id: String,
}

/// One Send API call the stand-in accepted.
#[derive(Clone, Debug, serde::Serialize)]
pub struct SentMessage {
    pub page_id: String,
    pub psid: String,
    pub messaging_type: String,
    pub tag: Option<String>,
    pub text: String,
    pub metadata: Option<String>,
    pub quick_replies: usize,
    pub button: Option<String>,
    pub message_id: String,
    pub at_ms: i64,
}

#[derive(Default)]
struct Inner {
    control_token: String,
    app_secret: Option<String>,
    webhook_url: Option<String>,
    demo: bool,
    pages: HashMap<String, FakePage>,
    people: HashMap<String, Person>,
    user_tokens: HashMap<String, Vec<String>>,
    codes: HashMap<String, Vec<String>>,
    failures: HashMap<String, i64>,
    delay_ms: u64,
    fail_next_5xx: u32,
    rate_per_sec: u32,
    windows: HashMap<String, (i64, u32)>,
    sent: Vec<SentMessage>,
    requests: u64,
    rate_limited: u64,
    counter: u64,
    /// Webhook events waiting to be posted to the app (echoes, deliveries, reads), retried until accepted.
    outbox: Vec<(i64, String, Value)>,
    echoes: bool,
    deliveries: bool,
    /// Every n-th delivered message is also read (0: none).
    read_every: u64,
}

#[derive(Clone)]
pub struct StandinState(Arc<Mutex<Inner>>);

/// How the stand-in starts.
#[derive(Clone, Debug, Default)]
pub struct StandinConfig {
    pub app_secret: Option<String>,
    pub webhook_url: Option<String>,
    /// Facebook Login mints a fresh demo Page per sign-in, and a few
    /// simulated leads write to every demo Page once it is subscribed.
    pub demo: bool,
    /// What the control endpoints (`/_standin/...`) want in `x-standin-token`;
    /// a random one when none is given (`Standin::control_token`).
    pub control_token: Option<String>,
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

fn graph_error(code: i64, subcode: Option<i64>, message: &str, status: StatusCode) -> Response {
    let mut error = json!({"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AStandInTrace"});
    if let Some(sub) = subcode {
        error["error_subcode"] = json!(sub);
    }
    if code == 2 {
        error["is_transient"] = json!(true);
    }
    (status, Json(json!({ "error": error }))).into_response()
}

fn invalid_token() -> Response {
    graph_error(190, Some(460), "Error validating access token: The session has been invalidated.", StatusCode::BAD_REQUEST)
}

fn bearer(headers: &HeaderMap, query: &HashMap<String, String>) -> Option<String> {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_string)
        .or_else(|| query.get("access_token").cloned())
}

impl StandinState {
    /// The token the control endpoints want.
    pub fn control_token(&self) -> String {
        self.lock().control_token.clone()
    }

    pub fn new(config: StandinConfig) -> Self {
        StandinState(Arc::new(Mutex::new(Inner {
            app_secret: config.app_secret,
            webhook_url: config.webhook_url,
            demo: config.demo,
            control_token: config.control_token.unwrap_or_else(crate::crypto::random_token),
            rate_per_sec: 300,
            echoes: true,
            deliveries: true,
            read_every: 2,
            ..Inner::default()
        })))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Registers a Page that Facebook Login offers and whose token is accepted.
    pub fn add_page(&self, id: &str, name: &str, token: &str) {
        self.lock().pages.insert(id.to_string(), FakePage { name: name.into(), token: token.into(), revoked: false, subscribed: false, demo: false });
    }

    pub fn configure_app(&self, app_secret: &str, webhook_url: &str) {
        let mut inner = self.lock();
        inner.app_secret = Some(app_secret.to_string());
        inner.webhook_url = Some(webhook_url.to_string());
    }

    pub fn revoke(&self, page_id: &str) {
        if let Some(p) = self.lock().pages.get_mut(page_id) {
            p.revoked = true;
        }
    }

    /// Sends to `psid` fail with `code` (551, 10 or 613); 0 clears.
    pub fn fail_for(&self, psid: &str, code: i64) {
        let mut inner = self.lock();
        if code == 0 {
            inner.failures.remove(psid);
        } else {
            inner.failures.insert(psid.to_string(), code);
        }
    }

    pub fn set_behaviour(&self, delay_ms: u64, fail_next_5xx: u32, rate_per_sec: u32) {
        let mut inner = self.lock();
        inner.delay_ms = delay_ms;
        inner.fail_next_5xx = fail_next_5xx;
        inner.rate_per_sec = rate_per_sec;
    }

    /// Whether the stand-in posts message echoes, and delivery and read receipts.
    pub fn set_webhooks(&self, echoes: bool, deliveries: bool, read_every: u64) {
        let mut inner = self.lock();
        inner.echoes = echoes;
        inner.deliveries = deliveries;
        inner.read_every = read_every;
    }

    /// Events not yet accepted by the app.
    pub fn pending_webhooks(&self) -> usize {
        self.lock().outbox.len()
    }

    /// Posts queued echoes and receipts, one signed delivery per Page (up to
    /// 100 events each, as Meta batches); what the app refuses stays queued.
    async fn flush_webhooks(&self, client: &reqwest::Client) {
        let (batch, secret, url) = {
            let mut inner = self.lock();
            if inner.outbox.is_empty() {
                return;
            }
            // Due events first, at most 500 per flush; receipts come a moment after the echo.
            let now = now_ms();
            let (due, later): (Vec<_>, Vec<_>) = std::mem::take(&mut inner.outbox).into_iter().partition(|(at, _, _)| *at <= now);
            let mut due = due;
            let rest = if due.len() > 500 { due.split_off(500) } else { Vec::new() };
            inner.outbox = rest.into_iter().chain(later).collect();
            let batch: Vec<(String, Value)> = due.into_iter().map(|(_, page, item)| (page, item)).collect();
            (batch, inner.app_secret.clone(), inner.webhook_url.clone())
        };
        let (Some(secret), Some(url)) = (secret, url) else { return };
        let mut by_page: Vec<(String, Vec<Value>)> = Vec::new();
        for (page, item) in batch {
            match by_page.iter_mut().find(|(p, items)| *p == page && items.len() < 100) {
                Some((_, items)) => items.push(item),
                None => by_page.push((page, vec![item])),
            }
        }
        for (page, items) in by_page {
            let body = meta_serialise(&json!({"object": "page", "entry": [{"id": page, "time": now_ms(), "messaging": items}]}));
            let answer = client
                .post(&url)
                .header("content-type", "application/json")
                .header("x-hub-signature-256", sign(secret.as_bytes(), body.as_bytes()))
                .body(body)
                .send()
                .await;
            let accepted = match &answer {
                Ok(r) if r.status().is_success() => true,
                Ok(r) => {
                    tracing::debug!(status = r.status().as_u16(), "the app refused a webhook delivery; retrying");
                    false
                }
                Err(e) => {
                    tracing::debug!(error = %e, "the app's webhook is unreachable; retrying");
                    false
                }
            };
            if !accepted {
                // Meta retries failed deliveries; so does the stand-in.
                let mut inner = self.lock();
                let retry_at = now_ms() + 200;
                for item in items {
                    inner.outbox.push((retry_at, page.clone(), item));
                }
            }
        }
    }

    /// How many messages were accepted, without copying them.
    pub fn sent_count(&self) -> usize {
        self.lock().sent.len()
    }

    pub fn sent(&self) -> Vec<SentMessage> {
        self.lock().sent.clone()
    }

    pub fn subscribed(&self, page_id: &str) -> bool {
        self.lock().pages.get(page_id).is_some_and(|p| p.subscribed)
    }

    /// Requests served, and how many of them were refused with 613.
    pub fn counters(&self) -> (u64, u64) {
        let inner = self.lock();
        (inner.requests, inner.rate_limited)
    }

    fn next_id(&self, prefix: &str) -> String {
        let mut inner = self.lock();
        inner.counter += 1;
        format!("{prefix}{}{:06}", now_ms(), inner.counter)
    }

    /// Plays a person writing to a Page: posts a signed delivery to the app.
    /// Returns the HTTP status the app answered and the delivery's raw body.
    pub async fn simulate(&self, event: SimulatedEvent) -> Result<(u16, String), String> {
        let (secret, url) = {
            let mut inner = self.lock();
            let person = inner.people.entry(event.psid.clone()).or_insert_with(|| Person {
                page_id: event.page_id.clone(),
                first_name: event.first_name.clone().unwrap_or_default(),
                last_name: event.last_name.clone().unwrap_or_default(),
                app_scoped_id: format!("asid-{}", event.psid),
            });
            if let Some(first) = &event.first_name {
                person.first_name = first.clone();
            }
            if let Some(last) = &event.last_name {
                person.last_name = last.clone();
            }
            (inner.app_secret.clone(), inner.webhook_url.clone())
        };
        let (Some(secret), Some(url)) = (secret, url) else { return Err("the stand-in has no app secret or webhook URL".into()) };
        let body = meta_serialise(&event.delivery(now_ms(), self.next_id("m_")));
        let signature = sign(secret.as_bytes(), body.as_bytes());
        let client = reqwest::Client::builder().danger_accept_invalid_certs(true).timeout(Duration::from_secs(30)).build().map_err(|e| e.to_string())?;
        let answer = client
            .post(url)
            .header("content-type", "application/json")
            .header("x-hub-signature-256", signature)
            .body(body.clone())
            .send()
            .await
            .map_err(|e| e.to_string())?;
        Ok((answer.status().as_u16(), body))
    }
}

/// `sha256=<hex HMAC-SHA256>` as Meta sends it.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Meta's serialisation: non-ASCII as `\uXXXX` escapes and `/` as `\/`, so
/// re-serialised JSON would not match the signature.
pub fn meta_serialise(value: &Value) -> String {
    let plain = value.to_string();
    let mut out = String::with_capacity(plain.len() + 16);
    for c in plain.chars() {
        match c {
            '/' => out.push_str("\\/"),
            c if c.is_ascii() => out.push(c),
            c => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    out
}

/// A person's action, as `/_standin/simulate` takes it.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct SimulatedEvent {
    pub page_id: String,
    pub psid: String,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub postback: Option<String>,
    #[serde(default)]
    pub quick_reply: Option<String>,
    /// Reuse a mid to replay a delivery.
    #[serde(default)]
    pub mid: Option<String>,
    #[serde(default)]
    pub timestamp_ms: Option<i64>,
}

impl SimulatedEvent {
    pub fn text(page_id: &str, psid: &str, text: &str) -> Self {
        SimulatedEvent { page_id: page_id.into(), psid: psid.into(), text: Some(text.into()), ..Default::default() }
    }

    fn delivery(&self, now: i64, fresh_mid: String) -> Value {
        let ts = self.timestamp_ms.unwrap_or(now);
        let mid = self.mid.clone().unwrap_or(fresh_mid);
        let mut item = json!({"sender": {"id": self.psid}, "recipient": {"id": self.page_id}, "timestamp": ts});
        if let Some(payload) = &self.postback {
            item["postback"] = json!({"title": payload, "payload": payload, "mid": mid});
        } else {
            let mut message = json!({"mid": mid, "text": self.text.clone().unwrap_or_default()});
            if let Some(q) = &self.quick_reply {
                message["quick_reply"] = json!({"payload": q});
            }
            item["message"] = message;
        }
        json!({"object": "page", "entry": [{"id": self.page_id, "time": ts, "messaging": [item]}]})
    }
}

pub fn router(state: StandinState) -> Router {
    let control = Router::new()
        .route("/_standin/app", post(control_app))
        .route("/_standin/pages", post(control_page))
        .route("/_standin/revoke", post(control_revoke))
        .route("/_standin/fail", post(control_fail))
        .route("/_standin/behaviour", post(control_behaviour))
        .route("/_standin/sent", get(control_sent))
        .route("/_standin/counters", get(control_counters))
        .route("/_standin/simulate", post(control_simulate))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), require_control_token));
    Router::new()
        .route("/{version}/dialog/oauth", get(dialog))
        .route("/{version}/oauth/access_token", get(access_token))
        .route("/{version}/me/accounts", get(my_accounts))
        .route("/{version}/me/messages", post(send_me))
        .route("/{version}/{id}", get(object))
        .route("/{version}/{id}/messages", post(send_page))
        .route("/{version}/{id}/subscribed_apps", post(subscribe))
        .route("/{version}/{id}/ids_for_pages", get(ids_for_pages))
        .merge(control)
        .with_state(state)
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
    let target =
        format!("{}{separator}code={}&state={}", q.redirect_uri, super::messenger::graph::urlencode(&code), super::messenger::graph::urlencode(&q.state));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialisation_escapes_like_meta() {
        let body = meta_serialise(&json!({"text": "Grüße 👋 a/b"}));
        assert_eq!(body, r#"{"text":"Gr\u00fc\u00dfe \ud83d\udc4b a\/b"}"#);
        let back: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(back["text"], "Grüße 👋 a/b");
    }
}
