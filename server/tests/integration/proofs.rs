//! Opt-in proofs: a delivery shared by two accounts' Pages is kept once and
//! never exported, erasing anyone it names deletes it, and proofs verify
//! against the app secret that signed them.

use serde_json::{json, Value};

use super::privacy::download_export;
use super::support::*;
use super::support::{World, PAGE_ID, SECRET};

pub(super) const OTHER_PAGE: &str = "700800900";
const UNCONNECTED_PAGE: &str = "300400500";

/// Account B, with a second Page, beside the World's account A.
pub(super) async fn second_account(w: &World) -> Api {
    w.standin.state.add_page(OTHER_PAGE, "Other Shop", "token-other");
    let mut b = verified_account(&w.server, "other.shop@example.org", STRONG_PASSWORD).await;
    b.login("other.shop@example.org", STRONG_PASSWORD, false).await.ok();
    b.post("messenger/connect-page", json!({"page_id": OTHER_PAGE, "access_token": "token-other"})).await.ok();
    b
}

pub(super) fn text_item(page: &str, psid: &str, mid: &str, text: &str, at_ms: i64) -> Value {
    json!({"sender": {"id": psid}, "recipient": {"id": page}, "timestamp": at_ms, "message": {"mid": mid, "text": text}})
}

/// Posts one delivery with an entry per (Page, item), signed with `secret`, and waits until it is applied.
pub(super) async fn deliver(w: &World, secret: &str, entries: &[(&str, Value)]) {
    post_delivery(w, secret, entries).await;
    w.applied().await;
}

/// Posts one delivery with an entry per (Page, item), signed with `secret`; returns the body.
pub(super) async fn post_delivery(w: &World, secret: &str, entries: &[(&str, Value)]) -> String {
    let entries: Vec<Value> = entries.iter().map(|(page, item)| json!({"id": page, "time": 1, "messaging": [item]})).collect();
    let body = standin::meta_serialise(&json!({"object": "page", "entry": entries}));
    let signature = standin::sign(secret.as_bytes(), body.as_bytes());
    let url = format!("{}/webhooks/messenger", w.server.base);
    let r = http_client().post(&url).header("x-hub-signature-256", signature).body(body.clone()).send().await.unwrap();
    assert_eq!(r.status(), 200);
    body
}

pub(super) async fn lead_key(w: &World, page: &str, psid: &str) -> String {
    let lead = server::messenger::ingest::lead_for(w.ctx(), page, psid).await.unwrap().expect("lead stored");
    server::db::ids::key_string(&lead)
}

/// Every kept delivery and every lead's own proof record, opened.
pub(super) async fn every_proof_in_the_clear(w: &World) -> Vec<String> {
    let ctx = w.ctx();
    let mut opened = Vec::new();
    let bodies: Vec<(String, String)> = ctx.db.client().query("SELECT VALUE [record::id(id), body_enc] FROM signed_delivery").await.unwrap().take(0).unwrap();
    for (key, blob) in bodies {
        let body = ctx.crypto.system_key().open(server::crypto::Field::new("signed_delivery", &key, "body"), &blob).unwrap();
        opened.push(String::from_utf8(body.to_vec()).unwrap());
    }
    let leads: Vec<(String, String, String)> = ctx
        .db
        .client()
        .query("SELECT VALUE [record::id(id), record::id(account), proof_enc] FROM lead WHERE proof_enc IS NOT NONE")
        .await
        .unwrap()
        .take(0)
        .unwrap();
    for (key, account, blob) in leads {
        let account_key = ctx.crypto.account_key(&account).await.unwrap();
        opened.push(account_key.open_string(server::crypto::Field::new("lead", &key, "proof"), &blob).unwrap());
    }
    opened
}

