//! A campaign's report as people read it: summary tiles (audience, sent,
//! delivered and read shares, unsubscribes, failures, start and end) and a
//! labelled SVG chart of sends over time, with scales and a legend whose
//! swatches share the lines' colours. No chart script: plain SVG.

use leptos::prelude::*;

use crate::auth::{format_clock, format_time};
use crate::types::{CampaignSummary, ChartBucket};

/// `part` as a whole-number share of `whole`; a dash when there is nothing to share.
pub fn share(part: i64, whole: i64) -> String {
    if whole <= 0 {
        return "–".into();
    }
    format!("{}%", (part.clamp(0, whole) * 100 + whole / 2) / whole)
}

/// The top of the sends scale: 1, 2 or 5 times a power of ten, at least `max`.
pub fn scale_top(max: i64) -> i64 {
    let mut step = 1;
    loop {
        for factor in [1, 2, 5] {
            if step * factor >= max.max(1) {
                return step * factor;
            }
        }
        step *= 10;
    }
}

/// Where a count scale is marked: its ends, and its middle when that is a whole number.
pub fn scale_ticks(top: i64) -> Vec<i64> {
    if top >= 2 && top % 2 == 0 {
        vec![0, top / 2, top]
    } else {
        vec![0, top]
    }
}

pub fn report_tiles(s: &CampaignSummary) -> impl IntoView {
    let p = &s.progress;
    let tile = |label: &'static str, id: &'static str, value: String, detail: String| {
        view! {
            <div class="tile">
                <dt>{label}</dt>
                <dd data-testid=format!("tile-{id}")>{value}</dd>
                <dd class="muted">{detail}</dd>
            </div>
        }
    };
    let started = s.started_at.map_or_else(|| "Not started".to_string(), |t| format_time(t, false));
    let finished = match (s.started_at, s.finished_at) {
        (_, Some(t)) => format_time(t, false),
        (Some(_), None) => "Still under way".to_string(),
        (None, None) => "–".to_string(),
    };
    view! {
        <dl class="tiles" data-testid="report-tiles">
            {tile("Audience", "audience", p.total.to_string(), if p.preparing { "queued so far".into() } else { "leads in the campaign".into() })}
            {tile("Sent", "sent", p.sent.to_string(), format!("{} still to send", p.pending + p.in_flight))}
            {tile("Delivered", "delivered", share(p.delivered, p.sent), format!("{} of those sent", p.delivered))}
            {tile("Read", "read", share(p.read, p.sent), format!("{} of those sent", p.read))}
            {tile("Unsubscribed", "unsubscribed", p.unsubscribed.to_string(), "after this campaign".into())}
            {tile("Failures", "failed", p.failed.to_string(), format!("{} skipped", p.skipped))}
            {tile("Started", "started", started, String::new())}
            {tile("Finished", "finished", finished, String::new())}
        </dl>
    }
}

// The chart's frame: room on the left and right for the two scales, below for the times.
const WIDTH: f64 = 560.0;
const HEIGHT: f64 = 230.0;
const LEFT: f64 = 52.0;
const RIGHT: f64 = 48.0;
const TOP: f64 = 14.0;
const BOTTOM: f64 = 44.0;

