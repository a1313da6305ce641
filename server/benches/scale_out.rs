//! P2 on two app instances sharing one SurrealDB server (issue 15): 100k
//! recipients at 300 calls/s for one Page, the stand-in counting calls per
//! second and refusing more than 300 with 613. Every part is its own
//! process: the workspace's `surreal` server (RocksDB), the two app
//! servers, and the stand-in, so each peak RSS is that process's alone.
//! Echoes, delivery and read receipts flow back to the first instance.
//!
//! Prints the total time against 100k / 300 = 333 s, the busiest second's
//! calls against 300, each process's peak RSS, and each instance's share.
//!
//! `cargo build --profile bench -p surreal-server && cargo bench -p server --bench scale_out`;
//! BENCH_RECIPIENTS (default 100000).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{json, Value};

#[path = "support/processes.rs"]
mod processes;
#[path = "support/mod.rs"]
mod support;

const SECRET: &str = "bench-app-secret";
const PAGE_ID: &str = "313131";
const DB_USER: &str = "root";
const DB_PASSWORD: &str = "bench-only";
const RATE: i64 = 300;
/// The SurrealDB server's block cache, as a shared machine would bound it.
const SURREAL_CACHE_MIB: u64 = 256;

fn main() {
    processes::serve_standin_if_asked();
    server::init_logging("warn");
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(run());
}

/// The flags both instances and the seeding share besides `--db`: the database's credentials, the keys.
fn cluster_flags(master_key: &str) -> Vec<String> {
    ["--db-user", DB_USER, "--db-password", DB_PASSWORD, "--key-store", "database", "--master-key", master_key].iter().map(|s| s.to_string()).collect()
}

/// An owner, `count` leads with an open window and a campaign to them, sending at `RATE`.
async fn seed(dir: &std::path::Path, db_url: &str, flags: &[String], standin_base: &str, count: usize) {
    use clap::Parser;
    let data = dir.join("seeding");
    let mut args = vec!["server".to_string(), "--data-dir".into(), data.to_str().unwrap().into(), "--db".into(), db_url.into()];
    args.extend(flags.iter().cloned());
    let config = server::config::Cli::try_parse_from(args).unwrap().serve;
    let core = server::open_core(&config, Arc::new(server::clock::SystemClock)).await.unwrap();
    let ctx = core.ctx.clone();
    support::use_standin(&ctx, SECRET, standin_base).await;
    let owner = support::owner_with_page(&ctx, "scale.bench@example.org", PAGE_ID, "bench-token").await;
    support::seed_leads(&ctx, &owner, count, "bench-", &["Kim"], ctx.now() - 60).await;
    support::start_campaign(&ctx, &owner, RATE).await;
    drop(ctx);
    core.close().await;
}

