//! The signed-in home: the first-steps checklist until all three are done;
//! once a Page is connected, the open conversations, new leads and
//! unsubscribes per day (plain SVG, with a scale, day labels, a legend and
//! today's figures in words), and the latest campaigns.

use leptos::prelude::*;
use leptos_router::components::A;

use super::broadcasts::state_text;
use super::campaign_report::{scale_ticks, scale_top};
use super::components::ErrorNote;
use crate::api;
use crate::auth::{browser_utc_offset_minutes, format_day};
use crate::types::{CampaignSummary, Dashboard as DashboardData, DayCount, GettingStarted};

#[component]
pub fn Dashboard() -> impl IntoView {
    let data = LocalResource::new(|| api::dashboard(browser_utc_offset_minutes()));
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || data.get().map(|r| match r {
                Err(e) => view! { <ErrorNote error=e /> }.into_any(),
                Ok(d) => panels(d).into_any(),
            })}
        </Suspense>
    }
}

fn panels(d: DashboardData) -> impl IntoView {
    let s = d.steps;
    let all_done = s.page_connected && s.lead_answered && s.campaign_sent;
    view! {
        {checklist(s, all_done)}
        {s.page_connected.then(|| view! {
            <section class="card" data-testid="dashboard">
                <h2>"Conversations"</h2>
                <p data-testid="open-conversations">
                    <A href="/leads">{counted(d.open_conversations, "conversation", "conversations")}</A>
                    " with the 24-hour window open: you can answer them now."
                </p>
                <h2>"New leads and unsubscribes, last 14 days"</h2>
                {days_chart(&d.days)}
                <h2>"Recent campaigns"</h2>
                {recent(d.recent_campaigns)}
            </section>
        })}
    }
}

/// `n` of something, in words: "1 lead", "2 leads".
fn counted(n: i64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// Open until the three first steps are done, then folded to one line.
fn checklist(s: GettingStarted, all_done: bool) -> impl IntoView {
    let done = [s.page_connected, s.lead_answered, s.campaign_sent].iter().filter(|d| **d).count();
    view! {
        <details class="card getting-started" open=!all_done aria-live="polite">
            <summary><h2>"Getting started: " <span data-testid="steps-done">{format!("{done} of 3 done")}</span></h2></summary>
            <ol class="checklist" data-testid="checklist">
                {step(s.page_connected, "/pages", "Connect a Facebook Page")}
                {step(s.lead_answered, "/leads", "Answer a lead")}
                {step(s.campaign_sent, "/campaigns", "Send a first campaign")}
            </ol>
        </details>
    }
}

fn step(done: bool, href: &'static str, what: &'static str) -> impl IntoView {
    if done {
        view! { <li class="done" data-testid="step-done">{what} " ✓"</li> }.into_any()
    } else {
        view! { <li data-testid="step-open"><A href=href>{what}</A></li> }.into_any()
    }
}

fn recent(campaigns: Vec<CampaignSummary>) -> impl IntoView {
    if campaigns.is_empty() {
        return view! { <p data-testid="no-campaigns">"No campaigns yet. " <A href="/campaigns">"Write the first one"</A> "."</p> }.into_any();
    }
    view! {
        <ul class="rows" data-testid="recent-campaigns">
            {campaigns.into_iter().map(|c| view! {
                <li>
                    <A href=format!("/campaigns/{}", c.id)>{c.name}</A>
                    {format!(" · {} · {} of {} sent", state_text(c.state), c.progress.sent, c.progress.total)}
                </li>
            }).collect_view()}
        </ul>
        <p><A href="/campaigns">"All campaigns"</A></p>
    }
    .into_any()
}

const WIDTH: f64 = 560.0;
const HEIGHT: f64 = 200.0;
const LEFT: f64 = 40.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 30.0;

/// Two bars a day (new leads, unsubscribes) on one scale; today's figures in words too.
fn days_chart(days: &[DayCount]) -> impl IntoView {
    let (plot_w, plot_h) = (WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM);
    let top = scale_top(days.iter().map(|d| d.new_leads.max(d.unsubscribes)).max().unwrap_or(0));
    let slot = plot_w / days.len().max(1) as f64;
    let bar_w = (slot / 2.0 - 2.0).max(1.0);
    let y = |n: i64| TOP + plot_h * (1.0 - n as f64 / top as f64);
    let today = days.last().copied().unwrap_or(DayCount { day_start: 0, new_leads: 0, unsubscribes: 0 });
    let bar = move |class: &'static str, i: usize, nth: f64, n: i64, day: i64| {
        let what = if class == "new-leads" { "new leads" } else { "unsubscribes" };
        view! {
            <rect class=class x=format!("{:.1}", LEFT + i as f64 * slot + 1.0 + nth * (bar_w + 1.0)) y=format!("{:.1}", y(n))
                width=format!("{bar_w:.1}") height=format!("{:.1}", TOP + plot_h - y(n))>
                <title>{format!("{}: {n} {what}", format_day(day))}</title>
            </rect>
        }
    };
    view! {
        <figure class="chart-figure">
            <svg class="chart" viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" data-testid="days-chart"
                aria-label="New leads and unsubscribes per day over the last 14 days">
                {scale_ticks(top).into_iter().map(|tick| view! {
                    <line class="grid" x1=LEFT.to_string() x2=(WIDTH - RIGHT).to_string() y1=format!("{:.1}", y(tick)) y2=format!("{:.1}", y(tick)) />
                    <text class="scale" x=format!("{:.1}", LEFT - 6.0) y=format!("{:.1}", y(tick) + 4.0) text-anchor="end">{tick.to_string()}</text>
                }).collect_view()}
                {days.iter().enumerate().map(|(i, d)| view! {
                    {bar("new-leads", i, 0.0, d.new_leads, d.day_start)}
                    {bar("unsubscribes", i, 1.0, d.unsubscribes, d.day_start)}
                }).collect_view()}
                {[0, days.len() / 2, days.len().saturating_sub(1)].into_iter().filter_map(|i| days.get(i).map(|d| (i, d))).map(|(i, d)| view! {
                    <text class="scale" x=format!("{:.1}", LEFT + (i as f64 + 0.5) * slot) y=format!("{:.1}", HEIGHT - 10.0) text-anchor="middle">
                        {if i + 1 == days.len() { "Today".to_string() } else { format_day(d.day_start) }}
                    </text>
                }).collect_view()}
            </svg>
            <figcaption>
                <ul class="legend">
                    <li><span class="swatch new-leads" aria-hidden="true"></span>"New leads"</li>
                    <li><span class="swatch unsubscribes" aria-hidden="true"></span>"Unsubscribes (link or STOP)"</li>
                </ul>
                <p data-testid="today">{format!("Today: {}, {}.", counted(today.new_leads, "new lead", "new leads"), counted(today.unsubscribes, "unsubscribe", "unsubscribes"))}</p>
            </figcaption>
        </figure>
    }
}
