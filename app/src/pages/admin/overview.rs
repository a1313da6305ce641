//! The overview (counts, policy acceptance) and the retention settings.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::api;
use crate::auth::format_time;
use crate::pages::components::ErrorNote;

#[component]
pub(super) fn Overview() -> impl IntoView {
    let overview = LocalResource::new(api::admin_overview);
    view! {
        <section class="card">
            <h1>"Admin"</h1>
            <p><A href="/admin/processing">"Record of processing activities"</A></p>
            <Suspense fallback=|| ()>
                {move || overview.get().map(|r| match r {
                    Err(e) => view! { <ErrorNote error=e /> }.into_any(),
                    Ok(o) => view! {
                        {(o.password_age_days > 90).then(|| view! {
                            <p class="notice" role="alert" data-testid="password-age-warning">
                                "Your password is " {o.password_age_days} " days old. Change it, especially after a handover."
                            </p>
                        })}
                        <h2>"Policy acceptance"</h2>
                        <ul data-testid="acceptance">
                            {o.acceptance.into_iter().map(|a| view! {
                                <li>{a.document} " version " {a.version} ": " {a.accounts} " accounts"</li>
                            }).collect_view()}
                        </ul>
                        <RetentionForm initial=o.retention />
                        <p data-testid="last-purge">{match o.last_purge {
                            Some(p) => format!(
                                "Last purge {}: {} sign-ins, {} sessions, {} links, {} unverified accounts, {} exports, {} inactive leads, {} old messages deleted.",
                                format_time(p.at, false), p.signins, p.sessions, p.links, p.unverified_accounts, p.exports, p.leads, p.messages
                            ),
                            None => "The purge job has not run yet.".to_string(),
                        }}</p>
                        <p data-testid="dropped-events">{format!(
                            "Webhook events for Pages nobody connected (dropped since the server started): {}.",
                            o.dropped_webhook_events
                        )}</p>
                    }.into_any(),
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
        <h2>"Retention"</h2>
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
