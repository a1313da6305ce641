//! P5: export and erasure of one account holding 100k rows of personal
//! data, next to a plain paged scan of the same rows (embedded RocksDB).
//! Goals: the scan reads at least 50,000 rows/s; export and erasure each
//! take at most twice the scan. Prints time and peak extra memory (RSS above
//! the level before each step). Run: `cargo bench -p server --bench privacy`.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use server::config::Cli;
use server::crypto::Field;
use surrealdb::types::RecordId;

const BATCH: usize = 1_000;

/// 100k rows by default; `BENCH_ROWS` changes it (a multiple of 2,500).
fn row_counts() -> (usize, usize) {
    let total: usize = std::env::var("BENCH_ROWS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    (total * 3 / 5, total * 2 / 5)
}

#[path = "support/mod.rs"]
mod support;

/// Runs `op`, sampling RSS every 5 ms; returns (seconds, peak MiB above the start).
async fn measure<F: std::future::Future<Output = ()>>(op: F) -> (f64, f64) {
    let base = support::rss_kib("VmRSS:");
    let peak = Arc::new(AtomicU64::new(base));
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peak, done) = (peak.clone(), done.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                peak.fetch_max(support::rss_kib("VmRSS:"), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };
    let started = Instant::now();
    op.await;
    let seconds = started.elapsed().as_secs_f64();
    done.store(true, Ordering::Relaxed);
    sampler.join().unwrap();
    (seconds, peak.load(Ordering::Relaxed).saturating_sub(base) as f64 / 1024.0)
}

fn main() {
    // As in the server: a subscriber is set (warnings only, unless RUST_LOG says otherwise).
    server::init_logging("warn");
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(run());
}

async fn run() {
    let dir = tempfile::tempdir().unwrap();
    let config = Cli::try_parse_from(["server", "--data-dir", dir.path().to_str().unwrap()]).unwrap().serve;
    let core = server::open_core(&config, Arc::new(server::clock::SystemClock)).await.unwrap();
    let ctx = core.ctx.clone();
    let email = "bench.owner@example.org";
    let request = server::context::RequestInfo { session_token: None, ip: std::net::IpAddr::from([127, 0, 0, 1]), user_agent: "bench".into() };
    server::accounts::register(
        &ctx,
        &request,
        app::types::RegisterInput {
            email: email.into(),
            password: "velvet tractor orbit 7 lagoon".into(),
            display_name: Some("Bench Owner".into()),
            accepted: server::policies::current_versions(&ctx).await.unwrap(),
        },
    )
    .await
    .unwrap();
    server::accounts::complete_due(&ctx).await.unwrap();
    let account: Option<RecordId> = ctx.db.client().query("SELECT VALUE id FROM ONLY account LIMIT 1").await.unwrap().take(0).unwrap();
    let account = account.unwrap();
    let account_id = server::db::ids::key_string(&account);
    let key = ctx.crypto.account_key(&account_id).await.unwrap();

    let (signins, sessions) = row_counts();
    let seeding = Instant::now();
    for (table, total) in [("signin_event", signins), ("session", sessions)] {
        for chunk in 0..total / BATCH {
            let rows: Vec<serde_json::Value> = (0..BATCH)
                .map(|i| {
                    let n = chunk * BATCH + i;
                    let id = format!("{table}-{n:07}");
                    let ua = key.seal_str(Field::new(table, &id, "user_agent"), "Firefox on Linux");
                    if table == "signin_event" {
                        let ip = key.seal_str(Field::new(table, &id, "ip"), &format!("198.51.{}.{}", n / 256 % 256, n % 256));
                        serde_json::json!({"id": id, "at": 1_795_000_000 + n as i64, "ip_enc": ip, "user_agent_enc": ua})
                    } else {
                        serde_json::json!({"id": id, "token_hash": format!("{n:064}"), "persistent": true, "created_at": 1_795_000_000,
                            "last_used_at": 1_795_000_000, "expires_at": 4_000_000_000i64, "user_agent_enc": ua})
                    }
                })
                .collect();
            ctx.db
                .client()
                .query(format!(
                    "FOR $row IN $rows {{ CREATE type::record('{table}', $row.id) CONTENT object::extend($row, {{ id: NONE, account: $account }}) }}"
                ))
                .bind(("rows", rows))
                .bind(("account", account.clone()))
                .await
                .unwrap()
                .check()
                .unwrap();
        }
    }
    println!("seeded {} rows for one account in {:.1} s", signins + sessions, seeding.elapsed().as_secs_f64());

    let (scan_s, scan_mib) = measure(async {
        let mut rows = 0usize;
        for table in ["signin_event", "session"] {
            let mut after = String::new();
            loop {
                // The query export and erasure page with (`privacy::keyset_page`), without decrypting.
                let page: Vec<serde_json::Value> = ctx
                    .db
                    .client()
                    .query(format!("SELECT * FROM {table} WHERE account = $a AND record_key > $after ORDER BY record_key LIMIT 500"))
                    .bind(("a", account.clone()))
                    .bind(("after", after.clone()))
                    .await
                    .unwrap()
                    .take(0)
                    .unwrap();
                rows += page.len();
                if page.len() < 500 {
                    break;
                }
                after = page.last().and_then(|r| r["record_key"].as_str()).unwrap_or_default().to_string();
            }
        }
        assert_eq!(rows, signins + sessions);
    })
    .await;
    let rows = (signins + sessions) as f64;
    println!(
        "plain paged scan of the same rows: {scan_s:.1} s, {:.0} rows/s (goal at least 50000, ratio {:.2}), peak +{scan_mib:.0} MiB",
        rows / scan_s,
        rows / scan_s / 50_000.0
    );

    let (export_s, export_mib) = measure(async {
        server::privacy::export::start(&ctx, &account_id, None).await.unwrap();
        loop {
            let status = server::privacy::export::status(&ctx, &account_id).await.unwrap().unwrap();
            if status.status == app::types::ExportState::Ready {
                break;
            }
            assert_ne!(status.status, app::types::ExportState::Failed);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    let size: u64 = std::fs::read_dir(dir.path().join("exports")).unwrap().flatten().map(|e| e.metadata().unwrap().len()).sum();
    println!(
        "export (data.json + index.html, encrypted ZIP of {:.1} MiB): {export_s:.1} s, limit {:.1} s (2x the scan), ratio {:.2}, peak +{export_mib:.0} MiB",
        size as f64 / 1_048_576.0,
        2.0 * scan_s,
        export_s / (2.0 * scan_s)
    );

    let (erase_s, erase_mib) = measure(async {
        server::privacy::erasure::erase(&ctx, &account_id, Some(email)).await.unwrap();
    })
    .await;
    let left: Option<i64> = ctx.db.client().query("RETURN count(SELECT id FROM signin_event) + count(SELECT id FROM session)").await.unwrap().take(0).unwrap();
    assert_eq!(left, Some(0));
    println!("erasure: {erase_s:.1} s, limit {:.1} s (2x the scan), ratio {:.2}, peak +{erase_mib:.0} MiB", 2.0 * scan_s, erase_s / (2.0 * scan_s));
    drop(ctx);
    core.close().await;
}
