//! The webhook's whole path, on arbitrary bodies: `POST /webhooks/messenger`
//! (signature check, parse, store with the people it names), then the
//! worker (ingest, new leads, the kept signed body). Nothing panics, nothing
//! is stored without a valid `X-Hub-Signature-256`, a delivery stored is
//! applied, and a kept body is exactly the bytes that were signed and lists
//! every lead it made.

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::{json, Map, Value};
use surrealdb::types::RecordId;

use super::installation::{signature, Installation, PAGE_ID};
use super::{hmac_sha256, json_value, key};

/// How a fuzzed request is signed.
#[derive(Debug, Clone)]
pub enum Signing {
    Valid,
    Missing,
    /// Any header text.
    Header(String),
    /// The valid HMAC under another secret.
    OtherSecret,
    /// The valid signature with one of its hex digits changed.
    AlteredSignature(usize),
    /// Signed, then one byte of the body changed.
    AlteredBody(usize),
}

pub fn signing() -> impl Strategy<Value = Signing> {
    prop_oneof![
        4 => Just(Signing::Valid),
        1 => Just(Signing::Missing),
        1 => "(sha256=)?[0-9a-fA-F]{0,70}|.{0,80}".prop_map(Signing::Header),
        1 => Just(Signing::OtherSecret),
        1 => any::<usize>().prop_map(Signing::AlteredSignature),
        1 => any::<usize>().prop_map(Signing::AlteredBody),
    ]
}

/// A Messenger event about a person, with random content in its slots.
fn person_event() -> impl Strategy<Value = Value> {
    let psid = prop_oneof![4 => "[0-9]{1,17}".prop_map(Value::String), 1 => json_value()];
    let text = prop_oneof![".{0,40}", "(STOP|stop|START|unsubscribe|arrêt| )+"];
    let kind = prop::sample::select(vec!["message", "echo", "quick_reply", "attachment", "postback", "optin", "read", "delivery"]);
    (psid, text, kind, prop::option::of("[a-z0-9_.]{1,20}"), any::<i64>(), json_value()).prop_map(|(psid, text, kind, mid, timestamp, noise)| {
        let page = json!({"id": PAGE_ID});
        let (sender, recipient) = if kind == "echo" { (page, json!({"id": psid})) } else { (json!({"id": psid}), page) };
        let mut item = json!({"sender": sender, "recipient": recipient, "timestamp": timestamp});
        item[kind_field(kind)] = match kind {
            "echo" => json!({"mid": mid, "text": text, "is_echo": true, "metadata": noise}),
            "quick_reply" => json!({"mid": mid, "text": text, "quick_reply": {"payload": noise}}),
            "attachment" => json!({"mid": mid, "attachments": [{"type": text, "payload": noise}]}),
            "postback" => json!({"mid": mid, "title": text, "payload": noise}),
            "optin" => json!({"ref": text, "type": noise}),
            "read" => json!({"watermark": timestamp}),
            "delivery" => json!({"mids": [mid, noise], "watermark": timestamp}),
            _ => json!({"mid": mid, "text": text}),
        };
        item
    })
}

fn kind_field(kind: &str) -> &str {
    match kind {
        "echo" | "quick_reply" | "attachment" => "message",
        other => other,
    }
}

/// A random object with the Messenger payloads' keys.
fn noise_item() -> impl Strategy<Value = Value> {
    prop::collection::vec((key(), json_value()), 0..6).prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>()))
}

fn item() -> impl Strategy<Value = Value> {
    prop_oneof![3 => person_event(), 1 => noise_item()]
}

/// A delivery shaped like Meta's: entries for our Page or any other id.
fn delivery() -> impl Strategy<Value = Value> {
    let page = prop_oneof![3 => Just(json!(PAGE_ID)), 1 => Just(json!(4242000001_u64)), 1 => json_value()];
    let entry = (page, prop::collection::vec(item(), 0..4), prop::collection::vec(item(), 0..2))
        .prop_map(|(id, messaging, standby)| json!({"id": id, "time": 1, "messaging": messaging, "standby": standby}));
    prop::collection::vec(entry, 0..3).prop_map(|entries| json!({"object": "page", "entry": entries}))
}

