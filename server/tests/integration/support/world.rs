//! The messenger fixture: a server, a Graph API stand-in wired to it, and a
//! signed-in user with a connected Page. Shared by every test that needs
//! Pages and leads.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use standin::{SimulatedEvent, Standin, StandinConfig};
use zeroize::Zeroizing;

use super::*;

pub const SECRET: &str = "integration-app-secret";
pub const PAGE_ID: &str = "100200300";
pub const PAGE_TOKEN: &str = "page-token-abc";

/// A server, a stand-in wired to it, and a signed-in user with a connected Page.
pub struct World {
    pub server: TestServer,
    pub standin: Standin,
    pub api: Api,
    pub page: String,
    pub email: String,
}

impl World {
    pub async fn start(email: &str) -> World {
        World::start_on(TestServer::start(&[]).await, email).await
    }

    /// As `start`, on a server started by the caller (another engine, other flags).
    pub async fn start_on(server: TestServer, email: &str) -> World {
        let _ = tracing_subscriber::fmt().with_test_writer().with_env_filter("warn,server=info").try_init();
        let webhook = format!("{}/webhooks/messenger", server.base);
        let standin = Standin::start(
            "127.0.0.1:0".parse().unwrap(),
            StandinConfig { app_secret: Some(SECRET.into()), webhook_url: Some(webhook), demo: false, control_token: None },
        )
        .await
        .unwrap();
        let settings = server::messenger::settings::AppSettings {
            app_id: "4242".into(),
            app_secret: Zeroizing::new(SECRET.to_string()),
            verify_token: Zeroizing::new("verify".into()),
            graph_base_url: standin.base_url(),
            graph_version: "v21.0".into(),
        };
        server::messenger::settings::save(server.running.as_ref().unwrap().context(), &settings).await.unwrap();
        standin.state.add_page(PAGE_ID, "Fleur & Co", PAGE_TOKEN);
        let mut api = verified_account(&server, email, STRONG_PASSWORD).await;
        api.login(email, STRONG_PASSWORD, false).await.ok();
        api.post("messenger/connect-page", json!({"page_id": PAGE_ID, "access_token": PAGE_TOKEN})).await.ok();
        let pages = api.get("messenger/pages").await.ok().clone();
        let page = pages["pages"][0]["id"].as_str().unwrap().to_string();
        World { server, standin, api, page, email: email.to_string() }
    }

    /// Moves the clock on; sessions expire meanwhile, so the user signs in again.
    pub async fn advance(&mut self, secs: i64) {
        self.server.clock.advance(secs);
        let email = self.email.clone();
        self.api.login(&email, STRONG_PASSWORD, false).await.ok();
    }

    pub fn ctx(&self) -> &server::context::Ctx {
        self.server.running.as_ref().unwrap().context()
    }

    pub async fn write(&self, psid: &str, text: &str) -> u16 {
        let event = SimulatedEvent { first_name: Some("Ada".into()), last_name: Some(format!("Lovelace {psid}")), ..SimulatedEvent::text(PAGE_ID, psid, text) };
        let status = self.standin.state.simulate(event).await.unwrap().0;
        self.applied().await;
        status
    }

    /// Waits until the webhook's stored deliveries have been applied (or postponed).
    pub async fn applied(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while server::messenger::deliveries::due(self.ctx()).await.unwrap() > 0 {
            assert!(Instant::now() < deadline, "stored webhook deliveries were never applied");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    pub async fn leads(&mut self, filter: Value) -> Value {
        let mut f = json!({"page": self.page, "label": null, "subscribed": null, "window": null, "search": "", "after": null});
        for (k, v) in filter.as_object().unwrap() {
            f[k] = v.clone();
        }
        self.api.post("messenger/leads", json!({"filter": f})).await.ok().clone()
    }

    /// Waits until the profile fetch named the lead.
    pub async fn wait_for_named_lead(&mut self, psid: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let found = self.leads(json!({"search": format!("Lovelace {psid}")})).await;
            if let Some(id) = found["leads"][0]["id"].as_str() {
                return id.to_string();
            }
            assert!(Instant::now() < deadline, "lead {psid} never got its name");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn wait_for_sent(&self, count: usize) -> Vec<standin::SentMessage> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let sent = self.standin.state.sent();
            if sent.len() >= count {
                return sent;
            }
            assert!(Instant::now() < deadline, "the stand-in got {} messages, expected {count}", sent.len());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Meta's `signed_request`, as its data-deletion callback sends it.
pub fn signed_request(secret: &str, user_id: &str, issued_at: i64) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    use hmac::Mac;
    let payload = URL_SAFE_NO_PAD.encode(json!({"algorithm": "HMAC-SHA256", "issued_at": issued_at, "expires": 0, "user_id": user_id}).to_string());
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(payload.as_bytes());
    format!("{}.{payload}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
}
