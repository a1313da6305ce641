//! Campaigns: the list (the composer is `composer`), schedule, send,
//! pause, resume, cancel; live progress, an SVG chart and the report.
//! And the public unsubscribe page behind every message's link.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use super::account::RequireSignIn;
use super::campaign_report::{chart, report_tiles};
use super::components::{Confirm, ErrorNote, Why};
use super::leads::leads_text;
use crate::api;
use crate::auth::format_time;
use crate::messaging::time_left;
use crate::types::{AudiencePreview, CampaignDetail, CampaignProgress, CampaignState, ScheduleInput, UnsubscribeInfo};

/// What the campaign page's buttons ask for; each maps to exactly one call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CampaignCommand {
    SendNow,
    Pause,
    Resume,
    Cancel,
}

pub(super) fn state_text(state: CampaignState) -> &'static str {
    match state {
        CampaignState::Draft => "Draft",
        CampaignState::Scheduled => "Scheduled",
        CampaignState::Sending => "Sending",
        CampaignState::Paused => "Paused",
        CampaignState::Completed => "Completed",
        CampaignState::Cancelled => "Cancelled",
    }
}

/// The browser's IANA time zone, for the schedule form's default.
fn browser_time_zone() -> String {
    #[cfg(target_arch = "wasm32")]
    {
        let options = js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new()).resolved_options();
        if let Some(zone) = js_sys::Reflect::get(&options, &"timeZone".into()).ok().and_then(|v| v.as_string()) {
            return zone;
        }
    }
    "UTC".to_string()
}

