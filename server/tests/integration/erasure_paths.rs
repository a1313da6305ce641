//! Erasing a person, by every path there is, leaves nothing of them
//! readable in any kept signed delivery, in any lead's proof, or in a stored
//! webhook delivery that is not applied yet; and that stored delivery, once
//! applied, does not make them a lead again.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sha2::Digest as _;

use super::proofs::{deliver, every_proof_in_the_clear, lead_key, post_delivery, second_account, text_item, OTHER_PAGE};
use super::support::*;
use super::support::{signed_request, World, PAGE_ID, SECRET};

/// The person who is erased: every text about them contains this.
const XENA: &str = "psid-of-xena";
const YANN: &str = "psid-of-yann";
const ZOE: &str = "psid-of-zoe";
const OTHER_EMAIL: &str = "other.shop@example.org";

#[derive(Debug, Clone, Copy)]
enum Path {
    /// The owner deletes the lead.
    OwnerDeletesTheLead,
    /// "Erase my data" behind the unsubscribe link `/u/<token>`.
    OwnErasureThroughTheLink,
    /// Meta's data-deletion callback.
    MetasDeletionCallback,
    /// The owner deletes their account.
    AccountErasure,
    /// The retention purge of inactive leads.
    InactivityPurge,
    /// The owner disconnects the Page and erases its data.
    PageErasure,
    /// The Page passed to another account; the owner erases the archived lead.
    ArchivedLeadErasure,
}

impl Path {
    /// Whether the erasure itself rewrites the stored deliveries; an account's
    /// erasure leaves it to the webhook worker's next pass, which it wakes.
    fn rewrites_at_once(self) -> bool {
        !matches!(self, Path::AccountErasure)
    }
}

const PATHS: [Path; 7] = [
    Path::OwnerDeletesTheLead,
    Path::OwnErasureThroughTheLink,
    Path::MetasDeletionCallback,
    Path::AccountErasure,
    Path::InactivityPurge,
    Path::PageErasure,
    Path::ArchivedLeadErasure,
];

/// Account A's lead Xena and account B's lead Yann, named together in one
/// kept signed delivery, and a stored delivery not applied yet (as after a
/// failure) that names Xena, Yann and Zoe, who is no lead yet.
struct Scenario {
    w: World,
    b: Api,
    xena: String,
    pending_body: String,
}

async fn scenario(path: Path) -> Scenario {
    let w = World::start(&format!("paths.{}@example.org", format!("{path:?}").to_lowercase())).await;
    let b = second_account(&w).await;
    // Through the stand-in, so that Meta's callback can map her.
    w.write(XENA, "xena first words").await;
    let now_ms = w.server.clock_now() * 1000;
    deliver(
        &w,
        SECRET,
        &[(PAGE_ID, text_item(PAGE_ID, XENA, "m_xena_2", "xena again", now_ms)), (OTHER_PAGE, text_item(OTHER_PAGE, YANN, "m_yann", "yann writes", now_ms))],
    )
    .await;
    let xena = lead_key(&w, PAGE_ID, XENA).await;
    // Stored, then postponed as a delivery that failed is: kept and tried again later.
    let pending_body = {
        let _applying = w.ctx().deliveries.applying.lock().await;
        let body = post_delivery(
            &w,
            SECRET,
            &[
                (PAGE_ID, text_item(PAGE_ID, XENA, "m_xena_3", "xena pending", now_ms + 1)),
                (OTHER_PAGE, text_item(OTHER_PAGE, YANN, "m_yann_2", "yann pending", now_ms + 1)),
                (OTHER_PAGE, text_item(OTHER_PAGE, ZOE, "m_zoe", "zoe first words", now_ms + 1)),
            ],
        )
        .await;
        w.ctx()
            .db
            .client()
            .query("UPDATE webhook_delivery SET failures = 1, retry_at = $later")
            .bind(("later", w.server.clock_now() + 1_000_000))
            .await
            .unwrap()
            .check()
            .unwrap();
        body
    };
    Scenario { w, b, xena, pending_body }
}

