//! The Facebook app: id, secret and webhook settings.

use leptos::prelude::*;

use crate::api;
use crate::pages::components::{ErrorNote, Why};

#[component]
pub(super) fn MessengerApp() -> impl IntoView {
    let current = LocalResource::new(api::messenger_app);
    view! {
        <section class="card">
            <h1>"Facebook app"</h1>
            <Suspense fallback=|| ()>
                {move || current.get().map(|r| match r {
                    Err(e) => view! { <ErrorNote error=e /> }.into_any(),
                    Ok(v) => view! { <MessengerAppForm view=v /> }.into_any(),
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn MessengerAppForm(view: crate::types::MessengerAppView) -> impl IntoView {
    let app_id = RwSignal::new(view.app_id.clone());
    let secret = RwSignal::new(String::new());
    let token = RwSignal::new(String::new());
    let base = RwSignal::new(view.graph_base_url.clone());
    let version = RwSignal::new(view.graph_version.clone());
    let password = RwSignal::new(String::new());
    let save = Action::new_local(|(p, i): &(String, crate::types::MessengerAppInput)| api::save_messenger_app(p.clone(), i.clone()));
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let input = crate::types::MessengerAppInput {
            app_id: app_id.get_untracked(),
            app_secret: secret.get_untracked(),
            verify_token: token.get_untracked(),
            graph_base_url: base.get_untracked(),
            graph_version: version.get_untracked(),
        };
        save.dispatch_local((password.get_untracked(), input));
        secret.set(String::new());
    };
    view! {
        <p>"Callback URL for Meta's dashboard: " <code data-testid="callback-url">{view.callback_url.clone()}</code></p>
        <p>"Data Deletion Request URL: " <code data-testid="deletion-url">{view.callback_url.replace("/webhooks/messenger", "/webhooks/meta/data-deletion")}</code></p>
        <form on:submit=submit>
            <label for="fb_app_id">"App ID"</label>
            <input id="fb_app_id" type="text" required bind:value=app_id />
            <label for="fb_app_secret">"App Secret"</label>
            <input id="fb_app_secret" type="password" autocomplete="off" bind:value=secret
                placeholder=if view.configured { "stored; leave empty to keep it" } else { "" } />
            <Why text="it checks that webhook deliveries come from Meta. Stored encrypted and never shown again." />
            <label for="fb_verify_token">"Webhook verify token"</label>
            <input id="fb_verify_token" type="password" autocomplete="off" bind:value=token
                placeholder=if view.configured { "stored; leave empty to keep it" } else { "" } />
            <label for="fb_graph_base">"Graph API base URL"</label>
            <input id="fb_graph_base" type="text" required bind:value=base />
            <label for="fb_graph_version">"Graph API version"</label>
            <input id="fb_graph_version" type="text" required bind:value=version />
            <label for="fb_password">"Your password"</label>
            <input id="fb_password" type="password" autocomplete="current-password" required bind:value=password />
            <button type="submit">"Save the Facebook app"</button>
        </form>
        {move || save.value().get().map(|r| match r {
            Err(e) => view! { <ErrorNote error=e /> }.into_any(),
            Ok(()) => view! { <p class="success" data-testid="fb-app-saved">"Saved."</p> }.into_any(),
        })}
    }
}
