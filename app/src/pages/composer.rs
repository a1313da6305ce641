//! The campaign composer, in three steps: the message, the audience, then a
//! review before saving. Each field says what is wrong with it as the user
//! types (`aria-invalid`, the sentence beside it), with the server's own
//! rules (`campaign_rules`). The preview is the message as a real lead of
//! the audience will read it.

use std::time::Duration;

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use super::components::{ErrorNote, Why};
use crate::api;
use crate::campaign_rules::{field_errors, looks_like_https_link, CampaignField, FieldError};
use crate::types::{CampaignInput, PageStatus};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    Message,
    Audience,
    Review,
}

impl Step {
    const ALL: [Step; 3] = [Step::Message, Step::Audience, Step::Review];

    fn title(self) -> &'static str {
        match self {
            Step::Message => "Message",
            Step::Audience => "Audience",
            Step::Review => "Review & save",
        }
    }

    /// The fields a step holds: going on checks them.
    fn fields(self) -> &'static [CampaignField] {
        use CampaignField::*;
        match self {
            Step::Message => &[Name, Text, FallbackFirstName, FallbackLastName, QuickReplies, ButtonTitle, ButtonUrl],
            Step::Audience => &[MarginHours, Rate],
            Step::Review => &[],
        }
    }
}

/// What the message carries besides its text: one choice, so both can never be set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Extra {
    Nothing,
    QuickReplies,
    Button,
}

/// A field's ids: the input's, and its error's test id.
fn ids(field: CampaignField) -> (&'static str, &'static str) {
    match field {
        CampaignField::Name => ("campaign_name", "error-name"),
        CampaignField::Text => ("campaign_text", "error-text"),
        CampaignField::FallbackFirstName => ("fallback_first", "error-fallback-first"),
        CampaignField::FallbackLastName => ("fallback_last", "error-fallback-last"),
        CampaignField::QuickReplies => ("campaign_quick", "error-quick"),
        CampaignField::ButtonTitle => ("button_title", "error-button-title"),
        CampaignField::ButtonUrl => ("button_url", "error-button-url"),
        CampaignField::MarginHours => ("margin_hours", "error-margin"),
        CampaignField::Rate => ("rate", "error-rate"),
    }
}

/// The form's state, shared by the steps.
#[derive(Clone, Copy)]
struct Form {
    input: RwSignal<CampaignInput>,
    extra: RwSignal<Extra>,
    quick: RwSignal<String>,
    button_title: RwSignal<String>,
    button_url: RwSignal<String>,
    /// Fields the user has typed in, or tried to go past: their errors show.
    touched: RwSignal<Vec<CampaignField>>,
    errors: Memo<Vec<FieldError>>,
}

impl Form {
    fn touch(&self, field: CampaignField) {
        if !self.touched.with_untracked(|t| t.contains(&field)) {
            self.touched.update(|t| t.push(field));
        }
    }

    fn error(&self, field: CampaignField) -> Option<String> {
        self.touched.with(|t| t.contains(&field)).then(|| self.errors.with(|e| e.iter().find(|e| e.field == field).map(|e| e.reason.clone()))).flatten()
    }
}

/// The campaign as the form describes it (the first active Page by default).
fn assemble(input: &CampaignInput, extra: Extra, quick: &str, title: &str, url: &str, default_page: Option<String>) -> CampaignInput {
    let mut i = input.clone();
    if i.page.is_empty() {
        i.page = default_page.unwrap_or_default();
    }
    i.quick_replies = match extra {
        Extra::QuickReplies => quick.split(',').map(|q| q.trim().to_string()).filter(|q| !q.is_empty()).collect(),
        Extra::Nothing | Extra::Button => Vec::new(),
    };
    (i.button_title, i.button_url) = match extra {
        Extra::Button => (Some(title.to_string()), Some(url.to_string())),
        Extra::Nothing | Extra::QuickReplies => (None, None),
    };
    i
}

