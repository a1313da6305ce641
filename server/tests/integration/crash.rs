//! Acknowledged means kept: the server binary is killed with SIGKILL at
//! least ten times while writers make acknowledged writes of every kind and
//! a campaign is sending. The only fault is the kill itself. Afterwards every
//! acknowledged effect is present, nothing erased has come back, the consent
//! ledger verifies, and the stand-in got the campaign at most once per lead
//! and exactly once per lead that stayed reachable.
//!
//! CRASH_KILLS (default 10), CRASH_RECIPIENTS (default 3000) and CRASH_LOG
//! (the server's RUST_LOG) change the run.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use surrealdb::types::RecordId;

use super::support::{http_client, verified_account, TestServer, STRONG_PASSWORD};

const SECRET: &str = "crash-app-secret";
const PAGE: &str = "909090";
/// Pre-made accounts: each accepts the new policy, every other one then deletes itself.
const ACCOUNTS: usize = 6;
/// Seeded leads that unsubscribe, and that erase their data, through their links.
const UNSUBSCRIBING: usize = 60;
const ERASING: usize = 40;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// The server process; killed if the test fails, so no orphan outlives it.
pub struct ServerProcess(pub std::process::Child);

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn spawn_server(data: &std::path::Path, db: &str, port: u16) -> ServerProcess {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_server"));
    cmd.args([
        "--data-dir",
        data.to_str().unwrap(),
        "--db",
        db,
        "--port",
        &port.to_string(),
        "--no-http-redirect",
        "--site-dir",
        "/nonexistent",
        "--requests-per-ip-per-hour",
        "100000",
    ])
    .env("RUST_LOG", std::env::var("CRASH_LOG").unwrap_or_else(|_| "warn".into()))
    .stdin(std::process::Stdio::null())
    .stdout(std::process::Stdio::null())
    .stderr(std::process::Stdio::inherit());
    for (key, _) in std::env::vars() {
        if key.starts_with("CHATFBTOP_") {
            cmd.env_remove(key);
        }
    }
    ServerProcess(cmd.spawn().expect("the server binary starts"))
}

