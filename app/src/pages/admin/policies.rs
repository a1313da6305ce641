//! Publishing a new version of the terms or the privacy policy.

use leptos::prelude::*;

use crate::api;
use crate::pages::components::{ErrorNote, Why};

#[component]
pub(super) fn PublishPolicy() -> impl IntoView {
    let document = RwSignal::new("privacy".to_string());
    let title = RwSignal::new(String::new());
    let body = RwSignal::new(String::new());
    let summary = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let publish = Action::new_local(|(p, d, t, b, s): &(String, String, String, String, String)| {
        api::publish_policy(p.clone(), d.clone(), t.clone(), b.clone(), s.clone())
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        publish.dispatch_local((password.get_untracked(), document.get_untracked(), title.get_untracked(), body.get_untracked(), summary.get_untracked()));
    };
    view! {
        <section class="card">
            <h1>"Publish a policy version"</h1>
            <form on:submit=submit>
                <label for="policy_document">"Document"</label>
                <select id="policy_document" on:change=move |ev| document.set(event_target_value(&ev))>
                    <option value="privacy" selected>"Privacy policy"</option>
                    <option value="terms">"Terms of use"</option>
                </select>
                <label for="policy_title">"Title"</label>
                <input id="policy_title" type="text" required bind:value=title />
                <label for="policy_summary">"What changed"</label>
                <input id="policy_summary" type="text" bind:value=summary />
                <label for="policy_body">"Full text"</label>
                <textarea id="policy_body" rows="6" required bind:value=body></textarea>
                <label for="policy_password">"Your password"</label>
                <input id="policy_password" type="password" autocomplete="current-password" required bind:value=password />
                <Why text="publishing mails every user and asks each to accept again." />
                <button type="submit">"Publish"</button>
            </form>
            {move || publish.value().get().map(|r| match r {
                Err(e) => view! { <ErrorNote error=e /> }.into_any(),
                Ok(v) => view! { <p class="success" data-testid="policy-published">"Published version " {v} "."</p> }.into_any(),
            })}
        </section>
    }
}
