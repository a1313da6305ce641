//! Accounts: registration, sign-in, passwords, addresses, sessions, notices.

use leptos::prelude::*;
use leptos::server_fn::codec::{GetUrl, Json};

use crate::error::AppError;
use crate::types::{CurrentUser, LoginInput, NotificationSettings, RegisterInput, SecurityOverview};

#[cfg(feature = "ssr")]
use crate::backend::backend;

#[server(name = CurrentUserCall, endpoint = "auth/me", input = GetUrl)]
pub async fn current_user() -> Result<Option<CurrentUser>, AppError> {
    backend()?.current_user().await
}

#[server(endpoint = "auth/register", input = Json)]
pub async fn register(input: RegisterInput) -> Result<(), AppError> {
    backend()?.register(input).await
}

#[server(endpoint = "auth/verify-email", input = Json)]
/// Verifies the address; signs in the browser that registered it (`Some`).
pub async fn verify_email(token: String) -> Result<Option<CurrentUser>, AppError> {
    backend()?.verify_email(token).await
}

#[server(endpoint = "auth/resend-verification", input = Json)]
pub async fn resend_verification(email: String) -> Result<(), AppError> {
    backend()?.resend_verification(email).await
}

#[server(endpoint = "auth/login", input = Json)]
pub async fn login(input: LoginInput) -> Result<CurrentUser, AppError> {
    backend()?.login(input).await
}

#[server(endpoint = "auth/logout", input = Json)]
pub async fn logout() -> Result<(), AppError> {
    backend()?.logout().await
}

/// "No thanks" to browser storage: not offered again in this session.
#[server(endpoint = "auth/decline-storage-offer", input = Json)]
pub async fn decline_storage_offer() -> Result<(), AppError> {
    backend()?.decline_storage_offer().await
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

#[server(name = SecurityOverviewCall, endpoint = "account/security", input = GetUrl)]
pub async fn security_overview() -> Result<SecurityOverview, AppError> {
    backend()?.security_overview().await
}

#[server(endpoint = "account/revoke-session", input = Json)]
pub async fn revoke_session(session_id: String) -> Result<(), AppError> {
    backend()?.revoke_session(session_id).await
}

#[server(name = NotificationSettingsCall, endpoint = "account/notifications", input = GetUrl)]
pub async fn notification_settings() -> Result<NotificationSettings, AppError> {
    backend()?.notification_settings().await
}

#[server(endpoint = "account/set-notifications", input = Json)]
pub async fn set_notification_settings(settings: NotificationSettings) -> Result<(), AppError> {
    backend()?.set_notification_settings(settings).await
}
