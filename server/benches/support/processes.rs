//! The real server binary and the Graph API stand-in, each in its own
//! process on loopback, so that a benchmark measures the server process's
//! memory alone. Shared by the benches (`#[path]`-included), which use
//! different parts of it.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub struct Process(pub Child);

impl Process {
    /// `VmRSS:` or `VmHWM:` of the process, in KiB.
    pub fn rss_kib(&self, field: &str) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.0.id()))
            .ok()
            .and_then(|s| s.lines().find(|l| l.starts_with(field)).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()))
            .unwrap_or(0)
    }

    /// SIGTERM, then wait: a graceful stop.
    pub fn stop(mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.0.id().to_string()]).status();
        let _ = self.0.wait();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn binary() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_server"));
    for (key, _) in std::env::vars() {
        if key.starts_with("CHATFBTOP_") {
            cmd.env_remove(key);
        }
    }
    cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::inherit()).env("RUST_LOG", "warn");
    cmd
}

/// What the benches' stand-in process wants in `x-standin-token`.
pub const STANDIN_CONTROL_TOKEN: &str = "bench-control-token";

/// Set in the stand-in's process: the bench binary itself, started again,
/// serves the stand-in (the `standin` crate) instead of benchmarking.
const STANDIN_LISTEN: &str = "BENCH_STANDIN_LISTEN";

/// The Graph API stand-in in its own process on `port`, posting echoes and
/// receipts to `webhook`.
pub fn standin(port: u16, secret: &str, webhook: &str) -> Process {
    let mut cmd = Command::new(std::env::current_exe().expect("the bench binary's path"));
    cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::inherit()).env("RUST_LOG", "warn");
    cmd.env(STANDIN_LISTEN, format!("127.0.0.1:{port}")).env("BENCH_STANDIN_SECRET", secret).env("BENCH_STANDIN_WEBHOOK", webhook);
    let process = Process(cmd.spawn().expect("the stand-in starts"));
    wait_listening(port);
    process
}

/// First thing in a bench's `main`: in the stand-in's process, serve the
/// stand-in until killed and never return.
pub fn serve_standin_if_asked() {
    let Ok(listen) = std::env::var(STANDIN_LISTEN) else { return };
    let config = standin::StandinConfig {
        app_secret: std::env::var("BENCH_STANDIN_SECRET").ok(),
        webhook_url: std::env::var("BENCH_STANDIN_WEBHOOK").ok(),
        demo: false,
        control_token: Some(STANDIN_CONTROL_TOKEN.to_string()),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let _running = standin::Standin::start(listen.parse().expect("a socket address"), config).await.expect("the stand-in listens");
        std::future::pending::<()>().await;
    });
}

/// The stand-in's progress: `sent`, `requests`, `rate_limited`, `pending_webhooks`.
pub async fn standin_counters(http: &reqwest::Client, base: &str) -> Value {
    http.get(format!("{base}/_standin/counters")).header("x-standin-token", STANDIN_CONTROL_TOKEN).send().await.unwrap().json().await.unwrap()
}

/// Every Send API call the stand-in accepted (`psid`, `at_ms`, …).
pub async fn standin_sent(http: &reqwest::Client, base: &str) -> Vec<Value> {
    http.get(format!("{base}/_standin/sent")).header("x-standin-token", STANDIN_CONTROL_TOKEN).send().await.unwrap().json().await.unwrap()
}

/// Sets the stand-in up: `pages`, `behaviour`.
pub async fn standin_control(http: &reqwest::Client, base: &str, path: &str, body: Value) {
    let r = http.post(format!("{base}/_standin/{path}")).header("x-standin-token", STANDIN_CONTROL_TOKEN).json(&body).send().await.unwrap();
    assert!(r.status().is_success(), "stand-in control {path}: {}", r.status());
}

/// The workspace's SurrealDB server (tools/surreal-server) on RocksDB in
/// `folder`, with a root user and a block cache of `cache_mib` (its default
/// is half the machine's memory less 1 GiB). It is another package's binary,
/// so it is built first, beside the server's: `cargo build --profile bench -p surreal-server`.
pub fn surreal(folder: &Path, port: u16, user: &str, password: &str, cache_mib: u64) -> Process {
    let binary = Path::new(env!("CARGO_BIN_EXE_server")).with_file_name("surreal");
    assert!(binary.exists(), "{} is missing: build it with `cargo build --profile bench -p surreal-server`", binary.display());
    let mut cmd = Command::new(binary);
    cmd.args(["start", "--no-banner", "--log", "warn", "--user", user, "--pass", password, "--bind", &format!("127.0.0.1:{port}")])
        .arg(format!("rocksdb://{}", folder.display()))
        .env("SURREAL_ROCKSDB_BLOCK_CACHE_SIZE", (cache_mib << 20).to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    let process = Process(cmd.spawn().expect("the surreal binary starts"));
    wait_listening(port);
    process
}

/// The app server in plain HTTP (as behind a proxy) on `port`, with its
/// defaults otherwise; BENCH_SERVER_ARGS adds flags (e.g. `--db-memory 64`).
pub fn server(data: &Path, db: &str, port: u16, extra: &[&str]) -> Process {
    let mut cmd = binary();
    let from_env = std::env::var("BENCH_SERVER_ARGS").unwrap_or_default();
    cmd.args(["--data-dir", data.to_str().unwrap(), "--db", db, "--port", &port.to_string(), "--behind-proxy", "--site-dir", "/nonexistent"])
        .args(extra)
        .args(from_env.split_whitespace());
    let process = Process(cmd.spawn().expect("the server starts"));
    wait_listening(port);
    process
}

fn wait_listening(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nothing listens on port {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Bytes under a folder.
pub fn folder_size(path: &Path) -> u64 {
    std::fs::read_dir(path)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => folder_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}
