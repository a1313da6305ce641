//! Account takeover and lock-out: pending email changes die with the
//! password, exports carry no live link, unverified accounts expire,
//! requests are limited, and hashing never stalls the server.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::broadcasts::{campaign, lead_at};
use super::privacy::download_export;
use super::support::*;

const CHANGE_SUBJECT: &str = "Confirm your new email address";

/// Asks to move the signed-in account to `new`, and returns the link's token.
async fn start_email_change(server: &TestServer, api: &mut Api, new: &str, password: &str) -> String {
    api.post("account/change-email", json!({"new_email": new, "password": password})).await.ok();
    link_token(&wait_for_mail(&server.mail_dir(), new, CHANGE_SUBJECT).await)
}

async fn pending_email_is_gone(server: &TestServer, email: &str) -> bool {
    let id = account_record(server, email).await;
    let pending: Option<Value> =
        server.running.as_ref().unwrap().db.client().query("SELECT VALUE pending_email_enc FROM ONLY $id").bind(("id", id)).await.unwrap().take(0).unwrap();
    pending.is_none_or(|v| v.is_null())
}

#[tokio::test]
async fn a_pending_email_change_dies_with_a_password_change_a_reset_or_signing_out_everywhere() {
    let server = TestServer::start(&[]).await;
    let email = "kept.address@example.org";
    let mut api = verified_account(&server, email, STRONG_PASSWORD).await;
    api.login(email, STRONG_PASSWORD, false).await.ok();
    let mut anon = server.client();

    let token = start_email_change(&server, &mut api, "thief.one@example.org", STRONG_PASSWORD).await;
    api.post("account/change-password", json!({"current_password": STRONG_PASSWORD, "new_password": OTHER_STRONG_PASSWORD})).await.ok();
    assert_eq!(anon.post("auth/confirm-email", json!({"token": token})).await.error(), &json!("InvalidOrExpiredLink"), "password change");
    assert!(pending_email_is_gone(&server, email).await);

    let token = start_email_change(&server, &mut api, "thief.two@example.org", OTHER_STRONG_PASSWORD).await;
    api.post("auth/logout-everywhere", json!({})).await.ok();
    assert_eq!(anon.post("auth/confirm-email", json!({"token": token})).await.error(), &json!("InvalidOrExpiredLink"), "signing out everywhere");
    assert!(pending_email_is_gone(&server, email).await);

    api.login(email, OTHER_STRONG_PASSWORD, false).await.ok();
    let token = start_email_change(&server, &mut api, "thief.three@example.org", OTHER_STRONG_PASSWORD).await;
    anon.post("auth/forgot-password", json!({"email": email})).await.ok();
    let reset = link_token(&wait_for_mail(&server.mail_dir(), email, "Reset your").await);
    anon.post("auth/reset-password", json!({"token": reset, "new_password": STRONG_PASSWORD})).await.ok();
    assert_eq!(anon.post("auth/confirm-email", json!({"token": token})).await.error(), &json!("InvalidOrExpiredLink"), "password reset");
    assert!(pending_email_is_gone(&server, email).await);
    anon.login(email, STRONG_PASSWORD, false).await.ok();
    assert_eq!(anon.me().await["email"], email, "the address never moved");
    server.stop().await;
}

/// The text of every mail waiting in the outbox, opened as the mail worker would.
async fn outbox_texts(ctx: &server::context::Ctx) -> Vec<String> {
    let rows: Vec<Value> = ctx
        .db
        .client()
        .query("SELECT record::id(id) AS key, body_enc FROM outbox WHERE status = 'pending' AND body_enc != NONE")
        .await
        .unwrap()
        .take(0)
        .unwrap();
    rows.iter()
        .map(|row| {
            let (key, blob) = (row["key"].as_str().unwrap(), row["body_enc"].as_str().unwrap());
            ctx.crypto.system_key().open_string(server::crypto::Field::new("outbox", key, "body"), blob).unwrap()
        })
        .collect()
}

