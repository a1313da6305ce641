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
    async fn admin_list_users(&self, email: Option<String>, before: Option<i64>) -> Result<AdminUserPage, AppError>;
    async fn admin_set_disabled(&self, account_id: String, disabled: bool) -> Result<(), AppError>;
    async fn admin_set_role(&self, password: String, account_id: String, role: Role) -> Result<(), AppError>;
    async fn admin_delete_user(&self, password: String, account_id: String, reason: String) -> Result<(), AppError>;
    async fn admin_view_personal_data(&self, account_id: String, reason: String) -> Result<PersonalDataView, AppError>;
    async fn admin_actions(&self, before: Option<i64>) -> Result<Vec<AdminActionRow>, AppError>;
    async fn admin_messenger_app(&self) -> Result<MessengerAppView, AppError>;
    async fn admin_save_messenger_app(&self, password: String, input: MessengerAppInput) -> Result<(), AppError>;
    async fn admin_overview(&self) -> Result<AdminOverview, AppError>;
    async fn admin_set_retention(&self, password: String, settings: RetentionSettings) -> Result<(), AppError>;
    async fn admin_save_recipient(&self, password: String, recipient: Recipient) -> Result<String, AppError>;
    async fn admin_remove_recipient(&self, password: String, id: String) -> Result<(), AppError>;
    async fn admin_breaches(&self) -> Result<Vec<Breach>, AppError>;
    async fn admin_record_breach(&self, input: BreachInput) -> Result<String, AppError>;
    async fn admin_breach_authority_notified(&self, password: String, id: String) -> Result<(), AppError>;
    async fn admin_breach_notify_people(&self, password: String, id: String, account_ids: Option<Vec<String>>) -> Result<usize, AppError>;
}
