//! The inbox: conversations on the left, the most recently active first,
//! the open one on the right. Kept live by the server's event stream: a
//! change reloads the list, and the open conversation if it is the one that
//! changed. Changes arriving together are merged into one reload.

use std::time::Duration;

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use super::account::RequireSignIn;
use super::components::ErrorNote;
use super::conversation::ConversationPane;
use crate::api;
use crate::auth::format_time;
use crate::live::{Change, Connection};
use crate::messaging::ReplyRule;
use crate::types::{ConversationSummary, UNREAD_CAP};

/// Changes within this time make one reload.
const MERGE_WITHIN: Duration = Duration::from_millis(300);
/// A refused stream is opened again after this.
const REOPEN_AFTER: Duration = Duration::from_secs(5);

fn window_text(rule: &ReplyRule) -> &'static str {
    match rule {
        ReplyRule::Standard { .. } => "Window open",
        ReplyRule::HumanAgent { .. } => "Human reply only",
        ReplyRule::Closed => "Closed",
    }
}

fn unread_text(n: u32) -> String {
    if n >= UNREAD_CAP {
        format!("{UNREAD_CAP}+")
    } else {
        n.to_string()
    }
}

fn connection_text(c: Connection) -> &'static str {
    match c {
        Connection::Connecting => "Connecting…",
        Connection::Live => "Live: new messages appear by themselves.",
        Connection::Reconnecting | Connection::Closed => "Connection lost; reconnecting…",
    }
}

/// Bumps `signal` once for changes that arrive close together.
fn merged(signal: RwSignal<u64>, pending: RwSignal<bool>) {
    if !pending.get_untracked() {
        pending.set(true);
        set_timeout(
            // The inbox may have been left meanwhile.
            move || {
                pending.try_set(false);
                signal.try_update(|n| *n += 1);
            },
            MERGE_WITHIN,
        );
    }
}

#[component]
pub fn InboxPage() -> impl IntoView {
    let params = use_params_map();
    let open_lead = Memo::new(move |_| params.read().get("lead"));
    let list_changed = RwSignal::new(0u64);
    let thread_changed = RwSignal::new(0u64);
    let (list_pending, thread_pending) = (RwSignal::new(false), RwSignal::new(false));
    let connection = RwSignal::new(Connection::Connecting);
    let on_change = move |change: Change| {
        merged(list_changed, list_pending);
        let open = open_lead.get_untracked();
        if matches!(&change, Change::Everything) || matches!((&change, &open), (Change::Conversation(l), Some(o)) if l == o) {
            merged(thread_changed, thread_pending);
        }
    };
    let on_connection = move |c| connection.set(c);
    let stream = StoredValue::new_local(crate::live::open(on_change, on_connection));
    // A refused stream is not retried by the browser: a new one, after a pause.
    Effect::new(move |_| {
        if connection.get() == Connection::Closed {
            set_timeout(
                move || {
                    stream.try_update_value(|s| *s = crate::live::open(on_change, on_connection));
                },
                REOPEN_AFTER,
            );
        }
    });
    // Closed when the inbox goes (dropping the stream closes it too).
    on_cleanup(move || {
        stream.try_update_value(|s| *s = None);
    });
    let list = LocalResource::new(move || {
        list_changed.track();
        // Opening a conversation reads it: its badge goes.
        open_lead.track();
        api::conversations(None)
    });
    let lead = Signal::derive(move || open_lead.get().unwrap_or_default());
    view! {
        <RequireSignIn>
            <div class="inbox" class:inbox-open=move || open_lead.get().is_some()>
                <section class="card threads" aria-labelledby="inbox-title">
                    <h1 id="inbox-title">"Inbox"</h1>
                    <p class="muted" role="status" data-testid="live-state">{move || connection_text(connection.get())}</p>
                    <Transition fallback=|| view! { <p>"Loading…"</p> }>
                        {move || list.get().map(|r| match r {
                            Err(e) => view! { <ErrorNote error=e /> }.into_any(),
                            Ok(l) if l.conversations.is_empty() => view! {
                                <p data-testid="no-conversations">"No conversation yet. When someone writes to one of your Pages, it appears here at once."</p>
                            }.into_any(),
                            Ok(l) => view! {
                                <ul class="thread-list" data-testid="threads">
                                    {l.conversations.into_iter().map(|c| view! { <ThreadRow c=c open=open_lead /> }).collect_view()}
                                </ul>
                                {l.next.is_some().then(|| view! { <p class="muted">"Older conversations are in " <A href="/leads">"Leads"</A> "."</p> })}
                            }.into_any(),
                        })}
                    </Transition>
                </section>
                <div class="pane">
                    {move || match open_lead.get() {
                        Some(_) => view! {
                            <p class="back"><A href="/inbox">"← All conversations"</A></p>
                            <ConversationPane lead=lead changed=thread_changed.read_only() />
                        }.into_any(),
                        None => view! { <section class="card"><p class="muted">"Choose a conversation."</p></section> }.into_any(),
                    }}
                </div>
            </div>
        </RequireSignIn>
    }
}

#[component]
fn ThreadRow(c: ConversationSummary, open: Memo<Option<String>>) -> impl IntoView {
    let lead = c.lead.clone();
    let current = move || (open.get().as_deref() == Some(lead.as_str())).then_some("page");
    let name = c.name.clone().unwrap_or_else(|| "(name not shared)".to_string());
    let unread = c.unread;
    let row_class = if unread > 0 { "unread" } else { "" };
    view! {
        <li data-testid="thread" class=row_class>
            <A href=format!("/inbox/{}", c.lead) attr:aria-current=current>
                <span class="thread-head">
                    <strong data-testid="thread-name">{name}</strong>
                    {(unread > 0).then(|| view! {
                        <span class="badge" data-testid="unread" aria-label=format!("{unread} unread")>{unread_text(unread)}</span>
                    })}
                </span>
                <span class="thread-preview" data-testid="thread-preview">
                    {(!c.last_from_lead).then_some("You: ")}
                    {c.preview.clone().unwrap_or_else(|| "(message no longer kept)".to_string())}
                </span>
                <small class="muted">{c.page_name.clone()} " · " {format_time(c.last_at, false)} " · " {window_text(&c.reply)}</small>
            </A>
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_unread_badge_stops_counting_at_its_cap() {
        assert_eq!(unread_text(1), "1");
        assert_eq!(unread_text(UNREAD_CAP - 1), "98");
        assert_eq!(unread_text(UNREAD_CAP), "99+");
    }
}
