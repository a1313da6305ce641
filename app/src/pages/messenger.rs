//! Messenger screens: Pages (connect, disconnect, bot disclosure), the
//! Facebook Login callback, and the public status page of a Meta
//! data-deletion request.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};

use super::account::RequireSignIn;
use super::components::{outcome, ErrorNote, Why};
use crate::api;
use crate::auth::format_time;
use crate::types::PageStatus;

fn status_text(status: PageStatus) -> &'static str {
    match status {
        PageStatus::Active => "Connected",
        PageStatus::NeedsReconnection => "Needs reconnection: Facebook no longer accepts its token",
        PageStatus::Disconnected => "Disconnected (leads kept, read-only)",
    }
}

#[component]
pub fn PagesPage() -> impl IntoView {
    let overview = LocalResource::new(api::pages);
    let start_login = Action::new_local(|_: &()| api::facebook_login_start());
    Effect::new(move |_| {
        if let Some(Ok(url)) = start_login.value().get() {
            let _ = window().location().set_href(&url);
        }
    });
    let page_id = RwSignal::new(String::new());
    let token = RwSignal::new(String::new());
    let connect = Action::new_local(|(p, t): &(String, String)| api::connect_page(p.clone(), t.clone()));
    Effect::new(move |_| {
        if let Some(Ok(())) = connect.value().get() {
            page_id.set(String::new());
            token.set(String::new());
            overview.refetch();
        }
    });
    let disconnect = Action::new_local(|(p, erase): &(String, bool)| api::disconnect_page(p.clone(), *erase));
    let disclosure = Action::new_local(|(p, on): &(String, bool)| api::set_bot_disclosure(p.clone(), *on));
    Effect::new(move |_| {
        if disconnect.value().get().is_some_and(|r| r.is_ok()) {
            overview.refetch();
        }
    });
    view! {
        <RequireSignIn>
            <section class="card">
                <h1>"Your Facebook Pages"</h1>
                <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                    {move || overview.get().map(|r| match r {
                        Err(e) => view! { <ErrorNote error=e /> }.into_any(),
                        Ok(o) => view! {
                            {(!o.app_configured).then(|| view! {
                                <p class="notice" role="alert">"The administrator has not set up the Facebook app yet, so no Page can be connected."</p>
                            })}
                            {o.pages.is_empty().then(|| view! { <p data-testid="no-pages">"No Page connected yet."</p> })}
                            <ul class="rows" data-testid="pages">
                                {o.pages.into_iter().map(|p| {
                                    let (id1, id2, id3) = (p.id.clone(), p.id.clone(), p.id.clone());
                                    let active = p.status != PageStatus::Disconnected;
                                    view! {
                                        <li data-testid="page-row">
                                            <strong>{p.name.clone()}</strong>
                                            " (Facebook id " {p.page_id.clone()} "): "
                                            <span data-testid="page-status">{status_text(p.status)}</span>
                                            " · " {p.leads} " leads · "
                                            <A href=format!("/leads?page={}", p.id)>"Leads"</A>
                                            {active.then(|| view! {
                                                <label class="check">
                                                    <input type="checkbox" prop:checked=p.bot_disclosure
                                                        on:change=move |ev| { disclosure.dispatch_local((id1.clone(), event_target_checked(&ev))); } />
                                                    "Say that automated replies are automated (required in California and Germany)"
                                                </label>
                                            })}
                                            <details>
                                                <summary>"Disconnect…"</summary>
                                                <p>"Disconnecting stops new messages. Do you also want to erase this Page's leads and conversations?"</p>
                                                {active.then(|| view! {
                                                    <button on:click=move |_| { disconnect.dispatch_local((id2.clone(), false)); }>"Disconnect, keep leads"</button>
                                                })}
                                                <button class="danger" on:click=move |_| { disconnect.dispatch_local((id3.clone(), true)); }>"Disconnect and erase everything"</button>
                                            </details>
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                            {o.demo.then(|| view! { <p class="notice">"Demo mode: Facebook Login opens the built-in stand-in, which creates a demo Page whose simulated leads write to you."</p> })}
                        }.into_any(),
                    })}
                </Suspense>
                {move || disconnect.value().get().and_then(|r| r.err()).map(|e| view! { <ErrorNote error=e /> })}
                {move || disclosure.value().get().and_then(|r| r.err()).map(|e| view! { <ErrorNote error=e /> })}
            </section>
            <section class="card">
                <h2>"Connect with Facebook"</h2>
                <p>"You sign in on Facebook and pick the Pages; we subscribe to their messages. We never see your Facebook password."</p>
                <button data-testid="facebook-login" on:click=move |_| { start_login.dispatch_local(()); } disabled=move || start_login.pending().get()>
                    "Connect with Facebook"
                </button>
                {move || start_login.value().get().and_then(|r| r.err()).map(|e| view! { <ErrorNote error=e /> })}
            </section>
            <section class="card">
                <h2>"Connect manually"</h2>
                <form on:submit=move |ev: leptos::ev::SubmitEvent| {
                    ev.prevent_default();
                    connect.dispatch_local((page_id.get_untracked(), token.get_untracked()));
                }>
                    <label for="manual_page_id">"Page id"</label>
                    <input id="manual_page_id" inputmode="numeric" required bind:value=page_id />
                    <Why text="to know which Page's messages are yours." />
                    <label for="manual_token">"Page access token"</label>
                    <input id="manual_token" type="password" autocomplete="off" required bind:value=token />
                    <Why text="Facebook requires it to deliver and send the Page's messages. It is stored encrypted and never shown again." />
                    <button type="submit" disabled=move || connect.pending().get()>"Check and connect"</button>
                </form>
                {outcome(connect.value(), |_| view! { <p class="success" role="status" data-testid="page-connected">"The Page is connected."</p> }.into_any())}
            </section>
        </RequireSignIn>
    }
}

/// Facebook Login's redirect target: exchange the code, then pick Pages.
#[component]
pub fn FacebookCallbackPage() -> impl IntoView {
    let query = use_query_map();
    let code = query.read_untracked().get("code").unwrap_or_default();
    let state = query.read_untracked().get("state").unwrap_or_default();
    let state_for_connect = state.clone();
    let offered = LocalResource::new(move || api::facebook_login_finish(code.clone(), state.clone()));
    let chosen = RwSignal::new(Vec::<String>::new());
    let connect = Action::new_local(move |ids: &Vec<String>| api::facebook_login_connect(state_for_connect.clone(), ids.clone()));
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(_)) = connect.value().get() {
            navigate("/pages", Default::default());
        }
    });
    view! {
        <RequireSignIn>
            <section class="card">
                <h1>"Pick the Pages to connect"</h1>
                <Suspense fallback=|| view! { <p>"Asking Facebook for your Pages…"</p> }>
                    {move || offered.get().map(|r| match r {
                        Err(e) => view! { <ErrorNote error=e /> <p><A href="/pages">"Back to your Pages"</A></p> }.into_any(),
                        Ok(pages) if pages.is_empty() => view! { <p>"Facebook listed no Page you manage."</p> }.into_any(),
                        Ok(pages) => view! {
                            <ul class="rows">
                                {pages.into_iter().map(|p| {
                                    let id = p.page_id.clone();
                                    view! {
                                        <li>
                                            <label class="check">
                                                <input type="checkbox" on:change=move |ev| {
                                                    let on = event_target_checked(&ev);
                                                    chosen.update(|c| { c.retain(|x| x != &id); if on { c.push(id.clone()); } });
                                                } />
                                                {p.name.clone()}
                                                {p.connected.then_some(" (already connected: its token is refreshed)")}
                                            </label>
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                            <button on:click=move |_| { connect.dispatch_local(chosen.get_untracked()); }
                                disabled=move || chosen.with(|c| c.is_empty()) || connect.pending().get()>
                                "Connect the chosen Pages"
                            </button>
                        }.into_any(),
                    })}
                </Suspense>
                {move || connect.value().get().and_then(|r| r.err()).map(|e| view! { <ErrorNote error=e /> })}
            </section>
        </RequireSignIn>
    }
}

/// Public: the status of a Meta data-deletion request.
#[component]
pub fn DeletionStatusPage() -> impl IntoView {
    let query = use_query_map();
    let code = query.read_untracked().get("code").unwrap_or_default();
    let status = LocalResource::new(move || api::deletion_status(code.clone()));
    view! {
        <section class="card">
            <h1>"Data deletion request"</h1>
            <Suspense fallback=|| ()>
                {move || status.get().map(|r| match r {
                    Err(e) => view! { <ErrorNote error=e /> }.into_any(),
                    Ok(None) => view! { <p>"No request with this confirmation code."</p> }.into_any(),
                    Ok(Some(s)) => view! {
                        <p data-testid="deletion-status">{format!("Request {} received {}: {}. Conversations erased: {}.", s.confirmation_code, format_time(s.received_at, false), s.status.as_str(), s.leads_erased)}</p>
                    }.into_any(),
                })}
            </Suspense>
        </section>
    }
}
