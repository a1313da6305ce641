//! Late echoes: Meta echoes each campaign message, sometimes after the
//! person's data was erased (by the business, or by the person through the
//! unsubscribe link). Such an echo stores nothing about them: no echo row,
//! no message, no lead brought back.

use serde_json::{json, Value};

use super::broadcasts::{campaign, lead_at, wait_for_state};
use super::support::*;
use super::support::{World, PAGE_ID, SECRET};

/// The echo Meta posts for a message the stand-in accepted.
fn echo_of(m: &standin::SentMessage) -> Value {
    json!({
        "sender": {"id": m.page_id}, "recipient": {"id": m.psid}, "timestamp": m.at_ms,
        "message": {"is_echo": true, "app_id": 4242, "mid": m.message_id, "text": m.text, "metadata": m.metadata},
    })
}

async fn count(w: &World, select: &str) -> i64 {
    let n: Option<i64> = w.ctx().db.client().query(format!("RETURN count({select})")).await.unwrap().take(0).unwrap();
    n.unwrap_or(0)
}

#[tokio::test]
async fn a_late_echo_of_an_erased_lead_stores_nothing_about_them() {
    let mut w = World::start("late.echoes@example.org").await;
    // Echoes are held back, to arrive after the erasures.
    w.standin.state.set_webhooks(false, false, 0);
    let by_owner = lead_at(&mut w, "erased-by-owner", "Otto", 60).await;
    lead_at(&mut w, "erased-by-link", "Lina", 60).await;
    lead_at(&mut w, "still-here", "Stan", 60).await;
    let id = w.api.post("broadcasts/save", campaign(&w, "Late echoes", &[], &[])).await.ok().as_str().unwrap().to_string();
    w.api.post("broadcasts/send-now", json!({"id": id})).await.ok();
    wait_for_state(&mut w, &id, "completed", 0).await;
    let sent = w.standin.state.sent();
    let to = |psid: &str| sent.iter().find(|m| m.psid == psid).expect("a message to the lead").clone();

    // The owner deletes one lead; the other erases their data through the campaign's link.
    w.api.post("messenger/delete-lead", json!({"lead": by_owner})).await.ok();
    let token = to("erased-by-link").text.split("/u/").nth(1).expect("an unsubscribe link").trim().to_string();
    w.server.client().post("unsubscribe/erase", json!({"token": token})).await.ok();
    let suppressions = count(&w, "SELECT id FROM suppression").await;

    // Then the three echoes arrive, in one signed delivery.
    let items: Vec<Value> = ["erased-by-owner", "erased-by-link", "still-here"].iter().map(|p| echo_of(&to(p))).collect();
    let body = standin::meta_serialise(&json!({"object": "page", "entry": [{"id": PAGE_ID, "time": 1, "messaging": items}]}));
    let signature = standin::sign(SECRET.as_bytes(), body.as_bytes());
    let r = http_client().post(format!("{}/webhooks/messenger", w.server.base)).header("x-hub-signature-256", signature).body(body).send().await.unwrap();
    assert_eq!(r.status(), 200);
    w.applied().await;

    // The lead still here has its echo; of the erased ones nothing is stored.
    let ctx = w.ctx().clone();
    let here = server::messenger::ingest::lead_for(&ctx, PAGE_ID, "still-here").await.unwrap().expect("the remaining lead");
    assert_eq!(count(&w, "SELECT id FROM campaign_echo").await, 1, "only the remaining lead's echo");
    let echoed: Vec<String> = ctx.db.client().query("SELECT VALUE record::id(id) FROM campaign_echo").await.unwrap().take(0).unwrap();
    assert!(echoed[0].ends_with(&server::db::ids::key_string(&here)), "{echoed:?}");
    for psid in ["erased-by-owner", "erased-by-link"] {
        assert!(server::messenger::ingest::lead_for(&ctx, PAGE_ID, psid).await.unwrap().is_none(), "{psid} is not brought back");
    }
    assert_eq!(count(&w, "SELECT id FROM lead").await, 1);
    let stray: Option<i64> =
        ctx.db.client().query("RETURN count(SELECT id FROM message WHERE lead != $here)").bind(("here", here.clone())).await.unwrap().take(0).unwrap();
    assert_eq!(stray, Some(0), "no message of an erased lead");
    assert_eq!(count(&w, "SELECT id FROM campaign_recipient").await, 1, "only the remaining lead's delivery");
    assert_eq!(count(&w, "SELECT id FROM suppression").await, suppressions, "the echo adds no suppression either");
    w.standin.stop();
    w.server.stop().await;
}
