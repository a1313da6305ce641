//! The privacy center: inventory coverage, erasure, and the consent ledger.

use std::collections::BTreeMap;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::support::*;

/// Every table and field the live schema defines.
async fn schema(db: &server::db::Database) -> BTreeMap<String, Vec<String>> {
    let info: Option<Value> = db.client().query("INFO FOR DB").await.unwrap().take(0).unwrap();
    let info = info.expect("db info");
    let mut tables = BTreeMap::new();
    for table in info["tables"].as_object().expect("tables").keys() {
        let t: Option<Value> = db.client().query(format!("INFO FOR TABLE {table}")).await.unwrap().take(0).unwrap();
        let t = t.expect("table info");
        let fields = t["fields"].as_object().map(|f| f.keys().cloned().collect()).unwrap_or_default();
        tables.insert(table.clone(), fields);
    }
    tables
}

#[tokio::test]
async fn every_personal_field_and_account_table_is_in_the_inventory() {
    let server = TestServer::start(&[]).await;
    let db = server.running.as_ref().unwrap().db.clone();
    let tables = schema(&db).await;
    assert!(tables.contains_key("account"), "{tables:?}");
    for (table, fields) in &tables {
        let category = app::inventory::INVENTORY.iter().find(|c| c.table == table);
        for field in fields.iter().filter(|f| f.ends_with("_enc")) {
            let declared = category.is_some_and(|c| c.personal_fields.contains(&field.as_str()));
            assert!(declared, "{table}.{field} holds personal data but is not declared in app::inventory");
        }
        if fields.iter().any(|f| f == "account") {
            assert!(category.is_some(), "{table} belongs to accounts but is not in app::inventory (it would survive erasure)");
        }
    }
    for category in app::inventory::INVENTORY {
        let fields = tables.get(category.table).unwrap_or_else(|| panic!("inventory names a missing table {}", category.table));
        for f in category.personal_fields {
            assert!(fields.iter().any(|x| x == f), "inventory names a missing field {}.{f}", category.table);
        }
    }
    server.stop().await;
}