#[tokio::test]
async fn a_delivery_for_two_accounts_pages_is_kept_once_and_neither_export_holds_the_others_person() {
    let mut w = World::start("proof.owner.a@example.org").await;
    let mut b = second_account(&w).await;
    let now_ms = w.server.clock_now() * 1000;
    deliver(
        &w,
        SECRET,
        &[
            (PAGE_ID, text_item(PAGE_ID, "psid-of-anna", "m_anna", "Anna asks about tulips", now_ms)),
            (OTHER_PAGE, text_item(OTHER_PAGE, "psid-of-bert", "m_bert", "Bert's private order 4711", now_ms)),
        ],
    )
    .await;
    let anna = lead_key(&w, PAGE_ID, "psid-of-anna").await;
    let bert = lead_key(&w, OTHER_PAGE, "psid-of-bert").await;
    let kept: Option<i64> = w.ctx().db.client().query("RETURN count(SELECT id FROM signed_delivery)").await.unwrap().take(0).unwrap();
    assert_eq!(kept, Some(1), "one delivery, kept once for both leads");

    // Each account's proof still verifies, with the secret's version.
    for (api, lead) in [(&mut w.api, &anna), (&mut b, &bert)] {
        let proof = api.post("messenger/verify-proof", json!({"lead": lead})).await.ok().clone();
        assert_eq!((proof["status"].as_str(), proof["secret_version"].as_i64()), (Some("valid"), Some(1)), "{proof}");
    }

    // A's export names Anna and not Bert, and holds no signed body at all.
    let (data, html) = download_export(&w.server, &mut w.api).await;
    let exported = data.to_string();
    assert!(exported.contains("psid-of-anna"), "A's own lead is exported");
    for foreign in ["psid-of-bert", "Bert's private order", OTHER_PAGE] {
        assert!(!exported.contains(foreign) && !html.contains(foreign), "{foreign} leaked into A's export");
    }
    assert_eq!(data["categories"]["signed_deliveries"], json!([]), "kept deliveries are never exported");
    w.standin.stop();
    w.server.stop().await;
}

#[tokio::test]
async fn erasing_a_person_deletes_every_kept_delivery_that_names_them_and_the_others_keep_a_weaker_proof() {
    let mut w = World::start("proof.erasure@example.org").await;
    let mut b = second_account(&w).await;
    let now_ms = w.server.clock_now() * 1000;
    deliver(
        &w,
        SECRET,
        &[
            (PAGE_ID, text_item(PAGE_ID, "psid-of-carla", "m_carla", "hello", now_ms)),
            (OTHER_PAGE, text_item(OTHER_PAGE, "psid-of-dirk", "m_dirk", "Dirk here", now_ms)),
        ],
    )
    .await;
    let carla = lead_key(&w, PAGE_ID, "psid-of-carla").await;
    let dirk = lead_key(&w, OTHER_PAGE, "psid-of-dirk").await;
    assert!(every_proof_in_the_clear(&w).await.iter().any(|p| p.contains("psid-of-dirk")), "the scan sees the PSID before");

    // B erases Dirk: nothing anywhere names him, and Carla's proof is weaker, not gone.
    b.post("messenger/delete-lead", json!({"lead": dirk})).await.ok();
    let proofs = every_proof_in_the_clear(&w).await;
    assert!(!proofs.is_empty(), "Carla's own record is still there");
    assert!(proofs.iter().all(|p| !p.contains("psid-of-dirk") && !p.contains("Dirk here")), "{proofs:?}");
    let proof = w.api.post("messenger/verify-proof", json!({"lead": carla})).await.ok().clone();
    assert_eq!(proof["status"], "body_deleted", "{proof}");
    assert!(proof["signature_header"].as_str().unwrap().starts_with("sha256="), "{proof}");

    // Meta's deletion callback for someone who is no lead here (their Page is
    // not connected) still deletes the kept delivery that names them.
    let status = w.standin.state.simulate(standin::SimulatedEvent::text(UNCONNECTED_PAGE, "psid-of-emil", "first")).await.unwrap().0;
    assert_eq!(status, 200);
    deliver(
        &w,
        SECRET,
        &[
            (PAGE_ID, text_item(PAGE_ID, "psid-of-fay", "m_fay", "hi", now_ms)),
            (UNCONNECTED_PAGE, text_item(UNCONNECTED_PAGE, "psid-of-emil", "m_emil", "Emil", now_ms)),
        ],
    )
    .await;
    assert!(every_proof_in_the_clear(&w).await.iter().any(|p| p.contains("psid-of-emil")));
    let url = format!("{}/webhooks/meta/data-deletion", w.server.base);
    let r = http_client()
        .post(&url)
        .form(&[("signed_request", super::support::signed_request(SECRET, "asid-psid-of-emil", w.server.clock_now()))])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(every_proof_in_the_clear(&w).await.iter().all(|p| !p.contains("psid-of-emil")));

    // The message retention period deletes kept deliveries too.
    w.standin.state.simulate(standin::SimulatedEvent::text(PAGE_ID, "psid-of-gus", "later")).await.unwrap();
    w.applied().await;
    let gus = lead_key(&w, PAGE_ID, "psid-of-gus").await;
    let proof = w.api.post("messenger/verify-proof", json!({"lead": gus})).await.ok().clone();
    assert_eq!(proof["status"], "valid", "{proof}");
    let days = server::policies::retention::retention_settings(w.ctx()).await.unwrap().messages_days;
    w.advance(days * 86_400 + 60).await;
    w.server.purge_now().await;
    let kept: Option<i64> = w.ctx().db.client().query("RETURN count(SELECT id FROM signed_delivery)").await.unwrap().take(0).unwrap();
    assert_eq!(kept, Some(0));
    // Gus is kept (inactive leads last longer than messages), with the weaker proof.
    let proof = w.api.post("messenger/verify-proof", json!({"lead": gus})).await.ok().clone();
    assert_eq!(proof["status"], "body_deleted", "{proof}");
    w.standin.stop();
    w.server.stop().await;
}

