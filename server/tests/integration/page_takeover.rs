//! A Page whose owner can no longer use it (token refused by Facebook, or
//! disconnected) can be connected by another admin; the previous owner keeps
//! their leads, read-only, or erases them, and is told. A Page its owner can
//! still use, or a token Facebook does not confirm, is refused; of two
//! admins taking a Page over at once, one wins.

use serde_json::{json, Value};
use surrealdb::types::RecordId;

use super::broadcasts::{campaign, lead_at, wait_for_state};
use super::support::*;
use super::support::{signed_request, World, PAGE_ID, PAGE_TOKEN, SECRET};

const OWNER: &str = "first.owner@example.org";
const NEXT: &str = "next.owner@example.org";
const NEXT_TOKEN: &str = "token-of-the-next-admin";

async fn signed_in(w: &World, email: &str) -> Api {
    let mut api = verified_account(&w.server, email, STRONG_PASSWORD).await;
    api.login(email, STRONG_PASSWORD, false).await.ok();
    api
}

/// `RETURN count(<select>)` with `$account` and `$page` bound.
async fn count(w: &World, select: &str, account: &RecordId, page: &RecordId) -> i64 {
    let query = format!("RETURN count({select})");
    let n: Option<i64> = w.ctx().db.client().query(query).bind(("account", account.clone())).bind(("page", page.clone())).await.unwrap().take(0).unwrap();
    n.unwrap_or(0)
}

/// The tables that hold a Page's data: those with an `account` field and a
/// `page`, `lead` or `campaign` field, read from the live schema.
async fn page_data_tables(w: &World) -> Vec<(String, bool)> {
    let db = w.ctx().db.client();
    let info: Option<Value> = db.query("INFO FOR DB").await.unwrap().take(0).unwrap();
    let mut tables = Vec::new();
    for table in info.unwrap()["tables"].as_object().unwrap().keys() {
        let t: Option<Value> = db.query(format!("INFO FOR TABLE {table}")).await.unwrap().take(0).unwrap();
        let fields = t.unwrap()["fields"].as_object().cloned().unwrap_or_default();
        let has = |f: &str| fields.contains_key(f);
        if (has("account") && (has("page") || has("lead") || has("campaign"))) || table == "page" {
            tables.push((table.clone(), has("page")));
        }
    }
    tables
}

