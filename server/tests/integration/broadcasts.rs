//! Broadcasts against the Graph API stand-in: the audience (window margin,
//! labels, suppression), template variables, the unsubscribe link, Meta's
//! errors, the lifecycle, isolation, and a crash test with SIGKILL.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use standin::SimulatedEvent;

use super::support::*;
use super::support::{World, PAGE_ID};

pub fn campaign(w: &World, name: &str, include: &[&str], exclude: &[&str]) -> Value {
    json!({"input": {
        "id": null, "name": name, "page": w.page,
        "text": "Hi {{first_name}}, news from {{page_name}}!",
        "fallback_first_name": "friend", "fallback_last_name": "",
        "quick_replies": ["Show me", "Later"], "button_title": null, "button_url": null,
        "include_labels": include, "exclude_labels": exclude,
        "margin_hours": 23, "rate_per_sec": 250
    }})
}

/// A lead whose last message was `ago` seconds before the server's clock.
pub async fn lead_at(w: &mut World, psid: &str, first: &str, ago: i64) -> String {
    let at_ms = (w.server.clock_now() - ago) * 1000;
    let event = SimulatedEvent {
        first_name: Some(first.into()),
        last_name: Some(format!("Lovelace {psid}")),
        timestamp_ms: Some(at_ms),
        ..SimulatedEvent::text(PAGE_ID, psid, "hello")
    };
    assert_eq!(w.standin.state.simulate(event).await.unwrap().0, 200);
    w.applied().await;
    w.wait_for_named_lead(psid).await
}

async fn label(w: &mut World, name: &str, leads: &[&String]) -> String {
    let id = w.api.post("messenger/create-label", json!({"name": name})).await.ok()["id"].as_str().unwrap().to_string();
    w.api.post("messenger/assign-label", json!({"leads": leads, "label": id, "assign": true})).await.ok();
    id
}