/// Every stored webhook delivery's body, opened.
async fn pending_bodies_in_the_clear(w: &World) -> Vec<String> {
    let ctx = w.ctx();
    let rows: Vec<(String, String)> = ctx.db.client().query("SELECT VALUE [key, body_enc] FROM webhook_delivery").await.unwrap().take(0).unwrap();
    rows.into_iter()
        .map(|(key, blob)| {
            let body = ctx.crypto.system_key().open(server::crypto::Field::new("webhook_delivery", &key, "body"), &blob).unwrap();
            String::from_utf8(body.to_vec()).unwrap()
        })
        .collect()
}

async fn marked(w: &World) -> i64 {
    let count: Option<i64> = w.ctx().db.client().query("RETURN count(SELECT id FROM webhook_delivery WHERE redact_due = true)").await.unwrap().take(0).unwrap();
    count.unwrap_or(0)
}

async fn erase(s: &mut Scenario, path: Path) {
    let w = &mut s.w;
    match path {
        Path::OwnerDeletesTheLead => {
            w.api.post("messenger/delete-lead", json!({"lead": s.xena})).await.ok();
        }
        Path::OwnErasureThroughTheLink => {
            let token = server::broadcasts::unsubscribe::token(w.ctx(), &s.xena, &w.page);
            w.server.client().post("unsubscribe/erase", json!({"token": token})).await.ok();
        }
        Path::MetasDeletionCallback => {
            let url = format!("{}/webhooks/meta/data-deletion", w.server.base);
            let form = [("signed_request", signed_request(SECRET, &format!("asid-{XENA}"), w.server.clock_now()))];
            assert_eq!(http_client().post(&url).form(&form).send().await.unwrap().status(), 200);
        }
        Path::AccountErasure => {
            w.api.post("privacy/delete-account", json!({"password": STRONG_PASSWORD, "confirmation": "DELETE"})).await.ok();
        }
        Path::InactivityPurge => {
            let ctx = w.ctx().clone();
            let mut retention = server::policies::retention::retention_settings(&ctx).await.unwrap();
            (retention.inactive_leads_days, retention.messages_days) = (1, 30);
            server::policies::retention::save(&ctx, &retention).await.unwrap();
            w.advance(2 * 86_400).await;
            // Yann writes again and stays; Xena has been silent for two days.
            let now_ms = w.server.clock_now() * 1000;
            deliver(w, SECRET, &[(OTHER_PAGE, text_item(OTHER_PAGE, YANN, "m_yann_3", "yann still here", now_ms))]).await;
            w.server.purge_now().await;
        }
        Path::PageErasure => {
            w.api.post("messenger/disconnect-page", json!({"page": w.page, "erase": true})).await.ok();
        }
        Path::ArchivedLeadErasure => {
            // The owner lets the Page go; another admin of it connects it.
            w.api.post("messenger/disconnect-page", json!({"page": w.page, "erase": false})).await.ok();
            let mut next = verified_account(&w.server, "next.owner.paths@example.org", STRONG_PASSWORD).await;
            next.login("next.owner.paths@example.org", STRONG_PASSWORD, false).await.ok();
            w.standin.state.add_page(PAGE_ID, "Fleur & Co", "token-of-the-next-admin");
            next.post("messenger/connect-page", json!({"page_id": PAGE_ID, "access_token": "token-of-the-next-admin"})).await.ok();
            let archived: Option<String> = w
                .ctx()
                .db
                .client()
                .query("SELECT VALUE archived_ident FROM ONLY $id")
                .bind(("id", surrealdb::types::RecordId::new("lead", s.xena.clone())))
                .await
                .unwrap()
                .take(0)
                .unwrap();
            assert!(archived.is_some(), "the takeover archived her lead");
            w.api.post("messenger/delete-lead", json!({"lead": s.xena})).await.ok();
        }
    }
}

