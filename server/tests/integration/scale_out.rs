//! Scale-out with real processes: one SurrealDB server process (the
//! workspace's `surreal` binary, on RocksDB) and two or three app processes
//! on loopback ports, all sharing it, with the Graph API stand-in in this
//! process. Each instance has its own data folder and the same master key;
//! data keys live in the database (`--key-store database`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::json;

use super::crash::{wait_healthy, ServerProcess};
use super::support::{http_client, verified_account, Api, TestServer, World, STRONG_PASSWORD};

pub const SECRET: &str = "scale-out-app-secret";
const PAGE: &str = "707070";
const DB_USER: &str = "root";
const DB_PASSWORD: &str = "scale-out-only";

/// The `surreal` binary that `cargo test` builds beside the server's (tools/surreal-server).
fn surreal_binary() -> PathBuf {
    let path = Path::new(env!("CARGO_BIN_EXE_server")).with_file_name("surreal");
    assert!(path.exists(), "{} is missing: `cargo test` builds it (tools/surreal-server); `cargo build -p surreal-server` does too", path.display());
    path
}

/// A SurrealDB server, the app's settings for it, and its instances.
pub struct Cluster {
    root: tempfile::TempDir,
    _surreal: ServerProcess,
    pub db_url: String,
    master_key: String,
    /// Set when the instances take over an installation's master key file instead.
    master_key_file: Option<PathBuf>,
    pub instances: Vec<Option<(ServerProcess, u16)>>,
}