/// An admin changes the app secret in the panel: its server function, as the browser calls it.
async fn rotate_secret(w: &World, admin: &mut Api, secret: &str) {
    let input = json!({"app_id": "4242", "app_secret": secret, "verify_token": "", "graph_base_url": w.standin.base_url(), "graph_version": "v21.0"});
    admin.post("admin/save-messenger-app", json!({"password": STRONG_PASSWORD, "input": input})).await.ok();
}

#[tokio::test]
async fn proofs_verify_against_the_secret_that_signed_them_after_a_rotation_in_the_admin_panel_and_a_tampered_one_fails() {
    let mut w = World::start("proof.rotation@example.org").await;
    w.write("psid-before", "before the change").await;
    let before = lead_key(&w, PAGE_ID, "psid-before").await;

    let mut admin = super::admin::admin(&w.server, "proof.rotation.admin@example.org").await;
    rotate_secret(&w, &mut admin, "the-second-app-secret").await;
    // The webhook now takes the new secret only.
    let old_secret = http_client()
        .post(format!("{}/webhooks/messenger", w.server.base))
        .header("x-hub-signature-256", standin::sign(SECRET.as_bytes(), b"{}"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(old_secret.status(), 403, "the panel's change reached the webhook");
    let now_ms = w.server.clock_now() * 1000;
    deliver(&w, "the-second-app-secret", &[(PAGE_ID, text_item(PAGE_ID, "psid-after", "m_after", "after the change", now_ms))]).await;
    let after = lead_key(&w, PAGE_ID, "psid-after").await;
    for (lead, version) in [(&before, 1), (&after, 2)] {
        let proof = w.api.post("messenger/verify-proof", json!({"lead": lead})).await.ok().clone();
        assert_eq!((proof["status"].as_str(), proof["secret_version"].as_i64()), (Some("valid"), Some(version)), "{proof}");
    }

    // A kept body altered by one byte no longer verifies.
    let ctx = w.ctx().clone();
    let delivery: Option<surrealdb::types::RecordId> = ctx
        .db
        .client()
        .query("SELECT VALUE proof_delivery FROM ONLY $id")
        .bind(("id", surrealdb::types::RecordId::new("lead", before.clone())))
        .await
        .unwrap()
        .take(0)
        .unwrap();
    let delivery = delivery.unwrap();
    let key = server::db::ids::key_string(&delivery);
    let field = || server::crypto::Field::new("signed_delivery", &key, "body");
    let blob: Option<String> = ctx.db.client().query("SELECT VALUE body_enc FROM ONLY $id").bind(("id", delivery.clone())).await.unwrap().take(0).unwrap();
    let body = String::from_utf8(ctx.crypto.system_key().open(field(), &blob.unwrap()).unwrap().to_vec()).unwrap();
    let tampered = body.replace("before the change", "before the chance");
    assert_ne!(body, tampered);
    let sealed = ctx.crypto.system_key().seal(field(), tampered.as_bytes());
    ctx.db.client().query("UPDATE $id SET body_enc = $b").bind(("id", delivery.clone())).bind(("b", sealed)).await.unwrap().check().unwrap();
    let proof = w.api.post("messenger/verify-proof", json!({"lead": before})).await.ok().clone();
    assert_eq!(proof["status"], "invalid", "{proof}");

    // An earlier secret is kept while a proof refers to it, and purged after.
    let versions = || async { server::messenger::settings::secret_versions(&ctx).await.unwrap().into_iter().map(|(v, _)| v).collect::<Vec<_>>() };
    w.server.purge_now().await;
    assert_eq!(versions().await, vec![2, 1]);
    w.api.post("messenger/delete-lead", json!({"lead": before})).await.ok();
    w.server.purge_now().await;
    assert_eq!(versions().await, vec![2], "no proof refers to version 1 any more");
    w.standin.stop();
    w.server.stop().await;
}

#[tokio::test]
async fn proofs_stored_before_schema_step_12_are_converted_at_start_and_still_verify() {
    let mut w = World::start("proof.upgrade@example.org").await;
    w.write("psid-legacy", "written by an earlier release").await;
    let lead = lead_key(&w, PAGE_ID, "psid-legacy").await;
    let ctx = w.ctx().clone();
    // Put the lead back as an earlier release stored it: the whole body and the
    // signature under the account's key, no kept delivery, no secret versions.
    let (body, signature) = {
        let delivery: Option<surrealdb::types::RecordId> = ctx
            .db
            .client()
            .query("SELECT VALUE proof_delivery FROM ONLY $id")
            .bind(("id", surrealdb::types::RecordId::new("lead", lead.clone())))
            .await
            .unwrap()
            .take(0)
            .unwrap();
        let delivery = delivery.unwrap();
        let key = server::db::ids::key_string(&delivery);
        let blob: Option<String> = ctx.db.client().query("SELECT VALUE body_enc FROM ONLY $id").bind(("id", delivery)).await.unwrap().take(0).unwrap();
        let body = ctx.crypto.system_key().open(server::crypto::Field::new("signed_delivery", &key, "body"), &blob.unwrap()).unwrap().to_vec();
        let signature = standin::sign(SECRET.as_bytes(), &body);
        (body, signature)
    };
    let account: Option<surrealdb::types::RecordId> = ctx
        .db
        .client()
        .query("SELECT VALUE account FROM ONLY $id")
        .bind(("id", surrealdb::types::RecordId::new("lead", lead.clone())))
        .await
        .unwrap()
        .take(0)
        .unwrap();
    let account_key = ctx.crypto.account_key(&server::db::ids::key_string(&account.unwrap())).await.unwrap();
    ctx.db
        .client()
        .query(
            "UPDATE $id SET proof_body_enc = $body, proof_signature_enc = $signature, proof_enc = NONE, proof_delivery = NONE, proof_secret_version = NONE; \
             DELETE signed_delivery; DELETE app_secret; DELETE data_upgrade; UPDATE messenger_app:config SET secret_version = NONE;",
        )
        .bind(("id", surrealdb::types::RecordId::new("lead", lead.clone())))
        .bind(("body", account_key.seal(server::crypto::Field::new("lead", &lead, "proof_body"), &body)))
        .bind(("signature", account_key.seal_str(server::crypto::Field::new("lead", &lead, "proof_signature"), &signature)))
        .await
        .unwrap()
        .check()
        .unwrap();
    let r = w.api.post("messenger/verify-proof", json!({"lead": lead})).await;
    assert_eq!(r.error(), "Internal", "the old form is not read any more");

    server::messenger::proof_upgrade::upgrade(&ctx).await.unwrap();
    let proof = w.api.post("messenger/verify-proof", json!({"lead": lead})).await.ok().clone();
    assert_eq!((proof["status"].as_str(), proof["secret_version"].as_i64()), (Some("valid"), Some(1)), "{proof}");
    let legacy: Option<Value> = ctx
        .db
        .client()
        .query("SELECT VALUE proof_body_enc FROM ONLY $id")
        .bind(("id", surrealdb::types::RecordId::new("lead", lead.clone())))
        .await
        .unwrap()
        .take(0)
        .unwrap();
    assert!(legacy.as_ref().is_none_or(Value::is_null), "the whole body left the lead: {legacy:?}");
    w.standin.stop();
    w.server.stop().await;
}
