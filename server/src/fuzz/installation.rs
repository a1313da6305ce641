//! An installation in memory for the fuzz properties that drive the real
//! paths: the Facebook app set up with the fuzzing secret, and one account
//! with two connected Pages (one the webhook bodies write to, one whose
//! leads hold the issued unsubscribe tokens).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use serde_json::json;
use surrealdb::types::RecordId;
use tokio::runtime::Runtime;
use zeroize::Zeroizing;

use super::{hmac_sha256, SECRET};
use crate::config::{DbAddress, EngineOptions};
use crate::context::{Ctx, Settings};
use crate::crypto::{Crypto, DataKeyStore, Keyring};
use crate::db::ids::{key_string, record};
use crate::db::Database;
use crate::messenger::{deliveries, pages, settings, webhook};

/// The Page the fuzzed webhook bodies write to.
pub const PAGE_ID: &str = "4242000001";
/// The Page whose leads hold the unsubscribe tokens.
pub const TOKEN_PAGE_ID: &str = "4242000002";
const ACCOUNT: &str = "fuzzaccount";

pub struct Installation {
    pub runtime: Runtime,
    pub ctx: Ctx,
    /// The record of `PAGE_ID`.
    pub page: RecordId,
    /// The unsubscribe tokens issued for the leads of `TOKEN_PAGE_ID`.
    pub issued: Vec<String>,
    _keys: tempfile::TempDir,
}

impl Installation {
    pub fn new() -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
        let keys = tempfile::tempdir().expect("a folder for the master key");
        let ctx = runtime.block_on(context(keys.path()));
        let mut installation = Installation { page: record("page", &pages::page_key(&ctx, PAGE_ID)), runtime, ctx, issued: Vec::new(), _keys: keys };
        installation.runtime.block_on(installation.connect_pages());
        installation.issued = installation.runtime.block_on(installation.issue_tokens());
        // Each webhook case starts with no stored or kept delivery.
        installation.runtime.block_on(installation.clear());
        installation
    }

    async fn connect_pages(&self) {
        let ctx = &self.ctx;
        let app = settings::AppSettings {
            app_id: "1".into(),
            app_secret: Zeroizing::new(String::from_utf8(SECRET.to_vec()).expect("ASCII")),
            verify_token: Zeroizing::new("verify".into()),
            // Nobody listens there: profile look-ups after a new lead fail at once.
            graph_base_url: "http://127.0.0.1:1".into(),
            graph_version: "v21.0".into(),
        };
        settings::save(ctx, &app).await.expect("settings saved");
        ctx.db
            .client()
            .query("CREATE $id SET email_index = 'fuzz', email_enc = 'x', password_hash = 'x', role = 'user', email_verified = true, created_at = 0")
            .bind(("id", record("account", ACCOUNT)))
            .await
            .and_then(|r| r.check())
            .expect("the account");
        let key = ctx.crypto.create_account_key(ACCOUNT).await.expect("its key");
        for page_id in [PAGE_ID, TOKEN_PAGE_ID] {
            pages::save(ctx, ACCOUNT, &key, page_id, "Fuzz Page", "token").await.expect("the Page");
        }
    }

    /// Three people write to the token Page; each gets their link's token.
    async fn issue_tokens(&self) -> Vec<String> {
        let mut issued = Vec::new();
        for psid in ["7001", "7002", "7003"] {
            let item =
                json!({"sender": {"id": psid}, "recipient": {"id": TOKEN_PAGE_ID}, "timestamp": 1, "message": {"mid": format!("m{psid}"), "text": "hi"}});
            let body = json!({"object": "page", "entry": [{"id": TOKEN_PAGE_ID, "time": 1, "messaging": [item]}]}).to_string().into_bytes();
            assert_eq!(self.receive(&body, Some(&signature(&body))).await, 200);
            self.apply().await;
            let lead = crate::messenger::ingest::lead_for(&self.ctx, TOKEN_PAGE_ID, psid).await.expect("read").expect("a lead");
            let page: Option<RecordId> =
                self.ctx.db.client().query("SELECT VALUE page FROM ONLY $id").bind(("id", lead.clone())).await.unwrap().take(0).unwrap();
            issued.push(crate::broadcasts::unsubscribe::token(&self.ctx, &key_string(&lead), &key_string(&page.expect("its Page"))));
        }
        issued
    }

    /// What `POST /webhooks/messenger` answers (its status).
    pub async fn receive(&self, body: &[u8], header: Option<&str>) -> u16 {
        let mut request = axum::http::Request::builder().method("POST").uri("/webhooks/messenger");
        // A header a client cannot send (control characters) never reaches the handler.
        if let Some(value) = header.and_then(|h| axum::http::HeaderValue::from_str(h).ok()) {
            request = request.header("x-hub-signature-256", value);
        }
        let request = request.body(Body::from(body.to_vec())).expect("a request");
        webhook::receive(State(self.ctx.clone()), request).await.status().as_u16()
    }

    /// Applies what the webhook stored, as the worker does.
    pub async fn apply(&self) {
        deliveries::apply_pending(&self.ctx, crate::broadcasts::receipts::apply).await.expect("stored deliveries are read");
    }

    /// (stored deliveries, kept signed deliveries, leads of `PAGE_ID`). Not
    /// messages: a keyword's confirmation is written by a task of its own,
    /// which may run during a later case.
    pub async fn counts(&self) -> Vec<i64> {
        self.ctx
            .db
            .client()
            .query("RETURN [count(SELECT id FROM webhook_delivery), count(SELECT id FROM signed_delivery), count(SELECT id FROM lead WHERE page = $page)]")
            .bind(("page", self.page.clone()))
            .await
            .unwrap()
            .take(0)
            .unwrap()
    }

    /// Forgets what one case wrote to `PAGE_ID`.
    pub async fn clear(&self) {
        self.ctx
            .db
            .client()
            .query("DELETE webhook_delivery; DELETE signed_delivery; DELETE message WHERE page = $page; DELETE lead WHERE page = $page; DELETE suppression;")
            .bind(("page", self.page.clone()))
            .await
            .and_then(|r| r.check())
            .expect("cleared");
    }
}

/// `X-Hub-Signature-256` of `body` under the fuzzing secret.
pub fn signature(body: &[u8]) -> String {
    format!("sha256={}", hex::encode(hmac_sha256(SECRET, body)))
}

async fn context(keys: &std::path::Path) -> Ctx {
    let db = Database::open(&DbAddress::Memory, "fuzz", "fuzz", None, &EngineOptions::default()).await.expect("mem:// opens");
    let keyring = Keyring::load(None, None, keys).expect("a master key");
    let crypto = Crypto::open(Arc::new(keyring), db.clone(), DataKeyStore::Database).await.expect("the keys");
    Ctx {
        db,
        crypto,
        clock: Arc::new(crate::clock::SystemClock),
        settings: Arc::new(Settings::default()),
        mail_wakeup: Arc::default(),
        deliveries: Arc::default(),
        memo: Arc::default(),
        instance: "fuzz".into(),
        account_requests: Arc::default(),
        send_gate: Arc::default(),
        inbox_feed: Arc::default(),
    }
}