#[component]
pub fn CampaignsPage() -> impl IntoView {
    let campaigns = LocalResource::new(api::campaigns);
    view! {
        <RequireSignIn>
            <section class="card">
                <h1>"Campaigns"</h1>
                <p>"Bulk messages go only to subscribed leads whose 24-hour window is open, and every message carries an unsubscribe link."</p>
                <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                    {move || campaigns.get().map(|r| match r {
                        Err(e) => view! { <ErrorNote error=e /> }.into_any(),
                        Ok(list) if list.is_empty() => view! { <p>"No campaign yet."</p> }.into_any(),
                        Ok(list) => view! {
                            <table data-testid="campaigns">
                                <thead><tr><th>"Name"</th><th>"Page"</th><th>"State"</th><th>"Sent"</th><th>"Created"</th></tr></thead>
                                <tbody>
                                    {list.into_iter().map(|c| view! {
                                        <tr>
                                            <td><A href=format!("/campaigns/{}", c.id)>{c.name.clone()}</A></td>
                                            <td>{c.page_name.clone()}</td>
                                            <td>{state_text(c.state)}</td>
                                            <td>{format!("{} of {}", c.progress.sent, c.progress.total)}</td>
                                            <td>{format_time(c.created_at, false)}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                    })}
                </Suspense>
            </section>
            <super::composer::Compose />
        </RequireSignIn>
    }
}

fn progress_bar(p: &CampaignProgress) -> impl IntoView {
    let done = p.sent + p.failed + p.skipped;
    // While the queue is still being built the total grows, so no percentage yet.
    let percent = if p.total > 0 && !p.preparing { done * 100 / p.total } else { 0 };
    let status = if p.preparing { format!("preparing the audience ({} queued so far)", p.total) } else { format!("{percent}%") };
    view! {
        // A native bar: an inline width would be a style attribute, which the CSP refuses.
        <progress class="progress" max="100" value=percent.to_string() aria-valuemin="0" aria-valuemax="100" aria-valuenow=percent.to_string() data-testid="progress">
            {format!("{percent}%")}
        </progress>
        <p data-testid="progress-text">
            {format!("{status} · sent {} · failed {} · skipped {} · pending {} · delivered {} · read {}", p.sent, p.failed, p.skipped, p.pending + p.in_flight, p.delivered, p.read)}
            {p.eta_secs.filter(|s| *s > 0).map(|s| format!(" · about {} left", time_left(s)))}
        </p>
    }
}

#[component]
pub fn CampaignPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let detail = LocalResource::new(move || api::campaign(id()));
    // Live progress: refreshed every second while the campaign is under way.
    Effect::new(move |_| {
        let live = detail.get().and_then(|r| r.ok()).is_some_and(|d| matches!(d.summary.state, CampaignState::Sending | CampaignState::Scheduled));
        if live {
            set_timeout(move || detail.refetch(), std::time::Duration::from_millis(1000));
        }
    });
    let act = Action::new_local(|(command, id): &(CampaignCommand, String)| {
        let (command, id) = (*command, id.clone());
        async move {
            match command {
                CampaignCommand::SendNow => api::send_campaign_now(id).await,
                CampaignCommand::Pause => api::pause_campaign(id).await,
                CampaignCommand::Resume => api::resume_campaign(id).await,
                CampaignCommand::Cancel => api::cancel_campaign(id).await,
            }
        }
    });
    Effect::new(move |_| {
        if act.value().get().is_some_and(|r| r.is_ok()) {
            detail.refetch();
        }
    });
    // Counted again only when the campaign's content or audience changes,
    // not at every progress refresh.
    let input = Memo::new(move |_| detail.get().and_then(|r| r.ok()).map(|d| d.input));
    let audience: Audience = LocalResource::new(move || {
        let input = input.get();
        async move {
            match input {
                Some(i) => api::preview_campaign(i).await.map(Some),
                None => Ok(None),
            }
        }
    });
    let confirms = Confirms { send: RwSignal::new(false), schedule: RwSignal::new(false), cancel: RwSignal::new(false) };
    let when = When { date: RwSignal::new(String::new()), time: RwSignal::new(String::new()), zone: RwSignal::new(browser_time_zone()) };
    let schedule = Action::new_local(|(id, s): &(String, ScheduleInput)| api::schedule_campaign(id.clone(), s.clone()));
    Effect::new(move |_| {
        if schedule.value().get().is_some_and(|r| r.is_ok()) {
            detail.refetch();
        }
    });
    view! {
        <RequireSignIn>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || detail.get().map(|r| match r {
                    Err(e) => view! { <ErrorNote error=e /> }.into_any(),
                    Ok(d) => campaign_view(d, act, audience, id, when, schedule, confirms).into_any(),
                })}
            </Suspense>
            {move || act.value().get().and_then(|r| r.err()).map(|e| view! { <ErrorNote error=e /> })}
            {move || schedule.value().get().and_then(|r| r.err()).map(|e| view! { <ErrorNote error=e /> })}
        </RequireSignIn>
    }
}

/// The open confirmations: they outlive the view, which a live campaign
/// rebuilds every second.
#[derive(Clone, Copy)]
struct Confirms {
    send: RwSignal<bool>,
    schedule: RwSignal<bool>,
    cancel: RwSignal<bool>,
}

/// The schedule form's fields.
#[derive(Clone, Copy)]
struct When {
    date: RwSignal<String>,
    time: RwSignal<String>,
    zone: RwSignal<String>,
}

type CampaignAction = Action<(CampaignCommand, String), Result<(), crate::error::AppError>>;
type Audience = LocalResource<Result<Option<AudiencePreview>, crate::error::AppError>>;
type ScheduleAction = Action<(String, ScheduleInput), Result<i64, crate::error::AppError>>;

fn campaign_view(
    d: CampaignDetail,
    act: CampaignAction,
    audience: Audience,
    id: impl Fn() -> String + Copy + Send + Sync + 'static,
    when: When,
    schedule: ScheduleAction,
    confirms: Confirms,
) -> impl IntoView {
    let s = &d.summary;
    let state = s.state;
    let can_send = matches!(state, CampaignState::Draft | CampaignState::Scheduled);
    let can_pause = matches!(state, CampaignState::Sending | CampaignState::Scheduled);
    let can_cancel = !matches!(state, CampaignState::Completed | CampaignState::Cancelled);
    let raw_text = d.input.text.clone();
    // Only erased leads' failures: their reasons are counted, their rows are gone.
    let no_rows = d.report.is_empty();
    view! {
        <section class="card">
            <h1>{s.name.clone()}</h1>
            <p>{s.page_name.clone()} " · " <strong data-testid="campaign-state">{state_text(state)}</strong>
                {s.schedule_label.clone().filter(|_| state == CampaignState::Scheduled).map(|l| format!(" for {l}"))}</p>
            {s.pause_reason.clone().filter(|_| state == CampaignState::Paused).map(|r| view! { <p class="notice" role="alert">{r}</p> })}
            {progress_bar(&s.progress)}
            <div class="choice">
                {can_send.then(|| view! {
                    <Suspense fallback=|| view! { <button disabled=true>"Send now…"</button> }>
                        {move || audience.get().map(|r| match r {
                            Ok(None) => ().into_any(),
                            Ok(Some(p)) => view! {
                                <Confirm ask="Send now…" open=confirms.send confirm=format!("Yes, send to {}", leads_text(p.reachable_now))
                                    consequence=format!("This sends the message now to {}: the leads whose window is open. Sent messages cannot be taken back.", leads_text(p.reachable_now))
                                    on_confirm=move |()| { act.dispatch_local((CampaignCommand::SendNow, id())); } />
                            }.into_any(),
                            Err(e) => view! { <ErrorNote error=e /> }.into_any(),
                        })}
                    </Suspense>
                })}
                {can_pause.then(|| view! { <button on:click=move |_| { act.dispatch_local((CampaignCommand::Pause, id())); }>"Pause"</button> })}
                {(state == CampaignState::Paused).then(|| view! { <button on:click=move |_| { act.dispatch_local((CampaignCommand::Resume, id())); }>"Resume"</button> })}
                {can_cancel.then(|| view! {
                    <Confirm ask="Cancel campaign…" open=confirms.cancel confirm="Yes, cancel the campaign"
                        consequence="Cancelling stops this campaign for good: nothing more is sent, and it cannot be resumed."
                        on_confirm=move |()| { act.dispatch_local((CampaignCommand::Cancel, id())); } />
                })}
            </div>
            {can_send.then(|| {
                let When { date, time, zone } = when;
                let reachable = move || audience.get().and_then(|r| r.ok()).flatten().map_or(0, |p| p.reachable_now);
                let consequence = Signal::derive(move || format!(
                    "This schedules the message for {} {} ({}). It goes to the leads whose window is open then: {} now.",
                    date.get(), time.get(), zone.get(), leads_text(reachable())
                ));
                view! {
                    <div class="schedule">
                        <h2>"Schedule"</h2>
                        <label for="schedule_date">"Date"</label>
                        <input id="schedule_date" type="date" required bind:value=date />
                        <label for="schedule_time">"Time"</label>
                        <input id="schedule_time" type="time" required bind:value=time />
                        <label for="schedule_zone">"Time zone"</label>
                        <input id="schedule_zone" required bind:value=zone />
                        <Why text="the campaign starts at this local time in this zone (for example Europe/Paris)." />
                        <Confirm ask="Schedule…" open=confirms.schedule confirm="Yes, schedule it" consequence=consequence
                            on_confirm=move |()| {
                                schedule.dispatch_local((id(), ScheduleInput { date: date.get_untracked(), time: time.get_untracked(), time_zone: zone.get_untracked() }));
                            } />
                    </div>
                }
            })}
            <h2>"Message"</h2>
            // As a lead in the audience sees it: their values, and the unsubscribe footer.
            <Suspense fallback=|| ()>
                {move || audience.get().map(|r| {
                    let text = r.ok().flatten().map(|p| p.preview).unwrap_or_else(|| raw_text.clone());
                    view! { <blockquote class="preview" data-testid="message-as-seen">{text}</blockquote> }
                })}
            </Suspense>
        </section>
        <section class="card">
            <h2>"Report"</h2>
            {report_tiles(s)}
            <h2>"Sends over time"</h2>
            {chart(&d.chart)}
            <h2>"Failures and skips"</h2>
            {if d.reasons.is_empty() {
                view! { <p data-testid="no-failures">"No failures: nothing failed or was skipped."</p> }.into_any()
            } else {
                view! {
                    <ul data-testid="reasons">
                        {d.reasons.into_iter().map(|(reason, n)| view! { <li>{format!("{reason}: {n}")}</li> }).collect_view()}
                    </ul>
                    <table data-testid="report" class:hidden=no_rows>
                        <thead><tr><th>"Lead"</th><th>"Outcome"</th><th>"Reason"</th></tr></thead>
                        <tbody>
                            {d.report.into_iter().map(|r| view! {
                                <tr>
                                    <td><A href=format!("/inbox/{}", r.lead)>{r.lead_name.unwrap_or_else(|| "(name not shared)".into())}</A></td>
                                    <td>{r.state}</td>
                                    <td>{r.reason}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
        </section>
    }
}

/// Public: one-click unsubscribe and "erase my data", no sign-in.
#[component]
pub fn UnsubscribePage() -> impl IntoView {
    let params = use_params_map();
    let token = move || params.read().get("token").unwrap_or_default();
    let info = LocalResource::new(move || api::unsubscribe_info(token()));
    view! {
        <section class="card narrow" data-testid="lead-page">
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || info.get().map(|r| match r {
                    // An unknown, tampered or erased link: nothing to offer.
                    Err(e) => view! { <h1>"Your messages"</h1> <ErrorNote error=e /> }.into_any(),
                    Ok(i) => view! { <LeadChoices token=token() info=i /> }.into_any(),
                })}
            </Suspense>
        </section>
    }
}

/// What a lead can still do from their link: unsubscribe while subscribed,
/// erase (after a confirmation) until erased. Nothing else, and no buttons
/// once nothing applies.
#[component]
fn LeadChoices(token: String, info: UnsubscribeInfo) -> impl IntoView {
    let page = info.page_name;
    let unsubscribe = Action::new_local(|t: &String| api::unsubscribe(t.clone()));
    let erase = Action::new_local(|t: &String| api::erase_my_data(t.clone()));
    let erased = move || erase.value().get().is_some_and(|r| r.is_ok());
    let subscribed = move || info.subscribed && unsubscribe.value().get().is_none_or(|r| r.is_err());
    let erase_text = format!(
        "This erases everything {page} holds about you here: your name, your conversation and the proof that you wrote to it. \
         It cannot be undone, and no campaign will reach you."
    );
    let status = {
        let page = page.clone();
        move || {
            if subscribed() {
                view! { <p>{format!("You get campaign messages from {page} on Messenger because you wrote to it.")}</p> }.into_any()
            } else if info.subscribed {
                view! { <p class="success" role="status" data-testid="unsubscribed">{format!("Done: you are unsubscribed. {page} will send you no more campaign messages.")}</p> }.into_any()
            } else {
                view! { <p class="success" data-testid="already-unsubscribed">"You are unsubscribed: no campaign will reach you."</p> }.into_any()
            }
        }
    };
    let choices = move || {
        if erased() {
            return view! { <p class="success" role="status" data-testid="erased">"Your data was erased. This link no longer works."</p> }.into_any();
        }
        let (unsubscribe_token, erase_token) = (token.clone(), token.clone());
        view! {
            {status.clone()}
            {move || subscribed().then(|| {
                let token = unsubscribe_token.clone();
                view! { <button data-testid="unsubscribe" disabled=move || unsubscribe.pending().get() on:click=move |_| { unsubscribe.dispatch_local(token.clone()); }>"Unsubscribe"</button> }
            })}
            {move || unsubscribe.value().get().and_then(|r| r.err()).map(|e| view! { <ErrorNote error=e /> })}
            <h2>"Erase my data"</h2>
            <Confirm ask="Erase my data…" consequence=erase_text.clone() confirm="Yes, erase my data"
                on_confirm=move |()| { erase.dispatch_local(erase_token.clone()); } />
            {move || erase.value().get().and_then(|r| r.err()).map(|e| view! { <ErrorNote error=e /> })}
        }
        .into_any()
    };
    view! {
        <h1>{format!("Your messages from {page}")}</h1>
        {choices}
    }
}