/// Every key and every value in a JSON document, as text: numbers and booleans too.
fn every_value(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(fields) => {
            for (name, inner) in fields {
                out.push(name.clone());
                every_value(inner, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|item| every_value(item, out)),
        Value::String(text) => out.push(text.clone()),
        other => out.push(other.to_string()),
    }
}

/// The token after the first `start` in `text`.
fn token_after(text: &str, start: &str) -> String {
    let from = text.find(start).unwrap_or_else(|| panic!("no {start:?} in {text}")) + start.len();
    text[from..].chars().take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~' | '%')).collect()
}

/// Every live credential an account can hold at once: a pending email
/// change whose mail waits in the outbox, a password-reset link, the
/// unsubscribe links of a sent campaign (quoted back in stored messages),
/// a Facebook Login under way, the Page's access token and the session
/// cookie. None of their values is in the export, JSON or HTML.
#[tokio::test]
async fn the_export_holds_no_live_token_or_link() {
    let mut w = World::start("token.keeper@example.org").await;
    // A campaign to two leads; each message carries the lead's unsubscribe link.
    let leads = [lead_at(&mut w, "tk1", "Ada", 60).await, lead_at(&mut w, "tk2", "Bo", 60).await];
    let campaign_id = w.api.post("broadcasts/save", campaign(&w, "Token news", &[], &[])).await.ok().as_str().unwrap().to_string();
    w.api.post("broadcasts/send-now", json!({"id": campaign_id})).await.ok();
    let unsubscribe: Vec<String> = w.wait_for_sent(2).await.iter().map(|m| token_after(&m.text, "/u/")).collect();
    let deadline = Instant::now() + Duration::from_secs(20);
    while w.api.post("broadcasts/detail", json!({"id": campaign_id})).await.ok()["summary"]["state"] != "completed" {
        assert!(Instant::now() < deadline, "the campaign never completed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The links are stored too: one lead quotes theirs back, the owner replies with the other.
    let site = w.server.base.clone();
    assert_eq!(w.write("tk1", &format!("What is {site}/u/{} for?", unsubscribe[0])).await, 200);
    let replied = w.api.post("messenger/reply", json!({"lead": leads[1], "text": format!("Yours: {site}/u/{}", unsubscribe[1])})).await;
    assert_eq!(replied.ok(), "sent");

    // A password-reset link, mailed and not used.
    w.server.client().post("auth/forgot-password", json!({"email": w.email})).await.ok();
    let reset = link_token(&wait_for_mail(&w.server.mail_dir(), &w.email, "Reset your").await);
    // A Facebook Login under way.
    let dialog = w.api.post("messenger/facebook-login", json!({})).await.ok().as_str().unwrap().to_string();
    let login_state = token_after(&dialog, "state=");
    // The mail server goes away (the mail folder is a file now): the
    // confirmation mail of an email change waits in the outbox.
    std::fs::remove_dir_all(w.server.mail_dir()).unwrap();
    std::fs::write(w.server.mail_dir(), b"").unwrap();
    w.api.post("account/change-email", json!({"new_email": "token.keeper.next@example.org", "password": STRONG_PASSWORD})).await.ok();
    let deadline = Instant::now() + Duration::from_secs(10);
    let change = loop {
        if let Some(mail) = outbox_texts(w.ctx()).await.into_iter().find(|text| text.contains("confirm-email?token=")) {
            break token_after(&mail, "token=");
        }
        assert!(Instant::now() < deadline, "the email change's mail never reached the outbox");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let cookie = w.api.cookie.clone().unwrap();
    let session = cookie.split_once('=').unwrap().1.to_string();
    let mut live = vec![
        ("email change", change),
        ("password reset", reset),
        ("Facebook Login state", login_state),
        ("Page access token", PAGE_TOKEN.to_string()),
        ("session cookie", session),
    ];
    live.extend(unsubscribe.into_iter().map(|token| ("unsubscribe link", token)));
    for (what, token) in &live {
        assert!(token.len() >= 12, "{what}: {token:?} is too short to look for");
    }

    let (data, html) = download_export(&w.server, &mut w.api).await;
    let outbox = data["categories"]["outbox"].to_string();
    assert!(outbox.contains("confirm-email?token=[withheld]"), "the waiting confirmation mail is exported, without its token: {outbox}");
    let messages = data["categories"]["messages"].to_string();
    assert!(messages.matches("/u/[withheld]").count() >= 2, "both quoted links are exported, without their tokens: {messages}");
    let mut texts = Vec::new();
    every_value(&data, &mut texts);
    let unescaped = html.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&amp;", "&");
    texts.extend([html, unescaped]);
    for text in &texts {
        for (what, token) in &live {
            assert!(!text.contains(token.as_str()), "a live {what} in the export: {text}");
        }
        for start in ["token=", "/u/"] {
            for (at, _) in text.match_indices(start) {
                assert!(token_after(&text[at..], start).is_empty(), "a link with a live token in the export: {text}");
            }
        }
    }
    w.standin.stop();
    w.server.stop().await;
}

#[tokio::test]
async fn unverified_accounts_expire_after_a_week_and_can_ask_for_the_link_again() {
    let server = TestServer::start(&[]).await;
    let email = "slow.reader@example.org";
    let mut api = server.client();
    api.register(email, STRONG_PASSWORD, None).await.ok();
    let first = link_token(&wait_for_mail(&server.mail_dir(), email, "verify").await);
    let verified = "quick.reader@example.org";
    verified_account(&server, verified, STRONG_PASSWORD).await;

    // Again: a new link, and the first one no longer works.
    api.post("auth/resend-verification", json!({"email": email})).await.ok();
    let deadline = Instant::now() + Duration::from_secs(10);
    while count_mails(&server.mail_dir(), email) < 2 {
        assert!(Instant::now() < deadline, "no second verification mail");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(api.post("auth/verify-email", json!({"token": first})).await.error(), &json!("InvalidOrExpiredLink"));
    // The same answer for an address without an account, and no mail to it.
    api.post("auth/resend-verification", json!({"email": "nobody.here@example.org"})).await.ok();

    // A week on, the unverified account is gone and its address free again.
    server.clock.advance(7 * 86_400 + 60);
    server.purge_now().await;
    assert_eq!(api.login(email, STRONG_PASSWORD, false).await.error(), &json!("InvalidCredentials"));
    api.login(verified, STRONG_PASSWORD, false).await.ok();
    assert_eq!(count_mails(&server.mail_dir(), "nobody.here@example.org"), 0);
    api.register(email, STRONG_PASSWORD, None).await.ok();
    let deadline = Instant::now() + Duration::from_secs(10);
    while count_mails(&server.mail_dir(), email) < 3 {
        assert!(Instant::now() < deadline, "no welcome mail after the address was freed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(find_mail(&server.mail_dir(), email, "Someone tried").is_none(), "a new account, not an attempt on an old one");
    server.stop().await;
}

/// Every verification link ever mailed to `to`.
fn verification_tokens(server: &TestServer, to: &str) -> Vec<String> {
    std::fs::read_dir(server.mail_dir())
        .unwrap()
        .filter_map(|entry| std::fs::read_to_string(entry.unwrap().path()).ok())
        .filter(|text| text.lines().any(|l| l.starts_with("To:") && l.contains(to)) && text.contains("verify-email?token="))
        .map(|text| link_token(&text))
        .collect()
}

#[tokio::test]
async fn an_unverified_account_is_kept_until_seven_days_and_purged_just_after() {
    const WEEK: i64 = 7 * 86_400;
    let server = TestServer::start(&[]).await;
    let (late, never) = ("late.reader@example.org", "never.reader@example.org");
    let mut api = server.client();
    for email in [late, never] {
        api.register(email, STRONG_PASSWORD, None).await.ok();
        wait_for_mail(&server.mail_dir(), email, "verify").await;
    }
    let created_at = |email: &'static str| {
        let server = &server;
        async move {
            let id = account_record(server, email).await;
            let at: Option<i64> =
                server.running.as_ref().unwrap().db.client().query("SELECT VALUE created_at FROM ONLY $id").bind(("id", id)).await.unwrap().take(0).unwrap();
            at.unwrap()
        }
    };
    let created = created_at(late).await;
    assert_eq!(created_at(never).await, created);

    // One second short of a week: both are kept, and the late one can still verify (with a new link: the first lasted a day).
    server.clock.advance(created + WEEK - 1 - server.clock_now());
    server.purge_now().await;
    assert!(find_account(&server, never).await.is_some(), "purged before its week was up");
    assert!(find_account(&server, late).await.is_some(), "purged before its week was up");
    api.post("auth/resend-verification", json!({"email": late})).await.ok();
    let deadline = Instant::now() + Duration::from_secs(10);
    while verification_tokens(&server, late).len() < 2 {
        assert!(Instant::now() < deadline, "no new verification link");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut verified = 0;
    for token in verification_tokens(&server, late) {
        verified += usize::from(api.post("auth/verify-email", json!({"token": token})).await.status == 200);
    }
    assert_eq!(verified, 1, "the new link verifies; the first one expired long ago");

    // One second past the week: the unverified account goes, the verified one stays.
    server.clock.advance(2);
    server.purge_now().await;
    assert!(find_account(&server, never).await.is_none(), "kept past its week");
    api.login(late, STRONG_PASSWORD, false).await.ok();
    server.stop().await;
}

#[tokio::test]
async fn a_completed_password_reset_verifies_the_address() {
    let server = TestServer::start(&[]).await;
    let email = "never.clicked@example.org";
    let mut api = server.client();
    api.register(email, STRONG_PASSWORD, None).await.ok();
    wait_for_mail(&server.mail_dir(), email, "verify").await;
    assert_eq!(api.login(email, STRONG_PASSWORD, false).await.error(), &json!("EmailNotVerified"));
    api.post("auth/forgot-password", json!({"email": email})).await.ok();
    let reset = link_token(&wait_for_mail(&server.mail_dir(), email, "Reset your").await);
    api.post("auth/reset-password", json!({"token": reset, "new_password": OTHER_STRONG_PASSWORD})).await.ok();
    api.login(email, OTHER_STRONG_PASSWORD, false).await.ok();
    server.stop().await;
}

#[tokio::test]
async fn sign_ups_and_mail_requests_are_limited_per_ip_and_per_address() {
    let server = TestServer::start(&["--requests-per-ip-per-hour", "8"]).await;
    let mut api = server.client();
    // Per address: five mails an hour, whoever asks.
    for _ in 0..5 {
        api.post("auth/forgot-password", json!({"email": "popular@example.org"})).await.ok();
    }
    let refused = api.post("auth/forgot-password", json!({"email": "popular@example.org"})).await;
    assert_eq!(refused.status, 429);
    assert!(refused.error()["TooManyAttempts"]["retry_after_secs"].as_u64().unwrap() > 3000, "{:?}", refused.body);
    // Per IP: eight sign-ups an hour, then none, whatever the address.
    for n in 0..8 {
        api.register(&format!("signup{n}@example.org"), STRONG_PASSWORD, None).await.ok();
    }
    assert_eq!(api.register("signup9@example.org", STRONG_PASSWORD, None).await.status, 429);
    // The hour passes.
    server.clock.advance(3601);
    api.register("signup9@example.org", STRONG_PASSWORD, None).await.ok();
    server.stop().await;
}

/// Password re-checks are limited too, on the same counts: `limits.rs`.
#[tokio::test]
async fn a_success_does_not_reset_the_ip_count() {
    let server = TestServer::start(&[]).await;
    let own = "sprayer@example.org";
    let mut api = verified_account(&server, own, STRONG_PASSWORD).await;
    // Four guesses at four addresses, a sign-in to one's own account, a fifth guess.
    for n in 0..4 {
        assert_eq!(api.login(&format!("victim{n}@example.org"), "guess 1 2 3 4 5", false).await.error(), &json!("InvalidCredentials"));
    }
    api.login(own, STRONG_PASSWORD, false).await.ok();
    assert_eq!(api.login("victim4@example.org", "guess 1 2 3 4 5", false).await.error(), &json!("InvalidCredentials"));
    let blocked = api.login("victim5@example.org", "guess 1 2 3 4 5", false).await;
    assert!(blocked.error().get("TooManyAttempts").is_some(), "five failures from this IP: {:?}", blocked.body);

    server.stop().await;
}

#[tokio::test]
async fn sign_ups_and_reset_requests_do_the_same_work_for_known_and_unknown_addresses() {
    let dir = tempfile::tempdir().unwrap();
    let config = super::config(&["--db", "mem://", "--data-dir", dir.path().to_str().unwrap()]);
    // The core alone: no worker completes the requests behind our back.
    let core = server::open_core(&config, std::sync::Arc::new(server::clock::SystemClock)).await.unwrap();
    let ctx = core.ctx.clone();
    let request = |n: u8| server::context::RequestInfo { session_token: None, ip: std::net::IpAddr::from([10, 0, 0, n]), user_agent: "test".into() };
    let shown = server::policies::current_versions(&ctx).await.unwrap();
    let input = |email: &str| app::types::RegisterInput { email: email.into(), password: STRONG_PASSWORD.into(), display_name: None, accepted: shown.clone() };
    server::accounts::register(&ctx, &request(1), input("known@example.org")).await.unwrap();
    server::accounts::complete_due(&ctx).await.unwrap();
    let rows = |ctx: server::context::Ctx| async move {
        let mut counts = Vec::new();
        for table in ["account", "account_request", "account_token", "outbox"] {
            let n: Option<i64> = ctx.db.client().query(format!("RETURN count(SELECT id FROM {table})")).await.unwrap().take(0).unwrap();
            counts.push(n.unwrap_or(0));
        }
        counts
    };
    let before = rows(ctx.clone()).await;
    assert_eq!(before[..2], [1, 0]);
    let mut after = Vec::new();
    for (n, email) in [(2, "known@example.org"), (3, "unknown@example.org")] {
        server::accounts::register(&ctx, &request(n), input(email)).await.unwrap();
        after.push(rows(ctx.clone()).await);
        server::accounts::request_password_reset(&ctx, &request(n), email).await.unwrap();
        after.push(rows(ctx.clone()).await);
    }
    // Each request added one queued row and nothing else, known address or not.
    let queued = |k: i64| vec![before[0], k, before[2], before[3]];
    assert_eq!(after, vec![queued(1), queued(2), queued(3), queued(4)]);
    // The worker then does what differs.
    while server::accounts::complete_due(&ctx).await.unwrap() > 0 {}
    let done = rows(ctx.clone()).await;
    assert_eq!((done[0], done[1]), (2, 0), "the unknown address got its account; every request was carried out");
    core.close().await;
}

/// The core alone (no worker completes requests behind the test's back),
/// with "mover@" signed in and "taken@" registered; both verified.
async fn core_with_a_signed_in_mover(dir: &tempfile::TempDir) -> (server::Core, server::accounts::Ready) {
    let config = super::config(&["--db", "mem://", "--data-dir", dir.path().to_str().unwrap()]);
    let core = server::open_core(&config, std::sync::Arc::new(server::clock::SystemClock)).await.unwrap();
    let ctx = core.ctx.clone();
    let request = |token: Option<&str>| server::context::RequestInfo {
        session_token: token.map(str::to_string),
        ip: std::net::IpAddr::from([10, 0, 0, 1]),
        user_agent: "test".into(),
    };
    let shown = server::policies::current_versions(&ctx).await.unwrap();
    for email in ["mover@example.org", "taken@example.org"] {
        let input = app::types::RegisterInput { email: email.into(), password: STRONG_PASSWORD.into(), display_name: None, accepted: shown.clone() };
        server::accounts::register(&ctx, &request(None), input).await.unwrap();
    }
    while server::accounts::complete_due(&ctx).await.unwrap() > 0 {}
    ctx.db.client().query("UPDATE account SET email_verified = true").await.unwrap().check().unwrap();
    let input = app::types::LoginInput { email: "mover@example.org".into(), password: STRONG_PASSWORD.into(), keep_signed_in: false };
    let (token, _, _) = server::accounts::login(&ctx, input, &request(None)).await.unwrap();
    let caller = server::accounts::signed_in(&ctx, request(Some(&token))).await.unwrap().ready().unwrap();
    (core, caller)
}

/// Rows that an email change writes: queued requests, links, mails, pending changes.
async fn email_change_rows(ctx: &server::context::Ctx) -> Vec<i64> {
    let mut counts = Vec::new();
    for query in [
        "RETURN count(SELECT id FROM account_request)",
        "RETURN count(SELECT id FROM account_token)",
        "RETURN count(SELECT id FROM outbox)",
        "RETURN count(SELECT id FROM account WHERE pending_email_enc != NONE)",
    ] {
        let n: Option<i64> = ctx.db.client().query(query).await.unwrap().take(0).unwrap();
        counts.push(n.unwrap_or(0));
    }
    counts
}

#[tokio::test]
async fn an_email_change_does_the_same_work_whether_or_not_the_new_address_has_an_account() {
    let dir = tempfile::tempdir().unwrap();
    let (core, caller) = core_with_a_signed_in_mover(&dir).await;
    let ctx = core.ctx.clone();
    let before = email_change_rows(&ctx).await;
    assert_eq!((before[0], before[3]), (0, 0));
    let mut after = Vec::new();
    for new_email in ["taken@example.org", "free@example.org"] {
        server::accounts::request_email_change(&ctx, &caller, new_email, STRONG_PASSWORD).await.unwrap();
        after.push(email_change_rows(&ctx).await);
    }
    // Each request added one queued row and nothing else, taken address or not.
    let queued = |k: i64| vec![k, before[1], before[2], 0];
    assert_eq!(after, vec![queued(1), queued(2)]);
    // The worker then does what differs: a pending change, its link and its mail, for the free address only.
    while server::accounts::complete_due(&ctx).await.unwrap() > 0 {}
    assert_eq!(email_change_rows(&ctx).await, vec![0, before[1] + 1, before[2] + 1, 1]);
    core.close().await;
}

#[tokio::test]
async fn an_email_change_still_queued_when_its_session_ends_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let (core, caller) = core_with_a_signed_in_mover(&dir).await;
    let ctx = core.ctx.clone();
    let before = email_change_rows(&ctx).await;
    server::accounts::request_email_change(&ctx, &caller, "thief@example.org", STRONG_PASSWORD).await.unwrap();
    // "Sign out everywhere" before the worker gets to the request.
    server::accounts::logout_everywhere(&ctx, &caller).await.unwrap();
    while server::accounts::complete_due(&ctx).await.unwrap() > 0 {}
    assert_eq!(email_change_rows(&ctx).await, before, "no pending change, no link, no mail");
    core.close().await;
}
