//! The binary starts a SurrealDB server that answers on its port. Also what
//! makes `cargo test` build `target/…/surreal`, which the server's
//! multi-process tests start.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The server's answer to `GET /health`, or None while it is not listening.
fn health(port: u16) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    stream.write_all(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    Some(answer)
}

#[test]
fn a_memory_server_starts_and_answers_its_health_check() {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut server = Command::new(env!("CARGO_BIN_EXE_surreal"))
        .args(["start", "--no-banner", "--log", "warn", "--user", "root", "--pass", "test-only", "--bind", &format!("127.0.0.1:{port}"), "memory"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .expect("the surreal binary starts");
    let deadline = Instant::now() + Duration::from_secs(60);
    let answer = loop {
        if let Some(answer) = health(port) {
            break answer;
        }
        assert!(Instant::now() < deadline, "the SurrealDB server did not listen within a minute");
        std::thread::sleep(Duration::from_millis(100));
    };
    let _ = server.kill();
    let _ = server.wait();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}
