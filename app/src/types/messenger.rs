//! Messenger: Pages, leads, labels, conversations, opt-in proofs, deletion requests.

use serde::{Deserialize, Serialize};

use super::stored_names;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PageStatus {
    Active,
    /// Facebook refused the Page's token (error 190): the owner must reconnect it.
    NeedsReconnection,
    /// Disconnected, its leads and conversations kept (read-only).
    Disconnected,
}

stored_names!(PageStatus, "page status", { Active => "active", NeedsReconnection => "needs_reconnection", Disconnected => "disconnected" });

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
    /// How many leads match the filters in all: on the first page, and only
    /// without a name search (which would decrypt every name to count).
    pub total: Option<u64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Inbound,
    Outbound,
}

stored_names!(Direction, "message direction", { Inbound => "inbound", Outbound => "outbound" });

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    Text,
    QuickReply,
    Attachment,
    Postback,
    Optin,
    /// Sent by the Page from another tool (Meta Business Suite), seen as an echo.
    Echo,
    /// A keyword reply we sent inside the window.
    Automated,
    /// A broadcast the lead received, shown in their thread as they read it.
    Campaign,
}

stored_names!(MessageKind, "message kind", {
    Text => "text", QuickReply => "quick_reply", Attachment => "attachment", Postback => "postback", Optin => "optin",
    Echo => "echo", Automated => "automated", Campaign => "campaign",
});

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageStatus {
    /// Inbound: every message from the person.
    Received,
    Sending,
    /// Facebook asked us to wait; it is retried.
    Queued,
    Sent,
    Delivered,
    Read,
    Failed,
}

stored_names!(MessageStatus, "message status", {
    Received => "received", Sending => "sending", Queued => "queued", Sent => "sent", Delivered => "delivered", Read => "read",
    Failed => "failed",
});

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageView {
    pub id: String,
    pub direction: Direction,
    pub kind: MessageKind,
    pub text: String,
    pub at: i64,
    pub status: MessageStatus,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conversation {
    pub lead: LeadRow,
    pub messages: Vec<MessageView>,
    pub page_needs_reconnection: bool,
}

/// One conversation in the inbox's list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationSummary {
    pub lead: String,
    pub name: Option<String>,
    pub page_name: String,
    /// The start of the last message, if it is still kept.
    pub preview: Option<String>,
    /// The last message came from the lead (not from the Page).
    pub last_from_lead: bool,
    pub last_at: i64,
    /// Messages from the lead this user has not opened yet (at most `UNREAD_CAP`).
    pub unread: u32,
    pub reply: crate::messaging::ReplyRule,
}

/// Where the unread count stops counting ("99+").
pub const UNREAD_CAP: u32 = 99;

/// The inbox's conversations, the most recently active first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationList {
    pub conversations: Vec<ConversationSummary>,
    /// More conversations after this cursor.
    pub next: Option<String>,
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

/// A deletion request is recorded only once its erasure is done, so
/// "completed" is the one state there is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeletionState {
    Completed,
}

stored_names!(DeletionState, "deletion state", { Completed => "completed" });

/// The public status of a Meta data-deletion request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeletionStatus {
    pub confirmation_code: String,
    pub received_at: i64,
    pub status: DeletionState,
    pub leads_erased: i64,
}