#[tokio::test]
async fn a_page_whose_token_died_passes_to_its_new_admin_and_the_previous_owner_keeps_their_leads() {
    let mut w = World::start(OWNER).await;
    w.write("kept-person", "hello, first owner").await;
    let kept = w.wait_for_named_lead("kept-person").await;
    let mut next = verified_account(&w.server, NEXT, STRONG_PASSWORD).await;
    next.login(NEXT, STRONG_PASSWORD, false).await.ok();

    // While the owner can use it, the Page is theirs alone.
    let taken = next.post("messenger/connect-page", json!({"page_id": PAGE_ID, "access_token": PAGE_TOKEN})).await;
    assert_eq!(taken.error(), "PageAlreadyConnected");

    // Facebook refuses the owner's token (190): the Page needs reconnection.
    w.standin.state.revoke(PAGE_ID);
    assert_eq!(w.api.post("messenger/reply", json!({"lead": kept, "text": "still there?"})).await.error(), "PageNeedsReconnection");
    // A new admin of the Page, whose token Facebook confirms, connects it.
    w.standin.state.add_page(PAGE_ID, "Fleur & Co", "token-of-the-next-admin");
    next.post("messenger/connect-page", json!({"page_id": PAGE_ID, "access_token": "token-of-the-next-admin"})).await.ok();
    let mail = wait_for_mail(&w.server.mail_dir(), OWNER, "connected by another account").await;
    assert!(mail.contains("Fleur & Co"), "{mail}");

    // The previous owner keeps the lead and its conversation, read-only, under the archived Page.
    let pages = w.api.get("messenger/pages").await.ok().clone();
    assert_eq!((pages["pages"].as_array().unwrap().len(), pages["pages"][0]["status"].as_str()), (1, Some("disconnected")), "{pages}");
    let archived = pages["pages"][0]["id"].as_str().unwrap().to_string();
    assert_ne!(archived, w.page);
    let conversation = w.api.post("messenger/conversation", json!({"lead": kept})).await.ok().clone();
    assert_eq!(conversation["messages"][0]["text"], "hello, first owner");
    let next_pages = next.get("messenger/pages").await.ok().clone();
    assert_eq!(next_pages["pages"][0]["status"], "active");
    assert_eq!(next_pages["pages"][0]["leads"], 0, "none of the previous owner's leads came with the Page");

    // The person writes again: the new owner gets a lead of their own; the old one is untouched.
    w.write("kept-person", "hello, new owner").await;
    let next_pages = next.get("messenger/pages").await.ok().clone();
    assert_eq!(next_pages["pages"][0]["leads"], 1);
    let conversation = w.api.post("messenger/conversation", json!({"lead": kept})).await.ok().clone();
    assert_eq!(conversation["messages"].as_array().unwrap().iter().filter(|m| m["direction"] == "inbound").count(), 1, "{conversation}");

    // Meta's deletion callback reaches the person in both accounts.
    let url = format!("{}/webhooks/meta/data-deletion", w.server.base);
    let r = http_client().post(&url).form(&[("signed_request", signed_request(SECRET, "asid-kept-person", w.server.clock_now()))]).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let answer: serde_json::Value = r.json().await.unwrap();
    let status = w.server.client().post("messenger/deletion-status", json!({"code": answer["confirmation_code"]})).await.ok().clone();
    assert_eq!(status["leads_erased"], 2, "{status}");
    assert_eq!(w.api.post("messenger/conversation", json!({"lead": kept})).await.error(), "LeadNotFound");

    // The archive can be erased from the previous owner's Pages, as on disconnect.
    w.api.post("messenger/disconnect-page", json!({"page": archived, "erase": true})).await.ok();
    assert_eq!(w.api.get("messenger/pages").await.ok()["pages"], json!([]));
    assert_eq!(next.get("messenger/pages").await.ok()["pages"][0]["status"], "active");
    w.standin.stop();
    w.server.stop().await;
}

/// A link the previous owner sent still works once the Page has passed on:
/// the person unsubscribes from, and erases their data with, the previous
/// owner. Neither touches the STOP they sent the new owner, nor does the
/// previous owner's erasure of the archive.
#[tokio::test]
async fn the_previous_owners_unsubscribe_link_still_works_after_a_takeover_and_leaves_the_new_owners_stop_alone() {
    let mut w = World::start(OWNER).await;
    w.write("linked-person", "hello, first owner").await;
    let kept = w.wait_for_named_lead("linked-person").await;
    let token = server::broadcasts::unsubscribe::token(w.ctx(), &kept, &w.page);
    w.standin.state.revoke(PAGE_ID);
    w.standin.state.add_page(PAGE_ID, "Fleur & Co", NEXT_TOKEN);
    let mut next = signed_in(&w, NEXT).await;
    next.post("messenger/connect-page", json!({"page_id": PAGE_ID, "access_token": NEXT_TOKEN})).await.ok();
    let archived = w.api.get("messenger/pages").await.ok()["pages"][0]["id"].as_str().unwrap().to_string();
    assert_ne!(archived, w.page, "the previous owner's lead is under the archive");

    assert_eq!(w.write("linked-person", "STOP").await, 200);
    let next_account = account_record(&w.server, NEXT).await;
    let live_page = RecordId::new("page", w.page.clone());
    let new_owners_stops = "SELECT id FROM suppression WHERE account = $account AND page = $page";
    assert_eq!(count(&w, new_owners_stops, &next_account, &live_page).await, 1, "the STOP to the new owner is kept");

    let mut person = w.server.client();
    assert_eq!(person.post("unsubscribe/info", json!({"token": token})).await.ok()["subscribed"], true);
    person.post("unsubscribe/confirm", json!({"token": token})).await.ok();
    assert_eq!(person.post("unsubscribe/info", json!({"token": token})).await.ok()["subscribed"], false);
    assert_eq!(count(&w, new_owners_stops, &next_account, &live_page).await, 1, "unsubscribing from the previous owner leaves the new owner's STOP");

    person.post("unsubscribe/erase", json!({"token": token})).await.ok();
    assert_eq!(w.api.post("messenger/conversation", json!({"lead": kept})).await.error(), "LeadNotFound");
    w.api.post("messenger/disconnect-page", json!({"page": archived, "erase": true})).await.ok();
    assert_eq!(count(&w, new_owners_stops, &next_account, &live_page).await, 1, "the previous owner's erasures leave the new owner's STOP");
    w.standin.stop();
    w.server.stop().await;
}