/// Waits for the campaign to reach `state`, moving the clock on by `step` seconds each round (for retries).
pub async fn wait_for_state(w: &mut World, id: &str, state: &str, step: i64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        let detail = w.api.post("broadcasts/detail", json!({"id": id})).await.ok().clone();
        if detail["summary"]["state"] == state {
            return detail;
        }
        assert!(Instant::now() < deadline, "campaign never reached {state}: {detail}");
        if step > 0 {
            w.advance(step).await;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The detail once `delivered` messages are delivered and at least `read` are read.
pub async fn detail_once_receipted(w: &mut World, id: &str, delivered: i64, read: i64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let detail = w.api.post("broadcasts/detail", json!({"id": id})).await.ok().clone();
        let p = &detail["summary"]["progress"];
        if p["delivered"].as_i64() == Some(delivered) && p["read"].as_i64() >= Some(read) {
            return detail;
        }
        assert!(Instant::now() < deadline, "receipts were not counted: {detail}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn token_in(text: &str) -> String {
    text.split("/u/").nth(1).expect("an unsubscribe link").trim().to_string()
}

#[tokio::test]
async fn the_audience_the_window_margin_variables_and_the_unsubscribe_link() {
    let mut w = World::start("broadcast.owner@example.org").await;
    w.standin.state.set_webhooks(false, false, 0);
    let a = lead_at(&mut w, "ba", "Ada", 60).await;
    let b = lead_at(&mut w, "bb", "", 60).await; // no first name: the fallback
    let c = lead_at(&mut w, "bc", "Cy", 60).await; // not in the label
    let d = lead_at(&mut w, "bd", "Di", 60).await; // excluded by label
    let e = lead_at(&mut w, "be", "Ed", 60).await; // unsubscribes
    let f = lead_at(&mut w, "bf", "Flo", 23 * 3600).await; // exactly 23 hours: outside the margin
    let g = lead_at(&mut w, "bg", "Gus", 23 * 3600 - 1).await; // one second inside
    assert_eq!(w.write("be", "STOP").await, 200);
    w.wait_for_sent(1).await; // the STOP confirmation
    let vip = label(&mut w, "VIP", &[&a, &b, &d, &e, &f, &g]).await;
    let excluded = label(&mut w, "Excluded", &[&d]).await;
    let _ = &c;

    let input = campaign(&w, "Spring news", &[&vip], &[&excluded]);
    let preview = w.api.post("broadcasts/preview", input.clone()).await.ok().clone();
    assert_eq!((preview["reachable_now"].as_i64(), preview["outside_window"].as_i64(), preview["excluded"].as_i64()), (Some(3), Some(1), Some(1)), "{preview}");
    // As one lead of the audience will see it (Di is excluded, Ed unsubscribed, Cy not labelled).
    let text = preview["preview"].as_str().unwrap();
    let first = text.strip_prefix("Hi ").and_then(|t| t.split(", news from Fleur & Co!\n\nUnsubscribe: https://").next()).unwrap_or_default();
    assert!(["Ada", "friend", "Flo", "Gus"].contains(&first), "{preview}");

    // A name goes into mails: one line only.
    let mut two_lines = input.clone();
    two_lines["input"]["name"] = json!("Spring news\r\nBcc: someone@example.org");
    let refused = w.api.post("broadcasts/save", two_lines).await.error().to_string();
    assert!(refused.contains("InvalidCampaign") && refused.contains("single line"), "{refused}");
    let id = w.api.post("broadcasts/save", input).await.ok().as_str().unwrap().to_string();
    let before = w.standin.state.sent().len();
    w.api.post("broadcasts/send-now", json!({"id": id})).await.ok();
    let detail = wait_for_state(&mut w, &id, "completed", 0).await;
    let p = &detail["summary"]["progress"];
    assert_eq!((p["sent"].as_i64(), p["skipped"].as_i64(), p["failed"].as_i64()), (Some(3), Some(1), Some(0)), "{detail}");
    assert_eq!(detail["report"][0]["reason"], "outside the messaging window");
    assert_eq!(detail["report"][0]["lead"], f.as_str());

    let sent: Vec<_> = w.standin.state.sent().into_iter().skip(before).collect();
    let mut psids: Vec<&str> = sent.iter().map(|m| m.psid.as_str()).collect();
    psids.sort();
    assert_eq!(psids, ["ba", "bb", "bg"]);
    for m in &sent {
        assert_eq!((m.messaging_type.as_str(), m.tag.as_deref(), m.quick_replies), ("UPDATE", None, 2), "never a message tag");
        assert!(m.text.contains("\n\nUnsubscribe: https://localhost:"), "{}", m.text);
        assert!(m.metadata.as_deref().is_some_and(|x| x.starts_with("cfbt:")));
    }
    let to = |psid: &str| sent.iter().find(|m| m.psid == psid).unwrap().text.clone();
    assert!(to("ba").starts_with("Hi Ada, news from Fleur & Co!"), "{}", to("ba"));
    assert!(to("bb").starts_with("Hi friend, news from Fleur & Co!"), "{}", to("bb"));

    // The link works without signing in; a forged one does not.
    let mut public = w.server.client();
    let token_a = token_in(&to("ba"));
    let info = public.post("unsubscribe/info", json!({"token": token_a})).await.ok().clone();
    assert_eq!((info["page_name"].as_str(), info["subscribed"].as_bool()), (Some("Fleur & Co"), Some(true)));
    let mut forged = token_a.clone();
    forged.replace_range(forged.len() - 1.., if forged.ends_with('0') { "1" } else { "0" });
    assert_eq!(public.post("unsubscribe/info", json!({"token": forged})).await.error(), "InvalidUnsubscribeLink");
    public.post("unsubscribe/confirm", json!({"token": token_a})).await.ok();
    assert_eq!(public.post("unsubscribe/info", json!({"token": token_a})).await.ok()["subscribed"], false);

    // "Erase my data" removes the lead.
    let token_b = token_in(&to("bb"));
    public.post("unsubscribe/erase", json!({"token": token_b})).await.ok();
    assert_eq!(w.api.post("messenger/conversation", json!({"lead": b})).await.error(), "LeadNotFound");
    assert_eq!(public.post("unsubscribe/info", json!({"token": token_b})).await.error(), "InvalidUnsubscribeLink");

    // The next campaign skips the unsubscribed lead: only g is left.
    let id2 = w.api.post("broadcasts/save", campaign(&w, "Summer news", &[&vip], &[&excluded])).await.ok().as_str().unwrap().to_string();
    let before = w.standin.state.sent().len();
    w.api.post("broadcasts/send-now", json!({"id": id2})).await.ok();
    wait_for_state(&mut w, &id2, "completed", 0).await;
    let psids: Vec<String> = w.standin.state.sent().into_iter().skip(before).map(|m| m.psid).collect();
    assert_eq!(psids, ["bg"]);
    w.standin.stop();
    w.server.stop().await;
}

#[tokio::test]
async fn graph_errors_during_a_campaign_are_handled_as_meta_documents() {
    let mut w = World::start("broadcast.errors@example.org").await;
    for psid in ["x551", "x10", "x613a", "x613b", "x613c", "x5xx"] {
        lead_at(&mut w, psid, "Pat", 60).await;
    }
    w.standin.state.fail_for("x551", 551);
    w.standin.state.fail_for("x10", 10);
    // Two calls a second: the rest get 613 and are retried after a back-off; one 5xx is retried.
    w.standin.state.set_behaviour(0, 1, 2);
    let id = w.api.post("broadcasts/save", campaign(&w, "Errors", &[], &[])).await.ok().as_str().unwrap().to_string();
    w.api.post("broadcasts/send-now", json!({"id": id})).await.ok();
    let detail = wait_for_state(&mut w, &id, "completed", 2).await;
    let p = &detail["summary"]["progress"];
    assert_eq!((p["sent"].as_i64(), p["skipped"].as_i64(), p["failed"].as_i64()), (Some(4), Some(2), Some(0)), "{detail}");
    let reasons: Vec<&str> = detail["report"].as_array().unwrap().iter().map(|r| r["reason"].as_str().unwrap()).collect();
    assert!(reasons.contains(&"unavailable (Facebook error 551)") && reasons.contains(&"outside the messaging window (Facebook error 10)"), "{reasons:?}");
    let (_, limited) = w.standin.state.counters();
    assert!(limited > 0, "the stand-in refused some calls with 613");
    let sent = w.standin.state.sent();
    for psid in ["x613a", "x613b", "x613c", "x5xx"] {
        assert_eq!(sent.iter().filter(|m| m.psid == psid).count(), 1, "{psid} got exactly one message");
    }
    // Delivered counts come from the receipts the stand-in posts back a moment later.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let detail = w.api.post("broadcasts/detail", json!({"id": id})).await.ok().clone();
        let p = &detail["summary"]["progress"];
        if p["delivered"].as_i64() == Some(4) {
            let sent_in_chart: i64 = detail["chart"].as_array().unwrap().iter().map(|b| b["sent"].as_i64().unwrap()).sum();
            assert_eq!(sent_in_chart, 4, "{detail}");
            break;
        }
        assert!(Instant::now() < deadline, "receipts were not counted: {detail}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let filter = json!({"page": w.page, "label": null, "subscribed": null, "window": null, "search": "x551", "after": null});
    assert_eq!(w.api.post("messenger/leads", json!({"filter": filter})).await.ok()["leads"][0]["unavailable"], true);

    // Temporary failures beyond the limit: failed, with the reason.
    w.standin.state.set_behaviour(0, 1000, 300);
    let id = w.api.post("broadcasts/save", campaign(&w, "Down", &[], &[])).await.ok().as_str().unwrap().to_string();
    w.api.post("broadcasts/send-now", json!({"id": id})).await.ok();
    let detail = wait_for_state(&mut w, &id, "completed", 20).await;
    assert_eq!(detail["summary"]["progress"]["failed"].as_i64(), Some(5), "every lead but the unavailable one: {detail}");
    assert!(detail["reasons"].to_string().contains("Facebook kept failing"), "{detail}");

    // 190: the campaign pauses, the Page needs reconnection, the owner gets a mail.
    w.standin.state.set_behaviour(0, 0, 300);
    w.standin.state.revoke(PAGE_ID);
    let id = w.api.post("broadcasts/save", campaign(&w, "Revoked", &[], &[])).await.ok().as_str().unwrap().to_string();
    w.api.post("broadcasts/send-now", json!({"id": id})).await.ok();
    let detail = wait_for_state(&mut w, &id, "paused", 0).await;
    assert!(detail["summary"]["pause_reason"].as_str().unwrap().contains("error 190"));
    assert_eq!(detail["summary"]["progress"]["sent"].as_i64(), Some(0));
    assert_eq!(w.api.get("messenger/pages").await.ok()["pages"][0]["status"], "needs_reconnection");
    let mail = wait_for_mail(&w.server.mail_dir(), "broadcast.errors@example.org", "campaign was paused").await;
    assert!(mail.contains("Revoked"));
    assert_eq!(w.api.post("broadcasts/resume", json!({"id": id})).await.error(), "PageNeedsReconnection");
    w.standin.stop();
    w.server.stop().await;
}

#[tokio::test]
async fn schedule_pause_resume_cancel_and_isolation() {
    let mut w = World::start("broadcast.life@example.org").await;
    for psid in ["l1", "l2", "l3"] {
        lead_at(&mut w, psid, "Lou", 60).await;
    }
    let id = w.api.post("broadcasts/save", campaign(&w, "Later", &[], &[])).await.ok().as_str().unwrap().to_string();
    // Validation: bad variables, margins and rates are refused with the reason.
    let mut bad = campaign(&w, "Bad", &[], &[]);
    bad["input"]["text"] = json!("Hi {{email}}");
    assert!(w.api.post("broadcasts/save", bad.clone()).await.error()["InvalidCampaign"]["reason"].as_str().unwrap().contains("{{email}}"));
    bad["input"]["text"] = json!("Hi");
    bad["input"]["margin_hours"] = json!(25);
    assert!(w.api.post("broadcasts/save", bad.clone()).await.error()["InvalidCampaign"].is_object());
    bad["input"]["margin_hours"] = json!(23);
    bad["input"]["rate_per_sec"] = json!(301);
    assert!(w.api.post("broadcasts/save", bad).await.error()["InvalidCampaign"].is_object());

    // Scheduling: a date, a time and a zone; the past is refused.
    let past = json!({"id": id, "schedule": {"date": "2020-01-01", "time": "10:00", "time_zone": "Europe/Paris"}});
    assert_eq!(w.api.post("broadcasts/schedule", past).await.error(), "InvalidSchedule");
    let zone = json!({"id": id, "schedule": {"date": "2030-01-01", "time": "10:00", "time_zone": "Nowhere/City"}});
    assert_eq!(w.api.post("broadcasts/schedule", zone).await.error(), "InvalidSchedule");
    let in_two_hours = w.server.clock_now() + 2 * 3600;
    let (date, time) = utc_date_time(in_two_hours);
    let at = w.api.post("broadcasts/schedule", json!({"id": id, "schedule": {"date": date, "time": time, "time_zone": "UTC"}})).await.ok().clone();
    assert_eq!(at.as_i64(), Some(in_two_hours - in_two_hours % 60));
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(w.api.post("broadcasts/detail", json!({"id": id})).await.ok()["summary"]["state"], "scheduled");
    // Editing is for drafts only.
    let mut edit = campaign(&w, "Edited", &[], &[]);
    edit["input"]["id"] = json!(id);
    assert_eq!(w.api.post("broadcasts/save", edit).await.error(), "CampaignStateConflict");
    w.advance(2 * 3600).await;
    wait_for_state(&mut w, &id, "completed", 0).await;

    // Pause, resume, cancel.
    w.standin.state.set_behaviour(300, 0, 300);
    let id = w.api.post("broadcasts/save", campaign(&w, "Slow", &[], &[])).await.ok().as_str().unwrap().to_string();
    w.api.post("broadcasts/send-now", json!({"id": id})).await.ok();
    w.api.post("broadcasts/pause", json!({"id": id})).await.ok();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let detail = w.api.post("broadcasts/detail", json!({"id": id})).await.ok().clone();
    assert_eq!(detail["summary"]["state"], "paused");
    w.standin.state.set_behaviour(0, 0, 300);
    w.api.post("broadcasts/resume", json!({"id": id})).await.ok();
    wait_for_state(&mut w, &id, "completed", 0).await;
    let id = w.api.post("broadcasts/save", campaign(&w, "Never", &[], &[])).await.ok().as_str().unwrap().to_string();
    w.api.post("broadcasts/cancel", json!({"id": id})).await.ok();
    assert_eq!(w.api.post("broadcasts/send-now", json!({"id": id})).await.error(), "CampaignStateConflict");
    let l1: Vec<_> = w.standin.state.sent().into_iter().filter(|m| m.psid == "l1").collect();
    assert_eq!(l1.len(), 2, "one message per completed campaign");

    // Another account sees and touches nothing.
    let mut b = verified_account(&w.server, "broadcast.intruder@example.org", STRONG_PASSWORD).await;
    b.login("broadcast.intruder@example.org", STRONG_PASSWORD, false).await.ok();
    assert!(b.get("broadcasts/campaigns").await.ok().as_array().unwrap().is_empty());
    for endpoint in ["broadcasts/detail", "broadcasts/send-now", "broadcasts/pause", "broadcasts/resume", "broadcasts/cancel"] {
        assert_eq!(b.post(endpoint, json!({"id": id})).await.error(), "CampaignNotFound", "{endpoint}");
    }
    let mut theirs = campaign(&w, "Theirs", &[], &[]);
    theirs["input"]["page"] = json!(w.page);
    assert_eq!(b.post("broadcasts/save", theirs).await.error(), "PageNotFound");
    w.standin.stop();
    w.server.stop().await;
}

pub fn utc_date_time(unix: i64) -> (String, String) {
    let ts = jiff::Timestamp::from_second(unix).unwrap().to_zoned(jiff::tz::TimeZone::UTC);
    (ts.strftime("%Y-%m-%d").to_string(), ts.strftime("%H:%M").to_string())
}

const CRASH_SECRET: &str = "crash-app-secret";
const CRASH_PAGE: &str = "909090";

/// Two senders on one database (as two instances would run): leases mean
/// each lead gets the campaign exactly once.
#[tokio::test]
async fn two_instances_on_one_database_never_double_send() {
    let mut w = World::start("broadcast.instances@example.org").await;
    w.standin.state.set_webhooks(false, false, 0);
    let ctx = w.ctx().clone();
    let owner = super::seed::owner_of(&ctx, "broadcast.instances@example.org", PAGE_ID, super::support::PAGE_TOKEN).await;
    super::seed::seed_leads(&ctx, &owner, 300, "twin-", &[], ctx.now() - 60).await;
    // A second instance's sender, next to the server's own.
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let twin = tokio::spawn(server::broadcasts::sender::run(ctx.clone(), stopped));
    let id = w.api.post("broadcasts/save", campaign(&w, "Twins", &[], &[])).await.ok().as_str().unwrap().to_string();
    w.api.post("broadcasts/send-now", json!({"id": id})).await.ok();
    let detail = wait_for_state(&mut w, &id, "completed", 0).await;
    assert_eq!(detail["summary"]["progress"]["sent"].as_i64(), Some(300), "{detail}");
    let mut psids: Vec<String> = w.standin.state.sent().into_iter().map(|m| m.psid).filter(|p| p.starts_with("twin-")).collect();
    psids.sort();
    let total = psids.len();
    psids.dedup();
    assert_eq!((total, psids.len()), (300, 300), "each lead exactly once");
    let _ = stop.send(true);
    twin.await.unwrap();
    w.standin.stop();
    w.server.stop().await;
}

#[tokio::test]
async fn delivered_and_read_counts_come_from_the_receipts() {
    let mut w = World::start("broadcast.receipts@example.org").await;
    let mut leads = Vec::new();
    for psid in ["r1", "r2", "r3", "r4"] {
        leads.push(lead_at(&mut w, psid, "Rae", 60).await);
    }
    let id = w.api.post("broadcasts/save", campaign(&w, "Receipts", &[], &[])).await.ok().as_str().unwrap().to_string();
    w.api.post("broadcasts/send-now", json!({"id": id})).await.ok();
    wait_for_state(&mut w, &id, "completed", 0).await;
    // The stand-in delivers every message and reads every second one.
    let detail = detail_once_receipted(&mut w, &id, 4, 2).await;
    let read_in_chart: i64 = detail["chart"].as_array().unwrap().iter().map(|b| b["read"].as_i64().unwrap()).sum();
    assert_eq!(read_in_chart, detail["summary"]["progress"]["read"].as_i64().unwrap(), "{detail}");
    // Erasing a lead removes its echoes too (they are keyed by the lead).
    let ctx = w.ctx().clone();
    let echoes_of = |lead: String| {
        let ctx = ctx.clone();
        async move {
            let keys: Vec<String> = ctx.db.client().query("SELECT VALUE record::id(id) FROM campaign_echo").await.unwrap().take(0).unwrap();
            keys.iter().filter(|k| k.ends_with(lead.as_str())).count()
        }
    };
    w.applied().await;
    assert_eq!(echoes_of(leads[0].clone()).await, 1, "the echo of the message to r1 is recorded");
    w.api.post("messenger/delete-lead", json!({"lead": leads[0]})).await.ok();
    assert_eq!(echoes_of(leads[0].clone()).await, 0, "no echo of an erased lead is left");
    assert_eq!(echoes_of(leads[1].clone()).await, 1, "the others' echoes stay");
    w.standin.stop();
    w.server.stop().await;
}

/// A core (database and keys) on a temporary folder and no server, so that
/// the test runs the sender's passes itself, plus a stand-in with the Page
/// and an owner of it.
struct Standalone {
    _root: tempfile::TempDir,
    ctx: server::context::Ctx,
    standin: standin::Standin,
    owner: super::seed::Owner,
}

async fn standalone(email: &str) -> Standalone {
    use clap::Parser;
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let config = server::config::Cli::try_parse_from(["server", "--db", "mem://", "--data-dir", data.to_str().unwrap()]).unwrap().serve;
    let core = server::open_core(&config, server::clock::ManualClock::starting_now()).await.unwrap();
    let ctx = core.ctx.clone();
    let standin = standin::Standin::start(
        "127.0.0.1:0".parse().unwrap(),
        standin::StandinConfig { app_secret: Some(CRASH_SECRET.into()), webhook_url: None, demo: false, control_token: None },
    )
    .await
    .unwrap();
    standin.state.add_page(CRASH_PAGE, "Standalone Page", "standalone-token");
    super::seed::use_standin(&ctx, CRASH_SECRET, &standin.base_url()).await;
    let owner = super::seed::owner_with_page(&ctx, email, CRASH_PAGE, "standalone-token").await;
    Standalone { _root: root, ctx, standin, owner }
}

async fn campaign_row(ctx: &server::context::Ctx, id: &surrealdb::types::RecordId) -> server::broadcasts::CampaignRow {
    let row: Option<server::broadcasts::CampaignRow> = ctx.db.client().query("SELECT * FROM ONLY $id").bind(("id", id.clone())).await.unwrap().take(0).unwrap();
    row.unwrap()
}

/// Sending starts while the queue is still being built; until it is complete
/// the progress says so instead of a percentage and an ETA.
#[tokio::test]
async fn progress_says_preparing_until_the_queue_is_complete() {
    let Standalone { _root, ctx, standin, owner, .. } = standalone("preparing.owner@example.org").await;
    super::seed::seed_leads(&ctx, &owner, 5, "prep-", &[], ctx.now() - 60).await;
    let campaign = super::seed::start_campaign(&ctx, &owner, 300).await;
    let before = server::broadcasts::stats::progress(&ctx, &campaign_row(&ctx, &campaign).await).await.unwrap();
    assert!(before.preparing && before.eta_secs.is_none(), "{before:?}");
    let throttle = server::broadcasts::sender::Throttle::shared(ctx.db.clone());
    server::broadcasts::sender::tick(&ctx, "test-instance", &throttle).await.unwrap();
    assert_eq!(standin.state.sent_count(), 5, "the first pass builds the queue and sends from it");
    let after = server::broadcasts::stats::progress(&ctx, &campaign_row(&ctx, &campaign).await).await.unwrap();
    assert!(!after.preparing, "{after:?}");
    assert_eq!((after.total, after.sent), (5, 5));
    standin.stop();
}

/// One instance builds a campaign's queue (builders would conflict on the
/// Page's audience guard); the others send what is queued and add nothing.
#[tokio::test]
async fn only_the_instance_holding_the_queue_lease_builds_a_queue_and_it_sends_while_building() {
    let Standalone { _root, ctx, standin, owner, .. } = standalone("builder.owner@example.org").await;
    super::seed::seed_leads(&ctx, &owner, 1_200, "build-", &[], ctx.now() - 60).await;
    let campaign = super::seed::start_campaign(&ctx, &owner, 300).await;
    let queued = || async {
        let n: Option<i64> = ctx
            .db
            .client()
            .query("RETURN count(SELECT id FROM campaign_recipient WHERE campaign = $c)")
            .bind(("c", campaign.clone()))
            .await
            .unwrap()
            .take(0)
            .unwrap();
        n.unwrap_or(0)
    };
    let lease = |holder: &'static str, until: i64| {
        ctx.db.client().query("UPSERT type::record('job_lease', 'queue_building') SET holder = $h, until = $u").bind(("h", holder)).bind(("u", until))
    };
    lease("other-instance", ctx.now() + 60).await.unwrap().check().unwrap();
    let throttle = server::broadcasts::sender::Throttle::shared(ctx.db.clone());
    let worked = server::broadcasts::sender::tick(&ctx, "test-instance", &throttle).await.unwrap();
    assert_eq!((queued().await, standin.state.sent_count()), (0, 0), "another instance holds the lease: nothing added here");
    assert!(!worked, "with nothing queued to send, the pass says so and the sender waits instead of spinning");

    lease("other-instance", ctx.now() - 1).await.unwrap().check().unwrap();
    server::broadcasts::sender::tick(&ctx, "test-instance", &throttle).await.unwrap();
    assert_eq!(queued().await, 1_200, "the lease ran out: this instance built the whole queue");
    assert_eq!(standin.state.sent_count(), 1_200, "and sent it in the same pass");
    standin.stop();
}

/// The next batch is claimed while the current one is sending; pausing or
/// cancelling meanwhile gives it back (queued again, or skipped) unsent.
#[tokio::test]
async fn a_batch_claimed_ahead_is_given_back_on_pause_and_skipped_on_cancel() {
    let Standalone { _root, ctx, standin, owner, .. } = standalone("ahead.owner@example.org").await;
    super::seed::seed_leads(&ctx, &owner, 30, "ahead-", &[], ctx.now() - 60).await;
    // 5/s: batches of 10, two seconds each.
    let campaign = super::seed::start_campaign(&ctx, &owner, 5).await;
    let count = |state: &'static str| {
        let (ctx, campaign) = (ctx.clone(), campaign.clone());
        async move {
            let n: Option<i64> = ctx
                .db
                .client()
                .query("RETURN count(SELECT id FROM campaign_recipient WHERE campaign = $c AND state = $s)")
                .bind(("c", campaign))
                .bind(("s", state))
                .await
                .unwrap()
                .take(0)
                .unwrap();
            n.unwrap_or(0)
        }
    };
    let pass = || {
        let ctx = ctx.clone();
        tokio::spawn(async move {
            server::broadcasts::sender::tick(&ctx, "ahead-instance", &server::broadcasts::sender::Throttle::shared(ctx.db.clone())).await.unwrap()
        })
    };
    // Claimed: no longer pending (the first sends complete while the second batch is claimed).
    let until_pending = |left: i64| async move {
        let deadline = Instant::now() + Duration::from_secs(10);
        while count("pending").await > left {
            assert!(Instant::now() < deadline, "two batches were never claimed");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };

    let running = pass();
    until_pending(10).await;
    ctx.db.client().query("UPDATE $c SET state = 'paused'").bind(("c", campaign.clone())).await.unwrap().check().unwrap();
    running.await.unwrap();
    assert_eq!(standin.state.sent_count(), 10, "the batch under way finishes, the one claimed ahead is not sent");
    assert_eq!((count("sent").await, count("in_flight").await, count("pending").await), (10, 0, 20));

    ctx.db.client().query("UPDATE $c SET state = 'sending'").bind(("c", campaign.clone())).await.unwrap().check().unwrap();
    let running = pass();
    until_pending(0).await;
    // As `cancel` does: the campaign's state, then its pending recipients skipped.
    ctx.db
        .client()
        .query("UPDATE $c SET state = 'cancelled'; UPDATE campaign_recipient SET state = 'skipped', reason = 'campaign cancelled' WHERE campaign = $c AND state = 'pending'")
        .bind(("c", campaign.clone()))
        .await
        .unwrap()
        .check()
        .unwrap();
    running.await.unwrap();
    assert_eq!(standin.state.sent_count(), 20);
    assert_eq!((count("sent").await, count("in_flight").await, count("skipped").await), (20, 0, 10));
    standin.stop();
}
