//! The browser's side of the live inbox: an `EventSource` on the same origin
//! (`/events/inbox`). The server names each conversation that changed;
//! `ready` (also after a reconnection) and `resync` mean "reload what you
//! show", since anything may have changed meanwhile.

/// What the stream said.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// This conversation changed.
    Conversation(String),
    /// Anything may have changed: reload everything shown.
    Everything,
}

/// Whether the stream is connected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Connection {
    Connecting,
    Live,
    /// Lost; the browser tries again by itself.
    Reconnecting,
    /// Refused (the session ended, or too many tabs): the browser does not
    /// try again by itself, so the page opens a new stream after a pause.
    Closed,
}

pub const ENDPOINT: &str = "/events/inbox";

#[cfg(target_arch = "wasm32")]
mod imp {
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;
    use web_sys::{EventSource, MessageEvent};

    use super::{Change, Connection, ENDPOINT};

    /// An open stream; closed when dropped.
    pub struct Stream {
        source: EventSource,
        _listeners: Vec<Closure<dyn Fn(MessageEvent)>>,
    }

    impl Drop for Stream {
        fn drop(&mut self) {
            self.source.close();
        }
    }

    pub fn open(on_change: impl Fn(Change) + Clone + 'static, on_connection: impl Fn(Connection) + Clone + 'static) -> Option<Stream> {
        let source = EventSource::new(ENDPOINT).ok()?;
        let mut listeners = Vec::new();
        let mut listen = |name: &str, handler: Closure<dyn Fn(MessageEvent)>| {
            let _ = source.add_event_listener_with_callback(name, handler.as_ref().unchecked_ref());
            listeners.push(handler);
        };
        let (change, connection) = (on_change.clone(), on_connection.clone());
        listen(
            "ready",
            Closure::new(move |_: MessageEvent| {
                connection(Connection::Live);
                change(Change::Everything);
            }),
        );
        let change = on_change.clone();
        listen("resync", Closure::new(move |_: MessageEvent| change(Change::Everything)));
        let change = on_change;
        listen(
            "conversation",
            Closure::new(move |e: MessageEvent| {
                if let Some(lead) = e.data().as_string() {
                    change(Change::Conversation(lead));
                }
            }),
        );
        let (connection, watched) = (on_connection, source.clone());
        listen(
            "error",
            Closure::new(move |_: MessageEvent| {
                connection(if watched.ready_state() == EventSource::CLOSED { Connection::Closed } else { Connection::Reconnecting })
            }),
        );
        Some(Stream { source, _listeners: listeners })
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    use super::{Change, Connection};

    /// No browser, no stream (server-side builds).
    pub struct Stream;

    pub fn open(_: impl Fn(Change) + Clone + 'static, _: impl Fn(Connection) + Clone + 'static) -> Option<Stream> {
        None
    }
}

pub use imp::{open, Stream};
