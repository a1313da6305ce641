//! The Graph API address is checked where it is used, not only when it is
//! saved: one an earlier release stored is refused, and no call goes out.

use serde_json::json;

use super::support::{World, PAGE_ID, PAGE_TOKEN};

async fn store_graph_address(w: &World, address: &str) {
    w.ctx()
        .db
        .client()
        .query("UPDATE messenger_app:config SET graph_base_url = $address")
        .bind(("address", address.to_string()))
        .await
        .unwrap()
        .check()
        .unwrap();
}

#[tokio::test]
async fn a_graph_address_an_earlier_release_stored_is_refused_when_used_and_no_call_goes_out() {
    let mut w = World::start("graph.address@example.org").await;
    w.write("psid-of-gina", "hello").await;
    let gina = w.wait_for_named_lead("psid-of-gina").await;
    let good = w.standin.base_url();
    let (calls_before, _) = w.standin.state.counters();
    // A look-alike of the loopback, and the stand-in's own address with a tab
    // or a line break that the URL parser would drop (the call would reach it).
    for stored in
        ["http://localhost.evil.tld".to_string(), format!("{good}/\t"), format!("{good}\n"), format!("http://127.0.\t0.1:{}", good.rsplit(':').next().unwrap())]
    {
        store_graph_address(&w, &stored).await;
        for (endpoint, args) in [
            ("messenger/reply", json!({"lead": gina, "text": "are you there?"})),
            ("messenger/connect-page", json!({"page_id": PAGE_ID, "access_token": PAGE_TOKEN})),
            ("messenger/facebook-login", json!({})),
        ] {
            assert_eq!(w.api.post(endpoint, args).await.error(), "MessengerNotConfigured", "{endpoint} with {stored:?}");
        }
        // Webhooks still arrive: receiving needs only the app secret.
        assert_eq!(w.write("psid-of-hugo", "still received").await, 200);
    }
    assert_eq!(w.standin.state.counters().0, calls_before, "no call reached the Graph API");
    assert!(w.standin.state.sent().is_empty());

    // Saved again as allowed, it is used again.
    store_graph_address(&w, &good).await;
    w.api.post("messenger/reply", json!({"lead": gina, "text": "back again"})).await.ok();
    assert_eq!(w.wait_for_sent(1).await[0].text, "back again");
    w.standin.stop();
    w.server.stop().await;
}
