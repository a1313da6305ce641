//! The inbox: conversations by last activity with previews and unread
//! counts, campaign messages in the lead's thread, and the live stream
//! (one instance, and two processes on one database).

use std::time::Duration;

use serde_json::{json, Value};
use standin::SimulatedEvent;

use super::broadcasts::{campaign, lead_at, wait_for_state};
use super::scale_out::{deliver_to, ports, standin_for, Cluster, SECRET};
use super::support::*;
use super::support::{World, PAGE_ID};

/// A server-sent event stream, read the way a browser's EventSource does.
struct EventStream {
    response: reqwest::Response,
    buffer: String,
}

impl EventStream {
    async fn request(api: &Api) -> reqwest::Response {
        let mut request = api.http.get(format!("{}/events/inbox", api.base));
        if let Some(cookie) = &api.cookie {
            request = request.header("cookie", cookie);
        }
        request.send().await.unwrap()
    }

    /// Opens the stream and reads its `ready`.
    async fn open(api: &Api) -> EventStream {
        let response = Self::request(api).await;
        assert_eq!(response.status(), 200, "the stream opens");
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        let mut stream = EventStream { response, buffer: String::new() };
        assert_eq!(stream.next().await.0, "ready");
        stream
    }

    /// The next event's name and data (keep-alive comments skipped).
    async fn next(&mut self) -> (String, String) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let field = |name: &str| block.lines().find_map(|l| l.strip_prefix(name)).map(|v| v.trim_start().to_string());
                if let Some(event) = field("event:") {
                    return (event, field("data:").unwrap_or_default());
                }
                continue;
            }
            let chunk = tokio::time::timeout_at(deadline, self.response.chunk()).await.expect("an event within 30 s");
            let chunk = chunk.expect("the stream stays readable").expect("the stream stays open");
            self.buffer.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }

    /// The next `conversation` event's lead.
    async fn next_conversation(&mut self) -> String {
        loop {
            let (event, data) = self.next().await;
            if event == "conversation" {
                return data;
            }
        }
    }
}

async fn conversations(w: &mut World) -> Vec<Value> {
    w.api.post("messenger/conversations", json!({"after": null})).await.ok()["conversations"].as_array().unwrap().clone()
}

fn summary<'a>(list: &'a [Value], lead: &str) -> &'a Value {
    list.iter().find(|c| c["lead"] == lead).unwrap_or_else(|| panic!("{lead} is listed: {list:?}"))
}

#[tokio::test]
async fn the_inbox_lists_conversations_by_last_activity_with_previews_and_unread_counts() {
    let mut w = World::start("inbox.owner@example.org").await;
    let ana = lead_at(&mut w, "ana", "Ana", 0).await;
    let ben = lead_at(&mut w, "ben", "Ben", 0).await;
    w.server.clock.advance(1);
    let long = format!("Do you deliver to {}?", "Montpellier ".repeat(10));
    assert_eq!(w.write("ana", &long).await, 200);

    let list = conversations(&mut w).await;
    let order: Vec<&str> = list.iter().map(|c| c["lead"].as_str().unwrap()).collect();
    assert_eq!(order, [ana.as_str(), ben.as_str()], "the most recent first");
    let a = summary(&list, &ana);
    assert_eq!(a["unread"], 2, "{a}");
    assert_eq!(a["last_from_lead"], true);
    assert_eq!(a["name"], "Ana Lovelace ana");
    assert_eq!(a["page_name"], "Fleur & Co");
    let preview = a["preview"].as_str().unwrap();
    assert!(preview.starts_with("Do you deliver to Montpellier") && preview.ends_with('…') && preview.chars().count() == 81, "{preview}");
    assert_eq!(summary(&list, &ben)["unread"], 1);
    assert_eq!(summary(&list, &ben)["preview"], "hello");

    // Opening a conversation reads it; a reply moves it up and is its preview.
    w.api.post("messenger/conversation", json!({"lead": ben})).await.ok();
    assert_eq!(summary(&conversations(&mut w).await, &ben)["unread"], 0);
    w.server.clock.advance(1);
    assert_eq!(w.api.post("messenger/reply", json!({"lead": ben, "text": "Yes, tomorrow."})).await.ok(), &json!("sent"));
    let list = conversations(&mut w).await;
    assert_eq!(list[0]["lead"], ben.as_str());
    assert_eq!((&list[0]["preview"], &list[0]["last_from_lead"], &list[0]["unread"]), (&json!("Yes, tomorrow."), &json!(false), &json!(0)));
    assert_eq!(summary(&list, &ana)["unread"], 2, "reading one conversation leaves the other unread");

    // Another account sees none of it, and its own list is empty.
    let mut other = verified_account(&w.server, "inbox.other@example.org", STRONG_PASSWORD).await;
    other.login("inbox.other@example.org", STRONG_PASSWORD, false).await.ok();
    assert_eq!(other.post("messenger/conversations", json!({"after": null})).await.ok()["conversations"], json!([]));
    assert_eq!(other.post("messenger/conversation", json!({"lead": ana})).await.error(), "LeadNotFound");

    // A read position goes with its lead.
    let ctx = w.ctx().clone();
    let marks = |ctx: server::context::Ctx| async move {
        ctx.db.client().query("RETURN count(SELECT id FROM conversation_read)").await.unwrap().take::<Option<i64>>(0).unwrap().unwrap_or(0)
    };
    assert_eq!(marks(ctx.clone()).await, 1);
    w.api.post("messenger/delete-lead", json!({"lead": ben})).await.ok();
    assert_eq!(marks(ctx).await, 0, "erasing the lead erases the read position");
    assert_eq!(conversations(&mut w).await.len(), 1);
    assert_eq!(w.api.post("messenger/conversations", json!({"after": "not a key!"})).await.error(), "BadRequest");
}

