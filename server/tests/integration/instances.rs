//! Several instances on one database, in one process: each context is an
//! instance (its own name), sharing the database as separate processes do.
//! The multi-process tests (`scale_out`) run the same against a SurrealDB server.

use server::context::leases::{self, Job};
use server::context::Ctx;

use super::support::*;

fn another_instance(ctx: &Ctx, name: &str) -> Ctx {
    Ctx { instance: name.into(), memo: Default::default(), ..ctx.clone() }
}

#[tokio::test]
async fn a_job_lease_is_held_by_one_instance_at_a_time_and_taken_over_when_its_holder_stops_renewing() {
    let server = TestServer::start(&[]).await;
    let running = server.running.as_ref().unwrap().context().clone();
    // The server's own retention task took the lease at start, and tries again only in an hour.
    leases::release(&running, Job::Retention).await.unwrap();
    let (first, second) = (another_instance(&running, "first-instance"), another_instance(&running, "second-instance"));
    assert!(leases::hold(&first, Job::Retention, 30).await.unwrap());
    assert!(!leases::hold(&second, Job::Retention, 30).await.unwrap(), "held by the first");
    server.clock.advance(20);
    assert!(leases::hold(&first, Job::Retention, 30).await.unwrap(), "the holder renews it");
    server.clock.advance(20);
    assert!(!leases::hold(&second, Job::Retention, 30).await.unwrap(), "renewed: still the first's");
    server.clock.advance(31);
    assert!(leases::hold(&second, Job::Retention, 30).await.unwrap(), "a lease not renewed runs out and is taken over");
    assert!(!leases::hold(&first, Job::Retention, 30).await.unwrap(), "the old holder now waits");
    leases::release(&second, Job::Retention).await.unwrap();
    assert!(leases::hold(&first, Job::Retention, 30).await.unwrap(), "a lease given up at shutdown is free at once");
    server.stop().await;
}

#[tokio::test]
async fn sign_in_failures_at_two_instances_count_toward_one_limit() {
    let server = TestServer::start(&[]).await;
    verified_account(&server, "shared.limit@example.org", STRONG_PASSWORD).await;
    let first = server.running.as_ref().unwrap().context().clone();
    let second = another_instance(&first, "second-instance");
    let request = |ip: &str| server::context::RequestInfo { session_token: None, ip: ip.parse().unwrap(), user_agent: "test".into() };
    let wrong = || app::types::LoginInput { email: "shared.limit@example.org".into(), password: "wrong password entirely".into(), keep_signed_in: false };
    // Five free failures, from different IPs, spread over both instances.
    for attempt in 0..server::context::attempts::FREE_FAILURES {
        let ctx = if attempt % 2 == 0 { &first } else { &second };
        let refused = server::accounts::login(ctx, wrong(), &request(&format!("10.0.0.{attempt}"))).await.expect_err("a wrong password");
        assert!(matches!(refused, server::error::Error::User(app::error::AppError::InvalidCredentials)), "{refused:?}");
    }
    let right = app::types::LoginInput { email: "shared.limit@example.org".into(), password: STRONG_PASSWORD.into(), keep_signed_in: false };
    for ctx in [&first, &second] {
        let refused = server::accounts::login(ctx, right.clone(), &request("10.0.0.99")).await.expect_err("the address is blocked on every instance");
        assert!(matches!(refused, server::error::Error::User(app::error::AppError::TooManyAttempts { .. })), "{refused:?}");
    }
    let stored: Vec<serde_json::Value> = first.db.client().query("SELECT * FROM attempt_limit").await.unwrap().take(0).unwrap();
    let text = serde_json::to_string(&stored).unwrap();
    assert!(!text.contains("shared.limit") && !text.contains("10.0.0."), "limits are keyed by hashes only: {text}");
    server.stop().await;
}
