//! Prints the Argon2id hash time, the sign-ins per second this machine
//! sustains, and the median answer times of registration and of the
//! password-reset request for addresses with and without an account, side
//! by side (in-process, in-memory database). Run: `cargo bench -p server --bench auth`.

use std::sync::Arc;
use std::time::Instant;

use clap::Parser;
use server::accounts;
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
        std::hint::black_box(server::crypto::password::hash(PASSWORD).await);
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
        &request_from(0),
        app::types::RegisterInput {
            email: email.into(),
            password: PASSWORD.into(),
            display_name: Some("Bench".into()),
            accepted: server::policies::current_versions(&ctx).await.unwrap(),
        },
    )
    .await
    .unwrap();
    accounts::complete_due(&ctx).await.unwrap();
    ctx.db.client().query("UPDATE account SET email_verified = true").await.unwrap().check().unwrap();

    for workers in [1usize, 2, 4] {
        server::context::attempts::reset(&ctx, &format!("password-address:{}", ctx.crypto.email_index(email))).await.unwrap();
        let per_worker = 15;
        let started = Instant::now();
        let mut tasks = Vec::new();
        for w in 0..workers {
            let ctx = ctx.clone();
            tasks.push(tokio::spawn(async move {
                for i in 0..per_worker {
                    let request = RequestInfo { session_token: None, ip: std::net::IpAddr::from([10, 0, w as u8, i as u8]), user_agent: "bench".into() };
                    let input = app::types::LoginInput { email: email.into(), password: PASSWORD.into(), keep_signed_in: false };
                    accounts::login(&ctx, input, &request).await.unwrap();
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
    known_and_unknown_addresses_answer_alike(&ctx).await;
    core.close().await;
}

fn request_from(n: u32) -> RequestInfo {
    RequestInfo { session_token: None, ip: std::net::IpAddr::from((0x0a00_0000 + n).to_be_bytes()), user_agent: "bench".into() }
}

fn median_ms(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// Registration and the reset request do the same work whether or not the
/// address has an account (the rest is the worker's): their medians for
/// the two kinds, measured alternately in the same run.
async fn known_and_unknown_addresses_answer_alike(ctx: &server::context::Ctx) {
    const PASSWORD: &str = "velvet tractor orbit 7 lagoon";
    const ROUNDS: u32 = 31;
    let shown = server::policies::current_versions(ctx).await.unwrap();
    let input = |email: String| app::types::RegisterInput { email, password: PASSWORD.into(), display_name: None, accepted: shown.clone() };
    for n in 0..ROUNDS {
        accounts::register(ctx, &request_from(1000 + n), input(format!("known{n}@example.org"))).await.unwrap();
    }
    while accounts::complete_due(ctx).await.unwrap() > 0 {}
    let (mut register_known, mut register_unknown, mut reset_known, mut reset_unknown) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    // Each kind goes first in every other round: what runs just after an
    // Argon2 hash (19 MiB through the caches) is slower, whatever the address.
    for n in 0..ROUNDS {
        for known_first in [n % 2 == 0, n % 2 == 1] {
            let (email, ip, samples) = if known_first {
                (format!("known{n}@example.org"), 2000 + n, &mut register_known)
            } else {
                (format!("unknown{n}@example.org"), 3000 + n, &mut register_unknown)
            };
            let timed = Instant::now();
            accounts::register(ctx, &request_from(ip), input(email)).await.unwrap();
            samples.push(timed.elapsed().as_secs_f64() * 1000.0);
        }
    }
    for n in 0..ROUNDS {
        for known_first in [n % 2 == 0, n % 2 == 1] {
            let (email, ip, samples) = if known_first {
                (format!("known{n}@example.org"), 4000 + n, &mut reset_known)
            } else {
                (format!("nobody{n}@example.org"), 5000 + n, &mut reset_unknown)
            };
            let timed = Instant::now();
            accounts::request_password_reset(ctx, &request_from(ip), &email).await.unwrap();
            samples.push(timed.elapsed().as_secs_f64() * 1000.0);
        }
    }
    for (what, known, unknown) in [("registration", register_known, register_unknown), ("password-reset request", reset_known, reset_unknown)] {
        let (known, unknown) = (median_ms(known), median_ms(unknown));
        println!(
            "{what}: median {known:.2} ms for an address with an account, {unknown:.2} ms without (ratio {:.2}; limit: within 0.80-1.25) ({ROUNDS} each)",
            known / unknown
        );
    }
    while accounts::complete_due(ctx).await.unwrap() > 0 {}
}
