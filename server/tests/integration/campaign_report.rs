//! A campaign's report: its counts stay as they were when leads later
//! unsubscribe or erase their data, and an unsubscribe counts for the last
//! campaign the lead was sent.

use serde_json::{json, Value};

use super::broadcasts::{campaign, detail_once_receipted, lead_at, wait_for_state};
use super::support::World;

fn chart_sums(detail: &Value) -> (i64, i64, i64) {
    let buckets = detail["chart"].as_array().unwrap();
    let sum = |field: &str| buckets.iter().map(|b| b[field].as_i64().unwrap()).sum();
    (sum("sent"), sum("delivered"), sum("read"))
}

#[tokio::test]
async fn the_report_keeps_its_counts_when_leads_unsubscribe_and_erase_their_data() {
    let mut w = World::start("campaign.report@example.org").await;
    let mut leads = Vec::new();
    for psid in ["t1", "t2", "t3", "t4"] {
        leads.push(lead_at(&mut w, psid, "Tess", 60).await);
    }
    // Wrote 30 hours ago: skipped, outside the window.
    leads.push(lead_at(&mut w, "t5", "Tess", 30 * 3600).await);
    let id = w.api.post("broadcasts/save", campaign(&w, "Report", &[], &[])).await.ok().as_str().unwrap().to_string();
    w.api.post("broadcasts/send-now", json!({"id": id})).await.ok();
    wait_for_state(&mut w, &id, "completed", 0).await;
    // The stand-in delivers every message and reads every second one.
    let before = detail_once_receipted(&mut w, &id, 4, 2).await;
    let summary = &before["summary"];
    let started = summary["started_at"].as_i64().expect("a start time");
    let finished = summary["finished_at"].as_i64().expect("an end time");
    assert!(started <= finished, "{summary}");
    assert_eq!((summary["progress"]["unsubscribed"].as_i64(), summary["progress"]["skipped"].as_i64()), (Some(0), Some(1)), "{summary}");
    assert_eq!(chart_sums(&before).0, 4);

    // t1 follows the link and unsubscribes, t2 writes STOP: both count for this campaign.
    let sent = w.standin.state.sent();
    let link_of = |psid: &str| sent.iter().find(|m| m.psid == psid).unwrap().text.split("/u/").nth(1).unwrap().trim().to_string();
    let mut public = w.server.client();
    public.post("unsubscribe/confirm", json!({"token": link_of("t1")})).await.ok();
    assert_eq!(w.write("t2", "STOP").await, 200);
    w.applied().await;
    let detail = w.api.post("broadcasts/detail", json!({"id": id})).await.ok().clone();
    assert_eq!(detail["summary"]["progress"]["unsubscribed"], 2, "{detail}");

    // t1 then erases their data through the link; the business deletes t3 and t5.
    public.post("unsubscribe/erase", json!({"token": link_of("t1")})).await.ok();
    w.api.post("messenger/delete-lead", json!({"lead": leads[2]})).await.ok();
    w.api.post("messenger/delete-lead", json!({"lead": leads[4]})).await.ok();
    let after = w.api.post("broadcasts/detail", json!({"id": id})).await.ok().clone();
    let counts = |d: &Value| {
        let p = &d["summary"]["progress"];
        ["total", "sent", "failed", "skipped", "delivered", "read"].map(|f| p[f].as_i64().unwrap())
    };
    assert_eq!(counts(&after), counts(&before), "the counts changed with the erasures: {after}");
    assert_eq!(after["summary"]["progress"]["unsubscribed"], 2, "{after}");
    assert_eq!(chart_sums(&after), chart_sums(&before), "the chart changed with the erasures");
    // t5's skip is still counted, under a reason that says why it has none.
    assert_eq!(after["reasons"], json!([["the lead has since erased their data (the reason went with it)", 1]]), "{after}");
    assert_eq!(after["report"], json!([]));

    // What is kept is counts and times: nothing names the erased leads.
    let ctx = w.ctx().clone();
    let erased = [leads[0].clone(), leads[2].clone(), leads[4].clone()];
    let rows: Vec<Value> = ctx.db.client().query("SELECT * OMIT id FROM campaign_tally").await.unwrap().take(0).unwrap();
    let kept = serde_json::to_string(&rows).unwrap();
    assert!(erased.iter().all(|lead| !kept.contains(lead.as_str())), "{kept}");
    let deliveries: Option<i64> = ctx
        .db
        .client()
        .query("RETURN count(SELECT id FROM campaign_recipient WHERE lead IN $leads)")
        .bind(("leads", erased_records(&erased)))
        .await
        .unwrap()
        .take(0)
        .unwrap();
    assert_eq!(deliveries, Some(0), "an erased lead's deliveries are gone");

    // Deleting the account takes the tally with it.
    w.api.post("privacy/delete-account", json!({"password": super::support::STRONG_PASSWORD, "confirmation": app::types::DELETE_CONFIRMATION})).await.ok();
    let tallies: Option<i64> = ctx.db.client().query("RETURN count(SELECT id FROM campaign_tally)").await.unwrap().take(0).unwrap();
    assert_eq!(tallies, Some(0));
    w.standin.stop();
    w.server.stop().await;
}

fn erased_records(keys: &[String]) -> Vec<surrealdb::types::RecordId> {
    keys.iter().map(|k| surrealdb::types::RecordId::new("lead", k.as_str())).collect()
}