impl Cluster {
    /// A SurrealDB server on RocksDB, and nothing on it yet.
    pub async fn start() -> Cluster {
        let root = tempfile::tempdir().unwrap();
        let port = super::free_port();
        let surreal = Command::new(surreal_binary())
            .args(["start", "--no-banner", "--log", "warn", "--user", DB_USER, "--pass", DB_PASSWORD, "--bind", &format!("127.0.0.1:{port}")])
            .arg(format!("rocksdb://{}", root.path().join("surreal").display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the surreal binary starts");
        let surreal = ServerProcess(surreal);
        let deadline = Instant::now() + Duration::from_secs(60);
        while reqwest::get(format!("http://127.0.0.1:{port}/health")).await.map(|r| r.status().is_success()).ok() != Some(true) {
            assert!(Instant::now() < deadline, "the SurrealDB server did not come up");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let master_key = base64::engine::general_purpose::STANDARD.encode(rand::random::<[u8; 32]>());
        Cluster { root, _surreal: surreal, db_url: format!("ws://127.0.0.1:{port}"), master_key, master_key_file: None, instances: Vec::new() }
    }

    /// The flags every instance shares: the database, its credentials, the keys.
    fn shared_flags(&self) -> Vec<String> {
        let exports = self.root.path().join("exports");
        [
            "--db",
            &self.db_url,
            "--db-user",
            DB_USER,
            "--db-password",
            DB_PASSWORD,
            "--key-store",
            "database",
            "--exports-dir",
            exports.to_str().unwrap(),
            "--requests-per-ip-per-hour",
            "100000",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    }

    /// An app in this process on the cluster's database, for seeding (its clock is manual).
    pub async fn seeding_server(&self) -> TestServer {
        let flags = self.shared_flags();
        let mut args: Vec<&str> = flags.iter().map(String::as_str).collect();
        args.extend(["--master-key", &self.master_key]);
        TestServer::start(&args).await
    }

    /// A plain connection to the cluster's database, for checks: no app, so no background work.
    pub async fn database(&self) -> server::db::Database {
        let address = server::config::DbAddress::parse(&self.db_url).unwrap();
        let credentials = server::db::Credentials { username: DB_USER.into(), password: DB_PASSWORD.into() };
        server::db::Database::connect(&address, "chatfbtop", "main", Some(credentials), &Default::default()).await.unwrap()
    }

    /// Starts an app process on each of `ports`.
    pub async fn start_instances(&mut self, ports: &[u16]) {
        for &port in ports {
            let data = self.root.path().join(format!("instance-{}", self.instances.len()));
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_server"));
            cmd.args(["--data-dir", data.to_str().unwrap(), "--port", &port.to_string(), "--no-http-redirect", "--site-dir", "/nonexistent"])
                .args(self.shared_flags())
                .env("RUST_LOG", std::env::var("SCALE_OUT_LOG").unwrap_or_else(|_| "warn".into()))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::inherit());
            match &self.master_key_file {
                Some(file) => cmd.env("CHATFBTOP_MASTER_KEY_FILE", file),
                None => cmd.env("CHATFBTOP_MASTER_KEY", &self.master_key),
            };
            self.instances.push(Some((ServerProcess(cmd.spawn().expect("the server binary starts")), port)));
        }
        for port in ports {
            wait_healthy(*port).await;
        }
    }

    /// SIGKILL: no shutdown, no lease given up.
    pub fn kill(&mut self, index: usize) {
        if let Some((mut process, _)) = self.instances[index].take() {
            process.0.kill().unwrap();
            process.0.wait().unwrap();
        }
    }
}

/// A stand-in that counts 300 calls per second per Page and sends echoes to `webhook_port`.
pub async fn standin_for(webhook_port: u16) -> standin::Standin {
    let standin = standin::Standin::start(
        "127.0.0.1:0".parse().unwrap(),
        standin::StandinConfig {
            app_secret: Some(SECRET.into()),
            webhook_url: Some(format!("https://127.0.0.1:{webhook_port}/webhooks/messenger")),
            demo: false,
            control_token: None,
        },
    )
    .await
    .unwrap();
    standin.state.add_page(PAGE, "Scale Page", "scale-token");
    standin
}

/// Seeds an owner, `leads` leads and a campaign at 300/s, scheduled to start a few seconds later.
async fn seed_campaign(cluster: &Cluster, standin: &standin::Standin, leads: usize) {
    let server = cluster.seeding_server().await;
    let ctx = server.running.as_ref().unwrap().context().clone();
    super::seed::use_standin(&ctx, SECRET, &standin.base_url()).await;
    let owner = super::seed::owner_with_page(&ctx, "scale.owner@example.org", PAGE, "scale-token").await;
    super::seed::seed_leads(&ctx, &owner, leads, "scale-", &["Kim"], ctx.now() - 60).await;
    // Started by the instances' scheduler, once this seeding app has stopped.
    super::seed::schedule_campaign(&ctx, &owner, 300, ctx.now() + 4).await;
    drop(ctx);
    server.stop().await;
}

/// The most calls that fell into any one wall-clock second (the stand-in's count).
fn busiest_second(sent: &[standin::SentMessage]) -> usize {
    let mut per_second: HashMap<i64, usize> = HashMap::new();
    for message in sent {
        *per_second.entry(message.at_ms / 1000).or_default() += 1;
    }
    per_second.into_values().max().unwrap_or(0)
}

/// Waits until the stand-in has `count` campaign messages, or fails after `limit`.
async fn wait_for_sends(standin: &standin::Standin, count: usize, limit: Duration) {
    let started = Instant::now();
    while standin.state.sent_count() < count {
        assert!(started.elapsed() < limit, "only {} of {count} sent after {limit:?}", standin.state.sent_count());
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Each seeded lead got the campaign exactly once.
fn assert_each_lead_got_it_once(sent: &[standin::SentMessage], leads: usize) {
    let mut per_psid: HashMap<&str, usize> = HashMap::new();
    for message in sent {
        *per_psid.entry(message.psid.as_str()).or_default() += 1;
    }
    let twice: Vec<_> = per_psid.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "{} leads got it more than once, e.g. {:?}", twice.len(), twice.iter().take(5).collect::<Vec<_>>());
    let missing: Vec<String> = (0..leads).map(|i| format!("scale-{i}")).filter(|p| !per_psid.contains_key(p.as_str())).collect();
    assert!(missing.is_empty(), "{} reachable leads never got it, e.g. {:?}", missing.len(), &missing[..missing.len().min(5)]);
}

pub fn ports(count: usize) -> Vec<u16> {
    (0..count).map(|_| super::free_port()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_instances_send_one_campaign_once_to_every_lead_within_the_pages_rate() {
    let leads = 10_000;
    let mut cluster = Cluster::start().await;
    let ports = ports(3);
    let standin = standin_for(ports[0]).await;
    // Echoes confirm sends, as in production; receipts would only add webhook load here.
    standin.state.set_webhooks(true, false, 0);
    let seeding = Instant::now();
    seed_campaign(&cluster, &standin, leads).await;
    let seeded = seeding.elapsed();
    let started = Instant::now();
    cluster.start_instances(&ports).await;
    wait_for_sends(&standin, leads, Duration::from_secs(300)).await;
    let took = started.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let sent = standin.state.sent();
    assert_each_lead_got_it_once(&sent, leads);
    let (_, refused) = standin.state.counters();
    let busiest = busiest_second(&sent);
    let shares = super::seed::sent_by_instance(&cluster.database().await).await;
    println!(
        "scale-out send: seeded in {seeded:?}; {} messages in {took:?}, busiest second {busiest} calls (limit 300), {refused} refused with 613, per instance {shares:?}",
        sent.len()
    );
    assert!(busiest <= 300, "{busiest} calls in one second");
    assert_eq!(refused, 0, "the stand-in refused calls over the Page's rate");
    assert_eq!(shares.len(), 3, "every instance sent part of the campaign: {shares:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_instances_recipients_are_taken_over_with_nothing_lost_or_sent_twice() {
    let leads = 3_000;
    let mut cluster = Cluster::start().await;
    let ports = ports(2);
    // Echoes go to the instance that survives, as Meta's would go to a live one.
    let standin = standin_for(ports[0]).await;
    standin.state.set_webhooks(true, false, 0);
    seed_campaign(&cluster, &standin, leads).await;
    cluster.start_instances(&ports).await;
    wait_for_sends(&standin, 600, Duration::from_secs(120)).await;
    cluster.kill(1);
    let killed_at = standin.state.sent_count();
    wait_for_sends(&standin, leads, Duration::from_secs(240)).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let sent = standin.state.sent();
    println!("kill during a campaign: killed after {killed_at} sends; {} sent in all to {leads} leads", sent.len());
    assert_each_lead_got_it_once(&sent, leads);
    assert!(busiest_second(&sent) <= 300);
}

/// A signed delivery of one message, as Meta sends it.
async fn deliver(http: &reqwest::Client, port: u16, psid: &str, mid: &str) -> bool {
    deliver_to(http, port, PAGE, psid, mid).await
}

/// As `deliver`, to another Page.
pub async fn deliver_to(http: &reqwest::Client, port: u16, page: &str, psid: &str, mid: &str) -> bool {
    let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    let body = standin::meta_serialise(&json!({"object": "page", "entry": [{"id": page, "time": now_ms, "messaging": [{
        "sender": {"id": psid}, "recipient": {"id": page}, "timestamp": now_ms,
        "message": {"mid": mid, "text": format!("hello {mid}")}}]}]}));
    let signature = standin::sign(SECRET.as_bytes(), body.as_bytes());
    let sent = http.post(format!("https://127.0.0.1:{port}/webhooks/messenger")).header("x-hub-signature-256", signature).body(body).send().await;
    sent.is_ok_and(|r| r.status().is_success())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_deliveries_spread_over_the_instances_are_each_stored_once() {
    let mut cluster = Cluster::start().await;
    let ports = ports(3);
    let standin = standin_for(ports[0]).await;
    let watcher = cluster.seeding_server().await;
    let ctx = watcher.running.as_ref().unwrap().context().clone();
    super::seed::use_standin(&ctx, SECRET, &standin.base_url()).await;
    super::seed::owner_with_page(&ctx, "webhook.owner@example.org", PAGE, "scale-token").await;
    cluster.start_instances(&ports).await;
    let http = http_client();
    let (people, messages) = (20, 90);
    for i in 0..messages {
        let (psid, mid) = (format!("writer-{}", i % people), format!("m-{i}"));
        // Round-robin, and each one delivered again to the next instance (Meta retries).
        assert!(deliver(&http, ports[i % 3], &psid, &mid).await, "delivery {i} acknowledged");
        assert!(deliver(&http, ports[(i + 1) % 3], &psid, &mid).await, "its retry acknowledged");
    }
    let count = |sql: &'static str| {
        let ctx = ctx.clone();
        async move { ctx.db.client().query(sql).await.unwrap().take::<Option<i64>>(0).unwrap().unwrap_or(0) }
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while count("RETURN count(SELECT id FROM webhook_delivery)").await > 0 {
        assert!(Instant::now() < deadline, "stored deliveries were not applied");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(count("RETURN count(SELECT id FROM message WHERE direction = 'inbound')").await, messages as i64, "each message stored once");
    assert_eq!(count("RETURN count(SELECT id FROM lead)").await, people as i64, "each person one lead");
    drop(ctx);
    watcher.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_failures_spread_over_the_instances_reach_the_shared_limit() {
    let mut cluster = Cluster::start().await;
    let email = "spread.guesses@example.org";
    let seeding = cluster.seeding_server().await;
    verified_account(&seeding, email, STRONG_PASSWORD).await;
    seeding.stop().await;
    let ports = ports(3);
    cluster.start_instances(&ports).await;
    let api = |port: u16| Api { base: format!("https://localhost:{port}"), http: http_client(), cookie: None };
    for attempt in 0..5 {
        let refused = api(ports[attempt % 3]).login(email, "not the password at all", false).await;
        assert_eq!(refused.error(), &json!("InvalidCredentials"), "attempt {attempt}");
    }
    for port in &ports {
        let blocked = api(*port).login(email, STRONG_PASSWORD, false).await;
        assert!(blocked.error().get("TooManyAttempts").is_some(), "five failures over three instances block every one: {:?}", blocked.body);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn db_copy_moves_an_embedded_installation_onto_the_server_with_everything_intact() {
    // An embedded installation (keys as files, the default): an owner, a Page, a lead with its proof.
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let rocks = format!("rocksdb://{}", data.join("rocksdb").display());
    let mut w = World::start_on(TestServer::start_in(root, &["--db", &rocks]).await, "moving.owner@example.org").await;
    assert_eq!(w.write("mover-1", "hello from before the move").await, 200);
    let lead = w.wait_for_named_lead("mover-1").await;
    assert_eq!(w.api.post("messenger/verify-proof", json!({"lead": lead})).await.ok()["status"], "valid");
    let World { server, standin, .. } = w;
    let _root = server.stop().await;

    let mut cluster = Cluster::start().await;
    let copied = Command::new(env!("CARGO_BIN_EXE_server"))
        .args(["db", "copy", "--data-dir", data.to_str().unwrap(), "--key-store", "database", "--db-user", DB_USER, "--from", &rocks, "--to", &cluster.db_url])
        .env("CHATFBTOP_DB_PASSWORD", DB_PASSWORD)
        .output()
        .expect("server db copy runs");
    let said = String::from_utf8_lossy(&copied.stdout);
    assert!(copied.status.success(), "{said}{}", String::from_utf8_lossy(&copied.stderr));
    assert!(said.contains("the consent ledger verifies on the copy"), "{said}");

    // An instance on the server, with the installation's master key, and nothing of the old folder.
    cluster.master_key_file = Some(data.join("master.key"));
    let port = super::free_port();
    cluster.start_instances(&[port]).await;
    let mut api = Api { base: format!("https://localhost:{port}"), http: http_client(), cookie: None };
    api.login("moving.owner@example.org", STRONG_PASSWORD, false).await.ok();
    let pages = api.get("messenger/pages").await.ok().clone();
    let page = pages["pages"][0]["id"].as_str().expect("the Page moved").to_string();
    let filter = json!({"page": page, "label": null, "subscribed": null, "window": null, "search": "", "after": null});
    let leads = api.post("messenger/leads", json!({"filter": filter})).await.ok().clone();
    assert_eq!(leads["leads"][0]["id"], json!(lead), "{leads}");
    assert_eq!(leads["leads"][0]["name"], "Ada Lovelace mover-1", "the lead's sealed name opens with the moved key");
    assert_eq!(api.post("messenger/verify-proof", json!({"lead": lead})).await.ok()["status"], "valid", "the proof still verifies");
    drop(standin);
}
