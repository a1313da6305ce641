//! The admin panel's server functions: roles, audited access, user actions.

use serde_json::{json, Value};

use super::support::*;

/// A verified, signed-in admin (made admin directly in the database).
pub async fn admin(server: &TestServer, email: &str) -> Api {
    let mut api = verified_account(server, email, STRONG_PASSWORD).await;
    let running = server.running.as_ref().unwrap();
    running
        .db
        .client()
        .query("UPDATE account SET role = 'admin' WHERE email_index = $i")
        .bind(("i", running.email_index(email)))
        .await
        .unwrap()
        .check()
        .unwrap();
    api.login(email, STRONG_PASSWORD, false).await.ok();
    api
}

fn admin_calls(target: &str) -> Vec<(&'static str, Value)> {
    vec![
        ("admin/users", json!({"email": null, "before": null})),
        ("admin/users", json!({"email": "someone@example.org", "before": null})),
        ("admin/set-disabled", json!({"account_id": target, "disabled": true})),
        ("admin/set-role", json!({"password": STRONG_PASSWORD, "account_id": target, "role": "admin"})),
        ("admin/delete-user", json!({"password": STRONG_PASSWORD, "account_id": target, "reason": "test"})),
        ("admin/view-personal-data", json!({"account_id": target, "reason": "test"})),
        ("admin/actions", json!({"before": null})),
        ("admin/publish-policy", json!({"password": STRONG_PASSWORD, "document": "terms", "title": "T", "body": "B", "summary": ""})),
        (
            "admin/save-recipient",
            json!({"password": STRONG_PASSWORD, "recipient": {"id": "", "name": "N", "purpose": "P", "categories": ["c"], "country": "DE", "safeguards": "S"}}),
        ),
        ("admin/remove-recipient", json!({"password": STRONG_PASSWORD, "id": "x"})),
        ("admin/breaches", json!({})),
        (
            "admin/record-breach",
            json!({"input": {"discovered_local": "2026-11-29T10:00", "utc_offset_minutes": 0, "nature": "n", "categories": ["c"], "approx_affected": 1, "consequences": "c", "measures": "m"}}),
        ),
        ("admin/breach-authority-notified", json!({"password": STRONG_PASSWORD, "id": "x"})),
        ("admin/breach-notify-people", json!({"password": STRONG_PASSWORD, "id": "x", "account_ids": null})),
        ("admin/overview", json!({})),
        ("admin/messenger-app", json!({})),
        (
            "admin/save-messenger-app",
            json!({"password": STRONG_PASSWORD, "input": {"app_id": "1", "app_secret": "s", "verify_token": "t", "graph_base_url": "https://graph.facebook.com", "graph_version": "v21.0"}}),
        ),
        (
            "admin/set-retention",
            json!({"password": STRONG_PASSWORD, "settings": {"signin_history_days": 1, "inactive_leads_days": 1, "messages_days": 1, "export_hours": 1}}),
        ),
    ]
}

#[tokio::test]
async fn every_admin_function_refuses_users_and_visitors_with_403_and_no_data() {
    let server = TestServer::start(&[]).await;
    let victim = "victim@example.org";
    verified_account(&server, victim, STRONG_PASSWORD).await;
    let target = account_id(&server, victim).await;
    let mut user = verified_account(&server, "plain.user@example.org", STRONG_PASSWORD).await;
    user.login("plain.user@example.org", STRONG_PASSWORD, false).await.ok();
    let mut visitor = server.client();
    for (endpoint, args) in admin_calls(&target) {
        for (who, api) in [("user", &mut user), ("visitor", &mut visitor)] {
            let reply = api.post(endpoint, args.clone()).await;
            assert_eq!(reply.status, 403, "{endpoint} as {who}: {}", reply.body);
            assert_eq!(reply.body, json!("Forbidden"), "{endpoint} as {who} leaks nothing");
        }
    }
    // Nothing happened to the target.
    let mut again = server.client();
    again.login(victim, STRONG_PASSWORD, false).await.ok();
    let policies: Option<i64> = server.running.as_ref().unwrap().db.client().query("RETURN count(SELECT id FROM policy)").await.unwrap().take(0).unwrap();
    assert_eq!(policies, Some(2));
    server.stop().await;
}