#[tokio::test]
async fn erasing_a_person_by_any_path_leaves_them_in_no_kept_delivery_no_proof_and_no_stored_delivery() {
    for path in PATHS {
        let mut s = scenario(path).await;
        let kept = every_proof_in_the_clear(&s.w).await;
        assert!(kept.iter().any(|p| p.contains(XENA)) && kept.iter().any(|p| p.contains(YANN) && p.contains(XENA)), "{path:?}: the scan sees her first");
        assert!(pending_bodies_in_the_clear(&s.w).await.iter().any(|p| p.contains("xena pending")), "{path:?}: and in the stored delivery");

        erase(&mut s, path).await;
        if !path.rewrites_at_once() {
            let deadline = Instant::now() + Duration::from_secs(20);
            while marked(&s.w).await > 0 {
                assert!(Instant::now() < deadline, "{path:?}: the webhook worker never rewrote the stored delivery");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        assert_eq!(marked(&s.w).await, 0, "{path:?}: the erasure rewrote the stored delivery before it returned");
        let kept = every_proof_in_the_clear(&s.w).await;
        assert!(kept.iter().all(|p| !p.contains("xena")), "{path:?}: she is still in a kept delivery or a proof: {kept:?}");
        let pending = pending_bodies_in_the_clear(&s.w).await;
        assert_eq!(pending.len(), 1, "{path:?}: the stored delivery stays, for the others in it");
        assert!(!pending[0].contains("xena"), "{path:?}: she is still in the stored delivery: {pending:?}");
        assert!(pending[0].contains("yann pending") && pending[0].contains("zoe first words"), "{path:?}: the others' events stay: {pending:?}");

        // Applied at last: the others' events land, and she is no lead again.
        s.w.ctx().db.client().query("UPDATE webhook_delivery SET retry_at = 0").await.unwrap().check().unwrap();
        s.w.ctx().deliveries.wakeup.notify_one();
        s.w.applied().await;
        assert!(server::messenger::ingest::lead_for(s.w.ctx(), PAGE_ID, XENA).await.unwrap().is_none(), "{path:?}: she became a lead again");
        // Zoe's opt-in came in the rewritten body: her proof is the weaker one from the start.
        let zoe = lead_key(&s.w, OTHER_PAGE, ZOE).await;
        s.b.login(OTHER_EMAIL, STRONG_PASSWORD, false).await.ok();
        let proof = s.b.post("messenger/verify-proof", json!({"lead": zoe})).await.ok().clone();
        assert_eq!(proof["status"], "body_deleted", "{path:?}: {proof}");
        assert_eq!(proof["body_sha256"], json!(hex::encode(sha2::Sha256::digest(s.pending_body.as_bytes()))), "{path:?}: the hash of what Facebook signed");
        assert!(proof["signature_header"].as_str().is_some_and(|h| h.starts_with("sha256=")), "{path:?}: {proof}");
        let kept = every_proof_in_the_clear(&s.w).await;
        assert!(kept.iter().all(|p| !p.contains("xena")), "{path:?}: {kept:?}");
        s.w.standin.stop();
        s.w.server.stop().await;
    }
}

#[tokio::test]
async fn a_delivery_stored_before_step_17_lists_the_people_it_names_after_the_start_so_that_erasure_finds_it() {
    let Scenario { mut w, xena, .. } = scenario(Path::OwnerDeletesTheLead).await;
    let ctx = w.ctx().clone();
    ctx.db.client().query("UPDATE webhook_delivery SET people = NONE; DELETE data_upgrade;").await.unwrap().check().unwrap();
    server::messenger::proof_upgrade::upgrade(&ctx).await.unwrap();
    let people: Vec<Value> = ctx.db.client().query("SELECT VALUE people FROM webhook_delivery").await.unwrap().take(0).unwrap();
    let ident = server::messenger::leads::lead_ident(&ctx, PAGE_ID, XENA);
    assert!(people.len() == 1 && people[0].as_array().is_some_and(|p| p.len() == 3 && p.contains(&json!(ident))), "{people:?}");
    w.api.post("messenger/delete-lead", json!({"lead": xena})).await.ok();
    let pending = pending_bodies_in_the_clear(&w).await;
    assert!(pending.len() == 1 && !pending[0].contains("xena") && pending[0].contains("zoe first words"), "{pending:?}");
    w.standin.stop();
    w.server.stop().await;
}
