//! This instance's side of the live inbox: one broadcast of changed
//! conversations to every connected browser (`messenger::live` feeds it from
//! the database), and how many connections each session holds.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use app::error::AppError;
use tokio::sync::broadcast;

/// Live connections one session may hold (a few tabs).
pub const STREAMS_PER_SESSION: usize = 4;
/// Signals held for each connection before it counts as lagging (it is then
/// told to reload the list: nothing is lost, only merged).
pub const BUFFER: usize = 256;

/// A conversation of the account changed, or (`lead_id` None) so many at
/// once that its browsers had better reload everything they show.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signal {
    pub account_id: String,
    pub lead_id: Option<String>,
}

/// This instance's side of the feed: one broadcast to every connection, and
/// how many connections each session holds.
pub struct InboxFeed {
    sender: broadcast::Sender<Signal>,
    streams: Mutex<HashMap<String, usize>>,
}

impl Default for InboxFeed {
    fn default() -> Self {
        InboxFeed { sender: broadcast::channel(BUFFER).0, streams: Mutex::default() }
    }
}

/// A connection's place in the feed; gives its slot back when dropped.
pub struct Subscription {
    pub signals: broadcast::Receiver<Signal>,
    feed: Arc<InboxFeed>,
    session_id: String,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let mut streams = self.feed.streams.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = streams.get_mut(&self.session_id) {
            *n -= 1;
            if *n == 0 {
                streams.remove(&self.session_id);
            }
        }
    }
}

impl InboxFeed {
    /// A new connection for the session, within `STREAMS_PER_SESSION`.
    pub fn subscribe(self: &Arc<Self>, session_id: &str) -> std::result::Result<Subscription, AppError> {
        let mut streams = self.streams.lock().unwrap_or_else(|p| p.into_inner());
        let held = streams.entry(session_id.to_string()).or_insert(0);
        if *held >= STREAMS_PER_SESSION {
            return Err(AppError::TooManyLiveConnections);
        }
        *held += 1;
        Ok(Subscription { signals: self.sender.subscribe(), feed: Arc::clone(self), session_id: session_id.to_string() })
    }

    pub fn publish(&self, signal: Signal) {
        // No connection on this instance: nobody to tell.
        let _ = self.sender.send(signal);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_holds_at_most_its_connections_and_gets_a_slot_back_when_one_closes() {
        let feed = Arc::new(InboxFeed::default());
        let held: Vec<Subscription> = (0..STREAMS_PER_SESSION).map(|_| feed.subscribe("s1").expect("within the limit")).collect();
        assert_eq!(feed.subscribe("s1").err(), Some(AppError::TooManyLiveConnections));
        assert!(feed.subscribe("s2").is_ok(), "another session has its own limit");
        drop(held);
        assert!(feed.subscribe("s1").is_ok(), "closed connections give their slots back");
        assert!(feed.streams.lock().unwrap().is_empty(), "no session is remembered once its connections close");
    }

    #[test]
    fn a_connection_that_falls_behind_its_buffer_is_told_so() {
        let feed = Arc::new(InboxFeed::default());
        let mut slow = feed.subscribe("s1").unwrap();
        for i in 0..=BUFFER {
            feed.publish(Signal { account_id: "a".into(), lead_id: Some(i.to_string()) });
        }
        assert!(matches!(slow.signals.try_recv(), Err(broadcast::error::TryRecvError::Lagged(1))));
    }
}
