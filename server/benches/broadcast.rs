//! Broadcast sending against the Graph API stand-in, with echoes, delivery
//! and read receipts flowing back through the webhook. The server binary
//! (embedded RocksDB, default memory budget) and the stand-in each run in
//! their own process, so the server's memory is measured alone.
//!
//! - **P2**: 100k recipients with the stand-in enforcing 300 calls/s per Page
//!   and the campaign at 300/s. The limit is 100k / 300 = 333 s. Also the
//!   server process's peak RSS (limit 150 MiB) and the data folder's size.
//! - **P3**: the same with the stand-in unthrottled and the campaign's rate
//!   set above any reachable value (bench only, written straight to the
//!   database): sends per second, next to the stand-in's own raw request rate
//!   measured in the same run (goal: at least 5,000/s and half the raw rate).
//!
//! `cargo bench -p server --bench broadcast`; BENCH_RECIPIENTS (default
//! 100000); BENCH_WEBHOOKS=0 leaves out echoes and receipts; BENCH_ONLY=P2 or P3.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

#[path = "support/processes.rs"]
mod processes;
#[path = "support/mod.rs"]
mod support;

const SECRET: &str = "bench-app-secret";
const PAGE_ID: &str = "313131";
const RSS_LIMIT_MIB: u64 = 150;

fn main() {
    processes::serve_standin_if_asked();
    // As in the server: a subscriber is set (warnings only, unless RUST_LOG says otherwise).
    server::init_logging("warn");
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(run());
}

struct Run {
    seconds: f64,
    /// From the first message the stand-in accepted to the last.
    sending_seconds: f64,
    /// Calls the stand-in refused with 613 (over its per-second limit).
    rate_limited: u64,
    sent: usize,
    start_rss_mib: u64,
    peak_rss_mib: u64,
    data_mib: f64,
    pending_webhooks: u64,
}

