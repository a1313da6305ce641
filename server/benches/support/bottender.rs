//! The peer for the webhook benchmark: bottender 1.5.5 (the Node framework a
//! Messenger team would otherwise pick), run from `benches/peers/bottender`
//! as `bottender start` runs it, in its own process on loopback.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

pub struct Bottender {
    child: Child,
    pub url: String,
    port: u16,
}

fn folder() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/peers/bottender")
}

impl Bottender {
    /// Installs its npm packages if missing (`--ignore-scripts`: ngrok's
    /// install step downloads a binary), starts it and waits until it listens.
    /// None, with the reason printed, when Node.js or the packages are missing.
    pub fn start(app_secret: &str) -> Option<Self> {
        let dir = folder();
        if !dir.join("node_modules/bottender").exists() {
            let status = Command::new("npm").args(["ci", "--ignore-scripts", "--no-audit", "--no-fund", "--silent"]).current_dir(&dir).status();
            if !status.is_ok_and(|s| s.success()) {
                eprintln!("bottender: `npm ci` failed in {}; the peer is left out", dir.display());
                return None;
            }
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0").ok()?.local_addr().ok()?.port();
        let mut child = Command::new("node")
            .arg(dir.join("server.js"))
            .env("PORT", port.to_string())
            .env("APP_SECRET", app_secret)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| eprintln!("bottender: node did not start ({e}); the peer is left out"))
            .ok()?;
        let stdout = child.stdout.take()?;
        let ready = BufReader::new(stdout).lines().map_while(Result::ok).any(|line| line.starts_with("listening on"));
        if !ready {
            let _ = child.kill();
            eprintln!("bottender: it exited before listening; the peer is left out");
            return None;
        }
        Some(Bottender { child, url: format!("http://127.0.0.1:{port}/webhooks/messenger"), port })
    }

    /// How many events its action has kept (it answers before the action ends).
    pub async fn received(&self) -> u64 {
        let url = format!("http://127.0.0.1:{}/_count", self.port);
        let text = reqwest::get(url).await.ok().map(|r| r.text());
        match text {
            Some(t) => t.await.ok().and_then(|t| t.trim().parse().ok()).unwrap_or(0),
            None => 0,
        }
    }

    /// Resident memory of the Node process, in KiB.
    pub fn rss_kib(&self, field: &str) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .ok()
            .and_then(|s| s.lines().find(|l| l.starts_with(field)).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()))
            .unwrap_or(0)
    }
}

impl Drop for Bottender {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