#[tokio::test]
async fn viewing_personal_data_needs_a_reason_and_shows_in_the_users_access_log() {
    let server = TestServer::start(&[]).await;
    let mut boss = admin(&server, "boss@example.org").await;
    let email = "watched.user@example.org";
    let mut user = verified_account(&server, email, STRONG_PASSWORD).await;
    user.login(email, STRONG_PASSWORD, false).await.ok();
    let id = account_id(&server, email).await;

    // The list shows no personal data; an exact search goes through the blind index.
    let page = boss.post("admin/users", json!({"email": null, "before": null})).await.ok().clone();
    assert!(!page.to_string().contains(email));
    let found = boss.post("admin/users", json!({"email": "Watched.User@Example.org ", "before": null})).await.ok().clone();
    assert_eq!(found["users"][0]["id"], id);
    assert_eq!(found["users"][0]["status"], "active");
    let none = boss.post("admin/users", json!({"email": "nobody@example.org", "before": null})).await.ok().clone();
    assert_eq!(none["users"], json!([]));

    let no_reason = boss.post("admin/view-personal-data", json!({"account_id": id, "reason": "  "})).await;
    assert_eq!(no_reason.error(), &json!("ReasonRequired"));
    let view = boss.post("admin/view-personal-data", json!({"account_id": id, "reason": "Support ticket 4711"})).await.ok().clone();
    assert_eq!(view["email"], email);
    assert_eq!(view["signins"][0]["ip"], "127.0.0.1");

    let overview = user.get("privacy/overview").await.ok().clone();
    let access = &overview["admin_access"][0];
    assert_eq!(access["reason"], "Support ticket 4711");
    assert_eq!(access["admin_role"], "admin");
    assert_eq!(access["categories"], json!(["profile", "signin_history"]));

    let log = boss.post("admin/actions", json!({"before": null})).await.ok().clone();
    let entry = log.as_array().unwrap().iter().find(|a| a["action"] == "view_personal_data").unwrap();
    assert_eq!(entry["target_id"], id);
    assert_eq!(entry["reason"], "Support ticket 4711");

    // The admin log cannot be changed or removed.
    let db = server.running.as_ref().unwrap().db.clone();
    assert!(db.client().query("UPDATE admin_action SET action = 'nothing'").await.unwrap().check().is_err());
    assert!(db.client().query("DELETE admin_action").await.unwrap().check().is_err());
    server.stop().await;
}

