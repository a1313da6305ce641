//! Types shared by the server functions and the WASM client.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DatabaseState {
    Ok,
    Unavailable,
}

/// What the home page shows about the running installation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerStatus {
    pub version: String,
    pub database: DatabaseState,
    pub schema_version: u32,
    /// Facebook is simulated by the built-in stand-in (`--demo`).
    pub demo: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    User,
    Admin,
}

/// The signed-in user, as the client sees them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub email: String,
    pub display_name: Option<String>,
    pub role: Role,
    /// Set for an admin's one-time password: nothing else works until it is changed.
    pub must_change_password: bool,
    /// Policy versions published since the user last accepted: nothing but
    /// accepting, exporting or deleting works until they choose.
    pub pending_policies: Vec<PolicyChange>,
}

/// Which version of a policy document: what "Accept" sends back, naming
/// exactly what the person was shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyVersion {
    pub document: String,
    pub version: i64,
}

/// A policy version the person has not accepted yet, as shown to them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyChange {
    pub document: String,
    pub version: i64,
    pub title: String,
    /// What changed, in a few sentences.
    pub summary: String,
    pub body: String,
}

/// Which optional mails the user wants. Security notices are always sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationSettings {
    pub new_signin: bool,
    pub policy_updates: bool,
    pub export_ready: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterInput {
    pub email: String,
    pub password: String,
    pub display_name: Option<String>,
    pub accept_terms: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginInput {
    pub email: String,
    pub password: String,
    pub keep_signed_in: bool,
}

/// One sign-in, for the Security page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInRecord {
    pub at: i64,
    pub ip: String,
    pub user_agent: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActiveSession {
    pub id: String,
    pub created_at: i64,
    pub last_used_at: i64,
    pub user_agent: String,
    pub persistent: bool,
    pub current: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityOverview {
    pub signins: Vec<SignInRecord>,
    pub sessions: Vec<ActiveSession>,
    /// How long sign-in history is kept, in days.
    pub retention_days: i64,
}

/// How much the app holds in one category of the data inventory.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoryHolding {
    pub key: String,
    pub title: String,
    pub what: String,
    pub count: i64,
    pub retention: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentRecord {
    pub document: String,
    pub version: i64,
    pub accepted_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrivacyOverview {
    pub holdings: Vec<CategoryHolding>,
    pub consents: Vec<ConsentRecord>,
    /// Every time an administrator opened your personal data.
    pub admin_access: Vec<AccessRecord>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessRecord {
    pub at: i64,
    pub admin_role: String,
    pub categories: Vec<String>,
    pub reason: String,
}

/// A user as the admin list shows them: no personal data until an audited view.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminUserRow {
    pub id: String,
    /// "active", "disabled" or "unverified".
    pub status: String,
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

/// What a person must type to confirm erasure.
pub const DELETE_CONFIRMATION: &str = "DELETE";

/// The latest data export of the signed-in user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportStatus {
    pub id: String,
    /// "queued", "running", "ready" or "failed".
    pub status: String,
    pub progress: i64,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    /// Where to download it, once ready and while not expired.
    pub download_url: Option<String>,
}

/// A processor or recipient of personal data, declared in advance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recipient {
    /// Empty when declaring a new one.
    pub id: String,
    pub name: String,
    pub purpose: String,
    pub categories: Vec<String>,
    pub country: String,
    pub safeguards: String,
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

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PageStatus {
    Active,
    /// Facebook refused the Page's token (error 190): the owner must reconnect it.
    NeedsReconnection,
    /// Disconnected, its leads and conversations kept (read-only).
    Disconnected,
}

/// A connected Facebook Page. `id` is ours; `page_id` is Facebook's.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageView {
    pub id: String,
    pub page_id: String,
    pub name: String,
    pub status: PageStatus,
    pub bot_disclosure: bool,
    pub connected_at: i64,
    pub leads: i64,
}

/// What the Pages screen needs: the Pages, and whether Facebook Login can be offered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PagesOverview {
    pub pages: Vec<PageView>,
    pub app_configured: bool,
    /// Facebook is simulated by the built-in stand-in (`--demo`).
    pub demo: bool,
}

/// A Page offered by Facebook Login, before the user picks it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginPage {
    pub page_id: String,
    pub name: String,
    pub connected: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WindowFilter {
    Open,
    Closed,
}

/// The leads list's filters. `search` matches first and last names.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeadFilter {
    pub page: Option<String>,
    pub label: Option<String>,
    pub subscribed: Option<bool>,
    pub window: Option<WindowFilter>,
    pub search: String,
    /// Continue after this cursor (from `LeadPage::next`).
    pub after: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelView {
    pub id: String,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeadRow {
    pub id: String,
    pub page: String,
    pub page_name: String,
    /// First and last name when Facebook shared them; None otherwise.
    pub name: Option<String>,
    pub subscribed: bool,
    /// Facebook answered "this person isn't available right now" (551).
    pub unavailable: bool,
    pub reply: crate::messaging::ReplyRule,
    pub last_interaction_at: Option<i64>,
    pub opted_in_at: i64,
    pub labels: Vec<LabelView>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeadPage {
    pub leads: Vec<LeadRow>,
    /// More leads may match after this cursor.
    pub next: Option<String>,
    /// How many leads this request looked at (search decrypts names on the server).
    pub scanned: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Inbound,
    Outbound,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageView {
    pub id: String,
    pub direction: Direction,
    /// text, quick_reply, postback, attachment, optin
    pub kind: String,
    pub text: String,
    pub at: i64,
    /// Outbound: sending, sent, queued, failed, delivered, read.
    pub status: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conversation {
    pub lead: LeadRow,
    pub messages: Vec<MessageView>,
    pub page_needs_reconnection: bool,
}

/// The outcome of a reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplyOutcome {
    Sent,
    /// Facebook's rate limit (613): the reply is queued and retried shortly.
    Queued,
}

/// What "Verify proof" found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProofStatus {
    /// The kept delivery matches its signature and holds the lead's own event.
    Valid,
    /// The kept delivery does not match its signature, or does not hold the
    /// lead's event: it was altered.
    Invalid,
    /// The kept delivery was deleted: someone else it named asked for
    /// erasure, or the message retention period passed. What remains (the
    /// time, the signature, the body's hash) can no longer be re-checked.
    BodyDeleted,
}

/// "Verify proof": the opt-in evidence checked against the app secret that
/// signed it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProofCheck {
    pub status: ProofStatus,
    /// The app secret's version it was checked with (none once the body is deleted).
    pub secret_version: Option<i64>,
    pub received_at: i64,
    pub signature_header: String,
    /// SHA-256 of the signed body, so anyone can compare copies.
    pub body_sha256: String,
    pub body_bytes: u64,
}

/// The public status of a Meta data-deletion request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeletionStatus {
    pub confirmation_code: String,
    pub received_at: i64,
    pub status: String,
    pub leads_erased: i64,
}

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