#[component]
pub fn Compose() -> impl IntoView {
    let pages = LocalResource::new(api::pages);
    let labels = LocalResource::new(api::labels);
    let default_page = move || pages.get().and_then(|r| r.ok()).and_then(|o| o.pages.into_iter().find(|p| p.status == PageStatus::Active).map(|p| p.id));
    let has_active_page = move || default_page().is_some();
    let (input, extra) = (RwSignal::new(CampaignInput::default()), RwSignal::new(Extra::Nothing));
    let (quick, button_title, button_url) = (RwSignal::new(String::new()), RwSignal::new(String::new()), RwSignal::new(String::new()));
    let campaign = Memo::new(move |_| input.with(|i| assemble(i, extra.get(), &quick.get(), &button_title.get(), &button_url.get(), default_page())));
    let errors = Memo::new(move |_| campaign.with(|c| field_errors(c, looks_like_https_link)));
    let form = Form { input, extra, quick, button_title, button_url, touched: RwSignal::new(Vec::new()), errors };
    let step = RwSignal::new(Step::Message);
    let go_on = move |_| {
        let current = step.get_untracked();
        for field in current.fields() {
            form.touch(*field);
        }
        let blocked = errors.with_untracked(|e| e.iter().any(|e| current.fields().contains(&e.field)));
        if !blocked {
            step.set(match current {
                Step::Message => Step::Audience,
                Step::Audience | Step::Review => Step::Review,
            });
        }
    };
    let back = move |_| {
        step.update(|s| {
            *s = match *s {
                Step::Review => Step::Audience,
                Step::Audience | Step::Message => Step::Message,
            }
        })
    };

    // The preview follows the message and the audience, a moment after the last keystroke.
    let preview = Action::new_local(|i: &CampaignInput| api::preview_campaign(i.clone()));
    let asked = RwSignal::new(0u64);
    Effect::new(move |_| {
        let mut wanted = campaign.get();
        // The name is only for the owner: the preview needs none yet.
        if wanted.name.trim().is_empty() {
            wanted.name = "Preview".into();
        }
        let ready = has_active_page() && errors.with(|e| e.iter().all(|e| e.field == CampaignField::Name));
        let n = asked.get_untracked() + 1;
        asked.set(n);
        if ready {
            set_timeout(
                // The composer may be gone by then (saved, or left).
                move || {
                    if asked.try_get_untracked() == Some(n) {
                        preview.dispatch_local(wanted);
                    }
                },
                Duration::from_millis(400),
            );
        }
    });
    let save = Action::new_local(|i: &CampaignInput| api::save_campaign(i.clone()));
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(id)) = save.value().get() {
            navigate(&format!("/campaigns/{id}"), Default::default());
        }
    });
    view! {
        <section class="card">
            <h2>"New campaign"</h2>
            <ol class="steps">
                {Step::ALL.into_iter().map(|s| view! {
                    <li aria-current=move || (step.get() == s).then_some("step")>{s.title()}</li>
                }).collect_view()}
            </ol>
            {move || (pages.get().is_some() && !has_active_page()).then(|| view! {
                <p class="error" data-testid="no-active-page">"Connect a Page first: a campaign goes out through one of your Pages."</p>
            })}
            <form on:submit=move |ev: leptos::ev::SubmitEvent| {
                ev.prevent_default();
                if step.get_untracked() == Step::Review {
                    save.dispatch_local(campaign.get_untracked());
                }
            }>
                <div hidden=move || step.get() != Step::Message>
                    <MessageStep form=form pages=pages />
                </div>
                <div hidden=move || step.get() != Step::Audience>
                    <AudienceStep form=form labels=labels />
                </div>
                {move || (step.get() == Step::Review).then(|| view! {
                    <dl data-testid="review">
                        <dt>"Name"</dt><dd>{campaign.get().name}</dd>
                        <dt>"Page"</dt>
                        <dd>{move || {
                            let id = campaign.get().page;
                            pages.get().and_then(|r| r.ok()).and_then(|o| o.pages.into_iter().find(|p| p.id == id)).map(|p| p.name)
                        }}</dd>
                    </dl>
                })}
                {move || (step.get() != Step::Message).then(|| audience_count(preview))}
                {move || (step.get() == Step::Audience && (form.error(CampaignField::MarginHours).is_some() || form.error(CampaignField::Rate).is_some())).then(|| view! {
                    <p class="error" data-testid="advanced-error">"Check the settings under Advanced."</p>
                })}
                <div class="choice">
                    {move || (step.get() != Step::Message).then(|| view! { <button type="button" on:click=back>"Back"</button> })}
                    {move || match step.get() {
                        Step::Message => view! { <button type="button" disabled=move || !has_active_page() on:click=go_on>"Next: audience"</button> }.into_any(),
                        Step::Audience => view! { <button type="button" on:click=go_on>"Next: review"</button> }.into_any(),
                        Step::Review => view! { <button type="submit" disabled=move || save.pending().get() || !has_active_page()>"Save draft"</button> }.into_any(),
                    }}
                </div>
            </form>
            <LivePreview preview=preview review=Signal::derive(move || step.get() == Step::Review) />
            {move || save.value().get().and_then(|r| r.err()).map(|e| view! { <ErrorNote error=e /> })}
        </section>
    }
}

