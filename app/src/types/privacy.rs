//! The privacy centre: holdings by category, consents, access log, exports, recipients.

use serde::{Deserialize, Serialize};

use super::stored_names;

/// Where a data export stands. `Expired` is never stored: it is a ready
/// export past its download period.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportState {
    Queued,
    Running,
    Ready,
    Failed,
    Expired,
}

stored_names!(ExportState, "export state", { Queued => "queued", Running => "running", Ready => "ready", Failed => "failed", Expired => "expired" });

impl ExportState {
    /// Still being made: the page asks again shortly.
    pub fn in_progress(self) -> bool {
        match self {
            ExportState::Queued | ExportState::Running => true,
            ExportState::Ready | ExportState::Failed | ExportState::Expired => false,
        }
    }
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

/// What a person must type to confirm erasure.
pub const DELETE_CONFIRMATION: &str = "DELETE";

/// The latest data export of the signed-in user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportStatus {
    pub id: String,
    pub status: ExportState,
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
