//! Broadcast sending against the Graph API stand-in, on embedded SurrealKV,
//! with echoes, delivery and read receipts flowing back through the webhook.
//!
//! - **P2**: 100k recipients with the stand-in enforcing 300 calls/s per Page
//!   and the campaign at 300/s. The limit is 100k / 300 = 333 s. Also prints
//!   the process's peak RSS during the run.
//! - **P3**: the same with the stand-in unthrottled and the campaign's rate
//!   set above any reachable value (bench only, written straight to the
//!   database): sends per second, next to the stand-in's own raw request rate
//!   measured in the same run.
//!
//! `cargo bench -p server --bench broadcast`; BENCH_RECIPIENTS (default 100000).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

#[path = "support/mod.rs"]
mod support;

const SECRET: &str = "bench-app-secret";
const PAGE_ID: &str = "313131";

fn main() {
    if std::env::var("RUST_LOG").is_ok() {
        tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::from_default_env()).init();
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(run());
}

struct Run {
    seconds: f64,
    /// Calls the stand-in refused with 613 (over its per-second limit).
    rate_limited: u64,
    /// Replaying the send journal once the campaign had gone out.
    replay_seconds: f64,
    sent: usize,
    start_rss_mib: u64,
    peak_rss_mib: u64,
    stand_in_mib: u64,
}

/// Seeds `count` leads with an open window and a campaign to them, then waits until every lead got it.
async fn campaign_run(count: usize, stand_in_limit: u32, campaign_rate: i64) -> (Run, f64) {
    let support::Bench { dir: _dir, running, standin, .. } = support::server_with_standin(SECRET, PAGE_ID, "bench-token").await;
    let ctx = running.context().clone();
    standin.state.set_behaviour(0, 0, stand_in_limit);
    let owner = support::owner_with_page(&ctx, "broadcast.bench@example.org", PAGE_ID, "bench-token").await;
    support::seed_leads(&ctx, &owner, count, "bench-", &["Kim"], ctx.now() - 60).await;
    // The stand-in's raw request rate, measured in this run before the campaign.
    standin.state.set_webhooks(false, false, 0);
    let raw_rate = raw_standin_rate(&standin.base_url(), stand_in_limit).await;
    // BENCH_WEBHOOKS=0 leaves out echoes and receipts (to tell their cost apart).
    if std::env::var("BENCH_WEBHOOKS").as_deref() != Ok("0") {
        standin.state.set_webhooks(true, true, 2);
    }

    let start_rss = support::rss_kib("VmRSS:");
    let peak = Arc::new(AtomicU64::new(start_rss));
    let sampler = {
        let peak = peak.clone();
        tokio::spawn(async move {
            loop {
                peak.fetch_max(support::rss_kib("VmRSS:"), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };
    let (_, limited_before) = standin.state.counters();
    let started = Instant::now();
    support::start_campaign(&ctx, &owner, campaign_rate).await;
    let baseline = standin.state.sent_count();
    let deadline = Instant::now() + Duration::from_secs(3600);
    while standin.state.sent_count() - baseline < count {
        assert!(Instant::now() < deadline, "the campaign did not finish within an hour");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let seconds = started.elapsed().as_secs_f64();
    let rate_limited = standin.state.counters().1 - limited_before;
    sampler.abort();
    // What a restart costs: replaying the campaign's send journal (every line read, every recipient checked).
    let replay_started = Instant::now();
    server::broadcasts::journal::replay(&ctx).await.unwrap();
    let replay_seconds = replay_started.elapsed().as_secs_f64();
    println!("  (webhook events still queued in the stand-in at the end: {})", standin.state.pending_webhooks());
    let sent = standin.state.sent();
    let mut psids: Vec<&str> = sent[baseline..].iter().map(|m| m.psid.as_str()).collect();
    psids.sort_unstable();
    psids.dedup();
    assert_eq!(psids.len(), count, "every lead exactly once");
    standin.stop();
    drop(ctx);
    running.shutdown(Duration::from_secs(10)).await.unwrap();
    // What the stand-in itself keeps (its record of every message), to tell it apart from the server.
    let stand_in_mib = (sent.iter().map(|m| m.text.len() + m.psid.len() + m.page_id.len() + m.message_id.len() + 64).sum::<usize>()
        + sent.capacity() * std::mem::size_of::<server::standin::SentMessage>()) as u64
        / (1024 * 1024);
    (Run { seconds, rate_limited, replay_seconds, sent: count, start_rss_mib: start_rss / 1024, peak_rss_mib: peak.load(Ordering::Relaxed) / 1024, stand_in_mib }, raw_rate)
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
    let limit_secs = count as f64 / 300.0;
    let (p2, _) = campaign_run(count, 300, 300).await;
    println!("P2: {} recipients, stand-in at 300 calls/s per Page, campaign at 300/s (echoes and receipts flowing back)", p2.sent);
    println!("  time {:.1} s, limit {:.1} s, ratio {:.3} ({:.0} sends/s)", p2.seconds, limit_secs, p2.seconds / limit_secs, p2.sent as f64 / p2.seconds);
    println!("  calls refused with 613 by the stand-in: {}", p2.rate_limited);
    println!("  replaying the campaign's send journal (as at a restart): {:.1} s", p2.replay_seconds);
    println!(
        "  RSS: {} MiB when sending starts ({} leads seeded), peak {} MiB during the run (server, stand-in and bench in one process; the stand-in's own record of the messages is about {} MiB)",
        p2.start_rss_mib, p2.sent, p2.peak_rss_mib, p2.stand_in_mib
    );

    let (p3, raw) = campaign_run(count, 0, 1_000_000).await;
    let rate = p3.sent as f64 / p3.seconds;
    println!("P3: {} recipients, stand-in unthrottled, campaign rate uncapped (bench only)", p3.sent);
    println!("  sends/s {rate:.0}; the stand-in's raw rate in this run {raw:.0} requests/s; ratio {:.3}", rate / raw);
    println!("  time {:.1} s, RSS {} MiB at start, peak {} MiB", p3.seconds, p3.start_rss_mib, p3.peak_rss_mib);
}
