//! Prints the Argon2id hash time and the sign-ins per second this machine
//! sustains (in-process, in-memory database). Run: `cargo bench -p server --bench auth`.

use std::sync::Arc;
use std::time::Instant;

use clap::Parser;
use server::accounts::{self, throttle::Throttle};
use server::config::Cli;
use server::context::RequestInfo;

fn main() {
    // As in the server: a subscriber is set (warnings only, unless RUST_LOG says otherwise).
    server::init_logging("warn");
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(run());
}

async fn run() {
    const PASSWORD: &str = "velvet tractor orbit 7 lagoon";
    let hashes = 20;
    let started = Instant::now();
    for _ in 0..hashes {
        std::hint::black_box(server::crypto::password::hash(PASSWORD));
    }
    let per_hash = started.elapsed().as_secs_f64() * 1000.0 / hashes as f64;
    println!("argon2id hash (m=19456 KiB, t=2, p=1): {per_hash:.1} ms per hash ({hashes} hashes)");

    let dir = tempfile::tempdir().unwrap();
    let config = Cli::try_parse_from(["server", "--db", "mem://", "--data-dir", dir.path().to_str().unwrap()]).unwrap().serve;
    let core = server::open_core(&config, Arc::new(server::clock::SystemClock)).await.unwrap();
    let ctx = core.ctx.clone();
    let email = "bench@example.org";
    accounts::register(
        &ctx,
        app::types::RegisterInput { email: email.into(), password: PASSWORD.into(), display_name: Some("Bench".into()), accept_terms: true },
    )
    .await
    .unwrap();
    ctx.db.client().query("UPDATE account SET email_verified = true").await.unwrap().check().unwrap();

    for workers in [1usize, 2, 4] {
        let throttle = Arc::new(Throttle::default());
        let per_worker = 15;
        let started = Instant::now();
        let mut tasks = Vec::new();
        for w in 0..workers {
            let (ctx, throttle) = (ctx.clone(), throttle.clone());
            tasks.push(tokio::spawn(async move {
                for i in 0..per_worker {
                    let request = RequestInfo { session_token: None, ip: std::net::IpAddr::from([10, 0, w as u8, i as u8]), user_agent: "bench".into() };
                    let input = app::types::LoginInput { email: email.into(), password: PASSWORD.into(), keep_signed_in: false };
                    accounts::login(&ctx, &throttle, input, &request).await.unwrap();
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let total = workers * per_worker;
        let rate = total as f64 / started.elapsed().as_secs_f64();
        println!("sign-ins with {workers} concurrent clients: {rate:.1} per second ({total} sign-ins)");
    }
    core.close().await;
}
