//! Meta's wire shapes: Graph API errors, signatures, Meta's JSON escaping
//! and the webhook delivery of a simulated person's action.

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

pub(crate) fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

pub(crate) fn graph_error(code: i64, subcode: Option<i64>, message: &str, status: StatusCode) -> Response {
    let mut error = json!({"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AStandInTrace"});
    if let Some(sub) = subcode {
        error["error_subcode"] = json!(sub);
    }
    if code == 2 {
        error["is_transient"] = json!(true);
    }
    (status, Json(json!({ "error": error }))).into_response()
}

pub(crate) fn invalid_token() -> Response {
    graph_error(190, Some(460), "Error validating access token: The session has been invalidated.", StatusCode::BAD_REQUEST)
}

pub(crate) fn bearer(headers: &HeaderMap, query: &HashMap<String, String>) -> Option<String> {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_string)
        .or_else(|| query.get("access_token").cloned())
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

    pub(crate) fn delivery(&self, now: i64, fresh_mid: String) -> Value {
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