#[tokio::test]
async fn disabling_ends_sessions_roles_need_the_password_and_deletion_erases() {
    let server = TestServer::start(&[]).await;
    let mut boss = admin(&server, "boss2@example.org").await;
    let email = "managed.user@example.org";
    let mut user = verified_account(&server, email, STRONG_PASSWORD).await;
    user.login(email, STRONG_PASSWORD, true).await.ok();
    let id = account_id(&server, email).await;

    boss.post("admin/set-disabled", json!({"account_id": id, "disabled": true})).await.ok();
    assert_eq!(user.me().await, json!(null), "the open session stopped working");
    assert_eq!(server.client().login(email, STRONG_PASSWORD, false).await.error(), &json!("AccountDisabled"));
    let listed = boss.post("admin/users", json!({"email": email, "before": null})).await.ok().clone();
    assert_eq!(listed["users"][0]["status"], "disabled");
    boss.post("admin/set-disabled", json!({"account_id": id, "disabled": false})).await.ok();
    user.login(email, STRONG_PASSWORD, true).await.ok();

    let wrong = boss.post("admin/set-role", json!({"password": "nope", "account_id": id, "role": "admin"})).await;
    assert_eq!(wrong.error(), &json!("WrongPassword"));
    boss.post("admin/set-role", json!({"password": STRONG_PASSWORD, "account_id": id, "role": "admin"})).await.ok();
    assert_eq!(user.me().await["role"], "admin");
    boss.post("admin/set-role", json!({"password": STRONG_PASSWORD, "account_id": id, "role": "user"})).await.ok();
    let boss_id = account_id(&server, "boss2@example.org").await;
    let last = boss.post("admin/set-role", json!({"password": STRONG_PASSWORD, "account_id": boss_id, "role": "user"})).await;
    assert_eq!(last.error(), &json!("LastAdmin"));

    let no_reason = boss.post("admin/delete-user", json!({"password": STRONG_PASSWORD, "account_id": id, "reason": ""})).await;
    assert_eq!(no_reason.error(), &json!("ReasonRequired"));
    boss.post("admin/delete-user", json!({"password": STRONG_PASSWORD, "account_id": id, "reason": "Asked by phone, ticket 9"})).await.ok();
    wait_for_mail(&server.mail_dir(), email, "account was deleted").await;
    assert_eq!(user.me().await, json!(null));
    let gone = boss.post("admin/users", json!({"email": email, "before": null})).await.ok().clone();
    assert_eq!(gone["users"], json!([]));
    let log = boss.post("admin/actions", json!({"before": null})).await.ok().clone();
    let actions: Vec<&str> = log.as_array().unwrap().iter().map(|a| a["action"].as_str().unwrap()).collect();
    for expected in ["disable_user", "enable_user", "set_role_admin", "set_role_user", "delete_user"] {
        assert!(actions.contains(&expected), "{expected} missing from {actions:?}");
    }
    server.stop().await;
}

#[tokio::test]
async fn the_user_list_pages_through_every_account() {
    let server = TestServer::start(&[]).await;
    let mut boss = admin(&server, "pager@example.org").await;
    let db = server.running.as_ref().unwrap().db.clone();
    // 120 bare accounts with distinct creation times.
    db.client()
        .query("FOR $i IN 1..=120 { CREATE type::record('account', 'bulk' + <string>$i) SET email_index = 'bulk' + <string>$i, email_enc = 'x', password_hash = 'x', role = 'user', email_verified = true, created_at = 1000 + $i }")
        .await
        .unwrap()
        .check()
        .unwrap();
    let mut seen = std::collections::HashSet::new();
    let mut before = Value::Null;
    for _ in 0..10 {
        let page = boss.post("admin/users", json!({"email": null, "before": before})).await.ok().clone();
        for user in page["users"].as_array().unwrap() {
            assert!(seen.insert(user["id"].as_str().unwrap().to_string()), "no account twice");
        }
        before = page["next_before"].clone();
        if before.is_null() {
            break;
        }
    }
    assert_eq!(seen.len(), 121, "every account once, the admin included");
    server.stop().await;
}

