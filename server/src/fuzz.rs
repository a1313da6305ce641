//! Property-based fuzzing of what faces the internet: the webhook's
//! signature check and body, Meta's `signed_request`, and the unsubscribe
//! token. No input may panic, and none is accepted without a valid
//! signature or MAC. The suite runs a few thousand cases of each; the
//! ignored test runs a million in all and prints the count:
//! `cargo test -p server --lib fuzz -- --ignored --nocapture`.

use base64::Engine as _;
use hmac::Mac;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{json, Map, Value};

use crate::broadcasts::unsubscribe::{same_mac, token_parts};
use crate::messenger::ingest::{campaign_echo, classify};
use crate::messenger::keywords;
use crate::messenger::proofs::entry_page;
use crate::messenger::signature::{signed_request_user, webhook_signature_valid};

const SECRET: &[u8] = b"fuzzing-app-secret";
const NOW: i64 = 1_800_000_000;
const SUITE_CASES: u32 = 1_000;
const IGNORED_CASES_EACH: u32 = 250_000;

fn hmac_sha256(secret: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// Keys the Messenger payloads use, and some noise, so that random trees
/// take the parser's real paths.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "object",
            "entry",
            "id",
            "time",
            "messaging",
            "standby",
            "sender",
            "recipient",
            "timestamp",
            "message",
            "mid",
            "text",
            "is_echo",
            "metadata",
            "quick_reply",
            "payload",
            "attachments",
            "type",
            "url",
            "postback",
            "title",
            "optin",
            "ref",
            "delivery",
            "mids",
            "watermark",
            "read",
        ])
        .prop_map(str::to_string),
        ".{0,6}",
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        prop_oneof![".{0,24}", "(STOP|stop|Stop|START|unsubscribe|arrêt|ストップ| )+", "chatfbtop:[a-z0-9]{0,40}"].prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..6).prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// A delivery shaped like Meta's, with random content in every slot.
fn item() -> impl Strategy<Value = Value> {
    prop::collection::vec((key(), json_value()), 0..6).prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>()))
}

fn delivery() -> impl Strategy<Value = Value> {
    let entry = (json_value(), prop::collection::vec(item(), 0..5), prop::collection::vec(item(), 0..2))
        .prop_map(|(id, messaging, standby)| json!({"id": id, "time": 1, "messaging": messaging, "standby": standby}));
    prop::collection::vec(entry, 0..4).prop_map(|entries| json!({"object": "page", "entry": entries}))
}

/// Every parser the webhook's body meets, on one body: nothing panics.
fn webhook_body_property(body: Vec<u8>) -> Result<(), TestCaseError> {
    let Ok(delivery) = serde_json::from_slice::<Value>(&body) else { return Ok(()) };
    for entry in delivery["entry"].as_array().into_iter().flatten() {
        let _ = entry_page(entry);
        for item in ["messaging", "standby"].iter().flat_map(|list| entry[*list].as_array().into_iter().flatten()) {
            let _ = classify(item).is_some();
            let _ = campaign_echo(item);
            if let Some(text) = item["message"]["text"].as_str() {
                let _ = keywords::classify(text);
            }
        }
    }
    Ok(())
}

/// A body is accepted with its own HMAC only: not with a random header, not
/// after one byte of it or of the signature changed, not under another secret.
fn signature_property((body, header, flip): (Vec<u8>, String, usize)) -> Result<(), TestCaseError> {
    let good = format!("sha256={}", hex::encode(hmac_sha256(SECRET, &body)));
    prop_assert!(webhook_signature_valid(SECRET, &body, &good));
    prop_assert!(!webhook_signature_valid(b"another-secret", &body, &good));
    prop_assert!(header == good || !webhook_signature_valid(SECRET, &body, &header));
    if !body.is_empty() {
        let mut altered = body.clone();
        altered[flip % body.len()] ^= 1;
        prop_assert!(!webhook_signature_valid(SECRET, &altered, &good));
    }
    let mut bad = good.clone().into_bytes();
    let at = 7 + flip % (bad.len() - 7);
    bad[at] = if bad[at] == b'0' { b'1' } else { b'0' };
    prop_assert!(!webhook_signature_valid(SECRET, &body, &String::from_utf8(bad).expect("ASCII")));
    Ok(())
}

/// Random text is never a valid signed_request; a well-formed one is valid
/// only under our secret, and only when fresh.
fn signed_request_property((junk, user, issued_offset, ours): (String, String, i64, bool)) -> Result<(), TestCaseError> {
    prop_assert_eq!(signed_request_user(SECRET, &junk, NOW), None);
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let payload = engine.encode(json!({"algorithm": "HMAC-SHA256", "issued_at": NOW + issued_offset, "user_id": user}).to_string());
    let secret: &[u8] = if ours { SECRET } else { b"someone-else" };
    let signed = format!("{}.{payload}", engine.encode(hmac_sha256(secret, payload.as_bytes())));
    let fresh = (-86_400..=300).contains(&issued_offset);
    let expected = (ours && fresh).then_some(user);
    prop_assert_eq!(signed_request_user(SECRET, &signed, NOW), expected);
    Ok(())
}

/// Any text parses as a token or not without panicking, a lead key it
/// yields is a plain record key, and only the exact MAC matches.
fn unsubscribe_token_property((token, mac, given): (String, String, String)) -> Result<(), TestCaseError> {
    if let Some((lead_key, carried)) = token_parts(&token) {
        prop_assert!(!lead_key.is_empty() && lead_key.bytes().all(|b| b.is_ascii_alphanumeric()));
        prop_assert_eq!(carried.len(), 32);
    }
    prop_assert!(same_mac(&mac, &mac));
    prop_assert_eq!(same_mac(&mac, &given), mac == given);
    Ok(())
}

fn run<S: Strategy>(name: &str, cases: u32, strategy: S, property: impl Fn(S::Value) -> Result<(), TestCaseError>) -> u32 {
    let mut runner = TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
    if let Err(e) = runner.run(&strategy, property) {
        panic!("{name}: {e}");
    }
    cases
}

/// Runs every property `cases` times; returns how many cases ran.
fn all_properties(cases: u32) -> u32 {
    let bodies = prop_oneof![delivery().prop_map(|d| d.to_string().into_bytes()), prop::collection::vec(any::<u8>(), 0..256)];
    run("webhook body", cases, bodies, webhook_body_property)
        + run(
            "X-Hub-Signature-256",
            cases,
            (prop::collection::vec(any::<u8>(), 0..512), "(sha256=)?[0-9a-fA-F]{0,70}|.{0,80}", any::<usize>()),
            signature_property,
        )
        + run("signed_request", cases, (".{0,120}", "[0-9]{1,20}", -200_000i64..200_000, any::<bool>()), signed_request_property)
        + run("unsubscribe token", cases, (".{0,80}|[A-Za-z0-9]{0,80}", "[a-f0-9]{32}", "[a-f0-9]{32}|.{0,40}"), unsubscribe_token_property)
}

#[test]
fn no_internet_facing_parser_panics_or_accepts_what_is_not_signed() {
    let ran = all_properties(SUITE_CASES);
    println!("fuzzed {ran} cases");
}

#[test]
#[ignore = "a million cases: run on purpose, see the module's notes"]
fn a_million_cases() {
    let started = std::time::Instant::now();
    let ran = all_properties(IGNORED_CASES_EACH);
    println!("fuzzed {ran} cases in {:.1} s, none panicked or was accepted unsigned", started.elapsed().as_secs_f64());
    assert!(ran >= 1_000_000);
}
