//! The signed-in home: the first steps of a new account (a Page connected,
//! a lead answered, a campaign sent), then new leads and unsubscribes per
//! day of the last two weeks in the browser's time zone, the conversations
//! whose window is open, and the latest campaigns.

use app::error::AppError;
use app::messaging::STANDARD_WINDOW_SECS;
use app::types::{Dashboard, DayCount, GettingStarted};
use serde_json::Value;

use crate::accounts::Ready;
use crate::context::Ctx;
use crate::db::ids::account_record;
use crate::error::Result;

pub const DAYS: i64 = 14;
const DAY_SECS: i64 = 86_400;
const RECENT_CAMPAIGNS: i64 = 3;
/// The furthest any time zone is from UTC: 14 hours.
const MAX_OFFSET_MINUTES: i32 = 14 * 60;

pub async fn dashboard(ctx: &Ctx, caller: &Ready, utc_offset_minutes: i32) -> Result<Dashboard> {
    if !(-MAX_OFFSET_MINUTES..=MAX_OFFSET_MINUTES).contains(&utc_offset_minutes) {
        return Err(AppError::InvalidTimeZone.into());
    }
    let since = first_day_start(ctx.now(), utc_offset_minutes);
    let mut response = ctx
        .db
        .client()
        .query(
            "RETURN count(SELECT id FROM page WHERE account = $account LIMIT 1) > 0; \
             RETURN count(SELECT id FROM message WHERE account = $account AND direction = 'outbound' LIMIT 1) > 0; \
             RETURN count(SELECT id FROM campaign WHERE account = $account AND started_at IS NOT NONE LIMIT 1) > 0; \
             SELECT math::floor((created_at - $since) / $day) AS day, count() AS n FROM lead \
               WHERE account = $account AND created_at >= $since GROUP BY day; \
             SELECT math::floor((at - $since) / $day) AS day, count() AS n FROM suppression \
               WHERE account = $account AND at >= $since GROUP BY day; \
             RETURN count(SELECT id FROM lead WHERE account = $account AND last_interaction_at > $window_start);",
        )
        .bind(("account", account_record(&caller.session.account_id)))
        .bind(("since", since))
        .bind(("day", DAY_SECS))
        .bind(("window_start", ctx.now() - STANDARD_WINDOW_SECS))
        .await?;
    let page_connected: Option<bool> = response.take(0)?;
    let lead_answered: Option<bool> = response.take(1)?;
    let campaign_sent: Option<bool> = response.take(2)?;
    let new_leads: Vec<Value> = response.take(3)?;
    let unsubscribes: Vec<Value> = response.take(4)?;
    let open: Option<i64> = response.take(5)?;
    let mut days: Vec<DayCount> = (0..DAYS).map(|i| DayCount { day_start: since + i * DAY_SECS, new_leads: 0, unsubscribes: 0 }).collect();
    for (rows, field) in [(new_leads, Counted::NewLeads), (unsubscribes, Counted::Unsubscribes)] {
        for row in rows {
            let Some(day) = row["day"].as_f64().or_else(|| row["day"].as_i64().map(|d| d as f64)) else { continue };
            let Some(count) = days.get_mut(day as usize) else { continue };
            let n = row["n"].as_i64().unwrap_or(0);
            match field {
                Counted::NewLeads => count.new_leads += n,
                Counted::Unsubscribes => count.unsubscribes += n,
            }
        }
    }
    Ok(Dashboard {
        steps: GettingStarted {
            page_connected: page_connected.unwrap_or(false),
            lead_answered: lead_answered.unwrap_or(false),
            campaign_sent: campaign_sent.unwrap_or(false),
        },
        days,
        open_conversations: open.unwrap_or(0),
        recent_campaigns: super::campaigns(ctx, caller, RECENT_CAMPAIGNS).await?,
    })
}

#[derive(Clone, Copy)]
enum Counted {
    NewLeads,
    Unsubscribes,
}

/// The start (UTC seconds) of the first of the last `DAYS` days, today the
/// last, where days begin at local midnight `utc_offset_minutes` from UTC.
pub fn first_day_start(now: i64, utc_offset_minutes: i32) -> i64 {
    let offset = i64::from(utc_offset_minutes) * 60;
    let today = (now + offset).div_euclid(DAY_SECS) * DAY_SECS - offset;
    today - (DAYS - 1) * DAY_SECS
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOON_UTC: i64 = 1_796_400_000 - 1_796_400_000 % DAY_SECS + 12 * 3600;

    #[test]
    fn in_utc_today_starts_at_midnight_utc_and_the_first_day_thirteen_days_before() {
        assert_eq!(first_day_start(NOON_UTC, 0), NOON_UTC - 12 * 3600 - 13 * DAY_SECS);
    }

    #[test]
    fn east_of_utc_a_day_starts_earlier_in_utc() {
        // Paris in winter: local midnight is 23:00 UTC the evening before.
        assert_eq!(first_day_start(NOON_UTC, 60), NOON_UTC - 13 * 3600 - 13 * DAY_SECS);
    }

    #[test]
    fn just_before_local_midnight_is_still_the_same_local_day() {
        let before_midnight_in_new_york = NOON_UTC + 12 * 3600 + 5 * 3600 - 1; // 23:59:59 in UTC-5
        assert_eq!(first_day_start(before_midnight_in_new_york, -300), NOON_UTC - 12 * 3600 + 5 * 3600 - 13 * DAY_SECS);
        assert_eq!(first_day_start(before_midnight_in_new_york + 1, -300), NOON_UTC - 12 * 3600 + 5 * 3600 - 12 * DAY_SECS);
    }
}
