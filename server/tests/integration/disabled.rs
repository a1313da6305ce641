//! A disabled account stops operating: no Send API call after the admin's
//! click returns, campaigns paused, and its Pages' events not applied
//! (except a STOP, which is never lost).

use std::time::{Duration, Instant};

use serde_json::json;
use standin::SimulatedEvent;

use super::admin::admin;
use super::broadcasts::{campaign, lead_at};
use super::support::*;
use super::support::{World, PAGE_ID};

#[tokio::test]
async fn disabling_an_account_mid_campaign_stops_every_send_and_its_webhooks() {
    let mut w = World::start("soon.disabled@example.org").await;
    let mut leads = Vec::new();
    for n in 0..24 {
        leads.push(lead_at(&mut w, &format!("d{n}"), "Dee", 60).await);
    }
    let mut slow = campaign(&w, "Slow", &[], &[]);
    slow["input"]["rate_per_sec"] = json!(4);
    let id = w.api.post("broadcasts/save", slow).await.ok().as_str().unwrap().to_string();
    w.api.post("broadcasts/send-now", json!({"id": id})).await.ok();
    let deadline = Instant::now() + Duration::from_secs(20);
    while w.standin.state.sent().len() < 3 {
        assert!(Instant::now() < deadline, "the campaign never started sending");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let mut boss = admin(&w.server, "boss.disabler@example.org").await;
    let account = account_id(&w.server, "soon.disabled@example.org").await;
    boss.post("admin/set-disabled", json!({"account_id": account, "disabled": true})).await.ok();
    let sent_when_disabled = w.standin.state.sent().len();
    assert!(sent_when_disabled < leads.len(), "disabled mid-campaign: {sent_when_disabled} of {} sent", leads.len());
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(w.standin.state.sent().len(), sent_when_disabled, "no Send API call after the account was disabled");
    let ctx = w.ctx().clone();
    let state: Option<String> = ctx
        .db
        .client()
        .query("SELECT VALUE state FROM ONLY $id")
        .bind(("id", surrealdb::types::RecordId::new("campaign", id.clone())))
        .await
        .unwrap()
        .take(0)
        .unwrap();
    assert_eq!(state.as_deref(), Some("paused"));

    // Its Page's events are not applied: no new lead, no message, no reply...
    let messages = || async {
        let n: Option<i64> = ctx.db.client().query("RETURN count(SELECT id FROM message)").await.unwrap().take(0).unwrap();
        n.unwrap_or(0)
    };
    let before = messages().await;
    let sent_before = w.standin.state.sent().len();
    assert_eq!(w.standin.state.simulate(SimulatedEvent::text(PAGE_ID, "newcomer", "hello?")).await.unwrap().0, 200);
    // ...but a STOP is kept: the lead is unsubscribed, and a newcomer's STOP suppresses them.
    assert_eq!(w.standin.state.simulate(SimulatedEvent::text(PAGE_ID, "d0", "STOP")).await.unwrap().0, 200);
    assert_eq!(w.standin.state.simulate(SimulatedEvent::text(PAGE_ID, "stranger", "stop")).await.unwrap().0, 200);
    w.applied().await;
    assert_eq!(messages().await, before, "nothing stored for a disabled account");
    assert!(server::messenger::ingest::lead_for(&ctx, PAGE_ID, "newcomer").await.unwrap().is_none());
    let d0 = server::messenger::ingest::lead_for(&ctx, PAGE_ID, "d0").await.unwrap().unwrap();
    let subscribed: Option<bool> = ctx.db.client().query("SELECT VALUE subscribed FROM ONLY $id").bind(("id", d0)).await.unwrap().take(0).unwrap();
    assert_eq!(subscribed, Some(false), "the STOP was applied");
    let suppressed = server::messenger::ingest::suppression_key(&ctx, PAGE_ID, "stranger");
    let row: Option<serde_json::Value> = ctx
        .db
        .client()
        .query("SELECT id FROM ONLY $id")
        .bind(("id", surrealdb::types::RecordId::new("suppression", suppressed)))
        .await
        .unwrap()
        .take(0)
        .unwrap();
    assert!(row.is_some(), "a STOP from someone who is no lead is kept too");
    assert_eq!(w.standin.state.sent().len(), sent_before, "no confirmation was sent");

    // Enabled again: nothing resumes by itself.
    boss.post("admin/set-disabled", json!({"account_id": account, "disabled": false})).await.ok();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(w.standin.state.sent().len(), sent_before, "the paused campaign waits for its owner");
    w.standin.stop();
    w.server.stop().await;
}
