//! Account flows over HTTP, against the real router and server functions.

use serde_json::json;

use super::support::*;

#[tokio::test]
async fn register_verify_sign_in_and_sign_out_leaves_nothing_behind() {
    let server = TestServer::start(&[]).await;
    let mut api = server.client();
    let email = "ada.lovelace@example.org";

    assert_eq!(api.register(email, STRONG_PASSWORD, Some("Ada")).await.ok(), &json!(null));
    let mail = wait_for_mail(&server.mail_dir(), email, "verify").await;
    assert!(mail.contains("valid for 24 hours"), "{mail}");

    // Unverified accounts cannot sign in yet.
    assert_eq!(api.login(email, STRONG_PASSWORD, false).await.error(), &json!("EmailNotVerified"));

    let token = link_token(&mail);
    api.post("auth/verify-email", json!({"token": token})).await.ok();
    assert_eq!(api.post("auth/verify-email", json!({"token": token})).await.error(), &json!("InvalidOrExpiredLink"), "single use");
    wait_for_mail(&server.mail_dir(), email, "verified").await;

    let reply = api.login(email, STRONG_PASSWORD, false).await;
    let user = reply.ok().clone();
    assert_eq!(user["email"], email);
    assert_eq!(user["display_name"], "Ada");
    assert_eq!(user["role"], "user");
    let cookie = &reply.set_cookies()[0];
    assert!(cookie.starts_with("__Host-chatfbtop_session="), "{cookie}");
    for attribute in ["Secure", "HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attribute), "{attribute} missing in {cookie}");
    }
    assert!(!cookie.contains("Max-Age"), "not kept signed in: a browser-session cookie");
    let session_cookie = api.cookie.clone().unwrap();
    assert_eq!(api.me().await["email"], email);

    // Sign-in history: time, IP and a coarse browser family, visible to the user.
    let overview = api.get("account/security").await.ok().clone();
    assert_eq!(overview["retention_days"], 30);
    assert_eq!(overview["signins"][0]["ip"], "127.0.0.1");
    assert_eq!(overview["signins"][0]["user_agent"], "Chrome on Linux");
    assert_eq!(overview["sessions"].as_array().unwrap().len(), 1);
    assert_eq!(overview["sessions"][0]["current"], true);

    let reply = api.post("auth/logout", json!({})).await;
    reply.ok();
    assert_eq!(reply.headers["clear-site-data"], "\"cache\", \"cookies\", \"storage\"");
    assert!(reply.set_cookies().iter().any(|c| c.contains("Max-Age=0")));
    assert_eq!(api.me().await, json!(null));

    // Replaying the logged-out cookie gets nothing.
    api.cookie = Some(session_cookie);
    assert_eq!(api.me().await, json!(null));
    assert_eq!(api.get("account/security").await.error(), &json!("NotSignedIn"));
    server.stop().await;
}

#[tokio::test]
async fn registration_never_reveals_whether_an_email_is_taken() {
    let server = TestServer::start(&[]).await;
    let email = "taken@example.org";
    let mut first = server.client();
    let a = first.register(email, STRONG_PASSWORD, None).await;
    let mut second = server.client();
    let b = second.register(email, OTHER_STRONG_PASSWORD, None).await;
    assert_eq!((a.status, &a.body), (b.status, &b.body), "identical answers");
    // The owner of the address learns about the attempt; no second account exists.
    wait_for_mail(&server.mail_dir(), email, "Someone tried to sign up").await;
    assert_eq!(count_mails(&server.mail_dir(), email), 2);
    server.stop().await;
}

#[tokio::test]
async fn registration_validates_its_input() {
    let server = TestServer::start(&[]).await;
    let mut api = server.client();
    let weak = api.register("weak@example.org", "password123", None).await;
    let feedback = &weak.error()["WeakPassword"]["feedback"];
    assert!(!feedback.as_array().unwrap().is_empty(), "feedback for the user: {}", weak.body);
    assert_eq!(api.register("not-an-email", STRONG_PASSWORD, None).await.error(), &json!("InvalidEmail"));
    assert_eq!(api.register("zed@example.org", "zed@example.org plus words 19", None).await.error(), &json!("PasswordContainsEmail"));
    let long = "x".repeat(1025);
    assert_eq!(api.register("long@example.org", &long, None).await.error(), &json!("PasswordTooLong"));
    let reply =
        api.post("auth/register", json!({"input": {"email": "t@example.org", "password": STRONG_PASSWORD, "display_name": null, "accepted": []}})).await;
    assert_eq!(reply.error(), &json!("TermsNotAccepted"));
    assert_eq!(count_mails(&server.mail_dir(), "example.org"), 0, "nothing was created");
    server.stop().await;
}