#[tokio::test]
async fn erasure_leaves_no_row_no_index_and_no_readable_trace() {
    let root = tempfile::tempdir().unwrap();
    let db_url = format!("rocksdb://{}", root.path().join("data/rocksdb").display());
    let server = TestServer::start_in(root, &["--db", &db_url]).await;
    let leaving = "vanishing.wombat@example.org";
    let staying = "staying.heron@example.org";
    let mut api = verified_account(&server, leaving, STRONG_PASSWORD).await;
    verified_account(&server, staying, STRONG_PASSWORD).await;
    api.login(leaving, STRONG_PASSWORD, true).await.ok();
    let mut other_device = server.client();
    other_device.login(leaving, STRONG_PASSWORD, false).await.ok();
    api.post("auth/forgot-password", json!({"email": leaving})).await.ok();

    let overview = api.get("privacy/overview").await.ok().clone();
    let count = |key: &str| overview["holdings"].as_array().unwrap().iter().find(|h| h["key"] == key).unwrap()["count"].as_i64().unwrap();
    assert_eq!(count("profile"), 1);
    assert_eq!(count("sessions"), 2);
    assert_eq!(count("signin_history"), 2);
    assert_eq!(count("consents"), 2);
    assert_eq!(overview["consents"][0]["version"], 1);

    let wrong = api.post("privacy/delete-account", json!({"password": "nope", "confirmation": "DELETE"})).await;
    assert_eq!(wrong.error(), &json!("WrongPassword"));
    let typo = api.post("privacy/delete-account", json!({"password": STRONG_PASSWORD, "confirmation": "delete"})).await;
    assert_eq!(typo.error(), &json!("ConfirmationMismatch"));
    let running = server.running.as_ref().unwrap();
    let account = account_record(&server, leaving).await;
    let key = server::db::ids::key_string(&account);

    let reply = api.post("privacy/delete-account", json!({"password": STRONG_PASSWORD, "confirmation": "DELETE"})).await;
    reply.ok();
    assert!(reply.headers.contains_key("clear-site-data"));
    wait_for_mail(&server.mail_dir(), leaving, "account was deleted").await;

    // No table holds a row of the account; its key and blind index are gone.
    let db = running.db.clone();
    for (table, fields) in schema(&db).await {
        let by_key: Option<i64> = db
            .client()
            .query("RETURN count(SELECT id FROM $id)")
            .bind(("id", surrealdb::types::RecordId::new(table.as_str(), key.clone())))
            .await
            .unwrap()
            .take(0)
            .unwrap();
        assert_eq!(by_key, Some(0), "{table} still has the account's record key");
        if fields.iter().any(|f| f == "account") {
            let n: Option<i64> = db
                .client()
                .query(format!("RETURN count(SELECT id FROM {table} WHERE account = $a)"))
                .bind(("a", account.clone()))
                .await
                .unwrap()
                .take(0)
                .unwrap();
            assert_eq!(n, Some(0), "{table} still has rows of the erased account");
        }
    }
    let data_key: Option<i64> = db
        .client()
        .query("RETURN count(SELECT id FROM $id)")
        .bind(("id", surrealdb::types::RecordId::new("data_key", format!("account-{key}"))))
        .await
        .unwrap()
        .take(0)
        .unwrap();
    assert_eq!(data_key, Some(0), "no data key in the database");
    assert!(!server.data_dir().join(format!("keys/account-{key}.key")).exists(), "the data key file was destroyed");
    assert!(server.data_dir().join("keys").read_dir().unwrap().count() >= 1, "the other account keeps its key");
    let index = server.running.as_ref().unwrap().email_index(leaving);
    let indexed: Option<i64> =
        db.client().query("RETURN count(SELECT id FROM account WHERE email_index = $i)").bind(("i", index)).await.unwrap().take(0).unwrap();
    assert_eq!(indexed, Some(0), "the blind index entry is gone");
    // The final mail's outbox row is purged once sent: the worker deletes it
    // right after writing the mail, so the mail can be seen a moment before.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let outbox: Option<i64> = db.client().query("RETURN count(SELECT id FROM outbox WHERE kind = 'account_deleted')").await.unwrap().take(0).unwrap();
        if outbox == Some(0) {
            break;
        }
        assert!(Instant::now() < deadline, "the sent mail's outbox row was never purged");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    assert_eq!(other_device.me().await, json!(null), "every session ended");
    assert_eq!(server.client().login(leaving, STRONG_PASSWORD, false).await.error(), &json!("InvalidCredentials"));
    server.client().login(staying, STRONG_PASSWORD, false).await.ok();

    let root = server.stop().await;
    for file in walk(&root.path().join("data/rocksdb")) {
        let bytes = std::fs::read(&file).unwrap();
        for needle in [leaving.as_bytes(), b"vanishing", b"wombat"] {
            assert!(!bytes.windows(needle.len()).any(|w| w == needle), "found a trace in {}", file.display());
        }
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        if entry.path().is_dir() {
            out.extend(walk(&entry.path()))
        } else {
            out.push(entry.path())
        }
    }
    out
}

fn consent_verify(data: &std::path::Path) -> (bool, String) {
    let out =
        Command::new(env!("CARGO_BIN_EXE_server")).args(["consent", "verify", "--data-dir", data.to_str().unwrap()]).env_remove("RUST_LOG").output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr))
}