/// Schedules a campaign `secs` from the server's clock.
pub async fn schedule_in(w: &mut World, id: &str, secs: i64) {
    let (date, time) = super::broadcasts::utc_date_time(w.server.clock_now() + secs);
    w.api.post("broadcasts/schedule", json!({"id": id, "schedule": {"date": date, "time": time, "time_zone": "UTC"}})).await.ok();
}

/// One pass of the sender, now: due campaigns start (or not) before it returns.
pub async fn sender_pass(w: &World) {
    let ctx = w.ctx();
    let throttle = server::broadcasts::sender::Throttle::shared(ctx.db.clone());
    server::broadcasts::sender::tick(ctx, &ctx.instance, &throttle).await.unwrap();
}

#[tokio::test]
async fn a_page_its_owner_disconnected_passes_to_a_new_admin_and_the_owner_keeps_or_erases_all_of_theirs() {
    let mut w = World::start(OWNER).await;
    let owner = account_record(&w.server, OWNER).await;
    let page = RecordId::new("page", w.page.clone());
    // The owner's data on the Page: leads and messages, a campaign sent (deliveries, echoes), a STOP, a campaign scheduled.
    let kept = lead_at(&mut w, "d-kept", "Kim", 60).await;
    lead_at(&mut w, "d-stop", "Sam", 60).await;
    let sent = w.api.post("broadcasts/save", campaign(&w, "Sent before", &[], &[])).await.ok().as_str().unwrap().to_string();
    w.api.post("broadcasts/send-now", json!({"id": sent})).await.ok();
    wait_for_state(&mut w, &sent, "completed", 0).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while count(&w, "SELECT id FROM campaign_echo WHERE account = $account", &owner, &page).await < 2 {
        assert!(std::time::Instant::now() < deadline, "the campaign's echoes never arrived");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        w.applied().await;
    }
    assert_eq!(w.write("d-stop", "STOP").await, 200);
    let later = w.api.post("broadcasts/save", campaign(&w, "Later", &[], &[])).await.ok().as_str().unwrap().to_string();
    schedule_in(&mut w, &later, 2 * 3600).await;

    // The owner disconnects the Page, keeping its data; another admin connects it.
    w.api.post("messenger/disconnect-page", json!({"page": w.page, "erase": false})).await.ok();
    let mut next = signed_in(&w, NEXT).await;
    next.post("messenger/connect-page", json!({"page_id": PAGE_ID, "access_token": PAGE_TOKEN})).await.ok();
    wait_for_mail(&w.server.mail_dir(), OWNER, "connected by another account").await;

    // Kept: all of it went to the owner's archived copy of the Page; none of it is on the new owner's.
    let pages = w.api.get("messenger/pages").await.ok().clone();
    assert_eq!((pages["pages"].as_array().unwrap().len(), pages["pages"][0]["status"].as_str()), (1, Some("disconnected")), "{pages}");
    let archived = pages["pages"][0]["id"].as_str().unwrap().to_string();
    assert_ne!(archived, w.page);
    let archive = RecordId::new("page", archived.clone());
    for (table, expected) in [("lead", 2), ("suppression", 1), ("campaign", 2)] {
        assert_eq!(count(&w, &format!("SELECT id FROM {table} WHERE account = $account AND page = $page"), &owner, &archive).await, expected, "{table}");
    }
    for table in ["campaign_recipient", "campaign_echo"] {
        assert_eq!(count(&w, &format!("SELECT id FROM {table} WHERE account = $account"), &owner, &page).await, 2, "{table}");
    }
    let tables = page_data_tables(&w).await;
    for expected in ["page", "lead", "message", "suppression", "campaign", "campaign_recipient", "campaign_echo"] {
        assert!(tables.iter().any(|(t, _)| t == expected), "{expected} is scanned: {tables:?}");
    }
    for (table, _) in tables.iter().filter(|(_, has_page)| *has_page) {
        assert_eq!(count(&w, &format!("SELECT id FROM {table} WHERE account = $account AND page = $page"), &owner, &page).await, 0, "{table}");
    }
    let conversation = w.api.post("messenger/conversation", json!({"lead": kept})).await.ok().clone();
    assert_eq!(conversation["messages"][0]["text"], "hello");
    let detail = w.api.post("broadcasts/detail", json!({"id": later})).await.ok().clone();
    assert_eq!(detail["summary"]["state"], "paused", "{detail}");
    assert!(detail["summary"]["pause_reason"].as_str().unwrap().contains("another account"), "{detail}");
    assert_eq!(w.api.post("broadcasts/resume", json!({"id": later})).await.error(), "PageNeedsReconnection");

    // The new owner sees none of it; the person who wrote STOP to the previous owner starts afresh.
    let theirs = next.get("messenger/pages").await.ok().clone();
    assert_eq!((theirs["pages"][0]["status"].as_str(), theirs["pages"][0]["leads"].as_i64()), (Some("active"), Some(0)), "{theirs}");
    assert_eq!(next.get("broadcasts/campaigns").await.ok(), &json!([]));
    assert_eq!(next.post("messenger/conversation", json!({"lead": kept})).await.error(), "LeadNotFound");
    assert_eq!(next.post("broadcasts/detail", json!({"id": later})).await.error(), "CampaignNotFound");
    w.write("d-stop", "hello again").await;
    let filter = json!({"page": w.page, "label": null, "subscribed": null, "window": null, "search": "", "after": null});
    let leads = next.post("messenger/leads", json!({"filter": filter})).await.ok().clone();
    assert_eq!((leads["leads"].as_array().unwrap().len(), leads["leads"][0]["subscribed"].as_bool()), (1, Some(true)), "{leads}");
    let newcomer_lead = leads["leads"][0]["id"].as_str().unwrap().to_string();

    // At its time the paused campaign does not start: nothing goes out through the new owner's token.
    let sent_before = w.standin.state.sent_count();
    w.advance(3 * 3600).await;
    next.login(NEXT, STRONG_PASSWORD, false).await.ok();
    sender_pass(&w).await;
    assert_eq!(w.api.post("broadcasts/detail", json!({"id": later})).await.ok()["summary"]["state"], "paused");
    assert_eq!(w.standin.state.sent_count(), sent_before);

    // Erased, as on disconnect: nothing of the owner's for that Page is left, in any table.
    w.api.post("messenger/disconnect-page", json!({"page": archived, "erase": true})).await.ok();
    for (table, has_page) in &tables {
        assert_eq!(count(&w, &format!("SELECT id FROM {table} WHERE account = $account"), &owner, &archive).await, 0, "{table}");
        if *has_page {
            assert_eq!(count(&w, &format!("SELECT id FROM {table} WHERE page = $page"), &owner, &archive).await, 0, "{table}");
        }
    }
    let person = server::messenger::leads::lead_ident(w.ctx(), PAGE_ID, "d-kept");
    let naming: Option<i64> =
        w.ctx().db.client().query("RETURN count(SELECT id FROM signed_delivery WHERE people CONTAINS $p)").bind(("p", person)).await.unwrap().take(0).unwrap();
    assert_eq!(naming, Some(0), "no kept delivery names the erased person");
    // The new owner's lead is untouched.
    let conversation = next.post("messenger/conversation", json!({"lead": newcomer_lead})).await.ok().clone();
    assert_eq!(conversation["messages"][0]["text"], "hello again", "{conversation}");
    w.standin.stop();
    w.server.stop().await;
}

