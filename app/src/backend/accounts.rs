//! Accounts: registration, sign-in, passwords, addresses, sessions, notices.

use async_trait::async_trait;

use crate::error::AppError;
use crate::types::{CurrentUser, LoginInput, NotificationSettings, RegisterInput, SecurityOverview};

#[async_trait]
pub trait AccountsBackend: Send + Sync {
    async fn current_user(&self) -> Result<Option<CurrentUser>, AppError>;
    async fn register(&self, input: RegisterInput) -> Result<(), AppError>;
    async fn verify_email(&self, token: String) -> Result<Option<CurrentUser>, AppError>;
    async fn resend_verification(&self, email: String) -> Result<(), AppError>;
    async fn login(&self, input: LoginInput) -> Result<CurrentUser, AppError>;
    async fn logout(&self) -> Result<(), AppError>;
    async fn logout_everywhere(&self) -> Result<(), AppError>;
    async fn decline_storage_offer(&self) -> Result<(), AppError>;
    async fn change_password(&self, current_password: String, new_password: String) -> Result<(), AppError>;
    async fn request_password_reset(&self, email: String) -> Result<(), AppError>;
    async fn reset_password(&self, token: String, new_password: String) -> Result<(), AppError>;
    async fn request_email_change(&self, new_email: String, password: String) -> Result<(), AppError>;
    async fn confirm_email_change(&self, token: String) -> Result<(), AppError>;
    async fn security_overview(&self) -> Result<SecurityOverview, AppError>;
    async fn revoke_session(&self, session_id: String) -> Result<(), AppError>;
    async fn notification_settings(&self) -> Result<NotificationSettings, AppError>;
    async fn set_notification_settings(&self, settings: NotificationSettings) -> Result<(), AppError>;
}
