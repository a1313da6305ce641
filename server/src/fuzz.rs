//! Property-based fuzzing of what faces the internet: the webhook's
//! signature check and its whole receive-and-apply path, Meta's
//! `signed_request`, and the unsubscribe token through the check `/u/` runs.
//! No input may panic, and none is accepted without a valid signature or
//! MAC. The suite runs about a thousand cases of each property; the ignored
//! test runs a million in all and prints the counts:
//! `cargo test --workspace --lib fuzz -- --ignored --nocapture`.

mod installation;
mod unsubscribe;
mod webhook;

use base64::Engine as _;
use hmac::Mac;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{json, Map, Value};

use crate::messenger::signature::{signed_request_user, webhook_signature_valid};
use installation::Installation;

const SECRET: &[u8] = b"fuzzing-app-secret";
const NOW: i64 = 1_800_000_000;
const SUITE_CASES: u32 = 1_000;

/// Cases of each property in the ignored run: a million in all. The two
/// that go through the database (about 20 ms a case in a debug build) get
/// fewer, the parsers alone (under a millisecond) more.
const IGNORED_CASES: Counts = Counts { parsers: 320_000, database: 25_000 };

#[derive(Clone, Copy)]
struct Counts {
    parsers: u32,
    database: u32,
}

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

/// A field of a signed_request payload: absent, or any JSON value.
fn field(right: impl Strategy<Value = Value> + 'static) -> impl Strategy<Value = Option<Value>> {
    prop_oneof![3 => right.prop_map(Some), 1 => json_value().prop_map(Some), 1 => Just(None)]
}

/// A payload with each field right, of the wrong type, wrong, or missing;
/// or bytes that are not JSON at all.
fn payload() -> impl Strategy<Value = Vec<u8>> {
    let algorithm = field(prop_oneof![
        Just(json!("HMAC-SHA256")),
        Just(json!("hmac-sha256")),
        Just(json!("HMAC-SHA1")),
        Just(json!("none")),
        ".{0,12}".prop_map(Value::String)
    ]);
    let issued_at = field(prop_oneof![
        (-90_000i64..400).prop_map(|offset| json!(NOW + offset)),
        (-90_000i64..400).prop_map(|offset| json!((NOW + offset).to_string())),
        any::<i64>().prop_map(|n| json!(n)),
        (-90_000i64..400).prop_map(|offset| json!((NOW + offset) as f64 + 0.5)),
    ]);
    let user_id = field(prop_oneof![
        "[0-9]{1,20}".prop_map(Value::String),
        Just(json!("")),
        any::<u64>().prop_map(|n| json!(n)),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
    ]);
    let fields = (algorithm, issued_at, user_id, prop::option::of(json_value())).prop_map(|(algorithm, issued_at, user_id, extra)| {
        let mut payload = Map::new();
        for (name, value) in [("algorithm", algorithm), ("issued_at", issued_at), ("user_id", user_id), ("expires", extra)] {
            if let Some(value) = value {
                payload.insert(name.to_string(), value);
            }
        }
        Value::Object(payload).to_string().into_bytes()
    });
    prop_oneof![
        4 => fields,
        1 => json_value().prop_map(|v| v.to_string().into_bytes()),
        1 => prop::collection::vec(any::<u8>(), 0..64),
        1 => "\\{\"algorithm\":\"HMAC-SHA256\",\"issued_at\":[0-9]{0,12}".prop_map(String::into_bytes),
    ]
}

/// Written apart from `signed_request_user`: the user a payload names, if
/// everything in it is as Meta sends it.
fn expected_user(payload: &[u8]) -> Option<String> {
    let payload: Value = serde_json::from_slice(payload).ok()?;
    let algorithm_ok = payload.get("algorithm").and_then(Value::as_str).is_some_and(|a| a.eq_ignore_ascii_case("hmac-sha256"));
    let fresh = payload.get("issued_at").and_then(Value::as_i64).is_some_and(|at| (NOW - 86_400..=NOW + 300).contains(&at));
    let user = match payload.get("user_id") {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(Value::Number(n)) => n.as_u64().map(|n| n.to_string()),
        _ => None,
    };
    user.filter(|_| algorithm_ok && fresh)
}

/// A valid signature over a malformed or tampered payload: refused, never a
/// panic. A payload altered after it was signed, or signed under another
/// secret, is refused whatever it says.
fn signed_payload_property((payload, flip, ours): (Vec<u8>, usize, bool)) -> Result<(), TestCaseError> {
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let encoded = engine.encode(&payload);
    let sign = |secret: &[u8], encoded: &str| format!("{}.{encoded}", engine.encode(hmac_sha256(secret, encoded.as_bytes())));
    let secret: &[u8] = if ours { SECRET } else { b"someone-else" };
    prop_assert_eq!(signed_request_user(SECRET, &sign(secret, &encoded), NOW), expected_user(&payload).filter(|_| ours));
    // The same request with its payload changed after signing.
    let signed = sign(SECRET, &encoded);
    let dot = signed.find('.').expect("a dot");
    let mut tampered = signed.clone().into_bytes();
    let at = dot + 1 + flip % (tampered.len() - dot).max(1);
    if at < tampered.len() {
        tampered[at] = if tampered[at] == b'A' { b'B' } else { b'A' };
    } else {
        tampered.extend_from_slice(b"AA");
    }
    let tampered = String::from_utf8(tampered).expect("ASCII");
    if tampered != signed {
        prop_assert_eq!(signed_request_user(SECRET, &tampered, NOW), None, "a tampered payload is refused");
    }
    Ok(())
}

fn run<S: Strategy>(name: &str, cases: u32, strategy: S, property: impl Fn(S::Value) -> Result<(), TestCaseError>) -> u32 {
    let started = std::time::Instant::now();
    let mut runner = TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
    if let Err(e) = runner.run(&strategy, property) {
        panic!("{name}: {e}");
    }
    println!("{name}: {cases} cases in {:.1} s", started.elapsed().as_secs_f64());
    cases
}

/// Runs every property; returns how many cases ran.
fn all_properties(counts: Counts) -> u32 {
    let installation = Installation::new();
    run("webhook receive and apply", counts.database, (webhook::body(), webhook::signing()), |case| webhook::property(&installation, case))
        + run("unsubscribe token", counts.database, unsubscribe::token(), |token| unsubscribe::property(&installation, token))
        + run(
            "X-Hub-Signature-256",
            counts.parsers,
            (prop::collection::vec(any::<u8>(), 0..512), "(sha256=)?[0-9a-fA-F]{0,70}|.{0,80}", any::<usize>()),
            signature_property,
        )
        + run("signed_request", counts.parsers, (".{0,120}", "[0-9]{1,20}", -200_000i64..200_000, any::<bool>()), signed_request_property)
        + run("signed_request payload", counts.parsers, (payload(), any::<usize>(), any::<bool>()), signed_payload_property)
}

#[test]
fn no_internet_facing_path_panics_or_accepts_what_is_not_signed() {
    let ran = all_properties(Counts { parsers: SUITE_CASES, database: SUITE_CASES });
    println!("fuzzed {ran} cases");
}

#[test]
#[ignore = "a million cases: run on purpose, see the module's notes"]
fn a_million_cases() {
    let started = std::time::Instant::now();
    let ran = all_properties(IGNORED_CASES);
    println!("fuzzed {ran} cases in {:.1} s, none panicked or was accepted unsigned", started.elapsed().as_secs_f64());
    assert!(ran >= 1_000_000);
}
