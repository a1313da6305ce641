//! Webhook deliveries as Meta posts them: several entries in one signed
//! body, a truncated body, many at once, and one that can no longer be applied.

use serde_json::{json, Value};

use super::support::*;

#[tokio::test]
async fn truncated_and_multi_entry_deliveries() {
    let w = World::start("robust.owner@example.org").await;
    let url = format!("{}/webhooks/messenger", w.server.base);
    let http = http_client();
    // Two Pages and three events in one signed POST: ours stored, the unknown Page's dropped.
    let body = standin::meta_serialise(&json!({"object": "page", "entry": [
        {"id": PAGE_ID, "time": 1, "messaging": [
            {"sender": {"id": "multi-1"}, "recipient": {"id": PAGE_ID}, "timestamp": 1764400000000i64, "message": {"mid": "m_multi_1", "text": "Ça va ?"}},
            {"sender": {"id": "multi-1"}, "recipient": {"id": PAGE_ID}, "timestamp": 1764400000001i64, "postback": {"title": "Get started", "payload": "GET_STARTED", "mid": "m_multi_2"}}
        ]},
        {"id": "999999", "time": 1, "messaging": [
            {"sender": {"id": "x"}, "recipient": {"id": "999999"}, "timestamp": 1, "message": {"mid": "m_other", "text": "not ours"}}
        ]}
    ]}));
    assert!(body.contains(r"\u00c7a va"), "escaped unicode: {body}");
    let signature = standin::sign(SECRET.as_bytes(), body.as_bytes());
    let truncated = &body[..body.len() - 10];
    let r = http.post(&url).header("x-hub-signature-256", &signature).body(truncated.to_string()).send().await.unwrap();
    assert_eq!(r.status(), 403, "a truncated body no longer matches its signature");
    let r = http.post(&url).header("x-hub-signature-256", &signature).body(body.clone()).send().await.unwrap();
    assert_eq!(r.status(), 200);
    w.applied().await;
    let lead = server::messenger::ingest::lead_for(w.ctx(), PAGE_ID, "multi-1").await.unwrap().expect("lead stored");
    let db = w.server.running.as_ref().unwrap().db.clone();
    let n: Option<i64> = db.client().query("RETURN count(SELECT id FROM message WHERE lead = $l)").bind(("l", lead)).await.unwrap().take(0).unwrap();
    assert_eq!(n, Some(2));
    // The whole delivery again: still two.
    http.post(&url).header("x-hub-signature-256", &signature).body(body).send().await.unwrap();
    w.applied().await;
    let n: Option<i64> = db.client().query("RETURN count(SELECT id FROM message)").await.unwrap().take(0).unwrap();
    assert_eq!(n, Some(2));
    w.standin.stop();
    w.server.stop().await;
}

#[tokio::test]
async fn deliveries_posted_at_once_are_stored_in_shared_writes_and_none_is_lost() {
    let w = World::start("group.owner@example.org").await;
    let url = format!("{}/webhooks/messenger", w.server.base);
    let http = http_client();
    let groups_before = w.ctx().deliveries.storing.groups_stored();
    let posts = (0..40).map(|i| {
        let body = standin::meta_serialise(&json!({"object": "page", "entry": [{"id": PAGE_ID, "time": 1, "messaging": [
            {"sender": {"id": format!("group-{i}")}, "recipient": {"id": PAGE_ID}, "timestamp": 1764400000000i64 + i, "message": {"mid": format!("m_group_{i}"), "text": "Hello"}}
        ]}]}));
        let signature = standin::sign(SECRET.as_bytes(), body.as_bytes());
        http.post(&url).header("x-hub-signature-256", signature).body(body).send()
    });
    for response in futures::future::join_all(posts).await {
        assert_eq!(response.unwrap().status(), 200);
    }
    let groups = w.ctx().deliveries.storing.groups_stored() - groups_before;
    assert!((1..40).contains(&groups), "40 deliveries posted at once share their writes ({groups} writes)");
    w.applied().await;
    let db = w.server.running.as_ref().unwrap().db.clone();
    let n: Option<i64> = db.client().query("RETURN count(SELECT id FROM message)").await.unwrap().take(0).unwrap();
    assert_eq!(n, Some(40), "every acknowledged delivery was kept");
    w.standin.stop();
    w.server.stop().await;
}

#[tokio::test]
async fn a_stored_delivery_that_cannot_be_applied_is_kept_and_holds_back_no_other() {
    let w = World::start("queue.owner@example.org").await;
    let db = w.server.running.as_ref().unwrap().db.clone();
    // A delivery whose sealed body no longer opens (as after a disk fault), stored first.
    db.client()
        .query("CREATE webhook_delivery:a00000000000broken SET key = 'a00000000000broken', body_enc = 'garbage', signature_enc = 'garbage', received_at = 0, failures = 0, retry_at = 0")
        .await
        .unwrap()
        .check()
        .unwrap();
    assert_eq!(w.write("after-broken", "still arrives").await, 200);
    let lead = server::messenger::ingest::lead_for(w.ctx(), PAGE_ID, "after-broken").await.unwrap();
    assert!(lead.is_some(), "the good delivery was held back by the broken one");
    let kept: Vec<Value> = db.client().query("SELECT failures, retry_at FROM webhook_delivery").await.unwrap().take(0).unwrap();
    assert_eq!(kept.len(), 1, "only the broken delivery is left, and it is kept: {kept:?}");
    assert!(kept[0]["failures"].as_i64().unwrap() >= 1);
    assert!(kept[0]["retry_at"].as_i64().unwrap() > w.server.clock_now(), "it is tried again later, not in a loop");
    w.standin.stop();
    w.server.stop().await;
}
