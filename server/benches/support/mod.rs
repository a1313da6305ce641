//! Shared by the benchmarks and the integration tests (`#[path]`-included):
//! an owner with a connected Page, leads and campaigns seeded straight into
//! the database, and the process's memory figures.
#![allow(dead_code)]

use serde_json::json;
use server::context::Ctx;
use server::crypto::{Field, SecretKey};
use surrealdb::types::RecordId;

/// `VmRSS:` or `VmHWM:` of this process, in KiB.
pub fn rss_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(field)).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()))
        .unwrap_or(0)
}

pub struct Owner {
    pub account: RecordId,
    pub account_id: String,
    pub key: SecretKey,
    pub page: RecordId,
}

/// An account (created as an admin, so no mail round trip) with a connected Page.
pub async fn owner_with_page(ctx: &Ctx, email: &str, page_id: &str, page_token: &str) -> Owner {
    server::accounts::create_admin(ctx, email).await.unwrap();
    owner_of(ctx, email, page_id, page_token).await
}

/// As `owner_with_page`, for an account that already exists.
pub async fn owner_of(ctx: &Ctx, email: &str, page_id: &str, page_token: &str) -> Owner {
    let account: Option<RecordId> = ctx
        .db
        .client()
        .query("SELECT VALUE id FROM ONLY account WHERE email_index = $i LIMIT 1")
        .bind(("i", ctx.crypto.email_index(email)))
        .await
        .unwrap()
        .take(0)
        .unwrap();
    let account = account.expect("the account exists");
    let account_id = server::db::ids::key_string(&account);
    let key = ctx.crypto.account_key(&account_id).await.unwrap();
    let page_key = server::messenger::pages::save(ctx, &account_id, &key, page_id, "Bench Page", page_token).await.unwrap();
    Owner { account, account_id, key, page: RecordId::new("page", page_key) }
}

/// `count` leads on the owner's Page, psids `<prefix><i>`, each with a sealed
/// first name from `names` (cycled; none if empty) and the given last-interaction time.
pub async fn seed_leads(ctx: &Ctx, owner: &Owner, count: usize, prefix: &str, names: &[&str], last_interaction_at: i64) {
    for chunk in (0..count).step_by(2_000) {
        let rows: Vec<serde_json::Value> = (chunk..(chunk + 2_000).min(count))
            .map(|i| {
                let lead_key = format!("{:011}{:06x}{:08x}", last_interaction_at, i, i);
                let mut row = json!({
                    "key": lead_key,
                    "psid": owner.key.seal_str(Field::new("lead", &lead_key, "psid"), &format!("{prefix}{i}")),
                });
                // Left out rather than null: a missing field is NONE, which the schema takes.
                if !names.is_empty() {
                    row["first"] = json!(owner.key.seal_str(Field::new("lead", &lead_key, "first_name"), names[i % names.len()]));
                }
                row
            })
            .collect();
        ctx.db
            .client()
            .query(
                "FOR $r IN $rows { CREATE type::record('lead', $r.key) SET account = $account, page = $page, key = $r.key, ident = $r.key, \
                 psid_enc = $r.psid, first_name_enc = $r.first, proof_body_enc = 'x', proof_signature_enc = 'x', proof_received_at = $at, \
                 subscribed = true, unavailable = false, last_interaction_at = $at, created_at = $at, labels = [] }",
            )
            .bind(("rows", rows))
            .bind(("account", owner.account.clone()))
            .bind(("page", owner.page.clone()))
            .bind(("at", last_interaction_at))
            .await
            .unwrap()
            .check()
            .unwrap();
    }
}

/// A campaign to every lead of the Page, already "sending"; the rate is
/// written as given (benchmarks go above the UI's limit on purpose).
pub async fn start_campaign(ctx: &Ctx, owner: &Owner, rate_per_sec: i64) -> RecordId {
    let id = insert_campaign(ctx, owner, rate_per_sec, None).await;
    server::broadcasts::sender::wake();
    id
}

