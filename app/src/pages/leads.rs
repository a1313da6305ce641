//! The leads list: filters (kept while the app is open), labels, and
//! labelling several leads at once.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

use super::account::RequireSignIn;
use super::components::{outcome, Confirm, ErrorNote, Why};
use crate::api;
use crate::auth::format_time;
use crate::messaging::{duration, ReplyRule};
use crate::types::{LeadFilter, LeadRow, WindowFilter};

fn window_text(rule: &ReplyRule) -> String {
    match rule {
        ReplyRule::Standard { secs_left } => format!("Open, {} left", duration(*secs_left)),
        ReplyRule::HumanAgent { secs_left } => format!("Closed; human reply possible for {}", duration(*secs_left)),
        ReplyRule::Closed => "Closed".to_string(),
    }
}

/// The leads list's filters, kept while the app is open: opening a
/// conversation and coming back finds the list as it was. Not kept in the
/// address, since a name search is personal data, and dropped at sign-out.
#[derive(Clone, Copy)]
pub struct LeadFilters {
    page: RwSignal<Option<String>>,
    label: RwSignal<Option<String>>,
    subscribed: RwSignal<Option<bool>>,
    window: RwSignal<Option<WindowFilter>>,
    search: RwSignal<String>,
}

impl LeadFilters {
    pub fn provide() -> Self {
        let filters = LeadFilters {
            page: RwSignal::new(None),
            label: RwSignal::new(None),
            subscribed: RwSignal::new(None),
            window: RwSignal::new(None),
            search: RwSignal::new(String::new()),
        };
        provide_context(filters);
        filters
    }

    pub fn get() -> Self {
        expect_context()
    }

    pub fn clear(&self) {
        self.page.set(None);
        self.label.set(None);
        self.subscribed.set(None);
        self.window.set(None);
        self.search.set(String::new());
    }
}

/// "1 lead", "3 leads".
pub(super) fn leads_text(n: i64) -> String {
    if n == 1 {
        "1 lead".to_string()
    } else {
        format!("{n} leads")
    }
}

/// "3 leads", or, while searching names, how many this page shows.
fn count_text(total: Option<u64>, shown: usize) -> String {
    match total {
        Some(n) => leads_text(i64::try_from(n).unwrap_or(i64::MAX)),
        None => format!("{shown} shown"),
    }
}