#[tokio::test]
async fn consent_verify_passes_intact_and_catches_edits_and_removals() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let db_url = format!("rocksdb://{}", data.join("rocksdb").display());
    let server = TestServer::start_in(root, &["--db", &db_url]).await;
    for email in ["ledger.one@example.org", "ledger.two@example.org"] {
        server.client().register(email, STRONG_PASSWORD, None).await.ok();
    }
    let root = server.stop().await;
    let (ok, output) = consent_verify(&data);
    assert!(ok, "{output}");
    assert!(output.contains("4 entries across 2 accounts"), "{output}");

    // Each tampering is applied to a fresh copy of the intact database.
    let tamperings = [
        ("UPDATE consent SET version = 7 WHERE seq = 1 AND document = 'terms'", "altered"),
        ("UPDATE consent SET accepted_at = accepted_at - 86400 WHERE seq = 2", "altered"),
        ("DELETE consent WHERE seq = 1", "missing"),
        ("DELETE consent WHERE seq = 2", "removed"),
    ];
    for (sql, expected) in tamperings {
        let copy = tempfile::tempdir().unwrap();
        copy_dir(&data, &copy.path().join("data"));
        let config = clap::Parser::try_parse_from(["server", "--data-dir", copy.path().join("data").to_str().unwrap()])
            .map(|cli: server::config::Cli| cli.serve)
            .unwrap();
        let core = server::open_core(&config, std::sync::Arc::new(server::clock::SystemClock)).await.unwrap();
        // The append-only guard refuses UPDATE; an attacker with the files would bypass it, so drop it here.
        core.ctx.db.client().query("REMOVE EVENT consent_append_only ON consent").await.unwrap().check().unwrap();
        core.ctx.db.client().query(sql).await.unwrap().check().unwrap();
        core.close().await;
        let (ok, output) = consent_verify(&copy.path().join("data"));
        assert!(!ok, "{sql}: tampering must be detected");
        assert!(output.contains(expected), "{sql}: {output}");
    }
    drop(root);
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else if entry.file_name() != "server.lock" {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

async fn wait_export_ready(api: &mut Api) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let status = api.get("privacy/export-status").await.ok().clone();
        if status["status"] == "ready" {
            return status;
        }
        assert_ne!(status["status"], "failed", "export failed");
        assert!(std::time::Instant::now() < deadline, "export never finished: {status}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Asks for the signed-in account's export, waits for it and downloads it:
/// (data.json, index.html).
pub async fn download_export(server: &TestServer, api: &mut Api) -> (Value, String) {
    api.post("privacy/export", json!({"password": STRONG_PASSWORD})).await.ok();
    let ready = wait_export_ready(api).await;
    let url = ready["download_url"].as_str().unwrap().to_string();
    let response = http_client().get(format!("{}{url}", server.base)).header("cookie", api.cookie.clone().unwrap()).send().await.unwrap();
    assert_eq!(response.status(), 200);
    unzip(&response.bytes().await.unwrap())
}

/// (data.json, index.html) from a ZIP, read by Python's zipfile.
fn unzip(bytes: &[u8]) -> (Value, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("export.zip");
    std::fs::write(&path, bytes).unwrap();
    let script = "import sys, zipfile, json\nz = zipfile.ZipFile(sys.argv[1])\nassert z.testzip() is None\n\
                  print(json.dumps({'data': json.loads(z.read('data.json')), 'html': z.read('index.html').decode()}))";
    let out = Command::new("python3").args(["-c", script]).arg(&path).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let both: Value = serde_json::from_slice(&out.stdout).unwrap();
    (both["data"].clone(), both["html"].as_str().unwrap().to_string())
}

#[tokio::test]
async fn an_export_a_crash_interrupted_is_marked_failed_and_its_partial_files_are_deleted() {
    let server = TestServer::start(&[]).await;
    let ctx = server.running.as_ref().unwrap().context().clone();
    let exports = server.data_dir().join("exports");
    std::fs::create_dir_all(&exports).unwrap();
    ctx.db
        .client()
        .query("CREATE export_job:cut SET account = account:someone, status = 'running', progress = 40, created_at = $at")
        .bind(("at", ctx.now() - 60))
        .await
        .unwrap()
        .check()
        .unwrap();
    for name in ["cut.zip.sealed", "cut.html.part"] {
        std::fs::write(exports.join(name), b"half").unwrap();
    }
    server::jobs::purge_once(&ctx, Some(ctx.now())).await;
    let status: Option<String> = ctx.db.client().query("SELECT VALUE status FROM ONLY export_job:cut").await.unwrap().take(0).unwrap();
    assert_eq!(status.as_deref(), Some("failed"));
    assert_eq!(std::fs::read_dir(&exports).unwrap().count(), 0, "no partial file is left");
    drop(ctx);
    server.stop().await;
}

#[tokio::test]
async fn export_is_a_zip_for_its_owner_only_once_an_hour_and_expires() {
    let server = TestServer::start(&[]).await;
    let email = "exporting.otter@example.org";
    let mut api = server.client();
    api.register(email, STRONG_PASSWORD, Some("Otto <Otter>")).await.ok();
    let mail = wait_for_mail(&server.mail_dir(), email, "verify").await;
    api.post("auth/verify-email", json!({"token": link_token(&mail)})).await.ok();
    api.login(email, STRONG_PASSWORD, false).await.ok();

    assert_eq!(api.post("privacy/export", json!({"password": "nope"})).await.error(), &json!("WrongPassword"));
    let started = api.post("privacy/export", json!({"password": STRONG_PASSWORD})).await.ok().clone();
    assert_eq!(started["status"], "queued");
    let ready = wait_export_ready(&mut api).await;
    let url = ready["download_url"].as_str().unwrap().to_string();
    wait_for_mail(&server.mail_dir(), email, "export is ready").await;

    let again = api.post("privacy/export", json!({"password": STRONG_PASSWORD})).await;
    assert!(again.error()["ExportTooSoon"]["retry_after_mins"].as_i64().unwrap() > 0);

    let http = http_client();
    let download = |cookie: Option<String>| {
        // Asking for compression, as browsers do: the stream passes the compression layer.
        let mut request = http.get(format!("{}{url}", server.base)).header("accept-encoding", "gzip");
        if let Some(c) = cookie {
            request = request.header("cookie", c);
        }
        request.send()
    };
    let response = download(api.cookie.clone()).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/zip");
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert_eq!(response.headers()["content-encoding"], "gzip");
    let compressed = response.bytes().await.unwrap();
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&compressed[..]), &mut bytes).unwrap();
    let (data, html) = unzip(&bytes);
    assert_eq!(data["format_version"], 1);
    assert_eq!(data["categories"]["profile"][0]["email"], email);
    assert_eq!(data["categories"]["profile"][0]["display_name"], "Otto <Otter>");
    assert!(data["categories"]["profile"][0].get("password_hash").is_none(), "hashes stay out");
    assert_eq!(data["categories"]["consents"].as_array().unwrap().len(), 2);
    assert_eq!(data["categories"]["signin_history"][0]["ip"], "127.0.0.1");
    for category in app::inventory::INVENTORY {
        assert!(data["categories"].get(category.key).is_some(), "{} missing from the export", category.key);
    }
    assert!(html.contains(email) && html.contains("Otto &lt;Otter&gt;"), "readable and escaped");
    assert!(html.starts_with("<!DOCTYPE html>") && html.ends_with("</body></html>"), "one whole page");
    for category in app::inventory::INVENTORY {
        assert!(html.contains(&format!("<h2>{}</h2>", category.title.replace('&', "&amp;"))), "{} missing from index.html", category.key);
    }
    assert!(html.contains("<p><em>Nothing stored.</em></p>"), "empty categories say so");

    // Not for anyone else, and the file on disk is encrypted.
    assert_eq!(download(None).await.unwrap().status(), 404);
    let mut other = verified_account(&server, "someone.else@example.org", STRONG_PASSWORD).await;
    other.login("someone.else@example.org", STRONG_PASSWORD, false).await.ok();
    assert_eq!(download(other.cookie.clone()).await.unwrap().status(), 404);
    let files: Vec<_> = std::fs::read_dir(server.data_dir().join("exports")).unwrap().flatten().collect();
    assert_eq!(files.len(), 1);
    let on_disk = std::fs::read(files[0].path()).unwrap();
    assert!(!on_disk.windows(email.len()).any(|w| w == email.as_bytes()));

    // After 48 hours the link is dead and the file deleted.
    server.clock.advance(48 * 3600 + 1);
    assert_eq!(download(api.cookie.clone()).await.unwrap().status(), 404);
    server.purge_now().await;
    assert_eq!(std::fs::read_dir(server.data_dir().join("exports")).unwrap().count(), 0);
    server.stop().await;
}

