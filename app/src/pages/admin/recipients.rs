//! The recipients of personal data, declared in advance.

use leptos::prelude::*;

use crate::api;
use crate::pages::components::ErrorNote;

#[component]
pub(super) fn Recipients() -> impl IntoView {
    let name = RwSignal::new(String::new());
    let purpose = RwSignal::new(String::new());
    let categories = RwSignal::new(String::new());
    let country = RwSignal::new(String::new());
    let safeguards = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let save = Action::new_local(|(p, r): &(String, crate::types::Recipient)| api::save_recipient(p.clone(), r.clone()));
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let recipient = crate::types::Recipient {
            id: String::new(),
            name: name.get_untracked(),
            purpose: purpose.get_untracked(),
            categories: categories.get_untracked().split(',').map(|c| c.trim().to_string()).filter(|c| !c.is_empty()).collect(),
            country: country.get_untracked(),
            safeguards: safeguards.get_untracked(),
        };
        save.dispatch_local((password.get_untracked(), recipient));
    };
    view! {
        <section class="card">
            <h1>"Declare a recipient of personal data"</h1>
            <p>"Any sharing must be said in advance: it appears on the privacy page and at registration, and every user is told."</p>
            <form on:submit=submit>
                <label for="recipient_name">"Recipient"</label>
                <input id="recipient_name" type="text" required bind:value=name />
                <label for="recipient_purpose">"Purpose"</label>
                <input id="recipient_purpose" type="text" required bind:value=purpose />
                <label for="recipient_categories">"Data categories (comma-separated)"</label>
                <input id="recipient_categories" type="text" required bind:value=categories />
                <label for="recipient_country">"Country"</label>
                <input id="recipient_country" type="text" required bind:value=country />
                <label for="recipient_safeguards">"Safeguards"</label>
                <input id="recipient_safeguards" type="text" required bind:value=safeguards />
                <label for="recipient_password">"Your password"</label>
                <input id="recipient_password" type="password" autocomplete="current-password" required bind:value=password />
                <button type="submit">"Declare"</button>
            </form>
            {move || save.value().get().map(|r| match r {
                Err(e) => view! { <ErrorNote error=e /> }.into_any(),
                Ok(_) => view! { <p class="success" data-testid="recipient-saved">"Declared. Users were told, and will re-accept the privacy policy."</p> }.into_any(),
            })}
        </section>
    }
}