#[tokio::test]
async fn campaign_messages_appear_in_the_leads_thread_as_they_read_them() {
    let mut w = World::start("thread.owner@example.org").await;
    let dana = lead_at(&mut w, "dana", "Dana", 0).await;
    w.server.clock.advance(2);
    let id = w.api.post("broadcasts/save", campaign(&w, "Spring", &[], &[])).await.ok().as_str().unwrap().to_string();
    w.api.post("broadcasts/send-now", json!({"id": id})).await.ok();
    wait_for_state(&mut w, &id, "completed", 0).await;
    w.server.clock.advance(2);
    let answer = SimulatedEvent { timestamp_ms: Some(w.server.clock_now() * 1000), ..SimulatedEvent::text(PAGE_ID, "dana", "Show me") };
    assert_eq!(w.standin.state.simulate(answer).await.unwrap().0, 200);
    w.applied().await;

    let thread = w.api.post("messenger/conversation", json!({"lead": dana})).await.ok().clone();
    let messages = thread["messages"].as_array().unwrap();
    let kinds: Vec<&str> = messages.iter().map(|m| m["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["text", "campaign", "text"], "in time order: {messages:?}");
    let sent = &messages[1];
    assert_eq!(sent["direction"], "outbound");
    let text = sent["text"].as_str().unwrap();
    assert!(text.starts_with("Hi Dana, news from Fleur & Co!\n\nUnsubscribe: "), "{text}");
    assert!(text.ends_with("/u/…"), "the lead's own link is not shown to the business: {text}");
    assert!(["sent", "delivered", "read"].contains(&sent["status"].as_str().unwrap()), "{sent}");
}

#[tokio::test]
async fn the_live_stream_names_the_conversations_that_change_and_a_session_holds_at_most_four() {
    let mut w = World::start("live.owner@example.org").await;
    let signed_out = EventStream::request(&w.server.client()).await;
    assert_eq!(signed_out.status(), 401);
    assert_eq!(signed_out.text().await.unwrap(), "Please sign in to continue.");

    let mut stream = EventStream::open(&w.api).await;
    assert_eq!(w.write("eva", "hello").await, 200);
    let eva = stream.next_conversation().await;
    assert_eq!(conversations(&mut w).await[0]["lead"], eva.as_str(), "the event names the conversation that changed");
    // A reply changes it too (stored, then sent).
    w.api.post("messenger/reply", json!({"lead": eva, "text": "Welcome!"})).await.ok();
    assert_eq!(stream.next_conversation().await, eva);

    let mut more = Vec::new();
    for _ in 1..4 {
        more.push(EventStream::open(&w.api).await);
    }
    let fifth = EventStream::request(&w.api).await;
    assert_eq!(fifth.status(), 429);
    assert!(fifth.text().await.unwrap().starts_with("The inbox is already open live in several tabs"));
    drop(more.pop());
    // The server notices the closed connection at its next write, at most a keep-alive later.
    let deadline = std::time::Instant::now() + Duration::from_secs(40);
    while EventStream::request(&w.api).await.status() == 429 {
        assert!(std::time::Instant::now() < deadline, "a closed connection gave its slot back");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_on_one_instance_sees_a_message_that_another_instance_received() {
    const OWNER: &str = "live.cluster@example.org";
    const OTHER: &str = "live.neighbour@example.org";
    let (page, other_page) = ("717171", "727272");
    let mut cluster = Cluster::start().await;
    let ports = ports(2);
    let standin = standin_for(ports[0]).await;
    standin.state.add_page(page, "Live Shop", "live-token");
    standin.state.add_page(other_page, "Neighbour Shop", "other-token");
    let seeding = cluster.seeding_server().await;
    let ctx = seeding.running.as_ref().unwrap().context().clone();
    super::seed::use_standin(&ctx, SECRET, &standin.base_url()).await;
    verified_account(&seeding, OWNER, STRONG_PASSWORD).await;
    verified_account(&seeding, OTHER, STRONG_PASSWORD).await;
    super::seed::owner_of(&ctx, OWNER, page, "live-token").await;
    super::seed::owner_of(&ctx, OTHER, other_page, "other-token").await;
    drop(ctx);
    seeding.stop().await;
    cluster.start_instances(&ports).await;

    let first = ports[0];
    let signed_in = |email: &'static str| async move {
        let mut api = Api { base: format!("https://localhost:{first}"), http: http_client(), cookie: None };
        api.login(email, STRONG_PASSWORD, false).await.ok();
        api
    };
    let mut owner = signed_in(OWNER).await;
    let other = signed_in(OTHER).await;
    let mut owner_stream = EventStream::open(&owner).await;
    let mut other_stream = EventStream::open(&other).await;

    // Received by the second instance; the browser is connected to the first.
    let http = http_client();
    assert!(deliver_to(&http, ports[1], page, "cluster-writer", "m-live-1").await);
    let lead = owner_stream.next_conversation().await;
    let list = owner.post("messenger/conversations", json!({"after": null})).await.ok().clone();
    assert_eq!(list["conversations"][0]["lead"], lead.as_str(), "{list}");
    assert_eq!(list["conversations"][0]["preview"], "hello m-live-1");

    // The neighbour's stream names only the neighbour's conversations.
    assert!(deliver_to(&http, ports[1], other_page, "neighbour-writer", "m-live-2").await);
    let theirs = other_stream.next_conversation().await;
    assert_ne!(theirs, lead, "the first event on the neighbour's stream is their own lead");
    let mut neighbour = other;
    let their_list = neighbour.post("messenger/conversations", json!({"after": null})).await.ok().clone();
    assert_eq!(their_list["conversations"][0]["lead"], theirs.as_str());
}