#[tokio::test]
async fn large_categories_are_exported_page_by_page_and_erased_in_batches() {
    let server = TestServer::start(&[]).await;
    let email = "prolific@example.org";
    let mut api = verified_account(&server, email, STRONG_PASSWORD).await;
    api.login(email, STRONG_PASSWORD, false).await.ok();
    let running = server.running.as_ref().unwrap();
    let account = Some(account_record(&server, email).await);
    // 2,300 extra ledger rows (no encrypted fields): several export pages and delete batches.
    running
        .db
        .client()
        .query("FOR $i IN 1..=2300 { CREATE consent SET account = $a, document = 'terms', version = 1, accepted_at = $i, seq = $i + 2, prev_hash = 'x', hash = 'y' }")
        .bind(("a", account.clone().unwrap()))
        .await
        .unwrap()
        .check()
        .unwrap();
    api.post("privacy/export", json!({"password": STRONG_PASSWORD})).await.ok();
    let ready = wait_export_ready(&mut api).await;
    let url = ready["download_url"].as_str().unwrap().to_string();
    let bytes = http_client().get(format!("{}{url}", server.base)).header("cookie", api.cookie.clone().unwrap()).send().await.unwrap().bytes().await.unwrap();
    let (data, _) = unzip(&bytes);
    let consents = data["categories"]["consents"].as_array().unwrap();
    assert_eq!(consents.len(), 2302, "every row, each once");
    let unique: std::collections::HashSet<_> = consents.iter().map(|c| c["id"].as_str().unwrap().to_string()).collect();
    assert_eq!(unique.len(), 2302);

    api.post("privacy/delete-account", json!({"password": STRONG_PASSWORD, "confirmation": "DELETE"})).await.ok();
    let left: Option<i64> = running.db.client().query("RETURN count(SELECT id FROM consent)").await.unwrap().take(0).unwrap();
    assert_eq!(left, Some(0));
    server.stop().await;
}