#[tokio::test]
async fn a_page_its_owner_can_still_use_or_a_token_facebook_does_not_confirm_is_refused() {
    let mut w = World::start(OWNER).await;
    w.write("n-kept", "hello").await;
    let kept = w.wait_for_named_lead("n-kept").await;
    let mut next = signed_in(&w, NEXT).await;
    let connect = |token: &str| json!({"page_id": PAGE_ID, "access_token": token});

    // The owner's token still works: Facebook confirms the new admin's token too, but the Page stays.
    let refused = next.post("messenger/connect-page", connect(PAGE_TOKEN)).await;
    assert_eq!((refused.status, refused.error()), (409, &json!("PageAlreadyConnected")));
    // Facebook refuses the owner's token (nothing of ours noticed yet): a token it does not confirm for this Page is refused.
    w.standin.state.revoke(PAGE_ID);
    w.standin.state.add_page("555000111", "Elsewhere", "token-for-another-page");
    assert_eq!(next.post("messenger/connect-page", connect("token-for-another-page")).await.error(), "InvalidPageToken");
    assert_eq!(next.post("messenger/connect-page", connect("made-up-token")).await.error(), "InvalidPageToken");
    // The Page is still the owner's, as it was.
    let pages = w.api.get("messenger/pages").await.ok().clone();
    assert_eq!((pages["pages"][0]["id"].as_str(), pages["pages"][0]["leads"].as_i64()), (Some(w.page.as_str()), Some(1)), "{pages}");
    assert_eq!(next.get("messenger/pages").await.ok()["pages"], json!([]));
    assert!(find_mail(&w.server.mail_dir(), OWNER, "connected by another account").is_none());

    // A new admin whose token Facebook confirms: asked about the owner's token, Facebook answers 190, and the Page passes on.
    w.standin.state.add_page(PAGE_ID, "Fleur & Co", NEXT_TOKEN);
    next.post("messenger/connect-page", connect(NEXT_TOKEN)).await.ok();
    wait_for_mail(&w.server.mail_dir(), OWNER, "connected by another account").await;
    assert_eq!(next.get("messenger/pages").await.ok()["pages"][0]["status"], "active");
    assert_eq!(w.api.get("messenger/pages").await.ok()["pages"][0]["status"], "disconnected");
    assert_eq!(w.api.post("messenger/conversation", json!({"lead": kept})).await.ok()["messages"][0]["text"], "hello");
    w.standin.stop();
    w.server.stop().await;
}