pub async fn wait_healthy(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(120);
    let http = http_client();
    while http.get(format!("https://127.0.0.1:{port}/healthz")).send().await.map(|r| r.status().is_success()).ok() != Some(true) {
        assert!(Instant::now() < deadline, "the server did not come up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// What the server acknowledged (answered with success) during the load.
#[derive(Default)]
struct Acknowledged {
    /// psid → mids of their messages that got a 200.
    messages: HashMap<String, Vec<String>>,
    stopped: HashSet<String>,
    unsubscribed: HashSet<String>,
    erased: HashSet<String>,
    /// Leads whose unsubscribe or erase link was followed, answered or not.
    asked: HashSet<String>,
    registered: HashSet<String>,
    accepted: HashSet<String>,
    /// Deletions asked for: one cut off by a kill may still have happened.
    deleting: HashSet<String>,
    deleted: HashSet<String>,
}

type Shared = Arc<Mutex<Acknowledged>>;

async fn shown_policies(http: &reqwest::Client, base: &str) -> Option<Value> {
    let current: Value = http.get(format!("{base}/api/privacy/policies")).send().await.ok()?.error_for_status().ok()?.json().await.ok()?;
    Some(current.as_array()?.iter().map(|p| json!({"document": p["document"], "version": p["version"]})).collect())
}

async fn deliver(http: &reqwest::Client, port: u16, psid: &str, mid: &str, text: &str) -> bool {
    let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    let body = standin::meta_serialise(&json!({"object": "page", "entry": [{"id": PAGE, "time": now_ms, "messaging": [{
        "sender": {"id": psid}, "recipient": {"id": PAGE}, "timestamp": now_ms,
        "message": {"mid": mid, "text": text}}]}]}));
    let signature = standin::sign(SECRET.as_bytes(), body.as_bytes());
    let sent = http.post(format!("https://127.0.0.1:{port}/webhooks/messenger")).header("x-hub-signature-256", signature).body(body).send().await;
    sent.is_ok_and(|r| r.status().is_success())
}

/// People writing to the Page: each says hello (becoming a lead), some later
/// say STOP. A delivery that got no 200 is retried, as Meta does.
async fn webhook_writer(worker: usize, port: u16, acked: Shared, running: Arc<AtomicBool>) {
    let http = http_client();
    let padding = "Bonjour, je voudrais savoir si vous livrez à Zürich. ".repeat(40);
    let mut person = 0;
    while running.load(Ordering::Relaxed) {
        let psid = format!("wh-{worker}-{person}");
        let mid = format!("m-{worker}-{person}-hello");
        if !deliver(&http, port, &psid, &mid, &format!("hello {padding}")).await {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        }
        acked.lock().unwrap().messages.entry(psid.clone()).or_default().push(mid);
        if person % 3 == 0 {
            let stop = format!("m-{worker}-{person}-stop");
            while running.load(Ordering::Relaxed) {
                if deliver(&http, port, &psid, &stop, "STOP").await {
                    let mut acked = acked.lock().unwrap();
                    acked.messages.entry(psid.clone()).or_default().push(stop);
                    acked.stopped.insert(psid.clone());
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        person += 1;
    }
}

/// Leads following their unsubscribe links: (lead key, token) each. A link
/// whose answer a kill cut off may still have worked: it counts as asked for.
/// An erasure asked for again after such a cut is answered "already erased"
/// (404) once the first one went through: that answer counts as acknowledged.
async fn link_writer(base: String, links: Vec<(String, String)>, erase: bool, acked: Shared, running: Arc<AtomicBool>) {
    let http = http_client();
    let endpoint = if erase { "unsubscribe/erase" } else { "unsubscribe/confirm" };
    for (lead, token) in links {
        let mut cut_off = false;
        while running.load(Ordering::Relaxed) {
            acked.lock().unwrap().asked.insert(lead.clone());
            let request = http.post(format!("{base}/api/{endpoint}")).header("origin", &base).json(&json!({"token": token}));
            match request.send().await.map(|r| r.status()) {
                Ok(status) if status.is_success() => {
                    let mut acked = acked.lock().unwrap();
                    if erase {
                        acked.erased.insert(lead)
                    } else {
                        acked.unsubscribed.insert(lead)
                    };
                    break;
                }
                // The server says the data is gone: as good as an answer, and checked as one.
                Ok(status) if erase && cut_off && status == reqwest::StatusCode::NOT_FOUND => {
                    acked.lock().unwrap().erased.insert(lead);
                    break;
                }
                Ok(_) => {}
                Err(_) => cut_off = true,
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn registration_writer(base: String, acked: Shared, running: Arc<AtomicBool>) {
    let http = http_client();
    let mut n = 0;
    while running.load(Ordering::Relaxed) {
        let email = format!("newcomer.{n}@example.org");
        // The versions the sign-up form would show (none while the server is down).
        let Some(shown) = shown_policies(&http, &base).await else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let input = json!({"input": {"email": email, "password": STRONG_PASSWORD, "display_name": null, "accepted": shown}});
        if let Outcome::Answered(_) = call(&http, &base, "auth/register", input, None).await {
            acked.lock().unwrap().registered.insert(email);
            n += 1;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// What a server function call got: an answer, a refusal, or no answer (the server is down or was killed mid-call).
enum Outcome {
    Answered(reqwest::Response),
    Refused(reqwest::StatusCode),
    Cut,
}

async fn call(http: &reqwest::Client, base: &str, endpoint: &str, args: Value, cookie: Option<&str>) -> Outcome {
    let mut request = http.post(format!("{base}/api/{endpoint}")).header("origin", base).json(&args);
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    match request.send().await {
        Ok(response) if response.status().is_success() => Outcome::Answered(response),
        Ok(response) => Outcome::Refused(response.status()),
        Err(_) => Outcome::Cut,
    }
}

/// A session cookie and the policies its sign-in showed; None while the
/// server is down or refuses. A 401 after a deletion was cut off means the
/// account is gone (the password is always right here): `Err(())`.
async fn sign_in(http: &reqwest::Client, base: &str, email: &str, deletion_cut: bool) -> Result<Option<(String, Vec<Value>)>, ()> {
    let login = json!({"input": {"email": email, "password": STRONG_PASSWORD, "keep_signed_in": false}});
    let response = match call(http, base, "auth/login", login, None).await {
        Outcome::Answered(response) => response,
        Outcome::Refused(reqwest::StatusCode::UNAUTHORIZED) if deletion_cut => return Err(()),
        Outcome::Refused(_) | Outcome::Cut => return Ok(None),
    };
    let cookie = response.headers().get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).find(|c| c.starts_with("__Host-"));
    let Some(cookie) = cookie.and_then(|c| c.split(';').next()).map(str::to_string) else {
        return Ok(None);
    };
    let Ok(user) = response.json::<Value>().await else { return Ok(None) };
    let shown = user["pending_policies"].as_array().into_iter().flatten().map(|c| json!({"document": c["document"], "version": c["version"]})).collect();
    Ok(Some((cookie, shown)))
}

/// One account's member: signs in, accepts the new policy and, if `delete`,
/// deletes the account. The session outlives kills, so a cut-off call is
/// retried with it; only a 401 (the session is gone) signs in again. A
/// deletion whose answer a kill cut off may have happened: if signing in is
/// then refused, that refusal is its answer, checked as one afterwards.
async fn account_writer(base: String, email: String, delete: bool, acked: Shared, running: Arc<AtomicBool>) {
    let http = http_client();
    let mut session: Option<(String, Vec<Value>)> = None;
    let mut deletion_cut = false;
    while running.load(Ordering::Relaxed) {
        let Some((cookie, shown)) = session.clone() else {
            match sign_in(&http, &base, &email, deletion_cut).await {
                Ok(signed_in) => session = signed_in,
                Err(()) => {
                    acked.lock().unwrap().deleted.insert(email.clone());
                    break;
                }
            }
            if session.is_none() {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            continue;
        };
        let (endpoint, args) = if !acked.lock().unwrap().accepted.contains(&email) {
            ("privacy/accept-policies", json!({"shown": shown}))
        } else if delete {
            acked.lock().unwrap().deleting.insert(email.clone());
            ("privacy/delete-account", json!({"password": STRONG_PASSWORD, "confirmation": "DELETE"}))
        } else {
            break;
        };
        match call(&http, &base, endpoint, args, Some(&cookie)).await {
            Outcome::Answered(_) if endpoint == "privacy/accept-policies" => {
                acked.lock().unwrap().accepted.insert(email.clone());
            }
            Outcome::Answered(_) => {
                acked.lock().unwrap().deleted.insert(email.clone());
                break;
            }
            Outcome::Refused(reqwest::StatusCode::UNAUTHORIZED) => session = None,
            Outcome::Refused(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            Outcome::Cut => {
                deletion_cut |= endpoint == "privacy/delete-account";
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
}

struct Seeded {
    unsubscribing: Vec<(String, String)>,
    erasing: Vec<(String, String)>,
    accounts: Vec<String>,
}

/// An installation with the Facebook app pointing at the stand-in, a Page with
/// `recipients` leads (window open), accounts that must accept a new privacy
/// policy, and a campaign to every lead in state "sending".
async fn seed(root: tempfile::TempDir, db: &str, graph: &str, recipients: usize) -> (tempfile::TempDir, Seeded) {
    let server = TestServer::start_in(root, &["--db", db, "--requests-per-ip-per-hour", "100000"]).await;
    let mut accounts = Vec::new();
    for i in 0..ACCOUNTS {
        let email = format!("member.{i}@example.org");
        verified_account(&server, &email, STRONG_PASSWORD).await;
        accounts.push(email);
    }
    let ctx = server.running.as_ref().unwrap().context().clone();
    super::seed::use_standin(&ctx, SECRET, graph).await;
    let owner = super::seed::owner_with_page(&ctx, "crash.owner@example.org", PAGE, "crash-token").await;
    super::seed::seed_leads(&ctx, &owner, recipients, "load-", &["Kim"], ctx.now() - 60).await;
    server::policies::documents::publish(&ctx, "privacy", "Privacy policy", "Version two.", "A new version").await.unwrap();
    let keys: Vec<String> =
        ctx.db.client().query("SELECT VALUE key FROM lead ORDER BY key LIMIT $n").bind(("n", (UNSUBSCRIBING + ERASING) as i64)).await.unwrap().take(0).unwrap();
    let page_key = server::db::ids::key_string(&owner.page);
    let mut links: Vec<(String, String)> = keys.into_iter().map(|k| (k.clone(), server::broadcasts::unsubscribe::token(&ctx, &k, &page_key))).collect();
    let erasing = links.split_off(UNSUBSCRIBING);
    super::seed::start_campaign(&ctx, &owner, 300).await;
    drop(ctx);
    (server.stop().await, Seeded { unsubscribing: links, erasing, accounts })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_of_every_kind_survive_repeated_sigkills() {
    let kills = env("CRASH_KILLS", 10);
    let recipients = env("CRASH_RECIPIENTS", 3000);
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let db = format!("rocksdb://{}", data.join("rocksdb").display());
    let port = super::free_port();
    let standin = standin::Standin::start(
        "127.0.0.1:0".parse().unwrap(),
        standin::StandinConfig {
            app_secret: Some(SECRET.into()),
            webhook_url: Some(format!("https://127.0.0.1:{port}/webhooks/messenger")),
            demo: false,
            control_token: None,
        },
    )
    .await
    .unwrap();
    standin.state.add_page(PAGE, "Crash Page", "crash-token");
    // Echoes confirm a send whose outcome a kill cut off; receipts add webhook load.
    standin.state.set_webhooks(true, true, 3);
    let (root, seeded) = seed(root, &db, &standin.base_url(), recipients).await;

    let started = Instant::now();
    let base = format!("https://localhost:{port}");
    let acked: Shared = Arc::default();
    let running = Arc::new(AtomicBool::new(true));
    let mut child = spawn_server(&data, &db, port);
    wait_healthy(port).await;
    let mut writers = Vec::new();
    for worker in 0..8 {
        writers.push(tokio::spawn(webhook_writer(worker, port, acked.clone(), running.clone())));
    }
    for (links, erase) in [(seeded.unsubscribing.clone(), false), (seeded.erasing.clone(), true)] {
        writers.push(tokio::spawn(link_writer(base.clone(), links, erase, acked.clone(), running.clone())));
    }
    writers.push(tokio::spawn(registration_writer(base.clone(), acked.clone(), running.clone())));
    // One writer per account: a deletion that kills keep cutting off holds up no other account.
    for (i, email) in seeded.accounts.iter().enumerate() {
        writers.push(tokio::spawn(account_writer(base.clone(), email.clone(), i % 2 == 0, acked.clone(), running.clone())));
    }

    for kill in 0..kills {
        // Uptimes of 2 to 4.5 s: every kill lands mid-load and mid-campaign.
        tokio::time::sleep(Duration::from_millis(2000 + (kill as u64 * 739) % 2500)).await;
        child.0.kill().unwrap(); // SIGKILL
        child.0.wait().unwrap();
        child = spawn_server(&data, &db, port);
        wait_healthy(port).await;
    }
    // Let the writers finish what they were given, then stop them.
    tokio::time::sleep(Duration::from_secs(3)).await;
    running.store(false, Ordering::Relaxed);
    for writer in writers {
        writer.await.unwrap();
    }
    let acked = std::mem::take(&mut *acked.lock().unwrap());
    // Seeded leads that did not follow an unsubscribe or erase link must get the campaign.
    assert!(acked.unsubscribed.union(&acked.erased).all(|key| acked.asked.contains(key)));
    let unreachable: HashSet<String> = acked.asked.iter().map(|key| seeded_psid(key)).collect();
    let reachable: Vec<String> = (0..recipients).map(|i| format!("load-{i}")).filter(|p| !unreachable.contains(p)).collect();

    // The campaign: every reachable seeded lead exactly once, nobody twice.
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let per_lead = sends_per_psid(&standin.state.sent());
        let twice: Vec<_> = per_lead.iter().filter(|(_, n)| **n > 1).collect();
        assert!(twice.is_empty(), "leads got the campaign twice: {twice:?}");
        let missing = reachable.iter().filter(|p| !per_lead.contains_key(*p)).count();
        if missing == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "{missing} of {} reachable leads never got the campaign", reachable.len());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Recovery has run its course (lease and echo grace): still nobody twice.
    let settle = server::broadcasts::sender::lease_secs(300) + server::broadcasts::sender::ECHO_GRACE_SECS + 3;
    tokio::time::sleep(Duration::from_secs(settle as u64)).await;
    assert!(sends_per_psid(&standin.state.sent()).values().all(|n| *n == 1), "a lead got the campaign twice after recovery");
    let pid = child.0.id().to_string();
    std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    child.0.wait().unwrap();
    standin.stop();

    check_everything_acknowledged_is_there(&data, &db, &acked, &seeded).await;
    println!(
        "crash test: {kills} SIGKILLs in {:.0} s; acknowledged: {} people's messages ({} STOPs), {} unsubscribes, {} erasures, \
         {} registrations, {} policy acceptances, {} account deletions; {} leads reached once",
        started.elapsed().as_secs_f64(),
        acked.messages.len(),
        acked.stopped.len(),
        acked.unsubscribed.len(),
        acked.erased.len(),
        acked.registered.len(),
        acked.accepted.len(),
        acked.deleted.len(),
        reachable.len(),
    );
    assert!(acked.messages.len() >= 50 && !acked.stopped.is_empty() && !acked.erased.is_empty() && !acked.registered.is_empty());
    assert!(!acked.deleted.is_empty() && !acked.accepted.is_empty(), "every kind of write was made");
    drop(root);
}

/// The psid `seed_leads` gave the lead with this key (its index is in the key).
fn seeded_psid(key: &str) -> String {
    format!("load-{}", usize::from_str_radix(&key[11..17], 16).expect("a seeded lead's key"))
}

fn sends_per_psid(sent: &[standin::SentMessage]) -> HashMap<String, usize> {
    let mut per = HashMap::new();
    for m in sent {
        *per.entry(m.psid.clone()).or_insert(0) += 1;
    }
    per
}

async fn count(ctx: &server::context::Ctx, sql: &str, binds: Value) -> i64 {
    let mut query = ctx.db.client().query(format!("RETURN count({sql})"));
    for (k, v) in binds.as_object().unwrap() {
        query = query.bind((k.clone(), v.clone()));
    }
    let n: Option<i64> = query.await.unwrap().take(0).unwrap();
    n.unwrap_or(0)
}

async fn check_everything_acknowledged_is_there(data: &std::path::Path, db: &str, acked: &Acknowledged, seeded: &Seeded) {
    use clap::Parser;
    let config = server::config::Cli::try_parse_from(["server", "--db", db, "--data-dir", data.to_str().unwrap()]).unwrap().serve;
    // The next start's workers, once a kill's claims have lapsed: a request
    // claimed just before a SIGKILL is due again only after its lease.
    let clock = server::clock::ManualClock::starting_now();
    clock.advance(server::accounts::REQUEST_LEASE_SECS);
    let core = server::open_core(&config, clock).await.unwrap();
    let ctx = core.ctx.clone();
    let mut completed = 0;
    for _ in 0..1000 {
        match server::accounts::complete_due(&ctx).await.unwrap() {
            0 => break,
            n => completed += n,
        }
    }
    println!("crash test: {completed} stored account requests were completed after the last stop");
    assert_eq!(count(&ctx, "SELECT id FROM account_request", json!({})).await, 0, "an acknowledged account request was never completed");
    // Deliveries acknowledged and stored but not yet applied: what the next start does first.
    let applied = server::messenger::deliveries::apply_pending(&ctx, server::broadcasts::receipts::apply).await.unwrap();
    println!("crash test: {applied} stored webhook deliveries were applied after the last stop");
    assert_eq!(server::messenger::deliveries::due(&ctx).await.unwrap(), 0, "a stored delivery could not be applied");
    for (psid, mids) in &acked.messages {
        let lead = server::messenger::leads::find_by_ident(&ctx, &server::messenger::leads::lead_ident(&ctx, PAGE, psid)).await.unwrap();
        let lead = lead.unwrap_or_else(|| panic!("the lead {psid} was acknowledged and lost"));
        for mid in mids {
            let ident = ctx.crypto.keyed_index("event", &format!("{PAGE}|mid:{mid}"));
            assert_eq!(count(&ctx, "SELECT id FROM message WHERE ident = $i", json!({"i": ident})).await, 1, "message {mid} lost");
        }
        assert_eq!(lead.subscribed, !acked.stopped.contains(psid), "{psid}'s STOP was acknowledged and forgotten");
    }
    for (key, _) in seeded.unsubscribing.iter().filter(|(k, _)| acked.unsubscribed.contains(k)) {
        let subscribed: Option<bool> =
            ctx.db.client().query("SELECT VALUE subscribed FROM ONLY $id").bind(("id", RecordId::new("lead", key.as_str()))).await.unwrap().take(0).unwrap();
        assert_eq!(subscribed, Some(false), "an unsubscribe was acknowledged and forgotten");
    }
    for (key, _) in seeded.erasing.iter().filter(|(k, _)| acked.erased.contains(k)) {
        let lead = RecordId::new("lead", key.as_str());
        let left: Option<Value> = ctx.db.client().query("SELECT id FROM ONLY $id").bind(("id", lead.clone())).await.unwrap().take(0).unwrap();
        assert!(left.is_none(), "an erased lead came back");
        let rows: Option<i64> =
            ctx.db.client().query("RETURN count(SELECT id FROM campaign_recipient WHERE lead = $id)").bind(("id", lead)).await.unwrap().take(0).unwrap();
        assert_eq!(rows, Some(0), "an erased lead's deliveries came back");
    }
    let account = |email: &str| json!({"i": ctx.crypto.email_index(email)});
    for email in &acked.registered {
        assert_eq!(count(&ctx, "SELECT id FROM account WHERE email_index = $i", account(email)).await, 1, "a registration was lost");
    }
    for email in acked.accepted.difference(&acked.deleted) {
        if count(&ctx, "SELECT id FROM account WHERE email_index = $i", account(email)).await == 0 {
            assert!(acked.deleting.contains(email), "{email}'s account is gone, and nobody asked for that");
            continue;
        }
        let accepted = count(
            &ctx,
            "SELECT id FROM consent WHERE account = (SELECT VALUE id FROM ONLY account WHERE email_index = $i LIMIT 1) AND document = 'privacy' AND version = 2",
            account(email),
        )
        .await;
        assert_eq!(accepted, 1, "{email}'s policy acceptance was lost");
    }
    for email in &acked.deleted {
        assert_eq!(count(&ctx, "SELECT id FROM account WHERE email_index = $i", account(email)).await, 0, "a deleted account came back");
    }
    let ledger = server::policies::ledger::verify(&ctx).await.unwrap();
    assert!(ledger.problems.is_empty(), "the consent ledger does not verify: {:?}", ledger.problems);
    drop(ctx);
    core.close().await;
}
