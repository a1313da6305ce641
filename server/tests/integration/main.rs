//! End-to-end checks of the real server: in process on random ports with
//! `mem://`, and as the built binary for start-up failures and shutdown.
//! One test binary on purpose: each one links SurrealDB.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use clap::Parser;
use server::config::Cli;

mod accounts;
mod admin;
mod at_rest;
mod broadcasts;
mod campaign_report;
mod crash;
mod dashboard;
mod deliveries;
mod disabled;
mod echoes;
mod erasure_paths;
mod graph_settings;
mod inbox;
mod instances;
mod lifecycle;
mod limits;
mod messenger;
mod notices;
mod page_takeover;
mod privacy;
mod proofs;
mod redaction;
mod scale_out;
// The seeding helpers the benchmarks use too; they live with the benchmarks.
#[path = "../../benches/support/mod.rs"]
mod seed;
mod single_line;
mod storage;
mod support;
mod takeover;

const SHELL: &str = r#"<!DOCTYPE html><html><head><title>t</title>
<script type="module">import init from '/frontend-0123456789abcdef.js'; await init();</script>
</head><body><p>shell page, long enough to be worth compressing: chat fb top chat fb top chat fb top</p></body></html>"#;

fn config(args: &[&str]) -> server::config::ServeConfig {
    Cli::try_parse_from(std::iter::once("server").chain(args.iter().copied())).expect("valid flags").serve
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().danger_accept_invalid_certs(true).redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

fn site_dir(root: &Path) -> PathBuf {
    let site = root.join("site");
    std::fs::create_dir_all(&site).unwrap();
    std::fs::write(site.join("index.html"), SHELL).unwrap();
    std::fs::write(site.join("frontend-0123456789abcdef.js"), "export default async function init() {}\n".repeat(10)).unwrap();
    site
}

/// A file's `.br` copy, written at build time, is sent as it is to a
/// browser that takes brotli; one that does not gets the file itself.
#[tokio::test]
async fn precompressed_copies_are_served_as_they_are() {
    let root = tempfile::tempdir().unwrap();
    let site = site_dir(root.path());
    let data = root.path().join("data");
    let done = server::http::precompress::precompress(&site).unwrap();
    assert_eq!(done.len(), 2, "the page and its script: {done:?}");
    // A marker copy: what the server would compress by itself could never equal it.
    let marker = b"not what compressing the script gives".to_vec();
    std::fs::write(site.join("frontend-0123456789abcdef.js.br"), &marker).unwrap();
    let cfg = config(&["--db", "mem://", "--port", "0", "--no-http-redirect", "--data-dir", data.to_str().unwrap(), "--site-dir", site.to_str().unwrap()]);
    let running = server::start(&cfg).await.expect("server starts");
    let url = format!("https://127.0.0.1:{}/frontend-0123456789abcdef.js", running.app_addr.port());
    let r = client().get(&url).header("accept-encoding", "br").send().await.unwrap();
    assert_eq!((r.status().as_u16(), r.headers()["content-encoding"].to_str().unwrap()), (200, "br"));
    assert!(r.headers()["content-type"].to_str().unwrap().contains("javascript"), "{:?}", r.headers());
    assert_eq!(r.bytes().await.unwrap().to_vec(), marker);
    let r = client().get(&url).header("accept-encoding", "identity").send().await.unwrap();
    assert!(r.headers().get("content-encoding").is_none());
    assert!(r.text().await.unwrap().starts_with("export default async function init()"));
    running.shutdown(Duration::from_secs(5)).await.expect("clean shutdown");
}

#[tokio::test]
async fn https_server_answers_with_headers_health_and_server_functions() {
    let root = tempfile::tempdir().unwrap();
    let site = site_dir(root.path());
    let data = root.path().join("data");
    let cfg = config(&["--db", "mem://", "--port", "0", "--http-port", "0", "--data-dir", data.to_str().unwrap(), "--site-dir", site.to_str().unwrap()]);
    let running = server::start(&cfg).await.expect("server starts");
    let base = format!("https://127.0.0.1:{}", running.app_addr.port());
    let http = client();

    // Plain HTTP only redirects, keeping path and query.
    let redirect_addr = running.redirect_addr.expect("redirect listener");
    let r = http.get(format!("http://{redirect_addr}/leads?page=2")).send().await.unwrap();
    assert_eq!(r.status(), 308);
    assert_eq!(r.headers()["location"], format!("https://127.0.0.1:{}/leads?page=2", running.app_addr.port()));

    // Health reports the database.
    let r = http.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let health: serde_json::Value = r.json().await.unwrap();
    assert_eq!(health["database"], "ok");
    assert_eq!(health["schema_version"], server::db::SCHEMA_VERSION);

    // The shell: security headers, CSP hash of the inline loader, compression.
    let r = http.get(format!("{base}/")).header("accept-encoding", "gzip").send().await.unwrap();
    assert_eq!(r.status(), 200);
    let h = r.headers().clone();
    assert_eq!(h["content-encoding"], "gzip");
    assert_eq!(h["cache-control"], "no-cache");
    assert!(h["strict-transport-security"].to_str().unwrap().contains("includeSubDomains"));
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["referrer-policy"], "no-referrer");
    assert_eq!(h["cross-origin-opener-policy"], "same-origin");
    assert!(h.contains_key("permissions-policy"));
    let csp = h["content-security-policy"].to_str().unwrap();
    let inline = SHELL.split("<script type=\"module\">").nth(1).unwrap().split("</script>").next().unwrap();
    use base64::Engine as _;
    use sha2::Digest as _;
    let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(inline.as_bytes()));
    assert!(csp.contains(&format!("'sha256-{hash}'")), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");

    // Hashed assets are cached for long; client routes get the shell; missing files 404.
    let r = http.get(format!("{base}/frontend-0123456789abcdef.js")).header("accept-encoding", "br").send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-encoding"], "br");
    assert!(r.headers()["cache-control"].to_str().unwrap().contains("immutable"));
    let r = http.get(format!("{base}/some/client/route")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("shell page"));
    assert_eq!(http.get(format!("{base}/missing-file.js")).send().await.unwrap().status(), 404);

    // A server-function round trip, over GET as declared.
    let r = http.get(format!("{base}/api/status")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let status: app::types::ServerStatus = r.json().await.unwrap();
    assert_eq!(status.database, app::types::DatabaseState::Ok);
    assert_eq!(status.schema_version, server::db::SCHEMA_VERSION);
    assert_eq!(status.version, env!("CARGO_PKG_VERSION"));
    // Unknown server functions are not routed to the SPA.
    let r = http.post(format!("{base}/api/no-such-function")).send().await.unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());

    running.shutdown(Duration::from_secs(5)).await.expect("clean shutdown");
}

