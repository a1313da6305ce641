//! The one Graph API client. Every call to Meta goes through here, to a
//! configurable base URL (the local stand-in in tests and demo mode).
//! Tokens travel in the `Authorization` header, never in a logged URL, and
//! errors keep only Meta's codes: their messages may quote personal data.

use std::sync::OnceLock;
use std::time::Duration;

use serde_json::{json, Value};

use super::settings::AppSettings;

const TIMEOUT: Duration = Duration::from_secs(15);

/// The subscriptions the app asks for on every Page.
pub const SUBSCRIBED_FIELDS: &str = "messages,messaging_postbacks,messaging_optins,message_deliveries,message_reads,message_echoes";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GraphError {
    #[error("Graph API error {code} (subcode {subcode:?})")]
    Api { code: i64, subcode: Option<i64>, http_status: u16 },
    #[error("Graph API answered HTTP {0} without an error body")]
    Http(u16),
    #[error("Graph API request timed out")]
    Timeout,
    #[error("Graph API unreachable: {0}")]
    Transport(String),
    #[error("Graph API answered in an unexpected shape")]
    Malformed,
    /// The stored base URL is not one `settings::graph_base_url_allowed` accepts: no call was made.
    #[error("the stored Graph API base URL is refused; no call was made")]
    BaseUrlRefused,
}

impl From<GraphError> for crate::error::Error {
    fn from(e: GraphError) -> Self {
        crate::error::Error::Facebook(Box::new(e))
    }
}

/// What to do about an error, per Meta's table in `messenger-platform.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// 551: the person is not available; stop sending to them.
    Unavailable,
    /// 10: outside the allowed window; never retry.
    OutsideWindow,
    /// 613: rate limited; back off, then retry.
    RateLimited,
    /// 100: a bug in the request; do not retry.
    InvalidRequest,
    /// 190: the token is invalid; ask the owner to reconnect the Page.
    TokenInvalid,
    /// 2, 1200, HTTP 5xx, timeouts: retry with backoff.
    Temporary,
    Other,
}

impl GraphError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            GraphError::Api { code: 551, .. } => ErrorKind::Unavailable,
            GraphError::Api { code: 10, .. } => ErrorKind::OutsideWindow,
            GraphError::Api { code: 613 | 4 | 32, .. } => ErrorKind::RateLimited,
            GraphError::Api { code: 100, .. } => ErrorKind::InvalidRequest,
            GraphError::Api { code: 190, .. } => ErrorKind::TokenInvalid,
            GraphError::Api { code: 2 | 1200, .. } => ErrorKind::Temporary,
            GraphError::Api { http_status, .. } if *http_status >= 500 => ErrorKind::Temporary,
            GraphError::Http(status) if *status >= 500 => ErrorKind::Temporary,
            GraphError::Timeout | GraphError::Transport(_) => ErrorKind::Temporary,
            GraphError::Api { .. } | GraphError::Http(_) | GraphError::Malformed | GraphError::BaseUrlRefused => ErrorKind::Other,
        }
    }
}

fn http() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .timeout(TIMEOUT)
            .connect_timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(64)
            .build()
            .expect("the HTTP client builds with static settings")
    })
}

/// A Page as `/me/accounts` lists it.
#[derive(Debug, Clone)]
pub struct ListedPage {
    pub id: String,
    pub name: String,
    pub access_token: String,
}

#[derive(Debug, Clone)]
pub struct Graph {
    /// None when the stored address is refused: every call then fails before it is made.
    base: Option<String>,
    version: String,
}

impl Graph {
    /// The client for the stored settings. Their base URL is checked here
    /// again, not only when it was saved: an earlier release stored it with
    /// a weaker check.
    pub fn new(settings: &AppSettings) -> Self {
        let base = settings.graph_base_url.as_str();
        let base = if super::settings::graph_base_url_allowed(base) {
            Some(base.trim_end_matches('/').to_string())
        } else {
            tracing::error!("{}", super::settings::GRAPH_BASE_URL_REFUSED);
            None
        };
        Graph { base, version: settings.graph_version.clone() }
    }

    fn base(&self) -> Result<&str, GraphError> {
        self.base.as_deref().ok_or(GraphError::BaseUrlRefused)
    }

    fn url(&self, path: &str) -> Result<String, GraphError> {
        Ok(format!("{}/{}/{}", self.base()?, self.version, path.trim_start_matches('/')))
    }

    /// Where Facebook Login starts: Meta's dialog lives on www.facebook.com;
    /// a stand-in serves it itself.
    pub fn dialog_url(&self, app_id: &str, redirect_uri: &str, state: &str) -> Result<String, GraphError> {
        let base = self.base()?;
        let host = if base == "https://graph.facebook.com" { "https://www.facebook.com" } else { base };
        let query =
            [("client_id", app_id), ("redirect_uri", redirect_uri), ("state", state), ("scope", "pages_show_list,pages_messaging,pages_manage_metadata")];
        let encoded: Vec<String> = query.iter().map(|(k, v)| format!("{k}={}", urlencode(v))).collect();
        Ok(format!("{host}/{}/dialog/oauth?{}", self.version, encoded.join("&")))
    }