fn audience_count(preview: Action<CampaignInput, Result<crate::types::AudiencePreview, crate::error::AppError>>) -> impl IntoView {
    move || {
        preview.value().get().and_then(|r| r.ok()).map(|p| {
            view! {
                <p data-testid="audience-count" role="status">
                    {format!("Reachable now: {} · outside the window: {} · unsubscribed or unavailable: {}", p.reachable_now, p.outside_window, p.excluded)}
                </p>
            }
        })
    }
}

#[component]
fn LivePreview(preview: Action<CampaignInput, Result<crate::types::AudiencePreview, crate::error::AppError>>, review: Signal<bool>) -> impl IntoView {
    move || match preview.value().get() {
        None => ().into_any(),
        Some(Err(e)) => view! { <ErrorNote error=e /> }.into_any(),
        Some(Ok(p)) => view! {
            <div data-testid="audience-preview">
                <p class="muted">"As a lead of this audience will read it:"</p>
                <blockquote class="preview" data-testid=move || if review.get() { "review-preview" } else { "live-preview" }>{p.preview}</blockquote>
            </div>
        }
        .into_any(),
    }
}

/// One field's error, beside it, when the field has one to show.
fn field_error(form: Form, field: CampaignField) -> impl IntoView {
    let (input_id, test_id) = ids(field);
    move || form.error(field).map(|reason| view! { <p class="error" id=format!("{input_id}-error") data-testid=test_id>{reason}</p> })
}

/// `aria-invalid` and `aria-describedby` for a field.
fn invalid(form: Form, field: CampaignField) -> (impl Fn() -> &'static str + Copy, impl Fn() -> Option<String> + Copy) {
    let id = ids(field).0;
    (move || if form.error(field).is_some() { "true" } else { "false" }, move || form.error(field).map(|_| format!("{id}-error")))
}

#[component]
fn MessageStep(form: Form, pages: LocalResource<Result<crate::types::PagesOverview, crate::error::AppError>>) -> impl IntoView {
    use CampaignField::*;
    let Form { input, extra, quick, button_title, button_url, .. } = form;
    let typed = move |field: CampaignField, set: fn(&mut CampaignInput, String)| {
        move |ev: leptos::ev::Event| {
            let value = event_target_value(&ev);
            input.update(|i| set(i, value));
            form.touch(field);
        }
    };
    let (name_invalid, name_described) = invalid(form, Name);
    let (text_invalid, text_described) = invalid(form, Text);
    let (first_invalid, first_described) = invalid(form, FallbackFirstName);
    let (last_invalid, last_described) = invalid(form, FallbackLastName);
    let (quick_invalid, quick_described) = invalid(form, QuickReplies);
    let (title_invalid, title_described) = invalid(form, ButtonTitle);
    let (url_invalid, url_described) = invalid(form, ButtonUrl);
    view! {
        <label for="campaign_name">"Name"</label>
        <input id="campaign_name" maxlength="100" aria-invalid=name_invalid aria-describedby=name_described
            on:input=typed(Name, |i, v| i.name = v) />
        {field_error(form, Name)}
        <Why text="only you see it, to find the campaign again." />
        <label for="campaign_page">"Page"</label>
        <select id="campaign_page" on:change=move |ev| input.update(|i| i.page = event_target_value(&ev))>
            {move || pages.get().and_then(|r| r.ok()).map(|o| o.pages.into_iter().filter(|p| p.status == PageStatus::Active).map(|p| {
                view! { <option value=p.id.clone()>{p.name.clone()}</option> }
            }).collect_view())}
        </select>
        <label for="campaign_text">"Message"</label>
        <textarea id="campaign_text" rows="4" aria-invalid=text_invalid aria-describedby=text_described
            on:input=typed(Text, |i, v| i.text = v)></textarea>
        {field_error(form, Text)}
        <small class="why">"Variables: {{first_name}}, {{last_name}}, {{page_name}}. An unsubscribe link is always added at the end; it cannot be removed."</small>
        <label for="fallback_first">"If the first name is unknown, write"</label>
        <input id="fallback_first" prop:value=move || input.with(|i| i.fallback_first_name.clone()) aria-invalid=first_invalid aria-describedby=first_described
            on:input=typed(FallbackFirstName, |i, v| i.fallback_first_name = v) />
        {field_error(form, FallbackFirstName)}
        <label for="fallback_last">"If the last name is unknown, write"</label>
        <input id="fallback_last" aria-invalid=last_invalid aria-describedby=last_described
            on:input=typed(FallbackLastName, |i, v| i.fallback_last_name = v) />
        {field_error(form, FallbackLastName)}
        <fieldset>
            <legend>"Add to the message"</legend>
            <label class="check"><input type="radio" name="extra" checked=true on:change=move |_| extra.set(Extra::Nothing) />"Nothing"</label>
            <label class="check"><input type="radio" name="extra" on:change=move |_| extra.set(Extra::QuickReplies) />"Quick replies"</label>
            <label class="check"><input type="radio" name="extra" on:change=move |_| extra.set(Extra::Button) />"A button"</label>
            {move || match extra.get() {
                Extra::Nothing => ().into_any(),
                Extra::QuickReplies => view! {
                    <label for="campaign_quick">"Quick replies (separated by commas)"</label>
                    <input id="campaign_quick" prop:value=move || quick.get() aria-invalid=quick_invalid aria-describedby=quick_described
                        on:input=move |ev| { quick.set(event_target_value(&ev)); form.touch(QuickReplies); } />
                    {field_error(form, QuickReplies)}
                    <Why text="at most 13, each 1 to 20 characters; the lead taps one to answer." />
                }.into_any(),
                Extra::Button => view! {
                    <label for="button_title">"Button title"</label>
                    <input id="button_title" maxlength="20" prop:value=move || button_title.get() aria-invalid=title_invalid aria-describedby=title_described
                        on:input=move |ev| { button_title.set(event_target_value(&ev)); form.touch(ButtonTitle); } />
                    {field_error(form, ButtonTitle)}
                    <label for="button_url">"Button link (https://…)"</label>
                    <input id="button_url" type="url" prop:value=move || button_url.get() aria-invalid=url_invalid aria-describedby=url_described
                        on:input=move |ev| { button_url.set(event_target_value(&ev)); form.touch(ButtonUrl); } />
                    {field_error(form, ButtonUrl)}
                }.into_any(),
            }}
        </fieldset>
    }
}

