//! Meta's messaging windows, as one pure rule the server enforces and the
//! UI explains (see `docs/messenger-platform.md`).

use serde::{Deserialize, Serialize};

pub const STANDARD_WINDOW_SECS: i64 = 24 * 3600;
pub const HUMAN_AGENT_WINDOW_SECS: i64 = 7 * 24 * 3600;
/// The longest text the Send API takes in one message.
pub const MAX_TEXT_CHARS: usize = 2000;

/// How the Page may answer a lead right now.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum ReplyRule {
    /// Inside 24 hours of the lead's last message: any reply, as `RESPONSE`.
    Standard { secs_left: i64 },
    /// 24 hours to 7 days: only a human-written reply with the `HUMAN_AGENT` tag.
    HumanAgent { secs_left: i64 },
    /// Beyond 7 days, or the lead never wrote: no reply is allowed.
    Closed,
}

/// The rule at `now` for a lead whose last message or postback was at `last_interaction`.
pub fn reply_rule(last_interaction: Option<i64>, now: i64) -> ReplyRule {
    let Some(last) = last_interaction else { return ReplyRule::Closed };
    let age = (now - last).max(0);
    if age < STANDARD_WINDOW_SECS {
        ReplyRule::Standard { secs_left: STANDARD_WINDOW_SECS - age }
    } else if age < HUMAN_AGENT_WINDOW_SECS {
        ReplyRule::HumanAgent { secs_left: HUMAN_AGENT_WINDOW_SECS - age }
    } else {
        ReplyRule::Closed
    }
}

impl ReplyRule {
    pub fn window_open(&self) -> bool {
        matches!(self, ReplyRule::Standard { .. })
    }

    /// One sentence for the UI.
    pub fn explain(&self) -> String {
        match self {
            ReplyRule::Standard { secs_left } => format!("Window open: {} left to reply freely.", duration(*secs_left)),
            ReplyRule::HumanAgent { secs_left } => format!(
                "The 24-hour window has closed. For {} more, a reply written by a person can still go out with Meta's HUMAN_AGENT tag (your app needs Meta's approval for it); never use it for automated or promotional messages.",
                duration(*secs_left)
            ),
            ReplyRule::Closed => "Replying is disabled: this person last wrote more than 7 days ago (or never). Meta allows no message until they write again.".to_string(),
        }
    }
}

/// "5 h 3 min", "12 min", "2 d 4 h".
pub fn duration(secs: i64) -> String {
    let secs = secs.max(0);
    let (d, h, m) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60);
    if d > 0 {
        format!("{d} d {h} h")
    } else if h > 0 {
        format!("{h} h {m} min")
    } else {
        format!("{} min", m.max(1))
    }
}

/// A countdown: seconds while under a minute, then as `duration`.
pub fn time_left(secs: i64) -> String {
    if secs < 60 {
        format!("{} s", secs.max(1))
    } else {
        duration(secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rules_hold_at_the_24_hour_and_7_day_boundaries() {
        let t = 1_000_000_000;
        assert_eq!(reply_rule(Some(t), t), ReplyRule::Standard { secs_left: 86_400 });
        assert_eq!(reply_rule(Some(t), t + 86_399), ReplyRule::Standard { secs_left: 1 });
        assert_eq!(reply_rule(Some(t), t + 86_400), ReplyRule::HumanAgent { secs_left: 6 * 86_400 });
        assert_eq!(reply_rule(Some(t), t + 7 * 86_400 - 1), ReplyRule::HumanAgent { secs_left: 1 });
        assert_eq!(reply_rule(Some(t), t + 7 * 86_400), ReplyRule::Closed);
        assert_eq!(reply_rule(None, t), ReplyRule::Closed);
        // A lead's clock slightly ahead of ours is not "more than open".
        assert_eq!(reply_rule(Some(t + 5), t), ReplyRule::Standard { secs_left: 86_400 });
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(30), "1 min");
        assert_eq!(duration(3 * 3600 + 120), "3 h 2 min");
        assert_eq!(duration(2 * 86_400 + 3600), "2 d 1 h");
    }

    #[test]
    fn a_countdown_shows_seconds_under_a_minute() {
        assert_eq!(time_left(20), "20 s");
        assert_eq!(time_left(59), "59 s");
        assert_eq!(time_left(60), "1 min");
        assert_eq!(time_left(0), "1 s");
    }
}
