//! Limits on what costs the server or guesses at passwords, and a burst of
//! sign-ups that leaves the server answering.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use server::crypto::password;

use super::support::*;

/// 50 sign-ups at once over HTTP, served by this test's one-thread
/// runtime: /healthz answers within 200 ms throughout (the figure;
/// the one timed assertion here), some of its answers come while one of
/// this runtime's hashes runs (so hashing does not hold the runtime), and
/// no more hashes ever run at once than the pool allows.
#[tokio::test(flavor = "current_thread")]
async fn fifty_parallel_sign_ups_keep_the_health_check_answering_within_200_ms() {
    // Plain HTTP, as behind a proxy that ends TLS: in an unoptimised build,
    // 50 TLS handshakes would be most of what this measures.
    let server = TestServer::start(&["--requests-per-ip-per-hour", "1000", "--behind-proxy"]).await;
    let base = server.base.replace("https://", "http://");
    let here = std::thread::current().id();
    let done = Arc::new(AtomicBool::new(false));
    let (ready, polling) = tokio::sync::oneshot::channel();
    let health = {
        let (url, done) = (format!("{base}/healthz"), done.clone());
        tokio::spawn(async move {
            let http = http_client();
            // The connection is set up before the burst: the handshake is not an answer.
            assert_eq!(http.get(&url).send().await.unwrap().status(), 200);
            let _ = ready.send(());
            // Each answer: how long it took, and how many of this runtime's hashes were running.
            let mut answers = Vec::new();
            while !done.load(Ordering::SeqCst) {
                let asked = Instant::now();
                let status = http.get(&url).send().await.unwrap().status();
                answers.push((asked.elapsed(), password::running_for(here)));
                assert_eq!(status, 200);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            answers
        })
    };
    polling.await.unwrap();
    // The sign-ups come from another thread: this one runs only the server and the health checks.
    let (finished, statuses) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        // Each client its own IP, as 50 people would be: no shared attempt-limit row.
        let clients = (0..50u8).map(|n| {
            let mut headers = reqwest::header::HeaderMap::new();
            headers.insert("x-forwarded-for", format!("10.0.0.{n}").parse().unwrap());
            (n, Api { base: base.clone(), http: reqwest::Client::builder().default_headers(headers).build().unwrap(), cookie: None })
        });
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let all = runtime.block_on(futures::future::join_all(
            clients.map(|(n, mut api)| async move { api.register(&format!("burst{n}@example.org"), STRONG_PASSWORD, None).await.status }),
        ));
        let _ = finished.send(all);
    });
    let statuses = statuses.await.unwrap();
    done.store(true, Ordering::SeqCst);
    let answers = health.await.unwrap();
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");

    let slowest = answers.iter().map(|(took, _)| *took).max().unwrap_or_default();
    let while_hashing = answers.iter().filter(|(_, running)| *running > 0).count();
    let load = password::pool_load();
    println!(
        "/healthz during 50 parallel sign-ups: slowest {slowest:?} (limit 200 ms) of {} answers, {while_hashing} while one of its hashes ran; \
         Argon2 at once: peak {} (bound {})",
        answers.len(),
        load.peak_running,
        load.slots
    );
    assert!(while_hashing > 0, "no health answer came while a sign-up's hash ran: hashing holds the runtime");
    assert!((1..=load.slots).contains(&load.peak_running), "more Argon2 runs at once than the pool allows: {load:?}");
    assert!(slowest < Duration::from_millis(200), "slowest /healthz {slowest:?}");
    server.stop().await;
}