#[tokio::test]
async fn a_row_written_behind_the_erasure_sweep_while_it_runs_is_erased_too() {
    let server = TestServer::start(&[]).await;
    let email = "busy@example.org";
    let mut api = verified_account(&server, email, STRONG_PASSWORD).await;
    api.login(email, STRONG_PASSWORD, false).await.ok();
    let running = server.running.as_ref().unwrap();
    let account = account_record(&server, email).await;
    // 1,500 labels (two delete batches); deleting the 700th writes a new one
    // with a key before every other, behind the sweep.
    running
        .db
        .client()
        .query(
            "FOR $i IN 0..1500 { CREATE type::record('label', 'k' + <string> (10000 + $i)) SET account = $a, name = 'n' + <string> $i, created_at = 0 }; \
             DEFINE EVENT behind ON label WHEN $event = 'DELETE' AND $before.name = 'n700' THEN { CREATE label:⟨000000⟩ SET account = $before.account, name = 'behind', created_at = 0 };",
        )
        .bind(("a", account))
        .await
        .unwrap()
        .check()
        .unwrap();
    api.post("privacy/delete-account", json!({"password": STRONG_PASSWORD, "confirmation": "DELETE"})).await.ok();
    let left: Vec<String> = running.db.client().query("SELECT VALUE name FROM label").await.unwrap().take(0).unwrap();
    assert!(left.is_empty(), "left behind: {left:?}");
    server.stop().await;
}