#[component]
pub fn LeadsPage() -> impl IntoView {
    let query = use_query_map();
    let LeadFilters { page, label, subscribed, window: window_filter, search } = LeadFilters::get();
    // A link to one Page's leads (from the Pages list) chooses that Page.
    if let Some(from_link) = query.read_untracked().get("page") {
        page.set(Some(from_link));
    }
    let after = RwSignal::new(None::<String>);
    let filter = move || LeadFilter {
        page: page.get(),
        label: label.get(),
        subscribed: subscribed.get(),
        window: window_filter.get(),
        search: search.get(),
        after: after.get(),
    };
    let pages = LocalResource::new(api::pages);
    let labels = LocalResource::new(api::labels);
    let leads = LocalResource::new(move || api::leads(filter()));
    let selected = RwSignal::new(Vec::<String>::new());
    let new_label = RwSignal::new(String::new());
    let create = Action::new_local(|name: &String| api::create_label(name.clone()));
    let assign = Action::new_local(|(ids, label, on): &(Vec<String>, String, bool)| api::assign_label(ids.clone(), label.clone(), *on));
    let remove_label = Action::new_local(|id: &String| api::delete_label(id.clone()));
    let rename = Action::new_local(|(id, name): &(String, String)| api::rename_label(id.clone(), name.clone()));
    Effect::new(move |_| {
        if create.value().get().is_some_and(|r| r.is_ok()) {
            new_label.set(String::new());
            labels.refetch();
        }
    });
    // Assigning changes the leads only; the label list (and its inputs) stays as it is.
    Effect::new(move |_| {
        if assign.value().get().is_some_and(|r| r.is_ok()) {
            leads.refetch();
        }
    });
    Effect::new(move |_| {
        // Read both, so the effect tracks each of them.
        let changed = [remove_label.value().get().is_some_and(|r| r.is_ok()), rename.value().get().is_some_and(|r| r.is_ok())];
        if changed.contains(&true) {
            labels.refetch();
            leads.refetch();
        }
    });
    let bulk_label = RwSignal::new(String::new());
    // Both a label and at least one lead must be chosen first.
    let cannot_assign = move || bulk_label.with(String::is_empty) || selected.with(Vec::is_empty) || assign.pending().get();
    view! {
        <RequireSignIn>
            <section class="card">
                <h1>"Leads"</h1>
                <p>"People who wrote to your Pages. Each one started the conversation, and we keep the signed proof."</p>
                <div class="filters">
                    <label for="lead_page">"Page"</label>
                    <select id="lead_page" on:change=move |ev| { after.set(None); page.set(Some(event_target_value(&ev)).filter(|v| !v.is_empty())); }>
                        {move || pages.get().and_then(|r| r.ok()).map(|o| o.pages.into_iter().map(|p| {
                            let selected_now = page.get_untracked().as_deref() == Some(p.id.as_str());
                            view! { <option value=p.id.clone() selected=selected_now>{p.name.clone()}</option> }
                        }).collect_view())}
                    </select>
                    <label for="lead_label">"Label"</label>
                    <select id="lead_label" on:change=move |ev| { after.set(None); label.set(Some(event_target_value(&ev)).filter(|v| !v.is_empty())); }>
                        <option value="">"Any"</option>
                        {move || labels.get().and_then(|r| r.ok()).map(|ls| ls.into_iter().map(|l| {
                            let selected_now = label.get_untracked().as_deref() == Some(l.id.as_str());
                            view! { <option value=l.id.clone() selected=selected_now>{l.name.clone()}</option> }
                        }).collect_view())}
                    </select>
                    <label for="lead_subscribed">"Subscription"</label>
                    <select id="lead_subscribed" on:change=move |ev| { after.set(None); subscribed.set(match event_target_value(&ev).as_str() { "yes" => Some(true), "no" => Some(false), _ => None }); }>
                        <option value="">"Any"</option>
                        <option value="yes" selected=subscribed.get_untracked() == Some(true)>"Subscribed"</option>
                        <option value="no" selected=subscribed.get_untracked() == Some(false)>"Unsubscribed"</option>
                    </select>
                    <label for="lead_window">"24-hour window"</label>
                    <select id="lead_window" on:change=move |ev| { after.set(None); window_filter.set(match event_target_value(&ev).as_str() { "open" => Some(WindowFilter::Open), "closed" => Some(WindowFilter::Closed), _ => None }); }>
                        <option value="">"Any"</option>
                        <option value="open" selected=window_filter.get_untracked() == Some(WindowFilter::Open)>"Open"</option>
                        <option value="closed" selected=window_filter.get_untracked() == Some(WindowFilter::Closed)>"Closed"</option>
                    </select>
                    <label for="lead_search">"Search names"</label>
                    <input id="lead_search" type="search" prop:value=search.get_untracked() on:change=move |ev| { after.set(None); search.set(event_target_value(&ev)); } />
                </div>
                <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                    {move || leads.get().map(|r| match r {
                        Err(e) => view! { <ErrorNote error=e /> }.into_any(),
                        Ok(found) => {
                            let next = found.next.clone();
                            let count = count_text(found.total, found.leads.len());
                            view! {
                                <table class="leads" data-testid="leads">
                                    <thead><tr><th></th><th>"Name"</th><th>"Window"</th><th>"Subscribed"</th><th>"Labels"</th><th>"Opted in"</th></tr></thead>
                                    <tbody>
                                        {found.leads.into_iter().map(|l| lead_row(l, selected)).collect_view()}
                                    </tbody>
                                </table>
                                <p class="muted" data-testid="lead-count">{count}</p>
                                {next.map(|n| view! { <button class="link" on:click=move |_| after.set(Some(n.clone()))>"More"</button> })}
                            }.into_any()
                        }
                    })}
                </Suspense>
            </section>
            <section class="card">
                <h2>"Labels"</h2>
                <div class="filters">
                    <label for="bulk_label">"Label for the selected leads"</label>
                    <select id="bulk_label" on:change=move |ev| bulk_label.set(event_target_value(&ev))>
                        <option value="">"Choose…"</option>
                        {move || labels.get().and_then(|r| r.ok()).map(|ls| ls.into_iter().map(|l| view! { <option value=l.id.clone()>{l.name.clone()}</option> }).collect_view())}
                    </select>
                    <button disabled=cannot_assign on:click=move |_| { assign.dispatch_local((selected.get_untracked(), bulk_label.get_untracked(), true)); }>"Add label"</button>
                    <button disabled=cannot_assign on:click=move |_| { assign.dispatch_local((selected.get_untracked(), bulk_label.get_untracked(), false)); }>"Remove label"</button>
                </div>
                {outcome(assign.value(), |n| view! { <p class="success" role="status" data-testid="labels-assigned">{format!("{n} leads changed.")}</p> }.into_any())}
                <form on:submit=move |ev: leptos::ev::SubmitEvent| { ev.prevent_default(); create.dispatch_local(new_label.get_untracked()); }>
                    <label for="new_label">"New label"</label>
                    <input id="new_label" maxlength="50" required bind:value=new_label />
                    <Why text="labels are your own words for grouping leads, for example for a campaign." />
                    <button type="submit">"Create label"</button>
                </form>
                {move || create.value().get().and_then(|r| r.err()).map(|e| view! { <ErrorNote error=e /> })}
                <ul class="rows" data-testid="labels">
                    {move || labels.get().and_then(|r| r.ok()).map(|ls| ls.into_iter().map(|l| {
                        let (id, rename_id) = (l.id.clone(), l.id.clone());
                        let new_name = RwSignal::new(l.name.clone());
                        view! {
                            <li class="choice">
                                <input aria-label=format!("New name for {}", l.name) maxlength="50" bind:value=new_name />
                                <button class="link" on:click=move |_| { rename.dispatch_local((rename_id.clone(), new_name.get_untracked())); }>"Rename"</button>
                                <Confirm ask=format!("Delete {}…", l.name) confirm=format!("Yes, delete {}", l.name)
                                    consequence=format!("This deletes the label {} and takes it off every lead. The leads themselves stay.", l.name)
                                    on_confirm=move |()| {
                                        // A list filtered by this label would find it gone.
                                        if label.get_untracked().as_deref() == Some(id.as_str()) {
                                            label.set(None);
                                        }
                                        remove_label.dispatch_local(id.clone());
                                    } />
                            </li>
                        }
                    }).collect_view())}
                </ul>
                {move || rename.value().get().and_then(|r| r.err()).map(|e| view! { <ErrorNote error=e /> })}
            </section>
        </RequireSignIn>
    }
}