#[tokio::test]
async fn declared_recipients_are_public_and_a_change_is_a_policy_change() {
    let server = TestServer::start(&[]).await;
    let mut boss = admin(&server, "boss3@example.org").await;
    let email = "informed.user@example.org";
    verified_account(&server, email, STRONG_PASSWORD).await;
    let public = server.client().get("privacy/recipients").await.ok().clone();
    assert_eq!(public, json!([]));

    let recipient = json!({"id": "", "name": "Mailjet SAS", "purpose": "Sending account mail", "categories": ["email address"], "country": "France", "safeguards": "EU processor, DPA signed"});
    let incomplete = boss
        .post(
            "admin/save-recipient",
            json!({"password": STRONG_PASSWORD, "recipient": {"id": "", "name": "", "purpose": "", "categories": [], "country": "", "safeguards": ""}}),
        )
        .await;
    assert_eq!(incomplete.error(), &json!("IncompleteForm"));
    let id = boss.post("admin/save-recipient", json!({"password": STRONG_PASSWORD, "recipient": recipient})).await.ok().clone();
    let public = server.client().get("privacy/recipients").await.ok().clone();
    assert_eq!(public[0]["name"], "Mailjet SAS");
    assert_eq!(public[0]["id"], id);
    let mail = wait_for_mail(&server.mail_dir(), email, "We updated our Privacy policy").await;
    assert!(mail.contains("Mailjet SAS"), "{mail}");
    let me = server.client().login(email, STRONG_PASSWORD, false).await.ok().clone();
    assert_eq!(me["pending_policies"][0]["document"], "privacy");
    assert!(me["pending_policies"][0]["body"].as_str().unwrap().contains("Mailjet SAS (France)"));

    boss.accept_shown_policies().await.ok();
    boss.post("admin/remove-recipient", json!({"password": STRONG_PASSWORD, "id": id})).await.ok();
    assert_eq!(server.client().get("privacy/recipients").await.ok(), &json!([]));
    server.stop().await;
}

#[tokio::test]
async fn breaches_keep_the_72_hour_clock_notify_people_and_are_never_deleted() {
    let server = TestServer::start(&[]).await;
    let mut boss = admin(&server, "boss4@example.org").await;
    for email in ["affected.one@example.org", "affected.two@example.org"] {
        verified_account(&server, email, STRONG_PASSWORD).await;
    }
    let breach = json!({"input": {"discovered_local": "2026-11-29T15:30", "utc_offset_minutes": 330, "nature": "A backup disk was lost",
        "categories": ["email addresses"], "approx_affected": 3, "consequences": "Phishing attempts", "measures": "Keys rotated"}});
    let bad = json!({"input": {"discovered_local": "yesterday", "utc_offset_minutes": 0, "nature": "x", "categories": ["c"], "approx_affected": 1, "consequences": "", "measures": ""}});
    assert_eq!(boss.post("admin/record-breach", bad).await.error(), &json!("IncompleteForm"));
    let id = boss.post("admin/record-breach", breach).await.ok().as_str().unwrap().to_string();

    let list = boss.post("admin/breaches", json!({})).await.ok().clone();
    let b = &list[0];
    assert_eq!(b["discovered_at"], 1_795_946_400i64, "15:30 in India is 10:00 UTC");
    assert_eq!(b["deadline"], 1_795_946_400i64 + 72 * 3600);
    assert_eq!(b["authority_notified_at"], json!(null));

    boss.post("admin/breach-authority-notified", json!({"password": STRONG_PASSWORD, "id": id})).await.ok();
    let queued = boss.post("admin/breach-notify-people", json!({"password": STRONG_PASSWORD, "id": id, "account_ids": null})).await.ok().clone();
    assert_eq!(queued, json!(3), "everyone, the admin included");
    let mail = wait_for_mail(&server.mail_dir(), "affected.two@example.org", "security incident").await;
    assert!(mail.contains("A backup disk was lost") && mail.contains("Art. 34"), "{mail}");
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let list = boss.post("admin/breaches", json!({})).await.ok().clone();
    assert!(list[0]["authority_notified_at"].as_i64().is_some());
    assert_eq!(list[0]["notices_sent"], 3);
    assert_eq!(list[0]["notices_pending"], 0);

    let db = server.running.as_ref().unwrap().db.clone();
    assert!(db.client().query("DELETE breach").await.unwrap().check().is_err(), "never deleted");
    let changes: Option<i64> = db.client().query("RETURN count(SELECT id FROM breach_change)").await.unwrap().take(0).unwrap();
    assert_eq!(changes, Some(3), "recorded, authority notified, people notified");
    assert!(db.client().query("DELETE breach_change").await.unwrap().check().is_err());
    server.stop().await;
}

