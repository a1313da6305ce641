//! The Messenger webhook endpoint, checked with the independent vectors.

use base64::Engine as _;
use serde_json::Value;
use zeroize::Zeroizing;

use super::support::*;

fn vectors() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/messenger.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

async fn configured(server: &TestServer, secret: &str) {
    let settings = server::messenger::settings::AppSettings {
        app_id: "123".into(),
        app_secret: Zeroizing::new(secret.to_string()),
        verify_token: Zeroizing::new("verify-me-please".into()),
        graph_base_url: "http://127.0.0.1:1".into(),
        graph_version: "v21.0".into(),
    };
    server::messenger::settings::save(server.running.as_ref().unwrap().context(), &settings).await.unwrap();
}

#[tokio::test]
async fn the_webhook_verifies_signatures_and_never_answers_5xx() {
    let server = TestServer::start(&[]).await;
    let v = vectors();
    let url = format!("{}/webhooks/messenger", server.base);
    let http = http_client();

    // Not configured yet: refused.
    let r = http.get(format!("{url}?hub.mode=subscribe&hub.verify_token=x&hub.challenge=1")).send().await.unwrap();
    assert_eq!(r.status(), 403);
    configured(&server, v["app_secret"].as_str().unwrap()).await;

    let r = http.get(format!("{url}?hub.mode=subscribe&hub.verify_token=verify-me-please&hub.challenge=CHALLENGE_42")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "CHALLENGE_42");
    for bad in ["hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1", "hub.mode=unsubscribe&hub.verify_token=verify-me-please&hub.challenge=1"] {
        assert_eq!(http.get(format!("{url}?{bad}")).send().await.unwrap().status(), 403, "{bad}");
    }

    for case in v["webhook"].as_array().unwrap() {
        let body = base64::engine::general_purpose::STANDARD.decode(case["body_b64"].as_str().unwrap()).unwrap();
        let r = http.post(&url).header("x-hub-signature-256", case["x_hub_signature_256"].as_str().unwrap()).body(body).send().await.unwrap();
        let expected = if case["valid"].as_bool().unwrap() { 200 } else { 403 };
        assert_eq!(r.status(), expected, "{}", case["name"]);
        if expected == 200 {
            assert_eq!(r.text().await.unwrap(), "EVENT_RECEIVED");
        }
    }

    let secret = v["app_secret"].as_str().unwrap().as_bytes();
    let sign = |body: &[u8]| {
        use hmac::Mac;
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret).unwrap();
        mac.update(body);
        format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
    };
    let r = http.post(&url).body("{}").send().await.unwrap();
    assert_eq!(r.status(), 403, "no signature");
    let malformed = b"{not json".to_vec();
    let r = http.post(&url).header("x-hub-signature-256", sign(&malformed)).body(malformed).send().await.unwrap();
    assert_eq!(r.status(), 400, "signed but malformed");
    let huge = vec![b' '; 1024 * 1024 + 1];
    let r = http.post(&url).header("x-hub-signature-256", sign(&huge)).body(huge).send().await.unwrap();
    assert_eq!(r.status(), 413);
    server.stop().await;
}

#[tokio::test]
async fn a_secret_saved_here_is_checked_at_once_and_one_saved_by_another_instance_within_five_seconds() {
    let server = TestServer::start(&[]).await;
    let url = format!("{}/webhooks/messenger", server.base);
    let body = br#"{"object":"page","entry":[]}"#;
    let status = |secret: &'static str| {
        let url = url.clone();
        async move {
            use hmac::Mac;
            let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
            mac.update(body);
            let signature = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
            http_client().post(&url).header("x-hub-signature-256", signature).body(body.to_vec()).send().await.unwrap().status().as_u16()
        }
    };
    configured(&server, "first-secret").await;
    assert_eq!(status("first-secret").await, 200);
    configured(&server, "second-secret").await;
    assert_eq!((status("second-secret").await, status("first-secret").await), (200, 403), "saved here: checked at once");

    // Another instance on the same database has its own copy of the settings.
    let here = server.running.as_ref().unwrap().context();
    let elsewhere = server::context::Ctx { memo: Default::default(), ..here.clone() };
    let settings = server::messenger::settings::load(here).await.unwrap().unwrap();
    let third = server::messenger::settings::AppSettings { app_secret: Zeroizing::new("third-secret".into()), ..settings };
    server::messenger::settings::save(&elsewhere, &third).await.unwrap();
    assert_eq!((status("second-secret").await, status("third-secret").await), (200, 403), "saved elsewhere: the copy here is still used");
    server.clock.advance(5);
    assert_eq!((status("third-secret").await, status("second-secret").await), (200, 403), "five seconds later: read again");
    server.stop().await;
}