    async fn call(&self, request: reqwest::RequestBuilder) -> Result<Value, GraphError> {
        let response =
            request.send().await.map_err(|e| if e.is_timeout() { GraphError::Timeout } else { GraphError::Transport(e.without_url().to_string()) })?;
        let status = response.status().as_u16();
        let body: Option<Value> = response.json().await.ok();
        if let Some(error) = body.as_ref().and_then(|b| b.get("error")) {
            return Err(GraphError::Api { code: error["code"].as_i64().unwrap_or(0), subcode: error["error_subcode"].as_i64(), http_status: status });
        }
        if status >= 400 {
            return Err(GraphError::Http(status));
        }
        body.ok_or(GraphError::Malformed)
    }

    /// Send API: returns Meta's `message_id`.
    pub async fn send(&self, page_id: &str, token: &str, body: &Value) -> Result<String, GraphError> {
        let answer = self.call(http().post(self.url(&format!("{page_id}/messages"))?).bearer_auth(token).json(body)).await?;
        answer["message_id"].as_str().map(str::to_string).ok_or(GraphError::Malformed)
    }

    /// Page check: the Page's id and name, if the token belongs to it.
    pub async fn page(&self, page_id: &str, token: &str) -> Result<(String, String), GraphError> {
        let answer = self.call(http().get(self.url(page_id)?).query(&[("fields", "id,name")]).bearer_auth(token)).await?;
        match (answer["id"].as_str(), answer["name"].as_str()) {
            (Some(id), Some(name)) => Ok((id.to_string(), name.to_string())),
            _ => Err(GraphError::Malformed),
        }
    }

    /// User profile: first and last name, where the Page may read them.
    pub async fn profile(&self, psid: &str, token: &str) -> Result<(Option<String>, Option<String>), GraphError> {
        let answer = self.call(http().get(self.url(psid)?).query(&[("fields", "first_name,last_name")]).bearer_auth(token)).await?;
        Ok((answer["first_name"].as_str().map(str::to_string), answer["last_name"].as_str().map(str::to_string)))
    }

    /// Facebook Login: exchanges the `code` for a user access token.
    pub async fn exchange_code(&self, app: &AppSettings, redirect_uri: &str, code: &str) -> Result<String, GraphError> {
        let query = [("client_id", app.app_id.as_str()), ("redirect_uri", redirect_uri), ("client_secret", app.app_secret.as_str()), ("code", code)];
        let answer = self.call(http().get(self.url("oauth/access_token")?).query(&query)).await?;
        answer["access_token"].as_str().map(str::to_string).ok_or(GraphError::Malformed)
    }

    /// The Pages the user manages, each with its Page token.
    pub async fn my_pages(&self, user_token: &str) -> Result<Vec<ListedPage>, GraphError> {
        let answer = self.call(http().get(self.url("me/accounts")?).bearer_auth(user_token)).await?;
        let data = answer["data"].as_array().ok_or(GraphError::Malformed)?;
        Ok(data
            .iter()
            .filter_map(|p| {
                Some(ListedPage {
                    id: p["id"].as_str()?.to_string(),
                    name: p["name"].as_str()?.to_string(),
                    access_token: p["access_token"].as_str()?.to_string(),
                })
            })
            .collect())
    }

    /// Subscribes the app to the Page's webhook events.
    pub async fn subscribe_app(&self, page_id: &str, token: &str) -> Result<(), GraphError> {
        let url = self.url(&format!("{page_id}/subscribed_apps"))?;
        let answer = self.call(http().post(url).query(&[("subscribed_fields", SUBSCRIBED_FIELDS)]).bearer_auth(token)).await?;
        if answer["success"].as_bool() == Some(true) {
            Ok(())
        } else {
            Err(GraphError::Malformed)
        }
    }

    /// The Page-scoped ids of an app-scoped user (for the data-deletion callback),
    /// with the app token `app_id|app_secret`.
    pub async fn ids_for_pages(&self, app: &AppSettings, app_scoped_id: &str) -> Result<Vec<(String, String)>, GraphError> {
        let app_token = format!("{}|{}", app.app_id, app.app_secret.as_str());
        let answer = self.call(http().get(self.url(&format!("{app_scoped_id}/ids_for_pages"))?).bearer_auth(app_token)).await?;
        let data = answer["data"].as_array().ok_or(GraphError::Malformed)?;
        Ok(data.iter().filter_map(|m| Some((m["id"].as_str()?.to_string(), m["page"]["id"].as_str()?.to_string()))).collect())
    }
}

