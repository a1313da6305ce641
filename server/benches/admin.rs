//! The admin user list at 100k accounts: first page, a deep page (keyset
//! pagination on the creation-time index), and an exact email search
//! (blind index). Run: `cargo bench -p server --bench admin`.

use std::sync::Arc;
use std::time::Instant;

use clap::Parser;
use server::config::Cli;

const ACCOUNTS: i64 = 100_000;

fn main() {
    // As in the server: a subscriber is set (warnings only, unless RUST_LOG says otherwise).
    server::init_logging("warn");
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(run());
}

async fn run() {
    let dir = tempfile::tempdir().unwrap();
    let config = Cli::try_parse_from(["server", "--db", "mem://", "--data-dir", dir.path().to_str().unwrap()]).unwrap().serve;
    let core = server::open_core(&config, Arc::new(server::clock::SystemClock)).await.unwrap();
    let db = core.ctx.db.clone();
    let seeding = Instant::now();
    for chunk in 0..ACCOUNTS / 5_000 {
        db.client()
            .query(
                "FOR $i IN $from..$to { CREATE type::record('account', 'a' + <string>$i) SET email_index = 'idx' + <string>$i, \
                 email_enc = 'x', password_hash = 'x', role = 'user', email_verified = true, created_at = 1000000 + $i }",
            )
            .bind(("from", chunk * 5_000))
            .bind(("to", (chunk + 1) * 5_000))
            .await
            .unwrap()
            .check()
            .unwrap();
    }
    println!("seeded {ACCOUNTS} accounts in {:.1} s", seeding.elapsed().as_secs_f64());

    let page = |before: i64| {
        let db = db.clone();
        async move {
            let started = Instant::now();
            let rows: Vec<serde_json::Value> = db
                .client()
                .query("SELECT id, role, email_verified, disabled, created_at, last_signin_at FROM account WHERE created_at < $before ORDER BY created_at DESC LIMIT 50")
                .bind(("before", before))
                .await
                .unwrap()
                .take(0)
                .unwrap();
            assert_eq!(rows.len(), 50);
            started.elapsed().as_secs_f64() * 1000.0
        }
    };
    let first = page(i64::MAX).await;
    let deep = page(1_000_000 + 1_000).await;
    let started = Instant::now();
    let found: Vec<serde_json::Value> =
        db.client().query("SELECT id FROM account WHERE email_index = $i").bind(("i", "idx77777".to_string())).await.unwrap().take(0).unwrap();
    assert_eq!(found.len(), 1);
    let search = started.elapsed().as_secs_f64() * 1000.0;
    println!("user list, first page of 50: {first:.1} ms; page near the end: {deep:.1} ms; exact email search: {search:.1} ms");
    drop(db);
    core.close().await;
}