// ---- Pages, leads, inbox, against the Graph API stand-in (`support::World`) ----

use std::time::{Duration, Instant};

use serde_json::json;
use standin::SimulatedEvent;

#[tokio::test]
async fn pages_connect_manually_and_through_facebook_login() {
    let mut w = World::start("pages.owner@example.org").await;
    assert!(w.standin.state.subscribed(PAGE_ID), "the app subscribed itself to the Page");
    let pages = w.api.get("messenger/pages").await.ok().clone();
    assert_eq!(pages["pages"][0]["name"], "Fleur & Co");
    assert_eq!(pages["pages"][0]["status"], "active");

    // A wrong token or a Page id it does not belong to is refused.
    let r = w.api.post("messenger/connect-page", json!({"page_id": PAGE_ID, "access_token": "wrong"})).await;
    assert_eq!(r.error(), "InvalidPageToken");
    let r = w.api.post("messenger/connect-page", json!({"page_id": "not-a-number", "access_token": PAGE_TOKEN})).await;
    assert_eq!(r.error(), "InvalidPageToken");

    // Facebook Login: the dialog carries a state bound to this session.
    w.standin.state.add_page("555000111", "Second Shop", "token-second");
    let dialog = w.api.post("messenger/facebook-login", json!({})).await.ok().as_str().unwrap().to_string();
    assert!(dialog.contains("/dialog/oauth?client_id=4242&redirect_uri="), "{dialog}");
    let html = http_client().get(&dialog).send().await.unwrap().text().await.unwrap();
    let href = html.split("href=\"").nth(1).unwrap().split('"').next().unwrap().replace("&amp;", "&");
    let query: std::collections::HashMap<String, String> = url_query(&href).into_iter().collect();
    let (code, state) = (query["code"].clone(), query["state"].clone());
    // Another session cannot use this state.
    let mut other = w.server.client();
    other.login("pages.owner@example.org", STRONG_PASSWORD, false).await.ok();
    let r = other.post("messenger/facebook-callback", json!({"code": code, "state": state})).await;
    assert_eq!(r.error(), "FacebookLoginExpired");
    let offered = w.api.post("messenger/facebook-callback", json!({"code": code, "state": state})).await.ok().clone();
    let offered = offered.as_array().unwrap();
    assert_eq!(offered.len(), 2, "{offered:?}");
    assert!(offered.iter().any(|p| p["page_id"] == PAGE_ID && p["connected"] == true));
    let n = w.api.post("messenger/facebook-connect", json!({"state": state, "page_ids": ["555000111"]})).await.ok().clone();
    assert_eq!(n, 1);
    assert!(w.standin.state.subscribed("555000111"));
    let pages = w.api.get("messenger/pages").await.ok().clone();
    assert_eq!(pages["pages"].as_array().unwrap().len(), 2);
    // The state is single-use.
    let r = w.api.post("messenger/facebook-connect", json!({"state": state, "page_ids": ["555000111"]})).await;
    assert_eq!(r.error(), "FacebookLoginExpired");

    // Another account cannot take a connected Page.
    let mut b = verified_account(&w.server, "pages.intruder@example.org", STRONG_PASSWORD).await;
    b.login("pages.intruder@example.org", STRONG_PASSWORD, false).await.ok();
    let r = b.post("messenger/connect-page", json!({"page_id": PAGE_ID, "access_token": PAGE_TOKEN})).await;
    assert_eq!(r.error(), "PageAlreadyConnected");
    w.standin.stop();
    w.server.stop().await;
}

