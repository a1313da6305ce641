//! The admin panel: users, the action log, policies, retention, breaches, the Facebook app.

use async_trait::async_trait;

use crate::error::AppError;
use crate::types::{
    AdminActionRow, AdminOverview, AdminUserPage, Breach, BreachInput, MessengerAppInput, MessengerAppView, PersonalDataView, Recipient, RetentionSettings,
    Role,
};

#[async_trait]
pub trait AdminBackend: Send + Sync {
    async fn publish_policy(&self, password: String, document: String, title: String, body: String, summary: String) -> Result<i64, AppError>;
    async fn list_users(&self, email: Option<String>, before: Option<i64>) -> Result<AdminUserPage, AppError>;
    async fn set_disabled(&self, account_id: String, disabled: bool) -> Result<(), AppError>;
    async fn set_role(&self, password: String, account_id: String, role: Role) -> Result<(), AppError>;
    async fn delete_user(&self, password: String, account_id: String, reason: String) -> Result<(), AppError>;
    async fn view_personal_data(&self, account_id: String, reason: String) -> Result<PersonalDataView, AppError>;
    async fn admin_actions(&self, before: Option<i64>) -> Result<Vec<AdminActionRow>, AppError>;
    async fn messenger_app(&self) -> Result<MessengerAppView, AppError>;
    async fn save_messenger_app(&self, password: String, input: MessengerAppInput) -> Result<(), AppError>;
    async fn admin_overview(&self) -> Result<AdminOverview, AppError>;
    async fn set_retention(&self, password: String, settings: RetentionSettings) -> Result<(), AppError>;
    async fn save_recipient(&self, password: String, recipient: Recipient) -> Result<String, AppError>;
    async fn remove_recipient(&self, password: String, id: String) -> Result<(), AppError>;
    async fn breaches(&self) -> Result<Vec<Breach>, AppError>;
    async fn record_breach(&self, input: BreachInput) -> Result<String, AppError>;
    async fn mark_authority_notified(&self, password: String, id: String) -> Result<(), AppError>;
    async fn notify_people_of_breach(&self, password: String, id: String, account_ids: Option<Vec<String>>) -> Result<usize, AppError>;
}