#[tokio::test]
async fn keep_me_signed_in_sets_a_30_day_cookie() {
    let server = TestServer::start(&[]).await;
    let mut api = verified_account(&server, "keep@example.org", STRONG_PASSWORD).await;
    let reply = api.login("keep@example.org", STRONG_PASSWORD, true).await;
    reply.ok();
    assert!(reply.set_cookies()[0].contains("Max-Age=2592000"), "{:?}", reply.set_cookies());
    server.stop().await;
}

#[tokio::test]
async fn failures_are_generic_and_rate_limited_per_account_and_ip() {
    let server = TestServer::start(&[]).await;
    let email = "limited@example.org";
    let mut api = verified_account(&server, email, STRONG_PASSWORD).await;
    let unknown = api.login("nobody@example.org", STRONG_PASSWORD, false).await.error().clone();
    let wrong = api.login(email, "wrong password", false).await.error().clone();
    assert_eq!(unknown, wrong, "the same answer whether or not the account exists");
    assert_eq!(wrong, json!("InvalidCredentials"));
    // Two failures so far from this IP; three more reach the limit.
    for _ in 0..3 {
        assert_eq!(api.login(email, "wrong password", false).await.error(), &json!("InvalidCredentials"));
    }
    let blocked = api.login(email, STRONG_PASSWORD, false).await;
    assert!(blocked.error()["TooManyAttempts"]["retry_after_secs"].as_u64().unwrap() > 0, "{}", blocked.body);
    server.clock.advance(3);
    api.login(email, STRONG_PASSWORD, false).await.ok();
    server.stop().await;
}

#[tokio::test]
async fn sessions_expire_after_idle_and_absolute_timeouts() {
    let server = TestServer::start(&[]).await;
    let email = "timeouts@example.org";
    let mut short = verified_account(&server, email, STRONG_PASSWORD).await;
    short.login(email, STRONG_PASSWORD, false).await.ok();
    let mut kept = server.client();
    kept.login(email, STRONG_PASSWORD, true).await.ok();

    server.clock.advance(31 * 60);
    assert_eq!(short.me().await, json!(null), "30 idle minutes end a normal session");
    assert_eq!(kept.me().await["email"], email, "a kept session survives idling");

    // Active use does not stretch a normal session past 8 hours.
    let mut active = server.client();
    active.login(email, STRONG_PASSWORD, false).await.ok();
    for _ in 0..(8 * 3) {
        server.clock.advance(20 * 60);
        if active.me().await == json!(null) {
            break;
        }
    }
    assert_eq!(active.me().await, json!(null), "absolute timeout reached");
    server.clock.advance(31 * 86_400);
    assert_eq!(kept.me().await, json!(null), "even kept sessions end after 30 days");
    server.stop().await;
}

#[tokio::test]
async fn password_change_rotates_the_session_revokes_others_and_notifies() {
    let server = TestServer::start(&[]).await;
    let email = "changer@example.org";
    let mut api = verified_account(&server, email, STRONG_PASSWORD).await;
    api.login(email, STRONG_PASSWORD, false).await.ok();
    let mut other_device = server.client();
    other_device.login(email, STRONG_PASSWORD, true).await.ok();
    let before = api.cookie.clone().unwrap();

    let wrong = api.post("account/change-password", json!({"current_password": "nope", "new_password": OTHER_STRONG_PASSWORD})).await;
    assert_eq!(wrong.error(), &json!("WrongPassword"));
    let weak = api.post("account/change-password", json!({"current_password": STRONG_PASSWORD, "new_password": "abc123"})).await;
    assert!(weak.error().get("WeakPassword").is_some());

    api.post("account/change-password", json!({"current_password": STRONG_PASSWORD, "new_password": OTHER_STRONG_PASSWORD})).await.ok();
    let after = api.cookie.clone().unwrap();
    assert_ne!(before, after, "a fresh session id");
    assert_eq!(api.me().await["email"], email, "this device stays signed in");
    assert_eq!(other_device.me().await, json!(null), "other sessions are revoked");
    let mut replay = server.client();
    replay.cookie = Some(before);
    assert_eq!(replay.me().await, json!(null), "the old session id is dead");
    wait_for_mail(&server.mail_dir(), email, "password was changed").await;
    assert_eq!(server.client().login(email, STRONG_PASSWORD, false).await.error(), &json!("InvalidCredentials"));
    server.client().login(email, OTHER_STRONG_PASSWORD, false).await.ok();
    server.stop().await;
}