/// Seeds `count` leads with an open window and a campaign to them, starts the
/// server on it, then waits until every lead got the campaign.
async fn campaign_run(count: usize, stand_in_limit: u32, campaign_rate: i64) -> (Run, f64) {
    use clap::Parser;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let db = format!("rocksdb://{}", data.join("rocksdb").display());
    let (port, standin_port) = (processes::free_port(), processes::free_port());
    let standin_base = format!("http://127.0.0.1:{standin_port}");
    let standin = processes::standin(standin_port, SECRET, &format!("http://127.0.0.1:{port}/webhooks/messenger"));
    let http = reqwest::Client::new();
    processes::standin_control(&http, &standin_base, "pages", json!({"id": PAGE_ID, "name": "Bench Page", "token": "bench-token"})).await;
    let quiet = json!({"echoes": false, "deliveries": false, "read_every": 0});
    processes::standin_control(&http, &standin_base, "behaviour", json!({"rate_per_sec": stand_in_limit, "webhooks": quiet})).await;
    // The stand-in's raw request rate, measured in this run before the campaign.
    let raw_rate = raw_standin_rate(&standin_base, stand_in_limit).await;
    let webhooks = std::env::var("BENCH_WEBHOOKS").as_deref() != Ok("0");
    let flowing = json!({"echoes": webhooks, "deliveries": webhooks, "read_every": if webhooks { 2 } else { 0 }});
    processes::standin_control(&http, &standin_base, "behaviour", json!({"rate_per_sec": stand_in_limit, "webhooks": flowing})).await;

    let config = server::config::Cli::try_parse_from(["server", "--db", &db, "--data-dir", data.to_str().unwrap()]).unwrap().serve;
    let core = server::open_core(&config, Arc::new(server::clock::SystemClock)).await.unwrap();
    let ctx = core.ctx.clone();
    support::use_standin(&ctx, SECRET, &standin_base).await;
    let owner = support::owner_with_page(&ctx, "broadcast.bench@example.org", PAGE_ID, "bench-token").await;
    support::seed_leads(&ctx, &owner, count, "bench-", &["Kim"], ctx.now() - 60).await;
    support::start_campaign(&ctx, &owner, campaign_rate).await;
    drop(ctx);
    core.close().await;

    let baseline = processes::standin_counters(&http, &standin_base).await;
    let sent_before = baseline["sent"].as_u64().unwrap() as usize;
    let limited_before = baseline["rate_limited"].as_u64().unwrap();
    let started = Instant::now();
    let server = processes::server(&data, &db, port, &[]);
    let start_rss = server.rss_kib("VmRSS:");
    let peak = Arc::new(AtomicU64::new(start_rss));
    let sampler = {
        let (peak, pid) = (peak.clone(), server.0.id());
        tokio::spawn(async move {
            loop {
                let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
                let rss = status.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok());
                peak.fetch_max(rss.unwrap_or(0), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };
    let deadline = Instant::now() + Duration::from_secs(3600);
    let mut first_send = None;
    let last = loop {
        let now = processes::standin_counters(&http, &standin_base).await;
        let sent = now["sent"].as_u64().unwrap() as usize - sent_before;
        if sent > 0 && first_send.is_none() {
            first_send = Some(Instant::now());
        }
        if sent >= count {
            break now;
        }
        assert!(Instant::now() < deadline, "the campaign did not finish within an hour ({sent} of {count})");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let seconds = started.elapsed().as_secs_f64();
    let sending_seconds = first_send.map(|t| t.elapsed().as_secs_f64()).unwrap_or(seconds);
    // Receipts still arriving count towards the server's memory too.
    tokio::time::sleep(Duration::from_secs(5)).await;
    sampler.abort();
    let hwm = server.rss_kib("VmHWM:");
    let peak_kib = peak.load(Ordering::Relaxed).max(hwm);
    let pending_webhooks = processes::standin_counters(&http, &standin_base).await["pending_webhooks"].as_u64().unwrap_or(0);
    let rate_limited = last["rate_limited"].as_u64().unwrap() - limited_before;
    let sent = processes::standin_sent(&http, &standin_base).await;
    let mut psids: Vec<&str> = sent[sent_before..].iter().filter_map(|m| m["psid"].as_str()).collect();
    psids.sort_unstable();
    psids.dedup();
    assert_eq!(psids.len(), count, "every lead exactly once");
    server.stop();
    standin.stop();
    let data_mib = processes::folder_size(&data.join("rocksdb")) as f64 / (1024.0 * 1024.0);
    let run =
        Run { seconds, sending_seconds, rate_limited, sent: count, start_rss_mib: start_rss / 1024, peak_rss_mib: peak_kib / 1024, data_mib, pending_webhooks };
    (run, raw_rate)
}

/// Send API calls per second the stand-in answers (to a probe Page and PSID), 32 concurrent clients.
async fn raw_standin_rate(base: &str, limit: u32) -> f64 {
    let client = reqwest::Client::builder().pool_max_idle_per_host(32).build().unwrap();
    let requests = if limit == 0 { 20_000 } else { 900 };
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..32 {
        let (client, next, url) = (client.clone(), next.clone(), format!("{base}/v21.0/{PAGE_ID}/messages"));
        tasks.push(tokio::spawn(async move {
            while next.fetch_add(1, Ordering::Relaxed) < requests {
                let body = json!({"recipient": {"id": "probe"}, "messaging_type": "UPDATE", "message": {"text": "probe"}});
                let r = client.post(&url).bearer_auth("bench-token").json(&body).send().await.unwrap();
                r.bytes().await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    requests as f64 / started.elapsed().as_secs_f64()
}

async fn run() {
    let count: usize = std::env::var("BENCH_RECIPIENTS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    let limit_secs = count as f64 / 300.0;
    if only.is_empty() || only == "P2" {
        let (p2, _) = campaign_run(count, 300, 300).await;
        println!("P2: {} recipients, stand-in at 300 calls/s per Page, campaign at 300/s (echoes and receipts flowing back)", p2.sent);
        println!("  time {:.1} s, limit {:.1} s, ratio {:.3} ({:.0} sends/s)", p2.seconds, limit_secs, p2.seconds / limit_secs, p2.sent as f64 / p2.seconds);
        println!("  from the first send to the last: {:.1} s", p2.sending_seconds);
        println!("  calls refused with 613 by the stand-in: {}", p2.rate_limited);
        println!(
            "  server process RSS: {} MiB when it started, peak {} MiB, limit {RSS_LIMIT_MIB} MiB, ratio {:.2} (stand-in in its own process)",
            p2.start_rss_mib,
            p2.peak_rss_mib,
            p2.peak_rss_mib as f64 / RSS_LIMIT_MIB as f64
        );
        println!("  data folder after the run: {:.1} MiB; webhook events still queued in the stand-in: {}", p2.data_mib, p2.pending_webhooks);
    }
    if only.is_empty() || only == "P3" {
        let (p3, raw) = campaign_run(count, 0, 1_000_000).await;
        let rate = p3.sent as f64 / p3.seconds;
        println!("P3: {} recipients, stand-in unthrottled, campaign rate uncapped (bench only)", p3.sent);
        println!(
            "  sends/s {rate:.0} (goal at least 5000); the stand-in's raw rate in this run {raw:.0} requests/s; ratio {:.3} (goal at least 0.5)",
            rate / raw
        );
        println!("  time {:.1} s, server RSS {} MiB at start, peak {} MiB; data folder {:.1} MiB", p3.seconds, p3.start_rss_mib, p3.peak_rss_mib, p3.data_mib);
    }
}