/// How many recipients each instance recorded as sent (`sent_by`).
pub async fn sent_by_instance(db: &server::db::Database) -> std::collections::HashMap<String, i64> {
    let rows: Vec<serde_json::Value> =
        db.client().query("SELECT sent_by, count() AS n FROM campaign_recipient WHERE state = 'sent' GROUP BY sent_by").await.unwrap().take(0).unwrap();
    rows.into_iter().map(|r| (r["sent_by"].as_str().unwrap_or("none").to_string(), r["n"].as_i64().unwrap_or(0))).collect()
}

/// As `start_campaign`, but scheduled for `at` (Unix seconds): whichever
/// instance holds the scheduler's lease then starts it.
#[allow(dead_code)]
pub async fn schedule_campaign(ctx: &Ctx, owner: &Owner, rate_per_sec: i64, at: i64) -> RecordId {
    insert_campaign(ctx, owner, rate_per_sec, Some(at)).await
}

async fn insert_campaign(ctx: &Ctx, owner: &Owner, rate_per_sec: i64, scheduled_at: Option<i64>) -> RecordId {
    let key = server::crypto::random_id();
    let id = RecordId::new("campaign", key.clone());
    let content = server::broadcasts::CampaignContent {
        name: "Seeded".into(),
        text: "Hello {{first_name}}, news!".into(),
        fallback_first_name: "there".into(),
        ..Default::default()
    };
    let account_key = ctx.crypto.account_key(&server::db::ids::key_string(&owner.account)).await.unwrap();
    ctx.db
        .client()
        .query(
            "CREATE $id SET account = $account, page = $page, content_enc = $content, include_labels = [], exclude_labels = [], \
             margin_hours = 23, rate_per_sec = $rate, state = $state, scheduled_at = $at, queue_built = false, total = 0, created_at = $now, \
             started_at = IF $at = NONE { $now } ELSE { NONE }",
        )
        .bind(("state", if scheduled_at.is_some() { "scheduled" } else { "sending" }))
        .bind(("at", scheduled_at))
        .bind(("id", id.clone()))
        .bind(("account", owner.account.clone()))
        .bind(("page", owner.page.clone()))
        .bind(("rate", rate_per_sec))
        .bind(("content", content.seal(&account_key, &key).unwrap()))
        .bind(("now", ctx.now()))
        .await
        .unwrap()
        .check()
        .unwrap();
    id
}

/// A server on SurrealKV in a temporary folder (plain HTTP, as behind a
/// proxy) and a Graph API stand-in wired to it, with one Page registered.
pub struct Bench {
    pub dir: tempfile::TempDir,
    pub running: server::RunningServer,
    pub standin: standin::Standin,
    pub webhook: String,
}

pub async fn server_with_standin(secret: &str, page_id: &str, page_token: &str) -> Bench {
    use clap::Parser;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("rocksdb://{}", dir.path().join("rocksdb").display());
    let data = dir.path().join("data");
    let config = server::config::Cli::try_parse_from([
        "server",
        "--db",
        &db,
        "--data-dir",
        data.to_str().unwrap(),
        "--port",
        "0",
        "--behind-proxy",
        "--site-dir",
        "/nonexistent",
    ])
    .unwrap()
    .serve;
    let running = server::start(&config).await.unwrap();
    let webhook = format!("http://127.0.0.1:{}/webhooks/messenger", running.app_addr.port());
    let standin = standin::Standin::start(
        "127.0.0.1:0".parse().unwrap(),
        standin::StandinConfig { app_secret: Some(secret.into()), webhook_url: Some(webhook.clone()), demo: false, control_token: None },
    )
    .await
    .unwrap();
    standin.state.add_page(page_id, "Bench Page", page_token);
    use_standin(running.context(), secret, &standin.base_url()).await;
    Bench { dir, running, standin, webhook }
}

/// The Facebook app settings, with the Graph API calls going to a stand-in.
pub async fn use_standin(ctx: &Ctx, app_secret: &str, graph_base_url: &str) {
    server::messenger::settings::save(
        ctx,
        &server::messenger::settings::AppSettings {
            app_id: "1".into(),
            app_secret: zeroize::Zeroizing::new(app_secret.into()),
            verify_token: zeroize::Zeroizing::new("v".into()),
            graph_base_url: graph_base_url.into(),
            graph_version: "v21.0".into(),
        },
    )
    .await
    .unwrap();
}
