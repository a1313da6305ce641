//! Server-function declarations. Every one has a fixed `endpoint`, so the
//! URL is the same in the WASM build and the server build. Reads may be GET;
//! everything that changes state is POST (the server rejects cross-origin POSTs).

use leptos::prelude::*;
use leptos::server_fn::codec::{GetUrl, Json};

use crate::error::AppError;
use crate::types::{
    CurrentUser, ExportStatus, LoginInput, NotificationSettings, PrivacyOverview, RegisterInput, SecurityOverview, ServerStatus,
};

#[cfg(feature = "ssr")]
use crate::backend::backend;

#[server(endpoint = "status", input = GetUrl)]
pub async fn fetch_status() -> Result<ServerStatus, AppError> {
    backend()?.server_status().await
}

#[server(endpoint = "auth/me", input = GetUrl)]
pub async fn fetch_current_user() -> Result<Option<CurrentUser>, AppError> {
    backend()?.current_user().await
}

#[server(endpoint = "auth/register", input = Json)]
pub async fn register(input: RegisterInput) -> Result<(), AppError> {
    backend()?.register(input).await
}

#[server(endpoint = "auth/verify-email", input = Json)]
pub async fn verify_email(token: String) -> Result<(), AppError> {
    backend()?.verify_email(token).await
}

#[server(endpoint = "auth/login", input = Json)]
pub async fn login(input: LoginInput) -> Result<CurrentUser, AppError> {
    backend()?.login(input).await
}

#[server(endpoint = "auth/logout", input = Json)]
pub async fn logout() -> Result<(), AppError> {
    backend()?.logout().await
}

#[server(endpoint = "auth/logout-everywhere", input = Json)]
pub async fn logout_everywhere() -> Result<(), AppError> {
    backend()?.logout_everywhere().await
}

#[server(endpoint = "auth/forgot-password", input = Json)]
pub async fn request_password_reset(email: String) -> Result<(), AppError> {
    backend()?.request_password_reset(email).await
}

#[server(endpoint = "auth/reset-password", input = Json)]
pub async fn reset_password(token: String, new_password: String) -> Result<(), AppError> {
    backend()?.reset_password(token, new_password).await
}

#[server(endpoint = "auth/confirm-email", input = Json)]
pub async fn confirm_email_change(token: String) -> Result<(), AppError> {
    backend()?.confirm_email_change(token).await
}

#[server(endpoint = "account/change-password", input = Json)]
pub async fn change_password(current_password: String, new_password: String) -> Result<(), AppError> {
    backend()?.change_password(current_password, new_password).await
}

#[server(endpoint = "account/change-email", input = Json)]
pub async fn request_email_change(new_email: String, password: String) -> Result<(), AppError> {
    backend()?.request_email_change(new_email, password).await
}

#[server(endpoint = "account/security", input = GetUrl)]
pub async fn fetch_security_overview() -> Result<SecurityOverview, AppError> {
    backend()?.security_overview().await
}

#[server(endpoint = "account/revoke-session", input = Json)]
pub async fn revoke_session(session_id: String) -> Result<(), AppError> {
    backend()?.revoke_session(session_id).await
}

#[server(endpoint = "privacy/overview", input = GetUrl)]
pub async fn fetch_privacy_overview() -> Result<PrivacyOverview, AppError> {
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

#[server(endpoint = "privacy/export-status", input = GetUrl)]
pub async fn fetch_export_status() -> Result<Option<ExportStatus>, AppError> {
    backend()?.export_status().await
}

/// Accepts every policy version published since the user's last acceptance.
#[server(endpoint = "privacy/accept-policies", input = Json)]
pub async fn accept_policies() -> Result<CurrentUser, AppError> {
    backend()?.accept_policies().await
}

#[server(endpoint = "account/notifications", input = GetUrl)]
pub async fn fetch_notification_settings() -> Result<NotificationSettings, AppError> {
    backend()?.notification_settings().await
}

#[server(endpoint = "account/set-notifications", input = Json)]
pub async fn set_notification_settings(settings: NotificationSettings) -> Result<(), AppError> {
    backend()?.set_notification_settings(settings).await
}

/// Admins only, with their password: publishes a new version of a policy.
#[server(endpoint = "admin/publish-policy", input = Json)]
pub async fn publish_policy(password: String, document: String, title: String, body: String, summary: String) -> Result<i64, AppError> {
    backend()?.publish_policy(password, document, title, body, summary).await
}