/// Waits until the SurrealDB server answers its health check.
async fn wait_healthy(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while reqwest::get(format!("http://127.0.0.1:{port}/health")).await.map(|r| r.status().is_success()).ok() != Some(true) {
        assert!(Instant::now() < deadline, "the SurrealDB server did not come up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A plain connection to the SurrealDB server, for reading results: no app, so no background work.
async fn database(db_url: &str) -> server::db::Database {
    let address = server::config::DbAddress::parse(db_url).unwrap();
    let credentials = server::db::Credentials { username: DB_USER.into(), password: DB_PASSWORD.into() };
    server::db::Database::connect(&address, "chatfbtop", "main", Some(credentials), &Default::default()).await.unwrap()
}

/// Where the time went: the calls in each wall-clock second, and when the first and last went out.
struct Pace {
    first_ms: i64,
    last_ms: i64,
    /// Calls per second, sorted, without the first and last (partial) seconds.
    full_seconds: Vec<usize>,
    busiest: usize,
}

fn pace(sent: &[Value]) -> Pace {
    let at: Vec<i64> = sent.iter().map(|m| m["at_ms"].as_i64().unwrap_or(0)).collect();
    let (first_ms, last_ms) = (at.iter().copied().min().unwrap_or(0), at.iter().copied().max().unwrap_or(0));
    let mut per_second: HashMap<i64, usize> = HashMap::new();
    for ms in &at {
        *per_second.entry(ms / 1000).or_default() += 1;
    }
    let busiest = per_second.values().copied().max().unwrap_or(0);
    let mut full_seconds: Vec<usize> = per_second.into_iter().filter(|(s, _)| *s != first_ms / 1000 && *s != last_ms / 1000).map(|(_, n)| n).collect();
    full_seconds.sort_unstable();
    Pace { first_ms, last_ms, full_seconds, busiest }
}

fn unix_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

async fn run() {
    let count: usize = std::env::var("BENCH_RECIPIENTS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let dir = tempfile::tempdir().unwrap();
    let surreal_port = processes::free_port();
    let surreal = processes::surreal(&dir.path().join("surreal"), surreal_port, DB_USER, DB_PASSWORD, SURREAL_CACHE_MIB);
    wait_healthy(surreal_port).await;
    let db_url = format!("ws://127.0.0.1:{surreal_port}");
    let master_key = base64::engine::general_purpose::STANDARD.encode(rand::random::<[u8; 32]>());
    let flags = cluster_flags(&master_key);

    let ports = [processes::free_port(), processes::free_port()];
    let standin_port = processes::free_port();
    let standin_base = format!("http://127.0.0.1:{standin_port}");
    let standin = processes::standin(standin_port, SECRET, &format!("http://127.0.0.1:{}/webhooks/messenger", ports[0]));
    let http = reqwest::Client::new();
    processes::standin_control(&http, &standin_base, "pages", json!({"id": PAGE_ID, "name": "Bench Page", "token": "bench-token"})).await;
    let flowing = json!({"echoes": true, "deliveries": true, "read_every": 2});
    processes::standin_control(&http, &standin_base, "behaviour", json!({"rate_per_sec": RATE, "webhooks": flowing})).await;

    let seeding = Instant::now();
    seed(dir.path(), &db_url, &flags, &standin_base, count).await;
    let seeded_secs = seeding.elapsed().as_secs_f64();

    let started = Instant::now();
    let started_ms = unix_ms();
    let flag_refs: Vec<&str> = flags.iter().map(String::as_str).collect();
    let instances: Vec<processes::Process> =
        ports.iter().enumerate().map(|(i, port)| processes::server(&dir.path().join(format!("instance-{i}")), &db_url, *port, &flag_refs)).collect();
    let deadline = Instant::now() + Duration::from_secs(3600);
    loop {
        let sent = processes::standin_counters(&http, &standin_base).await["sent"].as_u64().unwrap() as usize;
        if sent >= count {
            break;
        }
        assert!(Instant::now() < deadline, "the campaign did not finish within an hour ({sent} of {count})");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let seconds = started.elapsed().as_secs_f64();
    // Receipts still arriving count towards the first instance's memory too.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let counters = processes::standin_counters(&http, &standin_base).await;
    let sent = processes::standin_sent(&http, &standin_base).await;
    let mut psids: Vec<&str> = sent.iter().filter_map(|m| m["psid"].as_str()).collect();
    psids.sort_unstable();
    psids.dedup();
    assert_eq!((psids.len(), sent.len()), (count, count), "every lead exactly once");
    let pace = pace(&sent);
    let busiest = pace.busiest;
    let peaks: Vec<u64> = instances.iter().map(|p| p.rss_kib("VmHWM:") / 1024).collect();
    let surreal_peak = surreal.rss_kib("VmHWM:") / 1024;
    let shares = support::sent_by_instance(&database(&db_url).await).await;

    let limit_secs = count as f64 / RATE as f64;
    println!("P2 on two instances sharing one SurrealDB server (RocksDB): {count} recipients, stand-in at {RATE} calls/s per Page, campaign at {RATE}/s");
    println!("  seeding (not timed): {seeded_secs:.1} s");
    println!("  time {seconds:.1} s, limit {limit_secs:.1} s, ratio {:.3} ({:.0} sends/s)", seconds / limit_secs, count as f64 / seconds);
    let seconds_at = |q: f64| pace.full_seconds.get(((pace.full_seconds.len() as f64 - 1.0) * q) as usize).copied().unwrap_or(0);
    println!(
        "  first call {:.1} s after the instances started; first to last call {:.1} s; calls per full second: median {}, 10th percentile {}, {} of {} seconds under 270",
        (pace.first_ms - started_ms) as f64 / 1000.0,
        (pace.last_ms - pace.first_ms) as f64 / 1000.0,
        seconds_at(0.5),
        seconds_at(0.1),
        pace.full_seconds.iter().filter(|n| **n < 270).count(),
        pace.full_seconds.len()
    );
    println!("  busiest second {busiest} calls, limit {RATE}, ratio {:.3}; refused with 613: {}", busiest as f64 / RATE as f64, counters["rate_limited"]);
    println!("  peak RSS: instance 1 {} MiB, instance 2 {} MiB, SurrealDB server {surreal_peak} MiB (block cache {SURREAL_CACHE_MIB} MiB)", peaks[0], peaks[1]);
    println!("  sent per instance: {shares:?}; webhook events still queued in the stand-in: {}", counters["pending_webhooks"]);
    for instance in instances {
        instance.stop();
    }
    standin.stop();
    surreal.stop();
}
