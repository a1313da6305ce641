//! Meta's signatures: `X-Hub-Signature-256` over a webhook's raw body, and
//! the `signed_request` of the Data Deletion Request Callback. Both are
//! HMAC-SHA256 under the App Secret, compared in constant time.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// True when `header` is `sha256=<hex HMAC of the raw body>` under `app_secret`.
/// The raw bytes are checked as received: Meta signs its own serialisation.
pub fn webhook_signature_valid(app_secret: &[u8], raw_body: &[u8], header: &str) -> bool {
    let Some(hex_sig) = header.trim().strip_prefix("sha256=") else { return false };
    let Ok(expected) = hex::decode(hex_sig) else { return false };
    let mut mac = HmacSha256::new_from_slice(app_secret).expect("HMAC takes any key length");
    mac.update(raw_body);
    mac.verify_slice(&expected).is_ok()
}

/// How old a `signed_request` may be: Meta calls the deletion callback at
/// once, so a day-old one is a replay.
const SIGNED_REQUEST_MAX_AGE_SECS: i64 = 86_400;
/// How far in the future its `issued_at` may lie (clocks differ a little).
const SIGNED_REQUEST_MAX_SKEW_SECS: i64 = 300;

/// The `user_id` of a valid `signed_request` (`<b64url sig>.<b64url payload>`,
/// signed over the still-encoded payload) issued in the last day (by `now`), or None.
pub fn signed_request_user(app_secret: &[u8], signed_request: &str, now: i64) -> Option<String> {
    let (sig_part, payload_part) = signed_request.trim().split_once('.')?;
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let signature = engine.decode(sig_part.trim_end_matches('=')).ok()?;
    let mut mac = HmacSha256::new_from_slice(app_secret).expect("HMAC takes any key length");
    mac.update(payload_part.as_bytes());
    mac.verify_slice(&signature).ok()?;
    let payload: serde_json::Value = serde_json::from_slice(&engine.decode(payload_part.trim_end_matches('=')).ok()?).ok()?;
    if !payload["algorithm"].as_str().is_some_and(|a| a.eq_ignore_ascii_case("HMAC-SHA256")) {
        return None;
    }
    let issued_at = payload["issued_at"].as_i64()?;
    if issued_at < now - SIGNED_REQUEST_MAX_AGE_SECS || issued_at > now + SIGNED_REQUEST_MAX_SKEW_SECS {
        return None;
    }
    // Meta's ids are digits, as a string or a whole number; anything else is malformed.
    match &payload["user_id"] {
        serde_json::Value::String(s) if !s.is_empty() => Some(s.clone()),
        serde_json::Value::Number(n) => n.as_u64().map(|id| id.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The independent vectors in `server/tests/vectors/` (made with Python's hmac).
    fn vectors() -> serde_json::Value {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/messenger.json");
        serde_json::from_str(&std::fs::read_to_string(path).expect("the vectors are in the repository")).unwrap()
    }

    #[test]
    fn webhook_vectors_are_accepted_or_rejected_as_stated() {
        let v = vectors();
        let secret = v["app_secret"].as_str().unwrap().as_bytes();
        let cases = v["webhook"].as_array().unwrap();
        assert!(cases.len() >= 6);
        for case in cases {
            let body = base64::engine::general_purpose::STANDARD.decode(case["body_b64"].as_str().unwrap()).unwrap();
            let header = case["x_hub_signature_256"].as_str().unwrap();
            assert_eq!(webhook_signature_valid(secret, &body, header), case["valid"].as_bool().unwrap(), "{}", case["name"]);
        }
    }

    #[test]
    fn malformed_signature_headers_are_rejected() {
        assert!(!webhook_signature_valid(b"s", b"{}", ""));
        assert!(!webhook_signature_valid(b"s", b"{}", "sha1=abcd"));
        assert!(!webhook_signature_valid(b"s", b"{}", "sha256=not-hex"));
        assert!(!webhook_signature_valid(b"s", b"{}", "sha256=00"));
    }

    #[test]
    fn signed_request_vectors_yield_the_user_or_nothing() {
        let v = vectors();
        let secret = v["app_secret"].as_str().unwrap().as_bytes();
        // The vectors were issued at 1764400000.
        let now = 1_764_400_000 + 60;
        for case in v["signed_request"].as_array().unwrap() {
            let user = signed_request_user(secret, case["signed_request"].as_str().unwrap(), now);
            if case["valid"].as_bool().unwrap() {
                assert_eq!(user.as_deref(), case["user_id"].as_str(), "{}", case["name"]);
            } else {
                assert_eq!(user, None, "{}", case["name"]);
            }
        }
        assert_eq!(signed_request_user(secret, "no-dot", now), None);
    }

    #[test]
    fn a_signed_request_older_than_a_day_or_from_the_future_is_refused() {
        let v = vectors();
        let secret = v["app_secret"].as_str().unwrap().as_bytes();
        let valid = v["signed_request"][0]["signed_request"].as_str().unwrap();
        let issued = 1_764_400_000;
        assert!(signed_request_user(secret, valid, issued + 86_400).is_some(), "a day old at most");
        assert_eq!(signed_request_user(secret, valid, issued + 86_401), None, "stale");
        assert!(signed_request_user(secret, valid, issued - 300).is_some(), "a little clock skew");
        assert_eq!(signed_request_user(secret, valid, issued - 301), None, "issued in the future");
    }
}
