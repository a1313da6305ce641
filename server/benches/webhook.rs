//! Webhook ingest (P1): signed deliveries per second that the real endpoint
//! verifies, parses and stores encrypted on embedded RocksDB (acknowledged),
//! and the rate until the worker has applied them all (applied), next to an
//! axum handler that only verifies the HMAC (the limit) and next to
//! bottender 1.5.5 (the peer, a Node process), with p50/p99 latency and RSS.
//! All three are driven over plain HTTP (as behind a TLS-terminating proxy)
//! by the same client, in the same run; every delivery carries both
//! signature headers, since bottender checks only the SHA-1 one.
//!
//! `cargo bench -p server --bench webhook`; BENCH_EVENTS (default 5000),
//! BENCH_CONCURRENCY (default 16), BENCH_PEOPLE (distinct senders, default 1000).

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use serde_json::json;
use standin::{meta_serialise, sign};

const SECRET: &str = "bench-app-secret";
const PAGE_ID: &str = "424242";

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

#[path = "support/bottender.rs"]
mod bottender;
#[path = "support/mod.rs"]
mod support;

fn main() {
    // As in the server: a subscriber is set (warnings only, unless RUST_LOG says otherwise).
    server::init_logging("warn");
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(run());
}

/// Sends every body with `concurrency` clients; returns (events/s, p50 ms, p99 ms).
async fn drive(url: &str, bodies: Arc<Vec<Signed>>, concurrency: usize) -> (f64, f64, f64) {
    let client = reqwest::Client::builder().pool_max_idle_per_host(concurrency).build().unwrap();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (client, bodies, next, url) = (client.clone(), bodies.clone(), next.clone(), url.to_string());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(signed) = bodies.get(i) else { break };
                let t = Instant::now();
                let r = client
                    .post(&url)
                    .header("content-type", "application/json")
                    .header("x-hub-signature-256", &signed.sha256)
                    .header("x-hub-signature", &signed.sha1)
                    .body(signed.body.clone())
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200, "delivery {i} refused");
                r.bytes().await.unwrap();
                latencies.push(t.elapsed());
            }
            latencies
        }));
    }
    let mut latencies: Vec<Duration> = Vec::new();
    for t in tasks {
        latencies.extend(t.await.unwrap());
    }
    let rate = bodies.len() as f64 / started.elapsed().as_secs_f64();
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)].as_secs_f64() * 1000.0;
    (rate, pct(0.50), pct(0.99))
}

/// A delivery with both of Meta's signature headers.
struct Signed {
    body: String,
    sha256: String,
    sha1: String,
}

fn sign_sha1(body: &str) -> String {
    use hmac::Mac as _;
    let mut mac = hmac::Hmac::<sha1::Sha1>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(body.as_bytes());
    format!("sha1={}", hex::encode(mac.finalize().into_bytes()))
}

async fn verify_only(headers: HeaderMap, body: Bytes) -> StatusCode {
    let header = headers.get("x-hub-signature-256").and_then(|v| v.to_str().ok()).unwrap_or("");
    if server::messenger::signature::webhook_signature_valid(SECRET.as_bytes(), &body, header) {
        StatusCode::OK
    } else {
        StatusCode::FORBIDDEN
    }
}