#[tokio::test]
async fn retention_settings_drive_an_exact_purge_and_the_panel_reports_it() {
    let server = TestServer::start(&[]).await;
    let mut boss = admin(&server, "keeper@example.org").await;
    let email = "history.owner@example.org";
    let mut user = verified_account(&server, email, STRONG_PASSWORD).await;
    user.login(email, STRONG_PASSWORD, true).await.ok(); // day 0
    server.clock.advance(86_400);
    user.login(email, STRONG_PASSWORD, true).await.ok(); // day 1
    server.clock.advance(86_400);
    user.login(email, STRONG_PASSWORD, true).await.ok(); // day 2
    boss.login("keeper@example.org", STRONG_PASSWORD, true).await.ok(); // day 2

    let overview = boss.post("admin/overview", json!({})).await.ok().clone();
    assert_eq!(overview["retention"]["signin_history_days"], 30);
    assert_eq!(server.client().get("privacy/retention").await.ok()["signin_history_days"], 30, "public");
    let bad = json!({"password": STRONG_PASSWORD, "settings": {"signin_history_days": 0, "inactive_leads_days": 180, "messages_days": 90, "export_hours": 48}});
    assert_eq!(boss.post("admin/set-retention", bad).await.error(), &json!("InvalidRetention"));
    let one_day =
        json!({"password": STRONG_PASSWORD, "settings": {"signin_history_days": 1, "inactive_leads_days": 180, "messages_days": 90, "export_hours": 48}});
    boss.post("admin/set-retention", one_day).await.ok();

    // Keeper: one sign-in at day 0 (by verified_account? no: it signs in only in admin()), so count exactly.
    let db = server.running.as_ref().unwrap().db.clone();
    let before: Option<i64> = db.client().query("RETURN count(SELECT id FROM signin_event)").await.unwrap().take(0).unwrap();
    let old: Option<i64> = db
        .client()
        .query("RETURN count(SELECT id FROM signin_event WHERE at < $cutoff)")
        .bind(("cutoff", server.clock_now() - 86_400))
        .await
        .unwrap()
        .take(0)
        .unwrap();
    assert!(old.unwrap() >= 2, "the user's day-0 sign-in and the keeper's first");
    server.purge_now().await;
    let after: Option<i64> = db.client().query("RETURN count(SELECT id FROM signin_event)").await.unwrap().take(0).unwrap();
    assert_eq!(after.unwrap(), before.unwrap() - old.unwrap(), "exactly the sign-ins past one day went");
    let overview = boss.post("admin/overview", json!({})).await.ok().clone();
    assert_eq!(overview["last_purge"]["signins"], old.unwrap());
    assert_eq!(overview["retention"]["signin_history_days"], 1);
    assert_eq!(user.get("account/security").await.ok()["retention_days"], 1);
    server.stop().await;
}

#[tokio::test]
async fn the_panel_counts_acceptances_and_warns_about_old_admin_passwords() {
    let server = TestServer::start(&[]).await;
    let mut boss = admin(&server, "counter@example.org").await;
    verified_account(&server, "reader.one@example.org", STRONG_PASSWORD).await;
    let overview = boss.post("admin/overview", json!({})).await.ok().clone();
    assert_eq!(overview["password_age_days"], 0);
    let count = |o: &Value, document: &str, version: i64| {
        o["acceptance"].as_array().unwrap().iter().find(|a| a["document"] == document && a["version"] == version).map(|a| a["accounts"].as_i64().unwrap())
    };
    assert_eq!(count(&overview, "privacy", 1), Some(2));
    boss.post("admin/publish-policy", json!({"password": STRONG_PASSWORD, "document": "privacy", "title": "Privacy policy", "body": "v2", "summary": "s"}))
        .await
        .ok();
    boss.accept_shown_policies().await.ok();
    let overview = boss.post("admin/overview", json!({})).await.ok().clone();
    assert_eq!(count(&overview, "privacy", 1), Some(1));
    assert_eq!(count(&overview, "privacy", 2), Some(1));
    assert_eq!(count(&overview, "terms", 1), Some(2));

    server.clock.advance(91 * 86_400);
    let mut later = server.client();
    later.login("counter@example.org", STRONG_PASSWORD, false).await.ok();
    assert_eq!(later.post("admin/overview", json!({})).await.ok()["password_age_days"], 91);
    server.stop().await;
}

