//! Broadcasts: campaigns, their audience, progress and report, unsubscribing.

use serde::{Deserialize, Serialize};

use super::stored_names;

/// What a user composes. `id` None creates a draft; only drafts can be edited.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignInput {
    pub id: Option<String>,
    pub name: String,
    pub page: String,
    /// May use {{first_name}}, {{last_name}} and {{page_name}}.
    pub text: String,
    pub fallback_first_name: String,
    pub fallback_last_name: String,
    pub quick_replies: Vec<String>,
    pub button_title: Option<String>,
    pub button_url: Option<String>,
    pub include_labels: Vec<String>,
    pub exclude_labels: Vec<String>,
    /// The window treated as open, in hours: 23 by default, never more than 24.
    pub margin_hours: i64,
    /// Send API calls per second for this campaign: 250 by default, at most 300.
    pub rate_per_sec: i64,
}

impl Default for CampaignInput {
    fn default() -> Self {
        CampaignInput {
            id: None,
            name: String::new(),
            page: String::new(),
            text: String::new(),
            fallback_first_name: "there".into(),
            fallback_last_name: String::new(),
            quick_replies: Vec::new(),
            button_title: None,
            button_url: None,
            include_labels: Vec::new(),
            exclude_labels: Vec::new(),
            margin_hours: 23,
            rate_per_sec: 250,
        }
    }
}

/// The live audience count and the message as a lead will see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AudiencePreview {
    /// Subscribed leads in the audience whose window is open (with the margin).
    pub reachable_now: i64,
    /// Subscribed leads in the audience whose window is closed: they will be skipped.
    pub outside_window: i64,
    /// Leads left out because they unsubscribed or are unavailable.
    pub excluded: i64,
    pub preview: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CampaignState {
    Draft,
    Scheduled,
    Sending,
    Paused,
    Completed,
    Cancelled,
}

stored_names!(CampaignState, "campaign state", {
    Draft => "draft",
    Scheduled => "scheduled",
    Sending => "sending",
    Paused => "paused",
    Completed => "completed",
    Cancelled => "cancelled",
});

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignProgress {
    pub total: i64,
    pub pending: i64,
    pub in_flight: i64,
    pub sent: i64,
    pub failed: i64,
    pub skipped: i64,
    pub delivered: i64,
    pub read: i64,
    /// Leads who unsubscribed (link or STOP) with this as the last campaign they were sent.
    pub unsubscribed: i64,
    /// Seconds left at the campaign's rate, while sending.
    pub eta_secs: Option<i64>,
    /// The queue is still being built (sending has started): `total` is what is queued so far.
    pub preparing: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignSummary {
    pub id: String,
    pub name: String,
    pub page_name: String,
    pub state: CampaignState,
    pub scheduled_at: Option<i64>,
    pub schedule_label: Option<String>,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub progress: CampaignProgress,
    pub pause_reason: Option<String>,
}

/// Sends per time bucket, with how many of them were delivered and read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChartBucket {
    pub at: i64,
    pub sent: i64,
    pub delivered: i64,
    pub read: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportRow {
    pub lead: String,
    pub lead_name: Option<String>,
    pub state: String,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignDetail {
    pub summary: CampaignSummary,
    pub input: CampaignInput,
    pub chart: Vec<ChartBucket>,
    /// Failures and skips, counted by reason.
    pub reasons: Vec<(String, i64)>,
    /// The first failures and skips, each with its reason.
    pub report: Vec<ReportRow>,
}

/// When to send: a local date and time in a named time zone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleInput {
    /// YYYY-MM-DD
    pub date: String,
    /// HH:MM
    pub time: String,
    /// An IANA zone such as Europe/Paris.
    pub time_zone: String,
}

/// The public unsubscribe page's view: no personal data beyond the Page name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnsubscribeInfo {
    pub page_name: String,
    pub subscribed: bool,
}

/// The first steps of a new account, for its home page's checklist.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GettingStarted {
    pub page_connected: bool,
    pub lead_answered: bool,
    pub campaign_sent: bool,
}

/// New leads and unsubscribes on one day (from local midnight, in UTC seconds).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayCount {
    pub day_start: i64,
    pub new_leads: i64,
    pub unsubscribes: i64,
}

/// The signed-in home: the first steps, then the last 14 days, the open
/// conversations and the newest campaigns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dashboard {
    pub steps: GettingStarted,
    pub days: Vec<DayCount>,
    pub open_conversations: i64,
    pub recent_campaigns: Vec<CampaignSummary>,
}
