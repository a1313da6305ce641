//! Mail on account events and policy updates: a published policy is mailed
//! and accepted again before anything else; a new device's sign-in is mailed
//! unless turned off.

use serde_json::json;

use super::support::*;

#[tokio::test]
async fn a_published_policy_is_mailed_and_must_be_accepted_before_anything_else() {
    let server = TestServer::start(&[]).await;
    let email = "policy.reader@example.org";
    let mut user = verified_account(&server, email, STRONG_PASSWORD).await;
    let quiet = "quiet.reader@example.org";
    let mut quiet_user = verified_account(&server, quiet, STRONG_PASSWORD).await;
    quiet_user.login(quiet, STRONG_PASSWORD, false).await.ok();
    let off = json!({"settings": {"new_signin": true, "policy_updates": false, "export_ready": true}});
    quiet_user.post("account/set-notifications", off).await.ok();
    assert_eq!(quiet_user.get("account/notifications").await.ok()["policy_updates"], false);

    // Only admins may publish, and only with their password.
    user.login(email, STRONG_PASSWORD, false).await.ok();
    let publish = json!({"password": STRONG_PASSWORD, "document": "privacy", "title": "Privacy policy", "body": "New text.", "summary": "We now keep sign-in history for 14 days."});
    assert_eq!(user.post("admin/publish-policy", publish.clone()).await.error(), &json!("Forbidden"));
    let db = server.running.as_ref().unwrap().db.clone();
    db.client()
        .query("UPDATE account SET role = 'admin' WHERE email_index = $i")
        .bind(("i", server.running.as_ref().unwrap().email_index(email)))
        .await
        .unwrap()
        .check()
        .unwrap();
    let mut wrong = publish.clone();
    wrong["password"] = json!("nope");
    assert_eq!(user.post("admin/publish-policy", wrong).await.error(), &json!("WrongPassword"));
    let mut bad = publish.clone();
    bad["document"] = json!("cookies");
    assert_eq!(user.post("admin/publish-policy", bad).await.error(), &json!("InvalidPolicy"));
    assert_eq!(user.post("admin/publish-policy", publish).await.ok(), &json!(2));

    let mail = wait_for_mail(&server.mail_dir(), email, "We updated our Privacy policy").await;
    assert!(mail.contains("14 days") && mail.contains("Why you get this mail"), "{mail}");
    assert!(mail.contains("Content-Type: text/html"), "sent as plain text and HTML");
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(find_mail(&server.mail_dir(), quiet, "We updated").is_none(), "opted out of policy mails");

    // Signed in again: nothing works until the user chooses.
    let mut again = server.client();
    let me = again.login(quiet, STRONG_PASSWORD, false).await.ok().clone();
    assert_eq!(me["pending_policies"][0]["document"], "privacy");
    assert_eq!(me["pending_policies"][0]["version"], 2);
    assert_eq!(me["pending_policies"][0]["summary"], "We now keep sign-in history for 14 days.");
    assert_eq!(again.get("account/security").await.error(), &json!("PolicyAcceptanceRequired"));
    again.get("privacy/overview").await.ok();
    again.get("privacy/export-status").await.ok();
    // Accepting what was shown before a newer version came out is refused.
    let stale = json!({"shown": [{"document": "privacy", "version": 1}]});
    assert_eq!(again.post("privacy/accept-policies", stale).await.error(), &json!("PolicyChangedMeanwhile"));
    assert_eq!(again.post("privacy/accept-policies", json!({"shown": []})).await.error(), &json!("PolicyChangedMeanwhile"));
    let accepted = again.accept_shown_policies().await.ok().clone();
    assert_eq!(accepted["pending_policies"], json!([]));
    again.get("account/security").await.ok();
    let overview = again.get("privacy/overview").await.ok().clone();
    let versions: Vec<i64> = overview["consents"].as_array().unwrap().iter().map(|c| c["version"].as_i64().unwrap()).collect();
    assert_eq!(versions, vec![1, 1, 2], "the ledger grew by one entry");
    server.stop().await;
}

