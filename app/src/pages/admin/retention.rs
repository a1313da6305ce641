//! How long each kind of data is kept: set here, stated on /privacy, and
//! applied by the purge job.

use leptos::prelude::*;

use crate::api;
use crate::pages::components::ErrorNote;

#[component]
pub(super) fn Retention() -> impl IntoView {
    let current = LocalResource::new(api::retention_settings);
    view! {
        <section class="card">
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || current.get().map(|r| match r {
                    Err(e) => view! { <ErrorNote error=e /> }.into_any(),
                    Ok(settings) => view! { <RetentionForm initial=settings /> }.into_any(),
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn RetentionForm(initial: crate::types::RetentionSettings) -> impl IntoView {
    let signins = RwSignal::new(initial.signin_history_days.to_string());
    let leads = RwSignal::new(initial.inactive_leads_days.to_string());
    let messages = RwSignal::new(initial.messages_days.to_string());
    let exports = RwSignal::new(initial.export_hours.to_string());
    let password = RwSignal::new(String::new());
    let save = Action::new_local(|(p, s): &(String, crate::types::RetentionSettings)| api::set_retention(p.clone(), *s));
    let number = |s: RwSignal<String>| s.get_untracked().trim().parse().unwrap_or(0);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let settings = crate::types::RetentionSettings {
            signin_history_days: number(signins),
            inactive_leads_days: number(leads),
            messages_days: number(messages),
            export_hours: number(exports),
        };
        save.dispatch_local((password.get_untracked(), settings));
    };
    view! {
        <h1>"Retention"</h1>
        <form on:submit=submit>
            <label for="keep_signins">"Sign-in history (days)"</label>
            <input id="keep_signins" type="number" min="1" required bind:value=signins />
            <label for="keep_leads">"Inactive leads (days without interaction)"</label>
            <input id="keep_leads" type="number" min="1" required bind:value=leads />
            <label for="keep_messages">"Conversation messages (days)"</label>
            <input id="keep_messages" type="number" min="1" required bind:value=messages />
            <label for="keep_exports">"Export files (hours)"</label>
            <input id="keep_exports" type="number" min="1" required bind:value=exports />
            <label for="retention_password">"Your password"</label>
            <input id="retention_password" type="password" autocomplete="current-password" required bind:value=password />
            <button type="submit">"Save retention"</button>
        </form>
        {move || save.value().get().map(|r| match r {
            Err(e) => view! { <ErrorNote error=e /> }.into_any(),
            Ok(()) => view! { <p class="success" data-testid="retention-saved">"Saved. The purge job applies it within the hour."</p> }.into_any(),
        })}
    }
}