#[tokio::test]
async fn behind_proxy_trusts_forwarded_proto_and_serves_plain_http() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let cfg = config(&["--db", "mem://", "--port", "0", "--behind-proxy", "--data-dir", data.to_str().unwrap()]);
    let running = server::start(&cfg).await.expect("server starts");
    assert!(running.redirect_addr.is_none(), "the proxy owns port 80");
    let base = format!("http://127.0.0.1:{}", running.app_addr.port());
    let http = client();
    let r = http.get(format!("{base}/healthz")).header("x-forwarded-proto", "https").send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers().contains_key("strict-transport-security"));
    let r = http.get(format!("{base}/account")).header("host", "chat.example.org").header("x-forwarded-proto", "http").send().await.unwrap();
    assert_eq!(r.status(), 308);
    assert_eq!(r.headers()["location"], "https://chat.example.org/account");
    running.shutdown(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test]
async fn embedded_rocksdb_persists_across_restarts() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let cfg = config(&["--port", "0", "--no-http-redirect", "--data-dir", data.to_str().unwrap()]);
    let first = server::start(&cfg).await.expect("first start");
    first.db.client().query("CREATE setting:marker SET value = 'kept'").await.unwrap().check().unwrap();
    first.shutdown(Duration::from_secs(5)).await.unwrap();
    assert!(data.join("rocksdb/CURRENT").exists(), "RocksDB files live in the data folder");

    let second = server::start(&cfg).await.expect("restart after a clean shutdown");
    let value: Option<String> = second.db.client().query("SELECT VALUE value FROM ONLY setting:marker").await.unwrap().take(0).unwrap();
    assert_eq!(value.as_deref(), Some("kept"));
    assert_eq!(second.db.health().await.unwrap(), server::db::SCHEMA_VERSION);
    second.shutdown(Duration::from_secs(5)).await.unwrap();
}