/// The Send API body for a text message.
pub fn text_message(psid: &str, text: &str, messaging_type: &str, tag: Option<&str>) -> Value {
    let mut body = json!({"recipient": {"id": psid}, "messaging_type": messaging_type, "message": {"text": text}});
    if let Some(tag) = tag {
        body["tag"] = json!(tag);
    }
    body
}

pub fn urlencode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_classified_as_meta_documents_them() {
        let api = |code, http_status| GraphError::Api { code, subcode: None, http_status };
        assert_eq!(api(551, 400).kind(), ErrorKind::Unavailable);
        assert_eq!(api(10, 400).kind(), ErrorKind::OutsideWindow);
        assert_eq!(api(613, 400).kind(), ErrorKind::RateLimited);
        assert_eq!(api(100, 400).kind(), ErrorKind::InvalidRequest);
        assert_eq!(api(190, 400).kind(), ErrorKind::TokenInvalid);
        assert_eq!(api(2, 500).kind(), ErrorKind::Temporary);
        assert_eq!(api(1200, 400).kind(), ErrorKind::Temporary);
        assert_eq!(GraphError::Http(503).kind(), ErrorKind::Temporary);
        assert_eq!(GraphError::Timeout.kind(), ErrorKind::Temporary);
        assert_eq!(GraphError::Http(404).kind(), ErrorKind::Other);
    }

    #[test]
    fn the_dialog_goes_to_facebook_or_to_the_stand_in() {
        let mut s = AppSettings {
            app_id: "42".into(),
            app_secret: Default::default(),
            verify_token: Default::default(),
            graph_base_url: "https://graph.facebook.com".into(),
            graph_version: "v21.0".into(),
        };
        let url = Graph::new(&s).dialog_url("42", "https://x.example/pages/facebook", "st ate").unwrap();
        assert!(url.starts_with("https://www.facebook.com/v21.0/dialog/oauth?client_id=42&redirect_uri=https%3A%2F%2Fx.example"), "{url}");
        assert!(url.contains("state=st%20ate"));
        s.graph_base_url = "http://127.0.0.1:9".into();
        assert!(Graph::new(&s).dialog_url("42", "r", "s").unwrap().starts_with("http://127.0.0.1:9/v21.0/dialog/oauth?"));
    }

    /// What is logged while `run` runs on this thread.
    fn logged(run: impl FnOnce()) -> String {
        #[derive(Clone, Default)]
        struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
        impl std::io::Write for Captured {
            fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(bytes);
                Ok(bytes.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt().with_writer(move || writer.clone()).with_ansi(false).finish();
        tracing::subscriber::with_default(subscriber, run);
        let bytes = captured.0.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn a_stored_base_url_that_is_not_allowed_is_refused_when_used_with_a_line_for_the_operator_and_no_call_goes_out() {
        // A listener that would take the call if one were made: the URL parser drops the tab.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        for stored in [format!("http://127.0.0.1:{port}/\t"), format!("http://127.0.\n0.1:{port}"), "http://localhost.evil.tld".to_string()] {
            let settings = AppSettings {
                app_id: "42".into(),
                app_secret: zeroize::Zeroizing::new("s".into()),
                verify_token: Default::default(),
                graph_base_url: stored.clone(),
                graph_version: "v21.0".into(),
            };
            let mut graph = None;
            let log = logged(|| graph = Some(Graph::new(&settings)));
            assert!(log.contains("ERROR") && log.contains("Graph API base URL is refused"), "{stored:?}: {log}");
            assert!(!log.contains("127.0.0.1") && !log.contains("evil"), "the address itself is not logged: {log}");
            let graph = graph.unwrap();
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async {
                assert_eq!(graph.send("1", "token", &text_message("p", "hi", "RESPONSE", None)).await, Err(GraphError::BaseUrlRefused));
                assert_eq!(graph.page("1", "token").await, Err(GraphError::BaseUrlRefused));
                assert_eq!(graph.profile("p", "token").await, Err(GraphError::BaseUrlRefused));
                assert_eq!(graph.my_pages("token").await.map(|p| p.len()), Err(GraphError::BaseUrlRefused));
                assert_eq!(graph.subscribe_app("1", "token").await, Err(GraphError::BaseUrlRefused));
                assert_eq!(graph.exchange_code(&settings, "r", "c").await, Err(GraphError::BaseUrlRefused));
                assert_eq!(graph.ids_for_pages(&settings, "a").await, Err(GraphError::BaseUrlRefused));
            });
            assert_eq!(graph.dialog_url("42", "r", "s"), Err(GraphError::BaseUrlRefused), "the browser is not sent there either");
            assert!(listener.accept().is_err_and(|e| e.kind() == std::io::ErrorKind::WouldBlock), "{stored:?}: a call went out");
        }
    }
}