/// Bodies: Meta-shaped deliveries as Meta or as anyone serialises them, any
/// JSON, any bytes.
pub fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => delivery().prop_map(|d| standin::meta_serialise(&d).into_bytes()),
        1 => delivery().prop_map(|d| d.to_string().into_bytes()),
        1 => json_value().prop_map(|v| v.to_string().into_bytes()),
        1 => prop::collection::vec(any::<u8>(), 0..256),
    ]
}

/// The request as sent: the body and the header, after any alteration.
fn request(body: Vec<u8>, signing: &Signing) -> (Vec<u8>, Option<String>) {
    let valid = signature(&body);
    match signing {
        Signing::Valid => (body, Some(valid)),
        Signing::Missing => (body, None),
        Signing::Header(header) => (body, Some(header.clone())),
        Signing::OtherSecret => {
            let other = format!("sha256={}", hex::encode(hmac_sha256(b"another-secret", &body)));
            (body, Some(other))
        }
        Signing::AlteredSignature(at) => {
            let mut altered = valid.into_bytes();
            let at = 7 + at % (altered.len() - 7);
            altered[at] = if altered[at] == b'0' { b'1' } else { b'0' };
            (body, Some(String::from_utf8(altered).expect("ASCII")))
        }
        Signing::AlteredBody(at) => {
            let mut altered = body;
            match altered.len() {
                0 => altered.push(b' '),
                len => altered[at % len] ^= 1,
            }
            (altered, Some(valid))
        }
    }
}

pub fn property(installation: &Installation, (body, signing): (Vec<u8>, Signing)) -> Result<(), TestCaseError> {
    let (sent, header) = request(body, &signing);
    let signed = header.as_deref().is_some_and(|h| h == signature(&sent));
    let result = installation.runtime.block_on(case(installation, &sent, header.as_deref(), signed));
    // Each case starts from nothing stored; only a signed one can have stored anything.
    if signed || result.is_err() {
        installation.runtime.block_on(installation.clear());
    }
    result
}

async fn case(installation: &Installation, body: &[u8], header: Option<&str>, signed: bool) -> Result<(), TestCaseError> {
    let status = installation.receive(body, header).await;
    if !signed {
        prop_assert_eq!(status, 403, "a request without a valid signature is refused");
        prop_assert_eq!(installation.counts().await, vec![0, 0, 0], "and nothing of it is stored");
        return Ok(());
    }
    let object = serde_json::from_slice::<Value>(body).is_ok_and(|v| v.is_object());
    prop_assert_eq!(status, if object { 200 } else { 400 });
    if !object {
        prop_assert_eq!(installation.counts().await, vec![0, 0, 0], "a body that is no JSON object is not stored");
        return Ok(());
    }
    installation.apply().await;
    prop_assert_eq!(installation.counts().await[0], 0, "the stored delivery was applied, not postponed");
    let ctx = &installation.ctx;
    let kept: Vec<(RecordId, String, Vec<String>)> =
        ctx.db.client().query("SELECT VALUE [id, body_enc, people] FROM signed_delivery").await.unwrap().take(0).unwrap();
    for (id, blob, _) in &kept {
        let key = crate::db::ids::key_string(id);
        let opened = ctx.crypto.system_key().open(crate::crypto::Field::new("signed_delivery", &key, "body"), blob).expect("sealed by us");
        prop_assert_eq!(opened.as_slice(), body, "a kept body is exactly the bytes Facebook signed");
    }
    let leads: Vec<(String, Option<RecordId>)> = ctx
        .db
        .client()
        .query("SELECT VALUE [ident, proof_delivery] FROM lead WHERE page = $page")
        .bind(("page", installation.page.clone()))
        .await
        .unwrap()
        .take(0)
        .unwrap();
    for (ident, delivery) in leads {
        let Some(delivery) = delivery else { return Err(TestCaseError::fail("a new lead without its kept delivery")) };
        let lists = kept.iter().any(|(id, _, people)| *id == delivery && people.contains(&ident));
        prop_assert!(lists, "the kept delivery lists the lead it made, so that erasing them deletes it");
    }
    Ok(())
}
