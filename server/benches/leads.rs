//! The leads list at 100k leads on one Page, on embedded SurrealKV: the
//! first page, a filtered page, and name searches, which decrypt names on
//! the server in batches (memory stays bounded). Prints times and RSS.
//! `cargo bench -p server --bench leads`; BENCH_LEADS (default 100000).

use std::time::Instant;

use app::types::LeadFilter;
use clap::Parser;
use serde_json::json;
use server::config::Cli;
use server::crypto::Field;

#[path = "support/mod.rs"]
mod support;

fn main() {
    // As in the server: a subscriber is set (warnings only, unless RUST_LOG says otherwise).
    server::init_logging("warn");
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(run());
}

async fn run() {
    let total: usize = std::env::var("BENCH_LEADS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let dir = tempfile::tempdir().unwrap();
    let db = format!("rocksdb://{}", dir.path().join("rocksdb").display());
    let data = dir.path().join("data");
    let config = Cli::try_parse_from(["server", "--db", &db, "--data-dir", data.to_str().unwrap()]).unwrap().serve;
    let core = server::open_core(&config, std::sync::Arc::new(server::clock::SystemClock)).await.unwrap();
    let ctx = core.ctx.clone();
    server::accounts::create_admin(&ctx, "leads.owner@example.org").await.unwrap();
    let account: Option<surrealdb::types::RecordId> = ctx.db.client().query("SELECT VALUE id FROM ONLY account LIMIT 1").await.unwrap().take(0).unwrap();
    let account = account.unwrap();
    let account_id = server::db::ids::key_string(&account);
    let key = ctx.crypto.account_key(&account_id).await.unwrap();
    let page_key = server::messenger::pages::save(&ctx, &account_id, &key, "777", "Bench Page", "token").await.unwrap();
    let page = surrealdb::types::RecordId::new("page", page_key.clone());

    let seeding = Instant::now();
    let now = ctx.now();
    let firsts = ["Ana", "Bruno", "Chloé", "Dmitri", "Eva", "Farid", "Greta", "Hugo", "Ines", "Jonas"];
    for chunk in (0..total).step_by(2_000) {
        let rows: Vec<serde_json::Value> = (chunk..(chunk + 2_000).min(total))
            .map(|i| {
                let lead_key = format!("{:011}{:06x}{:08x}", now - (total - i) as i64, i, i);
                let last = if i == total / 3 { "Zyxwvut".to_string() } else { format!("Surname{}", i % 5_000) };
                json!({
                    "key": lead_key,
                    "psid": key.seal_str(Field::new("lead", &lead_key, "psid"), &format!("psid-{i}")),
                    "first": key.seal_str(Field::new("lead", &lead_key, "first_name"), firsts[i % firsts.len()]),
                    "last": key.seal_str(Field::new("lead", &lead_key, "last_name"), &last),
                    "at": now - (i % 200_000) as i64,
                })
            })
            .collect();
        ctx.db
            .client()
            .query(
                "FOR $r IN $rows { CREATE type::record('lead', $r.key) SET account = $account, page = $page, key = $r.key, ident = $r.key, \
                 psid_enc = $r.psid, first_name_enc = $r.first, last_name_enc = $r.last, proof_body_enc = 'x', proof_signature_enc = 'x', \
                 proof_received_at = $r.at, subscribed = true, unavailable = false, last_interaction_at = $r.at, created_at = $r.at, labels = [] }",
            )
            .bind(("rows", rows))
            .bind(("account", account.clone()))
            .bind(("page", page.clone()))
            .await
            .unwrap()
            .check()
            .unwrap();
    }
    println!("seeded {total} leads on one Page (SurrealKV) in {:.1} s", seeding.elapsed().as_secs_f64());
    let rss_start = support::rss_kib("VmRSS:");

    let filter = |search: &str, after: Option<String>| LeadFilter { page: Some(page_key.clone()), search: search.to_string(), after, ..LeadFilter::default() };
    let time = |label: &'static str, f: LeadFilter| {
        let (ctx, key, account_id) = (ctx.clone(), key.clone(), account_id.clone());
        async move {
            let started = Instant::now();
            let page = server::messenger::leads::list_for(&ctx, &account_id, &key, f).await.unwrap();
            println!("  {label}: {:.0} ms ({} leads shown, {} scanned)", started.elapsed().as_secs_f64() * 1000.0, page.leads.len(), page.scanned);
            page
        }
    };
    println!("leads list at {total} leads:");
    let first = time("first page of 50, newest first", filter("", None)).await;
    let mut after = first.next.clone();
    for _ in 0..(total / 50 / 2) {
        let page = server::messenger::leads::list_for(&ctx, &account_id, &key, filter("", after.clone())).await.unwrap();
        after = page.next;
    }
    time("a page halfway down (keyset)", filter("", after)).await;
    time("search a common name (\"greta\"), first 50 matches", filter("greta", None)).await;
    // A name that matches once: the search scans in requests of up to 20,000 leads.
    let started = Instant::now();
    let (mut cursor, mut requests, mut found) = (None, 0, 0);
    loop {
        let page = server::messenger::leads::list_for(&ctx, &account_id, &key, filter("zyxwvut", cursor)).await.unwrap();
        requests += 1;
        found += page.leads.len();
        cursor = page.next;
        if cursor.is_none() {
            break;
        }
    }
    println!("  search a rare name through all {total} leads: {:.0} ms in {requests} requests, {found} found", started.elapsed().as_secs_f64() * 1000.0);
    println!(
        "  process RSS: {} MiB at start of the queries, {} MiB after, peak {} MiB",
        rss_start / 1024,
        support::rss_kib("VmRSS:") / 1024,
        support::rss_kib("VmHWM:") / 1024
    );
    drop(ctx);
    core.close().await;
}
