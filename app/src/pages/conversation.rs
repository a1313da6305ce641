//! One conversation, the right-hand pane of the inbox.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;

use super::components::{outcome, Confirm, ErrorNote};
use crate::api;
use crate::auth::format_time;
use crate::messaging::ReplyRule;
use crate::types::{Direction, MessageKind, ProofStatus};

/// An open window is good news; only a closing or closed one is a warning.
fn window_class(rule: &ReplyRule) -> &'static str {
    match rule {
        ReplyRule::Standard { .. } => "window-open",
        ReplyRule::HumanAgent { .. } | ReplyRule::Closed => "notice",
    }
}

/// The open conversation: its thread (campaign messages marked), the reply
/// form by window state, the opt-in proof and deletion. `changed` moves when
/// the live stream says this conversation changed.
#[component]
pub fn ConversationPane(lead: Signal<String>, changed: ReadSignal<u64>) -> impl IntoView {
    let lead = move || lead.get();
    let conversation = LocalResource::new(move || {
        changed.track();
        api::conversation(lead())
    });
    let text = RwSignal::new(String::new());
    let send = Action::new_local(|(lead, text): &(String, String)| api::reply(lead.clone(), text.clone()));
    Effect::new(move |_| {
        if send.value().get().is_some_and(|r| r.is_ok()) {
            text.set(String::new());
            conversation.refetch();
        }
    });
    let proof = Action::new_local(|lead: &String| api::verify_proof(lead.clone()));
    let delete = Action::new_local(|lead: &String| api::delete_lead(lead.clone()));
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(())) = delete.value().get() {
            navigate("/inbox", Default::default());
        }
    });
    view! {
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || conversation.get().map(|r| match r {
                    Err(e) => view! { <ErrorNote error=e /> }.into_any(),
                    Ok(c) => {
                        let rule = c.lead.reply;
                        let can_reply = rule != ReplyRule::Closed && !c.lead.unavailable && !c.page_needs_reconnection;
                        let name = c.lead.name.clone().unwrap_or_else(|| "(name not shared)".to_string());
                        view! {
                            <section class="card">
                                <h2 data-testid="lead-name">{name}</h2>
                                <p class="muted">{c.lead.page_name.clone()} " · opted in " {format_time(c.lead.opted_in_at, false)}
                                    {(!c.lead.subscribed).then_some(" · unsubscribed from campaigns")}</p>
                                <ol class="conversation" data-testid="conversation">
                                    {c.messages.into_iter().map(|m| {
                                        let class = match (m.direction, m.kind) {
                                            (Direction::Inbound, _) => "in",
                                            (Direction::Outbound, MessageKind::Campaign) => "out campaign",
                                            (Direction::Outbound, _) => "out",
                                        };
                                        view! {
                                            <li class=class data-testid="message">
                                                {(m.kind == MessageKind::Campaign).then(|| view! { <span class="tag">"Campaign"</span> })}
                                                <p>{m.text}</p>
                                                <small>{format_time(m.at, false)} {(m.direction == Direction::Outbound).then(|| format!(" · {}", m.status.as_str()))}</small>
                                            </li>
                                        }
                                    }).collect_view()}
                                </ol>
                                <p class=window_class(&rule) data-testid="reply-rule">{rule.explain()}</p>
                                {c.lead.unavailable.then(|| view! { <p class="error">"Facebook says this person isn't available right now: messages to them are not accepted."</p> })}
                                {c.page_needs_reconnection.then(|| view! { <p class="error">"This Page needs reconnection before you can reply. " <A href="/pages">"Go to your Pages"</A></p> })}
                                <form on:submit=move |ev: leptos::ev::SubmitEvent| {
                                    ev.prevent_default();
                                    send.dispatch_local((lead(), text.get_untracked()));
                                }>
                                    <label for="reply_text">{if matches!(rule, ReplyRule::HumanAgent { .. }) { "Your reply (written by you, sent with the HUMAN_AGENT tag)" } else { "Your reply" }}</label>
                                    <textarea id="reply_text" maxlength="2000" required disabled=!can_reply bind:value=text></textarea>
                                    <button type="submit" disabled=move || !can_reply || send.pending().get()>"Send"</button>
                                </form>
                                {outcome(send.value(), |o| view! {
                                    <p class="success" role="status" data-testid="reply-outcome">{match o {
                                        crate::types::ReplyOutcome::Sent => "Sent.",
                                        crate::types::ReplyOutcome::Queued => "Facebook is busy: your reply is queued and will be sent shortly.",
                                    }}</p>
                                }.into_any())}
                            </section>
                        }.into_any()
                    }
                })}
            </Transition>
            <section class="card">
                <h2>"Proof of opt-in"</h2>
                <p>"We keep the exact delivery Facebook signed when this person first wrote, checked with the app secret that signed it. It is kept apart and never exported, because one delivery can hold other people's messages; if one of them asks for erasure, it is deleted and only the time, signature and hash remain."</p>
                <button data-testid="verify-proof" on:click=move |_| { proof.dispatch_local(lead()); }>"Verify proof"</button>
                {outcome(proof.value(), |p| view! {
                    <div data-testid="proof-result" class=match p.status { ProofStatus::Valid => "success", ProofStatus::Invalid => "error", ProofStatus::BodyDeleted => "muted" }>
                        <p>{match (p.status, p.secret_version) {
                            (ProofStatus::Valid, Some(v)) => format!("Valid: the signature matches the kept delivery (app secret version {v})."),
                            (ProofStatus::Valid, None) => "Valid: the signature matches the kept delivery.".to_string(),
                            (ProofStatus::Invalid, _) => "Invalid: the kept delivery does not match its signature.".to_string(),
                            (ProofStatus::BodyDeleted, _) => "The signed delivery was deleted (someone else in it asked for erasure, or the retention period passed). What remains cannot be re-checked.".to_string(),
                        }}</p>
                        <p class="muted">{format!("Received {} · {} bytes · SHA-256 {}", format_time(p.received_at, false), p.body_bytes, p.body_sha256)}</p>
                        <p class="muted"><code>{p.signature_header}</code></p>
                    </div>
                }.into_any())}
            </section>
            <section class="card">
                <h2>"Delete this lead"</h2>
                <Confirm ask="Delete lead…" confirm="Yes, delete the lead"
                    consequence="This erases the person, the conversation and the proof that they wrote, for good. It cannot be undone."
                    on_confirm=move |()| { delete.dispatch_local(lead()); } />
                {move || delete.value().get().and_then(|r| r.err()).map(|e| view! { <ErrorNote error=e /> })}
            </section>
    }
}
