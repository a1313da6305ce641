//! The admin panel: users, the audit log, breaches, retention, the Facebook app.

use serde::{Deserialize, Serialize};

use super::{stored_names, Role, SignInRecord};

/// Where an account stands, as the admin list shows it (derived, not stored).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountStatus {
    Active,
    Disabled,
    /// The address was never verified.
    Unverified,
}

stored_names!(AccountStatus, "account status", { Active => "active", Disabled => "disabled", Unverified => "unverified" });

/// A user as the admin list shows them: no personal data until an audited view.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminUserRow {
    pub id: String,
    pub status: AccountStatus,
    pub role: Role,
    pub created_at: i64,
    pub last_signin_at: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminUserPage {
    pub users: Vec<AdminUserRow>,
    /// Pass as `before` for the next page; None on the last one.
    pub next_before: Option<i64>,
}

/// What an audited view reveals: email, name and sign-in IPs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonalDataView {
    pub email: String,
    pub display_name: Option<String>,
    pub signins: Vec<SignInRecord>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminActionRow {
    pub at: i64,
    pub admin_id: String,
    pub action: String,
    pub target_id: Option<String>,
    pub reason: Option<String>,
}

/// What an admin records about a breach.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BreachInput {
    /// Local date and time of discovery, `YYYY-MM-DDTHH:MM`.
    pub discovered_local: String,
    /// The time zone of that local time, as minutes east of UTC (+60 for CET).
    pub utc_offset_minutes: i32,
    pub nature: String,
    pub categories: Vec<String>,
    pub approx_affected: i64,
    pub consequences: String,
    pub measures: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Breach {
    pub id: String,
    pub discovered_at: i64,
    /// Discovery plus 72 hours: when the authority must have been told.
    pub deadline: i64,
    pub nature: String,
    pub categories: Vec<String>,
    pub approx_affected: i64,
    pub consequences: String,
    pub measures: String,
    pub authority_notified_at: Option<i64>,
    /// Breach notices to people: queued, sent, failed.
    pub notices_pending: i64,
    pub notices_sent: i64,
    pub notices_failed: i64,
}

/// How long data is kept; set by admins, stated on /privacy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetentionSettings {
    pub signin_history_days: i64,
    pub inactive_leads_days: i64,
    pub messages_days: i64,
    pub export_hours: i64,
}

/// What the last purge run deleted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurgeReport {
    pub at: i64,
    pub signins: i64,
    pub sessions: i64,
    pub links: i64,
    pub exports: i64,
    #[serde(default)]
    pub leads: i64,
    #[serde(default)]
    pub messages: i64,
    #[serde(default)]
    pub unverified_accounts: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcceptanceCount {
    pub document: String,
    pub version: i64,
    /// Accounts whose latest acceptance of the document is this version.
    pub accounts: i64,
}

/// The admin panel's front page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminOverview {
    /// Days since the signed-in admin last changed their password.
    pub password_age_days: i64,
    pub acceptance: Vec<AcceptanceCount>,
    pub retention: RetentionSettings,
    pub last_purge: Option<PurgeReport>,
    /// Webhook events for Pages nobody connected, since this server started.
    pub dropped_webhook_events: u64,
}

/// The Facebook app settings as the admin panel shows them: never the secrets.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessengerAppView {
    pub configured: bool,
    pub app_id: String,
    pub graph_base_url: String,
    pub graph_version: String,
    /// The URL to paste into Meta's dashboard.
    pub callback_url: String,
}

/// What an admin saves. Empty secret fields keep the stored ones.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessengerAppInput {
    pub app_id: String,
    pub app_secret: String,
    pub verify_token: String,
    pub graph_base_url: String,
    pub graph_version: String,
}
