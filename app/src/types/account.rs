//! Accounts: the signed-in user, sign-up and sign-in, sessions, policies.

use serde::{Deserialize, Serialize};

use super::stored_names;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    User,
    Admin,
}

stored_names!(Role, "role", { User => "user", Admin => "admin" });

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
    /// Browser storage was declined in this session: it is not offered again
    /// until the next sign-in.
    pub storage_offer_declined: bool,
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
    /// The policy versions the form showed, once the box is ticked; empty
    /// when it is not. A version published since is refused.
    pub accepted: Vec<PolicyVersion>,
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