#[tokio::test]
async fn two_admins_taking_over_a_dead_page_at_once_cannot_both_win() {
    let mut w = World::start(OWNER).await;
    w.write("race-kept", "hello").await;
    let kept = w.wait_for_named_lead("race-kept").await;
    w.standin.state.revoke(PAGE_ID);
    assert_eq!(w.api.post("messenger/reply", json!({"lead": kept, "text": "still there?"})).await.error(), "PageNeedsReconnection");
    let ctx = w.ctx().clone();
    let mut admins = Vec::new();
    for n in 0..4 {
        let email = format!("racer{n}@example.org");
        verified_account(&w.server, &email, STRONG_PASSWORD).await;
        let id = account_id(&w.server, &email).await;
        let key = ctx.crypto.account_key(&id).await.unwrap();
        admins.push((id, key));
    }

    let saves = admins.iter().map(|(id, key)| server::messenger::pages::save(&ctx, id, key, PAGE_ID, "Fleur & Co", NEXT_TOKEN));
    let results = futures::future::join_all(saves).await;
    let winners: Vec<&str> = admins.iter().zip(&results).filter(|(_, r)| r.is_ok()).map(|((id, _), _)| id.as_str()).collect();
    assert_eq!(winners.len(), 1, "exactly one takes the Page over");
    for result in &results {
        assert!(matches!(result, Ok(_) | Err(server::error::Error::User(app::error::AppError::PageAlreadyConnected))), "{result:?}");
    }
    let page = RecordId::new("page", w.page.clone());
    let holder: Option<RecordId> = ctx.db.client().query("SELECT VALUE account FROM ONLY $id").bind(("id", page.clone())).await.unwrap().take(0).unwrap();
    assert_eq!(holder.map(|a| server::db::ids::key_string(&a)).as_deref(), Some(winners[0]));
    let owner = account_record(&w.server, OWNER).await;
    assert_eq!(count(&w, "SELECT id FROM page WHERE account = $account", &owner, &page).await, 1, "one archive of the previous owner's data");
    assert_eq!(count(&w, "SELECT id FROM lead WHERE account = $account AND page != $page", &owner, &page).await, 1);
    w.standin.stop();
    w.server.stop().await;
}