#[component]
fn AudienceStep(form: Form, labels: LocalResource<Result<Vec<crate::types::LabelView>, crate::error::AppError>>) -> impl IntoView {
    use CampaignField::*;
    let input = form.input;
    let toggle_label = move |include: bool, id: String| {
        move |ev: leptos::ev::Event| {
            let on = event_target_checked(&ev);
            input.update(|i| {
                let list = if include { &mut i.include_labels } else { &mut i.exclude_labels };
                list.retain(|x| x != &id);
                if on {
                    list.push(id.clone());
                }
            });
        }
    };
    let (margin_invalid, margin_described) = invalid(form, MarginHours);
    let (rate_invalid, rate_described) = invalid(form, Rate);
    view! {
        <fieldset>
            <legend>"Audience"</legend>
            <p class="muted">"Only subscribed leads whose window is open; the suppression list always applies."</p>
            {move || labels.get().and_then(|r| r.ok()).map(|ls| ls.into_iter().map(|l| {
                let (a, b) = (l.id.clone(), l.id.clone());
                view! {
                    <div class="choice">
                        <label class="check"><input type="checkbox" on:change=toggle_label(true, a) /> {format!("Include {}", l.name)}</label>
                        <label class="check"><input type="checkbox" on:change=toggle_label(false, b) /> {format!("Exclude {}", l.name)}</label>
                    </div>
                }
            }).collect_view())}
        </fieldset>
        <details>
            <summary>"Advanced"</summary>
            <label for="margin_hours">"Treat the window as open for (hours)"</label>
            <input id="margin_hours" type="number" min="1" max="24" prop:value=move || input.with(|i| i.margin_hours.to_string())
                aria-invalid=margin_invalid aria-describedby=margin_described
                on:input=move |ev| { input.update(|i| i.margin_hours = event_target_value(&ev).parse().unwrap_or(0)); form.touch(MarginHours); } />
            {field_error(form, MarginHours)}
            <Why text="Meta allows campaign messages only within 24 hours of the lead's last message; 23 keeps a safety margin." />
            <label for="rate">"Messages per second"</label>
            <input id="rate" type="number" min="1" max="300" prop:value=move || input.with(|i| i.rate_per_sec.to_string())
                aria-invalid=rate_invalid aria-describedby=rate_described
                on:input=move |ev| { input.update(|i| i.rate_per_sec = event_target_value(&ev).parse().unwrap_or(0)); form.touch(Rate); } />
            {field_error(form, Rate)}
        </details>
    }
}
