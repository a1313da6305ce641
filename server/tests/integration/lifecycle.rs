//! A campaign's life across pause and resume.

use std::time::Duration;

use serde_json::json;

use super::broadcasts::{campaign, lead_at, utc_date_time, wait_for_state};
use super::support::World;

#[tokio::test]
async fn a_scheduled_campaign_paused_and_resumed_before_its_time_waits_for_its_time() {
    let mut w = World::start("broadcast.resume@example.org").await;
    lead_at(&mut w, "s1", "Sam", 60).await;
    let id = w.api.post("broadcasts/save", campaign(&w, "At noon", &[], &[])).await.ok().as_str().unwrap().to_string();
    let (date, time) = utc_date_time(w.server.clock_now() + 2 * 3600);
    w.api.post("broadcasts/schedule", json!({"id": id, "schedule": {"date": date, "time": time, "time_zone": "UTC"}})).await.ok();
    w.api.post("broadcasts/pause", json!({"id": id})).await.ok();
    w.api.post("broadcasts/resume", json!({"id": id})).await.ok();
    // The sender ticks every few hundred milliseconds: it has looked at the campaign by now.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let detail = w.api.post("broadcasts/detail", json!({"id": id})).await.ok().clone();
    assert_eq!((detail["summary"]["state"].as_str(), detail["summary"]["started_at"].as_i64()), (Some("scheduled"), None), "{detail}");
    assert!(w.standin.state.sent().iter().all(|m| m.psid != "s1"), "sent before its time");
    // At its time it goes out, once.
    w.advance(2 * 3600).await;
    wait_for_state(&mut w, &id, "completed", 0).await;
    assert_eq!(w.standin.state.sent().iter().filter(|m| m.psid == "s1").count(), 1);
    w.standin.stop();
    w.server.stop().await;
}
