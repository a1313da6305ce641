//! A disabled account stops operating: no Send API call after the admin's
//! click returns, campaigns paused (scheduled ones too: they do not start
//! at their time, nor once the account is enabled again, until the owner
//! resumes them), and its Pages' events not applied (except a STOP, which
//! is never lost).

use std::time::{Duration, Instant};

use serde_json::json;
use standin::SimulatedEvent;

use super::admin::admin;
use super::broadcasts::{campaign, lead_at, wait_for_state};
use super::page_takeover::{schedule_in, sender_pass};
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

async fn campaign_state(w: &World, id: &str) -> (String, String) {
    let row: Option<serde_json::Value> = w
        .ctx()
        .db
        .client()
        .query("SELECT state, pause_reason ?? '' AS reason FROM ONLY $id")
        .bind(("id", surrealdb::types::RecordId::new("campaign", id.to_string())))
        .await
        .unwrap()
        .take(0)
        .unwrap();
    let row = row.expect("the campaign exists");
    (row["state"].as_str().unwrap().to_string(), row["reason"].as_str().unwrap().to_string())
}

#[tokio::test]
async fn a_scheduled_campaign_of_a_disabled_account_does_not_start_and_waits_for_its_owner_once_enabled() {
    let mut w = World::start("scheduled.disabled@example.org").await;
    for n in 0..3 {
        lead_at(&mut w, &format!("s{n}"), "Sue", 60).await;
    }
    let id = w.api.post("broadcasts/save", campaign(&w, "Scheduled", &[], &[])).await.ok().as_str().unwrap().to_string();
    schedule_in(&mut w, &id, 3600).await;
    let sent_before = w.standin.state.sent_count();
    let boss_email = "boss.scheduled@example.org";
    let mut boss = admin(&w.server, boss_email).await;
    let account = account_id(&w.server, "scheduled.disabled@example.org").await;
    boss.post("admin/set-disabled", json!({"account_id": account, "disabled": true})).await.ok();
    let (state, reason) = campaign_state(&w, &id).await;
    assert_eq!(state, "paused");
    assert!(reason.contains("administrator disabled the account"), "{reason}");

    // Its time comes while the account is disabled: it does not start.
    w.server.clock.advance(2 * 3600);
    sender_pass(&w).await;
    assert_eq!(campaign_state(&w, &id).await.0, "paused");
    assert_eq!(w.standin.state.sent_count(), sent_before);

    // Enabled again: nothing starts by itself.
    boss.login(boss_email, STRONG_PASSWORD, false).await.ok();
    boss.post("admin/set-disabled", json!({"account_id": account, "disabled": false})).await.ok();
    sender_pass(&w).await;
    assert_eq!(campaign_state(&w, &id).await.0, "paused", "the paused campaign waits for its owner");
    assert_eq!(w.standin.state.sent_count(), sent_before);

    // Its owner resumes it: it sends.
    w.advance(1).await;
    w.api.post("broadcasts/resume", json!({"id": id})).await.ok();
    let detail = wait_for_state(&mut w, &id, "completed", 0).await;
    assert_eq!(detail["summary"]["progress"]["sent"].as_i64(), Some(3), "{detail}");
    assert_eq!(w.standin.state.sent_count(), sent_before + 3);
    w.standin.stop();
    w.server.stop().await;
}

/// However the account came to be disabled without its campaigns paused
/// (an installation upgraded from a version whose disabling paused nothing,
/// or a schedule saved while the administrator clicked), the scheduler
/// pauses its campaign instead of starting it.
#[tokio::test]
async fn the_scheduler_never_starts_a_campaign_of_a_disabled_account() {
    let mut w = World::start("unpaused.disabled@example.org").await;
    for n in 0..2 {
        lead_at(&mut w, &format!("u{n}"), "Una", 60).await;
    }
    let id = w.api.post("broadcasts/save", campaign(&w, "Scheduled", &[], &[])).await.ok().as_str().unwrap().to_string();
    schedule_in(&mut w, &id, 3600).await;
    let sent_before = w.standin.state.sent_count();
    let account = account_record(&w.server, "unpaused.disabled@example.org").await;
    w.ctx().db.client().query("UPDATE $id SET disabled = true").bind(("id", account)).await.unwrap().check().unwrap();
    assert_eq!(campaign_state(&w, &id).await.0, "scheduled");

    w.server.clock.advance(2 * 3600);
    sender_pass(&w).await;
    let (state, reason) = campaign_state(&w, &id).await;
    assert_eq!(state, "paused");
    assert!(reason.contains("administrator disabled the account"), "{reason}");
    assert_eq!(w.standin.state.sent_count(), sent_before);
    w.standin.stop();
    w.server.stop().await;
}