async fn run() {
    let events = env("BENCH_EVENTS", 5000);
    let concurrency = env("BENCH_CONCURRENCY", 16);
    let people = env("BENCH_PEOPLE", 1000).max(1);
    let support::Bench { dir: _dir, running, standin, webhook } = support::server_with_standin(SECRET, PAGE_ID, "bench-token").await;
    let ctx = running.context().clone();
    support::owner_with_page(&ctx, "bench.owner@example.org", PAGE_ID, "bench-token").await;

    // Signed deliveries in Meta's serialisation, one message event each.
    let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    let bodies: Arc<Vec<Signed>> = Arc::new(
        (0..events)
            .map(|i| {
                let body = meta_serialise(&json!({"object": "page", "entry": [{"id": PAGE_ID, "time": now_ms, "messaging": [{
                    "sender": {"id": format!("psid-{}", i % people)}, "recipient": {"id": PAGE_ID}, "timestamp": now_ms + i as i64,
                    "message": {"mid": format!("m_bench_{i}"), "text": format!("Bonjour, message n°{i}: do you deliver to Zürich?")}}]}]}));
                let sha256 = sign(SECRET.as_bytes(), body.as_bytes());
                Signed { sha1: sign_sha1(&body), sha256, body }
            })
            .collect(),
    );
    let rss_before = support::rss_kib("VmRSS:");

    // The limit: verification only.
    let limit_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let limit_url = format!("http://{}/verify", limit_listener.local_addr().unwrap());
    tokio::spawn(async move {
        let app = axum::Router::new().route("/verify", axum::routing::post(verify_only));
        axum::serve(limit_listener, app).await.unwrap();
    });
    let (limit_rate, limit_p50, limit_p99) = drive(&limit_url, bodies.clone(), concurrency).await;

    let groups_before = ctx.deliveries.storing.groups_stored();
    let started = Instant::now();
    let (rate, p50, p99) = drive(&webhook, bodies.clone(), concurrency).await;
    let groups = ctx.deliveries.storing.groups_stored() - groups_before;
    // Acknowledged means stored durably; applied means in leads and conversations.
    while server::messenger::deliveries::due(&ctx).await.unwrap() > 0 {
        // Not too often: each look counts the queue.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let applied_rate = events as f64 / started.elapsed().as_secs_f64();
    let rss_after = support::rss_kib("VmRSS:");
    let peak = support::rss_kib("VmHWM:");
    let stored: Option<i64> = ctx.db.client().query("RETURN count(SELECT id FROM message)").await.unwrap().take(0).unwrap();
    let leads: Option<i64> = ctx.db.client().query("RETURN count(SELECT id FROM lead)").await.unwrap().take(0).unwrap();
    assert_eq!(stored, Some(events as i64), "every event stored once");

    // The peer, with the same bodies and the same client.
    let peer = match bottender::Bottender::start(SECRET) {
        Some(peer) => {
            let (rate, p50, p99) = drive(&peer.url, bodies.clone(), concurrency).await;
            let deadline = Instant::now() + Duration::from_secs(10);
            while peer.received().await < events as u64 && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            assert_eq!(peer.received().await, events as u64, "bottender kept every event");
            Some((rate, p50, p99, peer.rss_kib("VmHWM:")))
        }
        None => None,
    };

    println!("webhook ingest (P1): {events} signed deliveries from {people} people, {concurrency} concurrent clients, embedded RocksDB");
    println!("  verify + parse + store encrypted: {rate:.0} events/s acknowledged, p50 {p50:.1} ms, p99 {p99:.1} ms ({groups} group writes)");
    println!(
        "  ... and applied to leads and conversations: {applied_rate:.0} events/s from first request to empty queue ({} leads, {} messages)",
        leads.unwrap_or(0),
        stored.unwrap_or(0)
    );
    println!("  limit, HMAC verification only:    {limit_rate:.0} events/s, p50 {limit_p50:.2} ms, p99 {limit_p99:.2} ms");
    println!("  ratio (ingest / limit): {:.3} acknowledged, {:.3} applied (goal at least 0.30)", rate / limit_rate, applied_rate / limit_rate);
    match peer {
        Some((peer_rate, peer_p50, peer_p99, peer_peak)) => {
            println!(
                "  peer, bottender 1.5.5 (Node):     {peer_rate:.0} events/s, p50 {peer_p50:.1} ms, p99 {peer_p99:.1} ms, peak RSS {} MiB",
                peer_peak / 1024
            );
            println!("  ratio (ingest / bottender): {:.2} acknowledged, {:.2} applied (goal at least 3)", rate / peer_rate, applied_rate / peer_rate);
        }
        None => println!("  peer, bottender 1.5.5: not run (see above)"),
    }
    println!("  process RSS: {} MiB before, {} MiB after, peak {} MiB", rss_before / 1024, rss_after / 1024, peak / 1024);
    standin.stop();
    running.shutdown(Duration::from_secs(5)).await.unwrap();
}