#[tokio::test]
async fn password_reset_by_mail_works_once_expires_and_revokes_sessions() {
    let server = TestServer::start(&[]).await;
    let email = "forgetful@example.org";
    let mut signed_in = verified_account(&server, email, STRONG_PASSWORD).await;
    signed_in.login(email, STRONG_PASSWORD, true).await.ok();
    let mut anon = server.client();

    let unknown = anon.post("auth/forgot-password", json!({"email": "ghost@example.org"})).await;
    let known = anon.post("auth/forgot-password", json!({"email": email})).await;
    assert_eq!((unknown.status, &unknown.body), (known.status, &known.body), "no enumeration");
    let mail = wait_for_mail(&server.mail_dir(), email, "Reset your").await;
    assert!(mail.contains("valid for 1 hour"));
    let token = link_token(&mail);

    let weak = anon.post("auth/reset-password", json!({"token": token, "new_password": "123456"})).await;
    assert!(weak.error().get("WeakPassword").is_some(), "a weak choice does not spend the link");
    anon.post("auth/reset-password", json!({"token": token, "new_password": OTHER_STRONG_PASSWORD})).await.ok();
    assert_eq!(
        anon.post("auth/reset-password", json!({"token": token, "new_password": STRONG_PASSWORD})).await.error(),
        &json!("InvalidOrExpiredLink"),
        "single use"
    );
    assert_eq!(signed_in.me().await, json!(null), "a reset signs out every session");
    anon.login(email, OTHER_STRONG_PASSWORD, false).await.ok();

    // A link older than an hour is refused.
    anon.post("auth/forgot-password", json!({"email": email})).await.ok();
    let second = loop {
        let mails: Vec<String> = std::fs::read_dir(server.mail_dir())
            .unwrap()
            .filter_map(|e| std::fs::read_to_string(e.unwrap().path()).ok())
            .filter(|m| m.contains("Reset your") && !m.contains(&token))
            .collect();
        if let Some(m) = mails.into_iter().next() {
            break m;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    server.clock.advance(3601);
    let expired = anon.post("auth/reset-password", json!({"token": link_token(&second), "new_password": STRONG_PASSWORD})).await;
    assert_eq!(expired.error(), &json!("InvalidOrExpiredLink"));
    server.stop().await;
}

#[tokio::test]
async fn email_change_is_verified_at_the_new_address_and_noticed_at_the_old() {
    let server = TestServer::start(&[]).await;
    let old = "old.address@example.org";
    let new = "new.address@example.org";
    let mut api = verified_account(&server, old, STRONG_PASSWORD).await;
    api.login(old, STRONG_PASSWORD, false).await.ok();
    let wrong = api.post("account/change-email", json!({"new_email": new, "password": "nope"})).await;
    assert_eq!(wrong.error(), &json!("WrongPassword"));
    api.post("account/change-email", json!({"new_email": new, "password": STRONG_PASSWORD})).await.ok();
    assert_eq!(api.me().await["email"], old, "unchanged until confirmed");
    let mail = wait_for_mail(&server.mail_dir(), new, "Confirm your new email").await;
    api.post("auth/confirm-email", json!({"token": link_token(&mail)})).await.ok();
    assert_eq!(api.me().await["email"], new);
    wait_for_mail(&server.mail_dir(), old, "was changed").await;
    assert_eq!(server.client().login(old, STRONG_PASSWORD, false).await.error(), &json!("InvalidCredentials"));
    server.client().login(new, STRONG_PASSWORD, false).await.ok();
    server.stop().await;
}

#[tokio::test]
async fn sessions_can_be_listed_revoked_and_ended_everywhere() {
    let server = TestServer::start(&[]).await;
    let email = "devices@example.org";
    let mut laptop = verified_account(&server, email, STRONG_PASSWORD).await;
    laptop.login(email, STRONG_PASSWORD, false).await.ok();
    let mut phone = server.client();
    phone.login(email, STRONG_PASSWORD, true).await.ok();

    let overview = laptop.get("account/security").await.ok().clone();
    let sessions = overview["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2);
    let phone_session = sessions.iter().find(|s| s["current"] == false).unwrap()["id"].as_str().unwrap().to_string();
    laptop.post("account/revoke-session", json!({"session_id": phone_session})).await.ok();
    assert_eq!(phone.me().await, json!(null));
    assert_eq!(laptop.post("account/revoke-session", json!({"session_id": phone_session})).await.error(), &json!("SessionNotFound"));

    phone.login(email, STRONG_PASSWORD, true).await.ok();
    let reply = laptop.post("auth/logout-everywhere", json!({})).await;
    reply.ok();
    assert!(reply.headers.contains_key("clear-site-data"));
    assert_eq!(phone.me().await, json!(null));
    assert_eq!(laptop.me().await, json!(null));
    server.stop().await;
}

#[tokio::test]
async fn cross_origin_posts_are_refused() {
    let server = TestServer::start(&[]).await;
    let http = http_client();
    let url = format!("{}/api/auth/logout", server.base);
    let evil = http.post(&url).header("origin", "https://evil.example").json(&json!({})).send().await.unwrap();
    assert_eq!(evil.status(), 403);
    let cross_site = http.post(&url).header("sec-fetch-site", "cross-site").json(&json!({})).send().await.unwrap();
    assert_eq!(cross_site.status(), 403);
    let bare = http.post(&url).json(&json!({})).send().await.unwrap();
    assert_eq!(bare.status(), 403, "no origin information at all");
    let same = http.post(&url).header("sec-fetch-site", "same-origin").json(&json!({})).send().await.unwrap();
    assert_eq!(same.status(), 200);
    let as_get = http.get(&url).send().await.unwrap();
    assert_ne!(as_get.status(), 200, "state-changing functions accept POST only");
    server.stop().await;
}

#[tokio::test]
async fn an_admins_one_time_password_must_be_changed_first() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let config = clap::Parser::try_parse_from(["server", "--data-dir", data.to_str().unwrap()]).map(|cli: server::config::Cli| cli.serve).unwrap();
    let one_time = server::create_admin(&config, "root@example.org").await.expect("admin created");
    assert!(server::create_admin(&config, "root@example.org").await.is_err(), "only once per address");

    let db = format!("rocksdb://{}", data.join("rocksdb").display());
    let server = TestServer::start_in(root, &["--db", &db]).await;
    let mut api = server.client();
    let user = api.login("root@example.org", &one_time, false).await.ok().clone();
    assert_eq!(user["role"], "admin");
    assert_eq!(user["must_change_password"], true);
    assert_eq!(api.get("account/security").await.error(), &json!("PasswordChangeRequired"));
    api.post("account/change-password", json!({"current_password": one_time, "new_password": STRONG_PASSWORD})).await.ok();
    let me = api.me().await;
    assert_eq!(me["must_change_password"], false);
    // The admin never accepted the policies: that comes next, as for anyone.
    assert_eq!(me["pending_policies"].as_array().unwrap().len(), 2);
    assert_eq!(api.get("account/security").await.error(), &json!("PolicyAcceptanceRequired"));
    api.accept_shown_policies().await.ok();
    api.get("account/security").await.ok();
    server.stop().await;
}

#[tokio::test]
async fn verification_links_expire_after_24_hours_and_consents_are_append_only() {
    let server = TestServer::start(&[]).await;
    let email = "late.reader@example.org";
    let mut api = server.client();
    api.register(email, STRONG_PASSWORD, None).await.ok();
    let mail = wait_for_mail(&server.mail_dir(), email, "verify").await;
    server.clock.advance(24 * 3600 + 1);
    assert_eq!(api.post("auth/verify-email", json!({"token": link_token(&mail)})).await.error(), &json!("InvalidOrExpiredLink"));

    // Registration recorded acceptance of the current terms and privacy policy.
    let db = server.running.as_ref().unwrap().db.clone();
    let ledger: Vec<String> = db.client().query("SELECT VALUE document FROM consent ORDER BY document").await.unwrap().take(0).unwrap();
    assert_eq!(ledger, vec!["privacy".to_string(), "terms".to_string()]);
    let versions: Vec<i64> = db.client().query("SELECT VALUE version FROM consent").await.unwrap().take(0).unwrap();
    assert!(versions.iter().all(|v| *v == 1), "{versions:?}");
    let rewrite = db.client().query("UPDATE consent SET version = 99").await.unwrap().check();
    assert!(rewrite.is_err(), "the ledger refuses changes");
    let after: Vec<i64> = db.client().query("SELECT VALUE version FROM consent").await.unwrap().take(0).unwrap();
    assert!(after.iter().all(|v| *v == 1));
    server.stop().await;
}

#[tokio::test]
async fn declining_browser_storage_is_remembered_for_the_session_and_asked_again_at_the_next_sign_in() {
    let server = TestServer::start(&[]).await;
    let email = "decliner@example.org";
    let mut api = verified_account(&server, email, STRONG_PASSWORD).await;
    api.login(email, STRONG_PASSWORD, false).await.ok();
    assert_eq!(api.me().await["storage_offer_declined"], false);
    api.post("auth/decline-storage-offer", json!({})).await.ok();
    assert_eq!(api.me().await["storage_offer_declined"], true, "remembered by the server for this session");
    let mut elsewhere = server.client();
    elsewhere.login(email, STRONG_PASSWORD, false).await.ok();
    assert_eq!(elsewhere.me().await["storage_offer_declined"], false, "another session is asked");
    api.login(email, STRONG_PASSWORD, false).await.ok();
    assert_eq!(api.me().await["storage_offer_declined"], false, "a new sign-in is a new session");
    assert_eq!(server.client().post("auth/decline-storage-offer", json!({})).await.error(), &json!("NotSignedIn"));
    server.stop().await;
}

/// The sign-up cookie from a registration's answer, as `name=value`.
fn signup_cookie(reply: &Reply) -> String {
    let set = reply.set_cookies().into_iter().find(|c| c.starts_with(server::sessions::SIGNUP_COOKIE_NAME)).expect("registration sets the sign-up cookie");
    for attribute in ["Secure", "HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=86400"] {
        assert!(set.contains(attribute), "{attribute} missing in {set}");
    }
    set.split(';').next().unwrap().to_string()
}

/// Opens a verification link from a browser that holds `cookie` (or nothing).
async fn open_link(server: &TestServer, token: &str, cookie: Option<&str>) -> Reply {
    let mut browser = server.client();
    browser.cookie = cookie.map(str::to_string);
    browser.post("auth/verify-email", json!({"token": token})).await
}

#[tokio::test]
async fn the_verification_link_signs_in_the_browser_that_registered_and_no_other() {
    let server = TestServer::start(&[]).await;
    let (first, second) = ("same.browser@example.org", "other.browser@example.org");
    let mut api = server.client();
    let registering = signup_cookie(&api.register(first, STRONG_PASSWORD, None).await);
    let mail = wait_for_mail(&server.mail_dir(), first, "verify").await;

    // Opened where the address was registered: verified and signed in, for this browser session only.
    let reply = open_link(&server, &link_token(&mail), Some(&registering)).await;
    assert_eq!(reply.ok()["email"], first);
    let cookies = reply.set_cookies();
    let session = cookies.iter().find(|c| c.starts_with(server::sessions::COOKIE_NAME)).expect("a session cookie");
    assert!(!session.contains("Max-Age"), "not kept after the browser closes: {session}");
    assert!(cookies.iter().any(|c| c.starts_with(server::sessions::SIGNUP_COOKIE_NAME) && c.contains("Max-Age=0")), "the sign-up cookie is spent: {cookies:?}");
    let mut signed_in = server.client();
    signed_in.cookie = Some(session.split(';').next().unwrap().to_string());
    assert_eq!(signed_in.me().await["email"], first);
    let history = signed_in.get("account/security").await.ok()["signins"].as_array().unwrap().len();
    assert_eq!(history, 1, "the sign-in is in the history");

    // Opened anywhere else (a forwarded link, another device), or with another
    // registration's cookie: verified, not signed in.
    let mut api = server.client();
    signup_cookie(&api.register(second, STRONG_PASSWORD, None).await);
    let mail = wait_for_mail(&server.mail_dir(), second, "verify").await;
    let reply = open_link(&server, &link_token(&mail), Some(&registering)).await;
    assert_eq!(reply.ok(), &json!(null), "another registration's cookie signs nothing in");
    assert!(!reply.set_cookies().iter().any(|c| c.starts_with(server::sessions::COOKIE_NAME)), "{:?}", reply.set_cookies());
    let mut verified = server.client();
    assert_eq!(verified.login(second, STRONG_PASSWORD, false).await.ok()["email"], second, "but the address is verified");

    // The kept hash goes at verification, whichever browser opened the link.
    let db = server.running.as_ref().unwrap().db.clone();
    let kept: Vec<Option<String>> = db.client().query("SELECT VALUE signup_nonce_hash FROM account").await.unwrap().take(0).unwrap();
    assert!(kept.iter().all(Option::is_none), "{kept:?}");
    server.stop().await;
}

#[tokio::test]
async fn a_verification_link_opened_without_the_sign_up_cookie_only_verifies() {
    let server = TestServer::start(&[]).await;
    let email = "forwarded.link@example.org";
    let mut api = server.client();
    signup_cookie(&api.register(email, STRONG_PASSWORD, None).await);
    let mail = wait_for_mail(&server.mail_dir(), email, "verify").await;
    let reply = open_link(&server, &link_token(&mail), None).await;
    assert_eq!(reply.ok(), &json!(null));
    assert!(reply.set_cookies().is_empty(), "{:?}", reply.set_cookies());
    server.stop().await;
}
