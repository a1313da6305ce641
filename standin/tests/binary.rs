//! The `standin` binary as tests, benchmarks and Playwright start it.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Killer(Child);

impl Drop for Killer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn wait_listening(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "the stand-in on port {port} did not start listening");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn the_stand_in_binary_prints_its_control_token_and_refuses_control_calls_without_it() {
    let port = free_port();
    let mut command = Command::new(env!("CARGO_BIN_EXE_standin"));
    command.args(["--listen", &format!("127.0.0.1:{port}")]).env_remove("CHATFBTOP_STANDIN_CONTROL_TOKEN").stdin(Stdio::null()).stdout(Stdio::piped());
    let mut child = Killer(command.spawn().unwrap());
    wait_listening(port);
    let mut stdout = std::io::BufReader::new(child.0.stdout.take().unwrap());
    let mut lines = String::new();
    for _ in 0..2 {
        std::io::BufRead::read_line(&mut stdout, &mut lines).unwrap();
    }
    let token = lines.split("x-standin-token to /_standin/...): ").nth(1).expect("the token is printed").trim().to_string();
    assert!(token.len() >= 32, "{lines}");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let http = reqwest::Client::new();
        let url = format!("http://127.0.0.1:{port}/_standin/pages");
        let page = serde_json::json!({"id": "4242", "name": "Token Shop", "token": "t"});
        for wrong in [None, Some("nope"), Some(&token[..token.len() - 1])] {
            let mut request = http.post(&url).json(&page);
            if let Some(w) = wrong {
                request = request.header("x-standin-token", w);
            }
            assert_eq!(request.send().await.unwrap().status(), 401, "{wrong:?}");
        }
        assert!(http.post(&url).header("x-standin-token", &token).json(&page).send().await.unwrap().status().is_success());
        // The Graph API side needs no token: it checks Page tokens like Facebook.
        let graph = http.get(format!("http://127.0.0.1:{port}/v21.0/4242?access_token=t")).send().await.unwrap();
        assert_eq!(graph.status(), 200);
    });
}
