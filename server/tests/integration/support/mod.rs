//! Helpers: a server on random ports, a small API client that keeps its own
//! cookie, and a reader for the `.eml` files of the file mail transport.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use serde_json::{json, Value};
use server::clock::ManualClock;
use server::config::Cli;

mod world;
pub use world::*;

pub const STRONG_PASSWORD: &str = "velvet tractor orbit 7 lagoon";
pub const OTHER_STRONG_PASSWORD: &str = "copper whistle meadow 42 canyon";

pub struct TestServer {
    pub root: tempfile::TempDir,
    pub running: Option<server::RunningServer>,
    pub clock: Arc<ManualClock>,
    pub base: String,
}

impl TestServer {
    pub async fn start(extra: &[&str]) -> Self {
        let root = tempfile::tempdir().unwrap();
        Self::start_in(root, extra).await
    }

    pub async fn start_in(root: tempfile::TempDir, extra: &[&str]) -> Self {
        let data = root.path().join("data");
        let mut args = vec!["server", "--port", "0", "--no-http-redirect", "--data-dir", data.to_str().unwrap()];
        if !extra.contains(&"--db") {
            args.extend(["--db", "mem://"]);
        }
        args.extend(extra);
        let config = Cli::try_parse_from(args).expect("valid flags").serve;
        let clock = ManualClock::starting_now();
        let running = server::start_with_clock(&config, clock.clone()).await.expect("server starts");
        let base = format!("https://localhost:{}", running.app_addr.port());
        TestServer { root, running: Some(running), clock, base }
    }

    pub fn data_dir(&self) -> PathBuf {
        self.root.path().join("data")
    }

    pub fn client(&self) -> Api {
        Api { base: self.base.clone(), http: http_client(), cookie: None }
    }

    pub fn mail_dir(&self) -> PathBuf {
        self.data_dir().join("mail")
    }

    pub fn clock_now(&self) -> i64 {
        use server::clock::Clock;
        self.clock.now()
    }

    /// Runs the retention purge now, as the hourly job would.
    pub async fn purge_now(&self) {
        self.running.as_ref().unwrap().purge_expired().await;
    }

    pub async fn stop(mut self) -> tempfile::TempDir {
        if let Some(running) = self.running.take() {
            running.shutdown(Duration::from_secs(5)).await.expect("clean shutdown");
        }
        self.root
    }
}

pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder().danger_accept_invalid_certs(true).redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn ok(&self) -> &Value {
        assert_eq!(self.status, 200, "expected success, got {} {}", self.status, self.body);
        &self.body
    }

    /// The server-function error, e.g. "InvalidCredentials" or {"WeakPassword": {...}}.
    pub fn error(&self) -> &Value {
        assert_ne!(self.status, 200, "expected an error, got {}", self.body);
        &self.body
    }

    pub fn set_cookies(&self) -> Vec<String> {
        self.headers.get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_string()).collect()
    }
}

pub struct Api {
    pub base: String,
    pub http: reqwest::Client,
    /// `name=value` of the session cookie, kept like a browser would.
    pub cookie: Option<String>,
}

impl Api {
    async fn finish(&mut self, response: reqwest::Response) -> Reply {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        for set in headers.get_all("set-cookie") {
            let set = set.to_str().unwrap();
            // Only the session is kept: a test sends the sign-up cookie itself.
            if set.starts_with(server::sessions::SIGNUP_COOKIE_NAME) {
                continue;
            }
            let pair = set.split(';').next().unwrap().trim().to_string();
            if set.contains("Max-Age=0") || pair.ends_with('=') {
                self.cookie = None;
            } else {
                self.cookie = Some(pair);
            }
        }
        let text = response.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Reply { status, headers, body }
    }

    pub async fn post(&mut self, endpoint: &str, args: Value) -> Reply {
        let mut request = self
            .http
            .post(format!("{}/api/{endpoint}", self.base))
            .header("origin", &self.base)
            .header("user-agent", "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0 Safari/537.36")
            .json(&args);
        if let Some(cookie) = &self.cookie {
            request = request.header("cookie", cookie);
        }
        let response = request.send().await.unwrap();
        self.finish(response).await
    }

