//! What the stand-in remembers: Pages, people, tokens, the messages it
//! accepted, its per-Page rate windows and the webhook events it still has
//! to post to the app.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};

use crate::meta::{meta_serialise, now_ms, sign, SimulatedEvent};

#[derive(Clone, Debug)]
pub(crate) struct FakePage {
    pub(crate) name: String,
    pub(crate) token: String,
    pub(crate) revoked: bool,
    pub(crate) subscribed: bool,
    pub(crate) demo: bool,
}

#[derive(Clone, Debug)]
pub(crate) struct Person {
    pub(crate) page_id: String,
    pub(crate) first_name: String,
    pub(crate) last_name: String,
    pub(crate) app_scoped_id: String,
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
pub(crate) struct Inner {
    pub(crate) control_token: String,
    pub(crate) app_secret: Option<String>,
    pub(crate) webhook_url: Option<String>,
    pub(crate) demo: bool,
    pub(crate) pages: HashMap<String, FakePage>,
    pub(crate) people: HashMap<String, Person>,
    pub(crate) user_tokens: HashMap<String, Vec<String>>,
    pub(crate) codes: HashMap<String, Vec<String>>,
    pub(crate) failures: HashMap<String, i64>,
    pub(crate) delay_ms: u64,
    pub(crate) fail_next_5xx: u32,
    pub(crate) rate_per_sec: u32,
    pub(crate) windows: HashMap<String, (i64, u32)>,
    pub(crate) sent: Vec<SentMessage>,
    pub(crate) requests: u64,
    pub(crate) rate_limited: u64,
    pub(crate) counter: u64,
    /// Webhook events waiting to be posted to the app (echoes, deliveries, reads), retried until accepted.
    pub(crate) outbox: Vec<(i64, String, Value)>,
    pub(crate) echoes: bool,
    pub(crate) deliveries: bool,
    /// Every n-th delivered message is also read (0: none).
    pub(crate) read_every: u64,
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

/// 32 random bytes, hex: the control token when none is given.
fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
    hex::encode(bytes)
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
            control_token: config.control_token.unwrap_or_else(random_token),
            rate_per_sec: 300,
            echoes: true,
            deliveries: true,
            read_every: 2,
            ..Inner::default()
        })))
    }

    pub(crate) fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
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
    pub(crate) async fn flush_webhooks(&self, client: &reqwest::Client) {
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

    pub(crate) fn next_id(&self, prefix: &str) -> String {
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
