//! The admin panel: users, the action log, policies, retention, breaches, the Facebook app.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::error::AppError;
use crate::types::{
    AdminActionRow, AdminOverview, AdminUserPage, Breach, BreachInput, MessengerAppInput, MessengerAppView, PersonalDataView, Recipient, RetentionSettings,
    Role,
};

#[cfg(feature = "ssr")]
use crate::backend::backend;

/// Admins only, with their password: publishes a new version of a policy.
#[server(endpoint = "admin/publish-policy", input = Json)]
pub async fn publish_policy(password: String, document: String, title: String, body: String, summary: String) -> Result<i64, AppError> {
    backend()?.publish_policy(password, document, title, body, summary).await
}

/// Users, newest first (50 a page), or the one matching an email exactly.
/// POST: a search is an admin action, and is logged.
#[server(endpoint = "admin/users", input = Json)]
pub async fn list_users(email: Option<String>, before: Option<i64>) -> Result<AdminUserPage, AppError> {
    backend()?.list_users(email, before).await
}

#[server(endpoint = "admin/set-disabled", input = Json)]
pub async fn set_disabled(account_id: String, disabled: bool) -> Result<(), AppError> {
    backend()?.set_disabled(account_id, disabled).await
}

#[server(endpoint = "admin/set-role", input = Json)]
pub async fn set_role(password: String, account_id: String, role: Role) -> Result<(), AppError> {
    backend()?.set_role(password, account_id, role).await
}

#[server(endpoint = "admin/delete-user", input = Json)]
pub async fn delete_user(password: String, account_id: String, reason: String) -> Result<(), AppError> {
    backend()?.delete_user(password, account_id, reason).await
}

/// Needs a stated reason; the user sees this access on their data page.
#[server(endpoint = "admin/view-personal-data", input = Json)]
pub async fn view_personal_data(account_id: String, reason: String) -> Result<PersonalDataView, AppError> {
    backend()?.view_personal_data(account_id, reason).await
}

#[server(endpoint = "admin/actions", input = Json)]
pub async fn admin_actions(before: Option<i64>) -> Result<Vec<AdminActionRow>, AppError> {
    backend()?.admin_actions(before).await
}

/// Declares (empty id) or changes a recipient; users are notified of the change.
#[server(endpoint = "admin/save-recipient", input = Json)]
pub async fn save_recipient(password: String, recipient: Recipient) -> Result<String, AppError> {
    backend()?.save_recipient(password, recipient).await
}

#[server(endpoint = "admin/remove-recipient", input = Json)]
pub async fn remove_recipient(password: String, id: String) -> Result<(), AppError> {
    backend()?.remove_recipient(password, id).await
}

#[server(endpoint = "admin/breaches", input = Json)]
pub async fn breaches() -> Result<Vec<Breach>, AppError> {
    backend()?.breaches().await
}

#[server(endpoint = "admin/record-breach", input = Json)]
pub async fn record_breach(input: BreachInput) -> Result<String, AppError> {
    backend()?.record_breach(input).await
}

#[server(endpoint = "admin/breach-authority-notified", input = Json)]
pub async fn mark_authority_notified(password: String, id: String) -> Result<(), AppError> {
    backend()?.mark_authority_notified(password, id).await
}

/// Mails the breach notice to everyone (`account_ids` None) or a chosen set.
#[server(endpoint = "admin/breach-notify-people", input = Json)]
pub async fn notify_people_of_breach(password: String, id: String, account_ids: Option<Vec<String>>) -> Result<usize, AppError> {
    backend()?.notify_people_of_breach(password, id, account_ids).await
}

#[server(name = AdminOverviewCall, endpoint = "admin/overview", input = Json)]
pub async fn admin_overview() -> Result<AdminOverview, AppError> {
    backend()?.admin_overview().await
}

#[server(endpoint = "admin/set-retention", input = Json)]
pub async fn set_retention(password: String, settings: RetentionSettings) -> Result<(), AppError> {
    backend()?.set_retention(password, settings).await
}

/// The Facebook app settings, without the secrets.
#[server(endpoint = "admin/messenger-app", input = Json)]
pub async fn messenger_app() -> Result<MessengerAppView, AppError> {
    backend()?.messenger_app().await
}

#[server(endpoint = "admin/save-messenger-app", input = Json)]
pub async fn save_messenger_app(password: String, input: MessengerAppInput) -> Result<(), AppError> {
    backend()?.save_messenger_app(password, input).await
}