    pub async fn get(&mut self, endpoint: &str) -> Reply {
        let mut request = self.http.get(format!("{}/api/{endpoint}", self.base));
        if let Some(cookie) = &self.cookie {
            request = request.header("cookie", cookie);
        }
        let response = request.send().await.unwrap();
        self.finish(response).await
    }

    /// Registers with the box ticked for the policy versions the form shows.
    pub async fn register(&mut self, email: &str, password: &str, name: Option<&str>) -> Reply {
        let shown = self.shown_policies().await;
        self.post("auth/register", json!({"input": {"email": email, "password": password, "display_name": name, "accepted": shown}})).await
    }

    /// The `{document, version}` pairs the sign-up form shows.
    pub async fn shown_policies(&mut self) -> Value {
        let current = self.get("privacy/policies").await.ok().clone();
        current.as_array().expect("a list of policies").iter().map(|p| json!({"document": p["document"], "version": p["version"]})).collect()
    }

    pub async fn login(&mut self, email: &str, password: &str, keep: bool) -> Reply {
        self.post("auth/login", json!({"input": {"email": email, "password": password, "keep_signed_in": keep}})).await
    }

    /// Accepts the pending policy versions the server shows this user, as the gate's button does.
    pub async fn accept_shown_policies(&mut self) -> Reply {
        let me = self.me().await;
        let shown: Vec<Value> =
            me["pending_policies"].as_array().into_iter().flatten().map(|c| json!({"document": c["document"], "version": c["version"]})).collect();
        self.post("privacy/accept-policies", json!({"shown": shown})).await
    }

    pub async fn me(&mut self) -> Value {
        self.get("auth/me").await.ok().clone()
    }
}

/// Waits for a mail to `to` whose subject contains `subject`, and returns its text.
pub async fn wait_for_mail(dir: &Path, to: &str, subject: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(text) = find_mail(dir, to, subject) {
            return text;
        }
        assert!(Instant::now() < deadline, "no mail to {to} with subject containing {subject:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub fn find_mail(dir: &Path, to: &str, subject: &str) -> Option<String> {
    let entries = std::fs::read_dir(dir).ok()?;
    entries
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .find(|text| text.lines().any(|l| l.starts_with("To:") && l.contains(to)) && text.lines().any(|l| l.starts_with("Subject:") && l.contains(subject)))
}

pub fn count_mails(dir: &Path, to: &str) -> usize {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .filter_map(|e| std::fs::read_to_string(e.path()).ok())
                .filter(|text| text.lines().any(|l| l.starts_with("To:") && l.contains(to)))
                .count()
        })
        .unwrap_or(0)
}

/// The token of the first `?token=` link in a mail.
pub fn link_token(mail: &str) -> String {
    let start = mail.find("token=").expect("a link with a token") + "token=".len();
    mail[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect()
}

/// Registers and verifies an account, returning a client that is not signed in.
pub async fn verified_account(server: &TestServer, email: &str, password: &str) -> Api {
    let mut api = server.client();
    api.register(email, password, None).await.ok();
    let mail = wait_for_mail(&server.mail_dir(), email, "verify").await;
    api.post("auth/verify-email", json!({"token": link_token(&mail)})).await.ok();
    api
}

/// The record of the account with this email (looked up by its blind index).
pub async fn account_record(server: &TestServer, email: &str) -> surrealdb::types::RecordId {
    find_account(server, email).await.expect("an account with this email")
}

pub async fn find_account(server: &TestServer, email: &str) -> Option<surrealdb::types::RecordId> {
    let running = server.running.as_ref().unwrap();
    running
        .db
        .client()
        .query("SELECT VALUE id FROM ONLY account WHERE email_index = $i LIMIT 1")
        .bind(("i", running.email_index(email)))
        .await
        .unwrap()
        .take(0)
        .unwrap()
}

/// The key of the account with this email.
pub async fn account_id(server: &TestServer, email: &str) -> String {
    server::db::ids::key_string(&account_record(server, email).await)
}
