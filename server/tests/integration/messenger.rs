//! The Messenger webhook endpoint, checked with the independent vectors.

use base64::Engine as _;
use serde_json::Value;
use zeroize::Zeroizing;

use super::support::*;

fn vectors() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/test-vectors/messenger.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

async fn configured(server: &TestServer, secret: &str) {
    let settings = server::messenger::settings::AppSettings {
        app_id: "123".into(),
        app_secret: Zeroizing::new(secret.to_string()),
        verify_token: Zeroizing::new("verify-me-please".into()),
        graph_base_url: "http://127.0.0.1:1".into(),
        graph_version: "v21.0".into(),
    };
    server::messenger::settings::save(server.running.as_ref().unwrap().context(), &settings).await.unwrap();
}

#[tokio::test]
async fn the_webhook_verifies_signatures_and_never_answers_5xx() {
    let server = TestServer::start(&[]).await;
    let v = vectors();
    let url = format!("{}/webhooks/messenger", server.base);
    let http = http_client();

    // Not configured yet: refused.
    let r = http.get(format!("{url}?hub.mode=subscribe&hub.verify_token=x&hub.challenge=1")).send().await.unwrap();
    assert_eq!(r.status(), 403);
    configured(&server, v["app_secret"].as_str().unwrap()).await;

    let r = http.get(format!("{url}?hub.mode=subscribe&hub.verify_token=verify-me-please&hub.challenge=CHALLENGE_42")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "CHALLENGE_42");
    for bad in ["hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1", "hub.mode=unsubscribe&hub.verify_token=verify-me-please&hub.challenge=1"] {
        assert_eq!(http.get(format!("{url}?{bad}")).send().await.unwrap().status(), 403, "{bad}");
    }

    for case in v["webhook"].as_array().unwrap() {
        let body = base64::engine::general_purpose::STANDARD.decode(case["body_b64"].as_str().unwrap()).unwrap();
        let r = http.post(&url).header("x-hub-signature-256", case["x_hub_signature_256"].as_str().unwrap()).body(body).send().await.unwrap();
        let expected = if case["valid"].as_bool().unwrap() { 200 } else { 403 };
        assert_eq!(r.status(), expected, "{}", case["name"]);
        if expected == 200 {
            assert_eq!(r.text().await.unwrap(), "EVENT_RECEIVED");
        }
    }

    let secret = v["app_secret"].as_str().unwrap().as_bytes();
    let sign = |body: &[u8]| {
        use hmac::Mac;
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret).unwrap();
        mac.update(body);
        format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
    };
    let r = http.post(&url).body("{}").send().await.unwrap();
    assert_eq!(r.status(), 403, "no signature");
    let malformed = b"{not json".to_vec();
    let r = http.post(&url).header("x-hub-signature-256", sign(&malformed)).body(malformed).send().await.unwrap();
    assert_eq!(r.status(), 400, "signed but malformed");
    let huge = vec![b' '; 1024 * 1024 + 1];
    let r = http.post(&url).header("x-hub-signature-256", sign(&huge)).body(huge).send().await.unwrap();
    assert_eq!(r.status(), 413);
    server.stop().await;
}