#[tokio::test]
async fn a_breach_notice_can_go_to_a_chosen_set_only() {
    let server = TestServer::start(&[]).await;
    let mut boss = admin(&server, "boss5@example.org").await;
    for email in ["chosen@example.org", "spared@example.org"] {
        verified_account(&server, email, STRONG_PASSWORD).await;
    }
    let chosen = account_id(&server, "chosen@example.org").await;
    let breach = json!({"input": {"discovered_local": "2026-11-29T08:00", "utc_offset_minutes": 60, "nature": "One mailbox exposed",
        "categories": ["email addresses"], "approx_affected": 1, "consequences": "Spam", "measures": "Closed"}});
    let id = boss.post("admin/record-breach", breach).await.ok().as_str().unwrap().to_string();
    let queued = boss.post("admin/breach-notify-people", json!({"password": STRONG_PASSWORD, "id": id, "account_ids": [chosen]})).await.ok().clone();
    assert_eq!(queued, json!(1));
    wait_for_mail(&server.mail_dir(), "chosen@example.org", "security incident").await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(find_mail(&server.mail_dir(), "spared@example.org", "security incident").is_none());
    server.stop().await;
}

#[tokio::test]
async fn the_facebook_app_secret_is_never_shown_again_and_empty_fields_keep_it() {
    let server = TestServer::start(&[]).await;
    let mut boss = admin(&server, "boss6@example.org").await;
    let view = boss.post("admin/messenger-app", json!({})).await.ok().clone();
    assert_eq!(view["configured"], false);
    assert!(view["callback_url"].as_str().unwrap().ends_with("/webhooks/messenger"));
    let input = json!({"app_id": "4242", "app_secret": "super-secret-value", "verify_token": "tok-123", "graph_base_url": "https://graph.facebook.com/", "graph_version": "v21.0"});
    boss.post("admin/save-messenger-app", json!({"password": STRONG_PASSWORD, "input": input})).await.ok();
    let view = boss.post("admin/messenger-app", json!({})).await.ok().clone();
    assert_eq!(view["configured"], true);
    assert_eq!(view["app_id"], "4242");
    assert!(!view.to_string().contains("super-secret-value") && !view.to_string().contains("tok-123"));

    // Empty secret fields keep the stored ones.
    let again = json!({"app_id": "4242", "app_secret": "", "verify_token": "", "graph_base_url": "https://graph.facebook.com", "graph_version": "v22.0"});
    boss.post("admin/save-messenger-app", json!({"password": STRONG_PASSWORD, "input": again})).await.ok();
    let r = http_client().get(format!("{}/webhooks/messenger?hub.mode=subscribe&hub.verify_token=tok-123&hub.challenge=ok", server.base)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let bad = json!({"app_id": "1", "app_secret": "x", "verify_token": "y", "graph_base_url": "http://evil.example", "graph_version": "v1"});
    assert_eq!(boss.post("admin/save-messenger-app", json!({"password": STRONG_PASSWORD, "input": bad})).await.error(), &json!("InvalidGraphBaseUrl"));
    let look_alike = json!({"app_id": "1", "app_secret": "x", "verify_token": "y", "graph_base_url": "http://localhost.evil.tld", "graph_version": "v1"});
    assert_eq!(boss.post("admin/save-messenger-app", json!({"password": STRONG_PASSWORD, "input": look_alike})).await.error(), &json!("InvalidGraphBaseUrl"));
    server.stop().await;
}