fn url_query(url: &str) -> Vec<(String, String)> {
    let query = url.split_once('?').map(|(_, q)| q).unwrap_or("");
    query.split('&').filter_map(|pair| pair.split_once('=')).map(|(k, v)| (k.to_string(), percent_decode(v))).collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

#[tokio::test]
async fn a_lead_is_stored_once_with_a_verifiable_proof_and_the_reply_rules_hold() {
    let mut w = World::start("inbox.owner@example.org").await;
    assert_eq!(w.write("psid-1", "Grüße! Do you deliver? 👋").await, 200);
    let lead = w.wait_for_named_lead("psid-1").await;

    // A replayed delivery (same mid) is stored once.
    let conversation = w.api.post("messenger/conversation", json!({"lead": lead})).await.ok().clone();
    assert_eq!(conversation["messages"].as_array().unwrap().len(), 1);
    assert_eq!(conversation["messages"][0]["text"], "Grüße! Do you deliver? 👋");
    let replay = SimulatedEvent { mid: Some("m_fixed".into()), ..SimulatedEvent::text(PAGE_ID, "psid-1", "again") };
    assert_eq!(w.standin.state.simulate(replay.clone()).await.unwrap().0, 200);
    assert_eq!(w.standin.state.simulate(replay).await.unwrap().0, 200);
    w.applied().await;
    let conversation = w.api.post("messenger/conversation", json!({"lead": lead})).await.ok().clone();
    assert_eq!(conversation["messages"].as_array().unwrap().len(), 2, "{conversation}");
    assert_eq!(conversation["lead"]["reply"]["state"], "standard");

    // The opt-in proof: the first delivery's raw bytes and signature, checkable with the app secret.
    let proof = w.api.post("messenger/verify-proof", json!({"lead": lead})).await.ok().clone();
    assert_eq!(proof["status"], "valid", "{proof}");
    assert!(proof["signature_header"].as_str().unwrap().starts_with("sha256="));

    // Inside 24 hours: RESPONSE.
    assert_eq!(w.api.post("messenger/reply", json!({"lead": lead, "text": "Yes, everywhere in the EU."})).await.ok(), "sent");
    let sent = w.wait_for_sent(1).await;
    assert_eq!((sent[0].psid.as_str(), sent[0].messaging_type.as_str(), sent[0].tag.as_deref()), ("psid-1", "RESPONSE", None));
    assert_eq!(sent[0].text, "Yes, everywhere in the EU.");

    // 24 hours after the last message: only a human reply with HUMAN_AGENT.
    w.advance(24 * 3600).await;
    let conversation = w.api.post("messenger/conversation", json!({"lead": lead})).await.ok().clone();
    assert_eq!(conversation["lead"]["reply"]["state"], "human_agent");
    assert_eq!(w.api.post("messenger/reply", json!({"lead": lead, "text": "Following up by hand."})).await.ok(), "sent");
    let sent = w.wait_for_sent(2).await;
    assert_eq!((sent[1].messaging_type.as_str(), sent[1].tag.as_deref()), ("MESSAGE_TAG", Some("HUMAN_AGENT")));

    // 7 days: replying is refused, and nothing reaches Facebook.
    w.advance(6 * 24 * 3600).await;
    let r = w.api.post("messenger/reply", json!({"lead": lead, "text": "Too late"})).await;
    assert_eq!(r.error(), "OutsideWindow");
    assert_eq!(w.standin.state.sent().len(), 2);
    let r = w.api.post("messenger/reply", json!({"lead": lead, "text": "   "})).await;
    assert_eq!(r.error(), "InvalidMessage");
    w.standin.stop();
    w.server.stop().await;
}

#[tokio::test]
async fn stop_unsubscribes_and_start_subscribes_again() {
    let mut w = World::start("stop.owner@example.org").await;
    w.write("psid-stop", "hello").await;
    let lead = w.wait_for_named_lead("psid-stop").await;
    assert_eq!(w.write("psid-stop", "Stop!").await, 200);
    let found = w.leads(json!({"subscribed": false})).await;
    assert_eq!(found["leads"][0]["id"], lead.as_str(), "{found}");
    let sent = w.wait_for_sent(1).await;
    assert!(sent[0].text.contains("unsubscribed"), "{:?}", sent[0]);
    assert_eq!(sent[0].messaging_type, "RESPONSE");

    // The suppression outlives the lead: erased and back, still unsubscribed.
    w.api.post("messenger/delete-lead", json!({"lead": lead})).await.ok();
    w.write("psid-stop", "hello again").await;
    let lead = w.wait_for_named_lead("psid-stop").await;
    let found = w.leads(json!({"subscribed": false})).await;
    assert_eq!(found["leads"][0]["id"], lead.as_str());

    // A translation of START subscribes again; the Page's bot disclosure is added.
    w.api.post("messenger/bot-disclosure", json!({"page": w.page, "enabled": true})).await.ok();
    w.write("psid-stop", "Démarrer").await;
    let found = w.leads(json!({"subscribed": true})).await;
    assert_eq!(found["leads"][0]["id"], lead.as_str());
    let sent = w.wait_for_sent(2).await;
    assert!(sent[1].text.starts_with("(Automated message.)") && sent[1].text.contains("subscribed again"), "{:?}", sent[1]);
    w.standin.stop();
    w.server.stop().await;
}

#[tokio::test]
async fn graph_errors_become_plain_messages() {
    let mut w = World::start("errors.owner@example.org").await;
    for psid in ["p551", "p10", "p613", "p190"] {
        w.write(psid, "hi").await;
    }
    let (l551, l10, l613, l190) =
        (w.wait_for_named_lead("p551").await, w.wait_for_named_lead("p10").await, w.wait_for_named_lead("p613").await, w.wait_for_named_lead("p190").await);

    w.standin.state.fail_for("p551", 551);
    assert_eq!(w.api.post("messenger/reply", json!({"lead": l551, "text": "x"})).await.error(), "LeadUnavailable");
    let c = w.api.post("messenger/conversation", json!({"lead": l551})).await.ok().clone();
    assert_eq!(c["lead"]["unavailable"], true);

    w.standin.state.fail_for("p10", 10);
    assert_eq!(w.api.post("messenger/reply", json!({"lead": l10, "text": "x"})).await.error(), "OutsideWindow");

    // 613: queued, then sent by the retry job. (The stand-in is told to answer 613
    // for this person: a real per-second limit would make the test depend on the clock.)
    w.api.post("messenger/reply", json!({"lead": l613, "text": "first"})).await.ok();
    w.standin.state.fail_for("p613", 613);
    let outcome = w.api.post("messenger/reply", json!({"lead": l613, "text": "second"})).await.ok().clone();
    assert_eq!(outcome, "queued");
    w.standin.state.fail_for("p613", 0);
    w.advance(10).await;
    server::messenger::inbox::retry_queued(w.ctx()).await.unwrap();
    assert!(w.standin.state.sent().iter().any(|m| m.text == "second" && m.psid == "p613"));
    // A 5xx is retried the same way.
    w.standin.state.set_behaviour(0, 1, 300);
    assert_eq!(w.api.post("messenger/reply", json!({"lead": l613, "text": "third"})).await.ok(), "queued");
    w.advance(10).await;
    server::messenger::inbox::retry_queued(w.ctx()).await.unwrap();
    assert!(w.standin.state.sent().iter().any(|m| m.text == "third"));

    // 190: the Page needs reconnection, shown as such.
    w.standin.state.revoke(PAGE_ID);
    assert_eq!(w.api.post("messenger/reply", json!({"lead": l190, "text": "x"})).await.error(), "PageNeedsReconnection");
    let pages = w.api.get("messenger/pages").await.ok().clone();
    assert_eq!(pages["pages"][0]["status"], "needs_reconnection");
    w.standin.stop();
    w.server.stop().await;
}

#[tokio::test]
async fn labels_filters_and_name_search() {
    let mut w = World::start("labels.owner@example.org").await;
    for psid in ["a1", "a2", "a3"] {
        w.write(psid, "hello").await;
    }
    let (a1, a2, a3) = (w.wait_for_named_lead("a1").await, w.wait_for_named_lead("a2").await, w.wait_for_named_lead("a3").await);
    let vip = w.api.post("messenger/create-label", json!({"name": "VIP"})).await.ok().clone();
    let vip = vip["id"].as_str().unwrap().to_string();
    assert_eq!(w.api.post("messenger/create-label", json!({"name": "vip"})).await.error(), "InvalidLabel");
    assert_eq!(w.api.post("messenger/create-label", json!({"name": ""})).await.error(), "InvalidLabel");
    let n = w.api.post("messenger/assign-label", json!({"leads": [a1, a2], "label": vip, "assign": true})).await.ok().clone();
    assert_eq!(n, 2);
    let found = w.leads(json!({"label": vip})).await;
    let ids: Vec<&str> = found["leads"].as_array().unwrap().iter().map(|l| l["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 2);
    assert!(ids.contains(&a1.as_str()) && ids.contains(&a2.as_str()));
    assert_eq!(found["leads"][0]["labels"][0]["name"], "VIP");
    w.api.post("messenger/assign-label", json!({"leads": [a2], "label": vip, "assign": false})).await.ok();
    w.api.post("messenger/rename-label", json!({"label": vip, "name": "Gold"})).await.ok();
    let found = w.leads(json!({"label": vip})).await;
    assert_eq!(found["leads"].as_array().unwrap().len(), 1);
    assert_eq!(found["leads"][0]["labels"][0]["name"], "Gold");

    // Search decrypts names on the server; case does not matter.
    let found = w.leads(json!({"search": "lovelace A3"})).await;
    assert_eq!(found["leads"].as_array().unwrap().len(), 1);
    assert_eq!(found["leads"][0]["id"], a3.as_str());
    assert_eq!(w.leads(json!({"search": "nobody"})).await["leads"].as_array().unwrap().len(), 0);

    // Window filter: all open now; after 24 hours all closed.
    assert_eq!(w.leads(json!({"window": "open"})).await["leads"].as_array().unwrap().len(), 3);
    w.advance(24 * 3600).await;
    assert_eq!(w.leads(json!({"window": "open"})).await["leads"].as_array().unwrap().len(), 0);
    assert_eq!(w.leads(json!({"window": "closed"})).await["leads"].as_array().unwrap().len(), 3);

    w.api.post("messenger/delete-label", json!({"label": vip})).await.ok();
    assert_eq!(w.api.get("messenger/labels").await.ok().as_array().unwrap().len(), 0);
    let filter = json!({"page": w.page, "label": vip, "subscribed": null, "window": null, "search": "", "after": null});
    assert_eq!(w.api.post("messenger/leads", json!({"filter": filter})).await.error(), "LabelNotFound");
    w.standin.stop();
    w.server.stop().await;
}

#[tokio::test]
async fn another_account_can_never_see_or_touch_pages_leads_or_conversations() {
    let mut w = World::start("isolation.owner@example.org").await;
    w.write("iso-1", "private question").await;
    let lead = w.wait_for_named_lead("iso-1").await;
    let label = w.api.post("messenger/create-label", json!({"name": "Mine"})).await.ok()["id"].as_str().unwrap().to_string();

    let mut b = verified_account(&w.server, "isolation.other@example.org", STRONG_PASSWORD).await;
    b.login("isolation.other@example.org", STRONG_PASSWORD, false).await.ok();
    assert_eq!(b.get("messenger/pages").await.ok()["pages"].as_array().unwrap().len(), 0);
    assert_eq!(b.get("messenger/labels").await.ok().as_array().unwrap().len(), 0);
    let all = json!({"page": null, "label": null, "subscribed": null, "window": null, "search": "", "after": null});
    assert_eq!(b.post("messenger/leads", json!({"filter": all})).await.ok()["leads"].as_array().unwrap().len(), 0);
    let theirs = json!({"page": w.page, "label": null, "subscribed": null, "window": null, "search": "", "after": null});
    assert_eq!(b.post("messenger/leads", json!({"filter": theirs})).await.error(), "PageNotFound");
    for (endpoint, args, expected) in [
        ("messenger/conversation", json!({"lead": lead}), "LeadNotFound"),
        ("messenger/reply", json!({"lead": lead, "text": "hi"}), "LeadNotFound"),
        ("messenger/verify-proof", json!({"lead": lead}), "LeadNotFound"),
        ("messenger/delete-lead", json!({"lead": lead}), "LeadNotFound"),
        ("messenger/disconnect-page", json!({"page": w.page, "erase": true}), "PageNotFound"),
        ("messenger/bot-disclosure", json!({"page": w.page, "enabled": true}), "PageNotFound"),
        ("messenger/rename-label", json!({"label": label, "name": "x"}), "LabelNotFound"),
        ("messenger/delete-label", json!({"label": label}), "LabelNotFound"),
    ] {
        let r = b.post(endpoint, args).await;
        assert_eq!(r.error(), expected, "{endpoint}");
        assert_eq!(r.status, 404, "{endpoint}");
    }
    // Bulk labelling with B's own label ignores A's leads.
    let own = b.post("messenger/create-label", json!({"name": "Theirs"})).await.ok()["id"].as_str().unwrap().to_string();
    assert_eq!(b.post("messenger/assign-label", json!({"leads": [lead], "label": own, "assign": true})).await.ok(), 0);
    // Signed out: nothing at all.
    let mut anonymous = w.server.client();
    assert_eq!(anonymous.post("messenger/conversation", json!({"lead": lead})).await.error(), "NotSignedIn");
    // A's data is intact.
    let c = w.api.post("messenger/conversation", json!({"lead": lead})).await.ok().clone();
    assert_eq!(c["messages"][0]["text"], "private question");
    assert!(c["lead"]["labels"].as_array().unwrap().is_empty());
    w.standin.stop();
    w.server.stop().await;
}

#[tokio::test]
async fn deleting_a_lead_or_a_page_with_erasure_leaves_nothing() {
    let mut w = World::start("erase.owner@example.org").await;
    w.write("e1", "one").await;
    w.write("e2", "two").await;
    let e1 = w.wait_for_named_lead("e1").await;
    w.wait_for_named_lead("e2").await;
    let db = w.server.running.as_ref().unwrap().db.clone();
    let count = |table: &'static str| {
        let db = db.clone();
        async move {
            let n: Option<i64> = db.client().query(format!("RETURN count(SELECT id FROM {table})")).await.unwrap().take(0).unwrap();
            n.unwrap_or(0)
        }
    };
    assert_eq!((count("lead").await, count("message").await), (2, 2));
    w.api.post("messenger/delete-lead", json!({"lead": e1})).await.ok();
    assert_eq!((count("lead").await, count("message").await), (1, 1));
    assert_eq!(w.api.post("messenger/conversation", json!({"lead": e1})).await.error(), "LeadNotFound");

    // Disconnect keeping data: the Page stays listed as disconnected, events are dropped.
    w.api.post("messenger/disconnect-page", json!({"page": w.page, "erase": false})).await.ok();
    assert_eq!(w.api.get("messenger/pages").await.ok()["pages"][0]["status"], "disconnected");
    let before = server::messenger::webhook::DROPPED_EVENTS.load(std::sync::atomic::Ordering::Relaxed);
    w.write("e3", "while disconnected").await;
    assert!(server::messenger::webhook::DROPPED_EVENTS.load(std::sync::atomic::Ordering::Relaxed) > before);
    assert_eq!(count("lead").await, 1);
    // With erasure: leads, conversations and the Page are gone.
    w.api.post("messenger/disconnect-page", json!({"page": w.page, "erase": true})).await.ok();
    assert_eq!((count("lead").await, count("message").await, count("page").await), (0, 0, 0));
    w.standin.stop();
    w.server.stop().await;
}

#[tokio::test]
async fn metas_data_deletion_callback_erases_the_person_and_answers_a_status_url() {
    let mut w = World::start("deletion.owner@example.org").await;
    w.write("del-1", "please forget me later").await;
    w.write("keep-1", "keep me").await;
    w.wait_for_named_lead("del-1").await;
    w.wait_for_named_lead("keep-1").await;
    let url = format!("{}/webhooks/meta/data-deletion", w.server.base);
    let http = http_client();
    // Forged: 403, nothing erased.
    let now = w.server.clock_now();
    let r = http.post(&url).form(&[("signed_request", signed_request("wrong-secret", "asid-del-1", now))]).send().await.unwrap();
    assert_eq!(r.status(), 403);
    // Replayed after more than a day, or dated in the future: 403, nothing erased.
    for issued_at in [now - 86_401, now + 3600] {
        let r = http.post(&url).form(&[("signed_request", signed_request(SECRET, "asid-del-1", issued_at))]).send().await.unwrap();
        assert_eq!(r.status(), 403, "issued at {issued_at}, now {now}");
    }
    assert_eq!(w.leads(json!({"search": "del-1"})).await["leads"].as_array().unwrap().len(), 1);
    let r = http.post(&url).form(&[("signed_request", signed_request(SECRET, "asid-del-1", now))]).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let answer: Value = r.json().await.unwrap();
    let code = answer["confirmation_code"].as_str().unwrap().to_string();
    assert!(answer["url"].as_str().unwrap().ends_with(&format!("/data-deletion?code={code}")), "{answer}");
    assert_eq!(w.leads(json!({"search": "del-1"})).await["leads"].as_array().unwrap().len(), 0);
    assert_eq!(w.leads(json!({"search": "keep-1"})).await["leads"].as_array().unwrap().len(), 1);
    let mut public = w.server.client();
    let status = public.post("messenger/deletion-status", json!({"code": code})).await.ok().clone();
    assert_eq!((status["status"].as_str(), status["leads_erased"].as_i64()), (Some("completed"), Some(1)));
    assert_eq!(public.post("messenger/deletion-status", json!({"code": "unknown"})).await.ok(), &Value::Null);
    w.standin.stop();
    w.server.stop().await;
}

#[tokio::test]
async fn old_messages_and_inactive_leads_are_purged_after_their_retention() {
    let mut w = World::start("retention.owner@example.org").await;
    w.write("old-1", "an old message").await;
    let lead = w.wait_for_named_lead("old-1").await;
    // Default retention: messages 90 days, inactive leads 180 days.
    w.advance(91 * 86_400).await;
    w.server.purge_now().await;
    let c = w.api.post("messenger/conversation", json!({"lead": lead})).await.ok().clone();
    assert!(c["messages"].as_array().unwrap().is_empty(), "{c}");
    w.advance(90 * 86_400).await;
    w.server.purge_now().await;
    assert_eq!(w.api.post("messenger/conversation", json!({"lead": lead})).await.error(), "LeadNotFound");
    w.standin.stop();
    w.server.stop().await;
}

#[tokio::test]
async fn demo_mode_connects_a_demo_page_whose_simulated_leads_write() {
    let server = TestServer::start(&["--demo"]).await;
    let email = "demo.user@example.org";
    let mut api = verified_account(&server, email, STRONG_PASSWORD).await;
    api.login(email, STRONG_PASSWORD, false).await.ok();
    assert_eq!(api.get("status").await.ok()["demo"], true);
    let overview = api.get("messenger/pages").await.ok().clone();
    assert_eq!((overview["demo"].as_bool(), overview["app_configured"].as_bool()), (Some(true), Some(true)));
    let dialog = api.post("messenger/facebook-login", json!({})).await.ok().as_str().unwrap().to_string();
    assert!(dialog.starts_with("http://127.0.0.1:"), "the dialog is the local stand-in: {dialog}");
    let html = http_client().get(&dialog).send().await.unwrap().text().await.unwrap();
    let href = html.split("href=\"").nth(1).unwrap().split('"').next().unwrap().replace("&amp;", "&");
    let query: std::collections::HashMap<String, String> = url_query(&href).into_iter().collect();
    let offered = api.post("messenger/facebook-callback", json!({"code": query["code"], "state": query["state"]})).await.ok().clone();
    assert_eq!(offered[0]["name"], "Demo Page 1");
    let page_id = offered[0]["page_id"].as_str().unwrap().to_string();
    api.post("messenger/facebook-connect", json!({"state": query["state"], "page_ids": [page_id]})).await.ok();
    let filter = json!({"page": null, "label": null, "subscribed": null, "window": null, "search": "", "after": null});
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let found = api.post("messenger/leads", json!({"filter": filter})).await.ok().clone();
        let named = found["leads"].as_array().unwrap().iter().filter(|l| l["name"].is_string()).count();
        if named == 3 {
            assert!(found["leads"].as_array().unwrap().iter().any(|l| l["name"] == "Amélie Laurent"));
            let lead = found["leads"][0]["id"].as_str().unwrap().to_string();
            assert_eq!(api.post("messenger/reply", json!({"lead": lead, "text": "Welcome to the demo"})).await.ok(), "sent");
            break;
        }
        assert!(Instant::now() < deadline, "the demo leads did not all write: {found}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    server.stop().await;
}