/// Sends per time bucket as bars on the left scale; the shares of them
/// delivered and read as lines on the right scale (0-100%).
pub fn chart(buckets: &[ChartBucket]) -> impl IntoView {
    if buckets.iter().all(|b| b.sent == 0) {
        return view! { <p data-testid="chart-empty">"Nothing sent yet: the chart starts with the first message."</p> }.into_any();
    }
    let (plot_w, plot_h) = (WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM);
    let top = scale_top(buckets.iter().map(|b| b.sent).max().unwrap_or(0));
    let bar = plot_w / buckets.len() as f64;
    let y = |fraction: f64| TOP + plot_h * (1.0 - fraction);
    let centre = |i: usize| LEFT + i as f64 * bar + bar / 2.0;
    let rate_line = |f: fn(&ChartBucket) -> i64| {
        let points = buckets.iter().enumerate().filter(|(_, b)| b.sent > 0);
        points.map(|(i, b)| format!("{:.1},{:.1}", centre(i), y(f(b) as f64 / b.sent as f64))).collect::<Vec<_>>().join(" ")
    };
    let last = buckets.len() - 1;
    let time_ticks: Vec<usize> = if last == 0 { vec![0] } else { vec![0, last / 2, last] };
    view! {
        <figure class="chart-figure">
            <svg class="chart" viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" data-testid="chart"
                aria-label=format!("Messages sent over time (up to {top} per interval), with the share delivered and read")>
                {scale_ticks(top).into_iter().map(|tick| {
                    let at = y(tick as f64 / top as f64);
                    view! {
                        <line class="grid" x1=LEFT.to_string() x2=(WIDTH - RIGHT).to_string() y1=format!("{at:.1}") y2=format!("{at:.1}") />
                        <text class="scale" x=format!("{:.1}", LEFT - 6.0) y=format!("{:.1}", at + 4.0) text-anchor="end" data-testid="scale-sent">{tick.to_string()}</text>
                    }
                }).collect_view()}
                {[0, 50, 100].map(|percent| view! {
                    <text class="scale" x=format!("{:.1}", WIDTH - RIGHT + 6.0) y=format!("{:.1}", y(f64::from(percent) / 100.0) + 4.0) data-testid="scale-share">
                        {format!("{percent}%")}
                    </text>
                }).collect_view()}
                {buckets.iter().enumerate().map(|(i, b)| {
                    let height = plot_h * b.sent as f64 / top as f64;
                    view! {
                        <rect class="bar" x=format!("{:.1}", LEFT + i as f64 * bar + 1.0) y=format!("{:.1}", TOP + plot_h - height)
                            width=format!("{:.1}", (bar - 2.0).max(1.0)) height=format!("{:.1}", height)>
                            <title>{format!("{}: {} sent, {} delivered, {} read", format_clock(b.at), b.sent, b.delivered, b.read)}</title>
                        </rect>
                    }
                }).collect_view()}
                <polyline points=rate_line(|b| b.delivered) class="delivered" />
                <polyline points=rate_line(|b| b.read) class="read" />
                {time_ticks.into_iter().map(|i| view! {
                    <text class="scale" x=format!("{:.1}", centre(i)) y=format!("{:.1}", TOP + plot_h + 16.0) text-anchor="middle" data-testid="scale-time">
                        {format_clock(buckets[i].at)}
                    </text>
                }).collect_view()}
                <text class="axis-title" x=format!("{:.1}", LEFT + plot_w / 2.0) y=format!("{:.1}", HEIGHT - 6.0) text-anchor="middle">"Time (your clock)"</text>
                <text class="axis-title" transform=format!("translate(14 {:.1}) rotate(-90)", TOP + plot_h / 2.0) text-anchor="middle">"Messages sent"</text>
                <text class="axis-title" transform=format!("translate({:.1} {:.1}) rotate(90)", WIDTH - 10.0, TOP + plot_h / 2.0) text-anchor="middle">"Share of sent"</text>
            </svg>
            <figcaption>
                <ul class="legend" data-testid="legend">
                    <li><span class="swatch bar" aria-hidden="true"></span>"Messages sent (bars, left scale)"</li>
                    <li><span class="swatch delivered" aria-hidden="true"></span>"Delivered (green line, right scale)"</li>
                    <li><span class="swatch read" aria-hidden="true"></span>"Read (orange dashed line, right scale)"</li>
                </ul>
            </figcaption>
        </figure>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_share_of_nothing_is_a_dash_and_shares_round_to_whole_percents() {
        assert_eq!(share(0, 0), "–");
        assert_eq!(share(3, 0), "–");
        assert_eq!(share(0, 7), "0%");
        assert_eq!(share(1, 3), "33%");
        assert_eq!(share(2, 3), "67%");
        assert_eq!(share(1, 200), "1%");
        assert_eq!(share(1, 201), "0%");
        assert_eq!(share(7, 7), "100%");
    }

    #[test]
    fn a_share_never_passes_the_whole_nor_drops_below_zero() {
        assert_eq!(share(9, 7), "100%");
        assert_eq!(share(-1, 7), "0%");
    }

    #[test]
    fn the_sends_scale_ends_on_one_two_or_five_times_a_power_of_ten() {
        let cases = [(0, 1), (1, 1), (2, 2), (3, 5), (5, 5), (6, 10), (10, 10), (11, 20), (199, 200), (201, 500), (501, 1000)];
        for (max, top) in cases {
            assert_eq!(scale_top(max), top, "for {max}");
        }
    }

    #[test]
    fn a_count_scale_is_marked_at_whole_numbers_only() {
        assert_eq!(scale_ticks(1), [0, 1]);
        assert_eq!(scale_ticks(2), [0, 1, 2]);
        assert_eq!(scale_ticks(5), [0, 5]);
        assert_eq!(scale_ticks(50), [0, 25, 50]);
        assert_eq!(scale_ticks(1000), [0, 500, 1000]);
    }
}
