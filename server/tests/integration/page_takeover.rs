//! A Page whose owner can no longer use it (token refused by Facebook, or
//! disconnected) can be connected by another admin; the previous owner keeps
//! their leads, read-only, and is told.

use serde_json::json;

use super::support::*;
use super::support::{signed_request, World, PAGE_ID, PAGE_TOKEN, SECRET};

const OWNER: &str = "first.owner@example.org";
const NEXT: &str = "next.owner@example.org";

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