fn lead_row(l: LeadRow, selected: RwSignal<Vec<String>>) -> impl IntoView {
    let id = l.id.clone();
    let name = l.name.clone().unwrap_or_else(|| "(name not shared)".to_string());
    view! {
        <tr data-testid="lead-row">
            <td><input type="checkbox" aria-label=format!("Select {name}") on:change=move |ev| {
                let on = event_target_checked(&ev);
                selected.update(|s| { s.retain(|x| x != &id); if on { s.push(id.clone()); } });
            } /></td>
            <td><A href=format!("/inbox/{}", l.id)>{name.clone()}</A>{l.unavailable.then_some(" (unavailable)")}</td>
            <td data-testid="lead-window">{window_text(&l.reply)}</td>
            <td>{if l.subscribed { "Yes" } else { "No" }}</td>
            <td>{l.labels.iter().map(|x| x.name.clone()).collect::<Vec<_>>().join(", ")}</td>
            <td>{format_time(l.opted_in_at, false)}</td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_count_reads_as_a_plain_number() {
        assert_eq!(count_text(Some(0), 0), "0 leads");
        assert_eq!(count_text(Some(1), 1), "1 lead");
        assert_eq!(count_text(Some(120), 50), "120 leads");
        assert_eq!(count_text(None, 7), "7 shown");
    }
}
