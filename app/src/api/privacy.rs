//! The privacy centre: what we hold, consents, export, erasure, recipients, retention.

use leptos::prelude::*;
use leptos::server_fn::codec::{GetUrl, Json};

use crate::error::AppError;
use crate::types::{CurrentUser, ExportStatus, PolicyChange, PolicyVersion, PrivacyOverview, Recipient, RetentionSettings};

#[cfg(feature = "ssr")]
use crate::backend::backend;

#[server(name = PrivacyOverviewCall, endpoint = "privacy/overview", input = GetUrl)]
pub async fn privacy_overview() -> Result<PrivacyOverview, AppError> {
    backend()?.privacy_overview().await
}

/// Erases the account for good: needs the password and the typed confirmation.
#[server(endpoint = "privacy/delete-account", input = Json)]
pub async fn delete_account(password: String, confirmation: String) -> Result<(), AppError> {
    backend()?.delete_account(password, confirmation).await
}

/// Starts a data export (password required; once an hour).
#[server(endpoint = "privacy/export", input = Json)]
pub async fn request_export(password: String) -> Result<ExportStatus, AppError> {
    backend()?.request_export(password).await
}

#[server(name = ExportStatusCall, endpoint = "privacy/export-status", input = GetUrl)]
pub async fn export_status() -> Result<Option<ExportStatus>, AppError> {
    backend()?.export_status().await
}

/// Accepts every policy version published since the user's last acceptance.
/// Accepts the policy versions the person was shown (`shown`), and only those.
#[server(endpoint = "privacy/accept-policies", input = Json)]
pub async fn accept_policies(shown: Vec<PolicyVersion>) -> Result<CurrentUser, AppError> {
    backend()?.accept_policies(shown).await
}

/// Public: the current version of each policy, as the sign-up form shows it.
#[server(name = CurrentPoliciesCall, endpoint = "privacy/policies", input = GetUrl)]
pub async fn current_policies() -> Result<Vec<PolicyChange>, AppError> {
    backend()?.current_policies().await
}

/// Public: who receives personal data, declared in advance.
#[server(endpoint = "privacy/recipients", input = GetUrl)]
pub async fn recipients() -> Result<Vec<Recipient>, AppError> {
    backend()?.recipients().await
}

/// Public: how long data is kept, for /privacy.
#[server(name = RetentionSettingsCall, endpoint = "privacy/retention", input = GetUrl)]
pub async fn retention_settings() -> Result<RetentionSettings, AppError> {
    backend()?.retention_settings().await
}
