//! The breach register.

use leptos::prelude::*;

use crate::api;
use crate::auth::format_time;
use crate::pages::components::{ErrorNote, Why};

#[component]
pub(super) fn Breaches() -> impl IntoView {
    let list = LocalResource::new(api::breaches);
    let discovered = RwSignal::new(String::new());
    let offset = RwSignal::new(0i32);
    let nature = RwSignal::new(String::new());
    let categories = RwSignal::new(String::new());
    let affected = RwSignal::new(String::new());
    let consequences = RwSignal::new(String::new());
    let measures = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    // The browser's own time zone, for the local time typed in.
    #[cfg(target_arch = "wasm32")]
    offset.set(-(js_sys::Date::new_0().get_timezone_offset() as i32));
    let record = Action::new_local(|input: &crate::types::BreachInput| api::record_breach(input.clone()));
    let chosen = RwSignal::new(String::new());
    let notify = Action::new_local(|(p, id, ids): &(String, String, Option<Vec<String>>)| api::notify_people_of_breach(p.clone(), id.clone(), ids.clone()));
    // Empty: everyone; otherwise the listed account ids.
    let chosen_ids = move || {
        let ids: Vec<String> = chosen.get_untracked().split(',').map(|i| i.trim().to_string()).filter(|i| !i.is_empty()).collect();
        (!ids.is_empty()).then_some(ids)
    };
    let authority = Action::new_local(|(p, id): &(String, String)| api::mark_authority_notified(p.clone(), id.clone()));
    Effect::new(move |_| {
        if record.value().get().is_some() || notify.value().get().is_some() || authority.value().get().is_some() {
            list.refetch();
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        record.dispatch_local(crate::types::BreachInput {
            discovered_local: discovered.get_untracked(),
            utc_offset_minutes: offset.get_untracked(),
            nature: nature.get_untracked(),
            categories: categories.get_untracked().split(',').map(|c| c.trim().to_string()).filter(|c| !c.is_empty()).collect(),
            approx_affected: affected.get_untracked().trim().parse().unwrap_or(-1),
            consequences: consequences.get_untracked(),
            measures: measures.get_untracked(),
        });
    };
    view! {
        <section class="card">
            <h1>"Breach register"</h1>
            <form on:submit=submit>
                <label for="breach_discovered">"Discovered (your local time)"</label>
                <input id="breach_discovered" type="datetime-local" required bind:value=discovered />
                <label for="breach_nature">"What happened"</label>
                <input id="breach_nature" type="text" required bind:value=nature />
                <Why text="describe the incident, not the people: this register holds no personal data." />
                <label for="breach_categories">"Data categories (comma-separated)"</label>
                <input id="breach_categories" type="text" required bind:value=categories />
                <label for="breach_affected">"People affected (approximately)"</label>
                <input id="breach_affected" type="number" min="0" required bind:value=affected />
                <label for="breach_consequences">"Likely consequences"</label>
                <input id="breach_consequences" type="text" bind:value=consequences />
                <label for="breach_measures">"Measures taken"</label>
                <input id="breach_measures" type="text" bind:value=measures />
                <button type="submit">"Record the breach"</button>
            </form>
            {move || record.value().get().and_then(|r| r.err()).map(|e| view! { <ErrorNote error=e /> })}
            <label for="breach_password">"Your password (to notify)"</label>
            <input id="breach_password" type="password" autocomplete="current-password" bind:value=password />
            <label for="breach_accounts">"Notify only these account ids (comma-separated; empty for everyone)"</label>
            <input id="breach_accounts" type="text" bind:value=chosen />
            <Suspense fallback=|| ()>
                {move || list.get().and_then(|r| r.ok()).map(|breaches| view! {
                    <ul data-testid="breaches">
                        {breaches.into_iter().map(|b| {
                            let (id1, id2) = (b.id.clone(), b.id.clone());
                            view! {
                                <li data-testid="breach">
                                    <strong>{b.nature.clone()}</strong>
                                    " · discovered " {format_time(b.discovered_at, true)}
                                    " · authority deadline " <span data-testid="breach-deadline">{format_time(b.deadline, true)}</span>
                                    {match b.authority_notified_at {
                                        Some(t) => view! { <span>" · authority notified " {format_time(t, true)}</span> }.into_any(),
                                        None => view! { <button class="link" on:click=move |_| { authority.dispatch_local((password.get_untracked(), id1.clone())); }>"Mark authority notified"</button> }.into_any(),
                                    }}
                                    " · notices: " <span data-testid="breach-notices">{b.notices_sent} " sent, " {b.notices_pending} " pending, " {b.notices_failed} " failed"</span>
                                    " " <button class="link" on:click=move |_| { notify.dispatch_local((password.get_untracked(), id2.clone(), chosen_ids())); }>"Notify the people affected"</button>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                })}
            </Suspense>
            {move || notify.value().get().map(|r| match r {
                Err(e) => view! { <ErrorNote error=e /> }.into_any(),
                Ok(n) => view! { <p class="success" data-testid="breach-notified">{n} " notices queued."</p> }.into_any(),
            })}
            {move || authority.value().get().and_then(|r| r.err()).map(|e| view! { <ErrorNote error=e /> })}
        </section>
    }
}