#[tokio::test]
async fn a_sign_in_from_a_new_device_is_mailed_unless_turned_off() {
    let server = TestServer::start(&[]).await;
    let email = "watchful@example.org";
    let mut api = verified_account(&server, email, STRONG_PASSWORD).await;
    api.login(email, STRONG_PASSWORD, false).await.ok();
    api.login(email, STRONG_PASSWORD, false).await.ok();
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(find_mail(&server.mail_dir(), email, "New sign-in").is_none(), "the first device is not news");

    let mut firefox = server.client();
    firefox.http =
        reqwest::Client::builder().danger_accept_invalid_certs(true).user_agent("Mozilla/5.0 (Windows NT 10.0) Gecko/20100101 Firefox/140.0").build().unwrap();
    let reply = firefox
        .http
        .post(format!("{}/api/auth/login", server.base))
        .header("origin", &server.base)
        .json(&json!({"input": {"email": email, "password": STRONG_PASSWORD, "keep_signed_in": false}}))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    let mail = wait_for_mail(&server.mail_dir(), email, "New sign-in").await;
    assert!(mail.contains("Firefox on Windows") && mail.contains("127.0.0.1"), "{mail}");

    api.post("account/set-notifications", json!({"settings": {"new_signin": false, "policy_updates": true, "export_ready": true}})).await.ok();
    let before = count_mails(&server.mail_dir(), email);
    let edge = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .user_agent("Mozilla/5.0 (Windows NT 10.0) Chrome/156.0 Safari/537.36 Edg/156.0")
        .build()
        .unwrap();
    edge.post(format!("{}/api/auth/login", server.base))
        .header("origin", &server.base)
        .json(&json!({"input": {"email": email, "password": STRONG_PASSWORD, "keep_signed_in": false}}))
        .send()
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    assert_eq!(count_mails(&server.mail_dir(), email), before, "turned off: no mail");
    server.stop().await;
}

#[tokio::test]
async fn a_sign_up_records_the_policy_versions_its_form_showed_and_refuses_stale_ones() {
    let dir = tempfile::tempdir().unwrap();
    let config = super::config(&["--db", "mem://", "--data-dir", dir.path().to_str().unwrap()]);
    // The core alone: the test decides when the worker's half runs.
    let core = server::open_core(&config, std::sync::Arc::new(server::clock::SystemClock)).await.unwrap();
    let ctx = core.ctx.clone();
    let request = server::context::RequestInfo { session_token: None, ip: std::net::IpAddr::from([10, 0, 0, 7]), user_agent: "test".into() };
    let register = |email: &str, accepted: Vec<app::types::PolicyVersion>| app::types::RegisterInput {
        email: email.into(),
        password: STRONG_PASSWORD.into(),
        display_name: None,
        accepted,
    };
    let form_v1 = server::policies::current_versions(&ctx).await.unwrap();
    server::policies::documents::publish(&ctx, "terms", "Terms of use", "Version two.", "Clearer wording.").await.unwrap();

    // The form was open while version 2 came out: nothing is queued.
    let stale = server::accounts::register(&ctx, &request, register("stale@example.org", form_v1.clone())).await.unwrap_err();
    assert_eq!(stale.into_app_error("register"), app::error::AppError::PolicyChangedMeanwhile);
    let only_terms = vec![form_v1[0].clone()];
    let partial = server::accounts::register(&ctx, &request, register("partial@example.org", only_terms)).await.unwrap_err();
    assert_eq!(partial.into_app_error("register"), app::error::AppError::PolicyChangedMeanwhile);

    // Shown version 2, then version 3 is published before the worker runs:
    // the ledger says 2, and 3 is asked for at the first sign-in.
    let form_v2 = server::policies::current_versions(&ctx).await.unwrap();
    server::accounts::register(&ctx, &request, register("shown@example.org", form_v2)).await.unwrap();
    server::policies::documents::publish(&ctx, "terms", "Terms of use", "Version three.", "Shorter.").await.unwrap();
    server::accounts::complete_due(&ctx).await.unwrap();
    let mut rows = ctx.db.client().query("SELECT document, version FROM consent ORDER BY document").await.unwrap();
    let ledger: Vec<(String, i64)> = rows
        .take::<Vec<serde_json::Value>>(0)
        .map(|v| v.iter().map(|c| (c["document"].as_str().unwrap().to_string(), c["version"].as_i64().unwrap())).collect())
        .unwrap();
    assert_eq!(ledger, [("privacy".to_string(), 1), ("terms".to_string(), 2)], "one account, the versions its form showed");
    let account = ctx.db.client().query("SELECT VALUE id FROM account").await.unwrap().take::<Vec<surrealdb::types::RecordId>>(0).unwrap();
    let account = server::db::ids::key_string(&account[0]);
    let pending = server::policies::documents::pending_for(&ctx, &account).await.unwrap();
    assert_eq!(pending.iter().map(|p| (p.document.as_str(), p.version)).collect::<Vec<_>>(), [("terms", 3)]);
    drop(ctx);
    core.close().await;
}