// ---- the built binary ----

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn binary(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_server"));
    cmd.args(args).env_remove("RUST_LOG").stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    for (key, _) in std::env::vars() {
        if key.starts_with("CHATFBTOP_") {
            cmd.env_remove(key);
        }
    }
    cmd
}

/// Runs the binary to completion (it must fail fast) and returns (exit code, stderr).
fn run_failing(args: &[&str]) -> (i32, String) {
    let out = binary(args).output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn assert_one_clear_sentence(stderr: &str, needle: &str) {
    assert!(stderr.contains(needle), "expected {needle:?} in: {stderr}");
    assert!(!stderr.contains("panicked"), "must not panic: {stderr}");
    let error_lines: Vec<_> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(error_lines.len(), 1, "one error sentence: {stderr}");
}

#[test]
fn help_lists_flags_with_environment_variables() {
    let out = binary(&["--help"]).output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for needle in ["--data-dir", "CHATFBTOP_DATA_DIR", "--db", "CHATFBTOP_DB", "--tls-cert", "--behind-proxy", "CHATFBTOP_PORT"] {
        assert!(help.contains(needle), "{needle} missing from --help");
    }
}

#[test]
fn failed_starts_exit_non_zero_with_one_sentence() {
    let root = tempfile::tempdir().unwrap();

    let (code, err) = run_failing(&["--no-such-flag"]);
    assert_ne!(code, 0);
    assert!(err.contains("--no-such-flag"), "{err}");

    let file = root.path().join("plain-file");
    std::fs::write(&file, b"x").unwrap();
    let under_file = file.join("data");
    let (code, err) = run_failing(&["--db", "mem://", "--data-dir", under_file.to_str().unwrap()]);
    assert_ne!(code, 0);
    assert_one_clear_sentence(&err, "cannot be written");

    let data = root.path().join("d1");
    let missing = root.path().join("missing-cert.pem");
    let (code, err) = run_failing(&[
        "--db",
        "mem://",
        "--data-dir",
        data.to_str().unwrap(),
        "--port",
        &free_port().to_string(),
        "--http-port",
        &free_port().to_string(),
        "--tls-cert",
        missing.to_str().unwrap(),
        "--tls-key",
        missing.to_str().unwrap(),
    ]);
    assert_ne!(code, 0);
    assert_one_clear_sentence(&err, "missing-cert.pem");

    let (code, err) = run_failing(&["--db", "postgres://nope", "--data-dir", data.to_str().unwrap()]);
    assert_ne!(code, 0);
    assert_one_clear_sentence(&err, "unsupported database address");
}

struct Killer(Child);
impl Drop for Killer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits until the server accepts connections on `port`.
fn wait_listening(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("server on port {port} did not start listening");
}

#[test]
fn a_locked_data_folder_is_refused_and_sigterm_stops_gracefully() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let (port, http_port) = (free_port(), free_port());
    let data_arg = data.to_str().unwrap();
    let mut first = Killer(binary(&["--data-dir", data_arg, "--port", &port.to_string(), "--http-port", &http_port.to_string()]).spawn().unwrap());
    wait_listening(port);

    let (code, err) = run_failing(&["--data-dir", data_arg, "--port", &free_port().to_string(), "--http-port", &free_port().to_string()]);
    assert_ne!(code, 0);
    assert_one_clear_sentence(&err, "already in use");

    let pid = first.0.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = first.0.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "server did not stop after SIGTERM");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "graceful exit, got {status:?}");
    let mut stderr = String::new();
    use std::io::Read as _;
    first.0.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    assert!(stderr.contains("stopped"), "{stderr}");
}
