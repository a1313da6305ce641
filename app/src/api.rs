//! Server-function declarations. Every one has a fixed `endpoint`, so the
//! URL is the same in the WASM build and the server build. Reads may be GET;
//! everything that changes state is POST (the server rejects cross-origin POSTs).

use leptos::prelude::*;
use leptos::server_fn::codec::{GetUrl, Json};

use crate::error::AppError;
use crate::types::{
    AdminActionRow, AdminOverview, AdminUserPage, AudiencePreview, Breach, BreachInput, CampaignDetail, CampaignInput, CampaignSummary, Conversation,
    CurrentUser, DeletionStatus, ExportStatus, LabelView, LeadFilter, LeadPage, LoginInput, LoginPage, MessengerAppInput, MessengerAppView,
    NotificationSettings, PagesOverview, PersonalDataView, PolicyVersion, PrivacyOverview, ProofCheck, Recipient, RegisterInput, ReplyOutcome,
    RetentionSettings, Role, ScheduleInput, SecurityOverview, ServerStatus, UnsubscribeInfo,
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
/// Accepts the policy versions the person was shown (`shown`), and only those.
#[server(endpoint = "privacy/accept-policies", input = Json)]
pub async fn accept_policies(shown: Vec<PolicyVersion>) -> Result<CurrentUser, AppError> {
    backend()?.accept_policies(shown).await
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

/// Users, newest first (50 a page), or the one matching an email exactly.
/// POST: a search is an admin action, and is logged.
#[server(endpoint = "admin/users", input = Json)]
pub async fn admin_list_users(email: Option<String>, before: Option<i64>) -> Result<AdminUserPage, AppError> {
    backend()?.admin_list_users(email, before).await
}

#[server(endpoint = "admin/set-disabled", input = Json)]
pub async fn admin_set_disabled(account_id: String, disabled: bool) -> Result<(), AppError> {
    backend()?.admin_set_disabled(account_id, disabled).await
}

#[server(endpoint = "admin/set-role", input = Json)]
pub async fn admin_set_role(password: String, account_id: String, role: Role) -> Result<(), AppError> {
    backend()?.admin_set_role(password, account_id, role).await
}

#[server(endpoint = "admin/delete-user", input = Json)]
pub async fn admin_delete_user(password: String, account_id: String, reason: String) -> Result<(), AppError> {
    backend()?.admin_delete_user(password, account_id, reason).await
}

/// Needs a stated reason; the user sees this access on their data page.
#[server(endpoint = "admin/view-personal-data", input = Json)]
pub async fn admin_view_personal_data(account_id: String, reason: String) -> Result<PersonalDataView, AppError> {
    backend()?.admin_view_personal_data(account_id, reason).await
}

#[server(endpoint = "admin/actions", input = Json)]
pub async fn admin_actions(before: Option<i64>) -> Result<Vec<AdminActionRow>, AppError> {
    backend()?.admin_actions(before).await
}

/// Public: who receives personal data, declared in advance.
#[server(endpoint = "privacy/recipients", input = GetUrl)]
pub async fn fetch_recipients() -> Result<Vec<Recipient>, AppError> {
    backend()?.recipients().await
}

/// Declares (empty id) or changes a recipient; users are notified of the change.
#[server(endpoint = "admin/save-recipient", input = Json)]
pub async fn admin_save_recipient(password: String, recipient: Recipient) -> Result<String, AppError> {
    backend()?.admin_save_recipient(password, recipient).await
}

#[server(endpoint = "admin/remove-recipient", input = Json)]
pub async fn admin_remove_recipient(password: String, id: String) -> Result<(), AppError> {
    backend()?.admin_remove_recipient(password, id).await
}

#[server(endpoint = "admin/breaches", input = Json)]
pub async fn admin_breaches() -> Result<Vec<Breach>, AppError> {
    backend()?.admin_breaches().await
}

#[server(endpoint = "admin/record-breach", input = Json)]
pub async fn admin_record_breach(input: BreachInput) -> Result<String, AppError> {
    backend()?.admin_record_breach(input).await
}

#[server(endpoint = "admin/breach-authority-notified", input = Json)]
pub async fn admin_breach_authority_notified(password: String, id: String) -> Result<(), AppError> {
    backend()?.admin_breach_authority_notified(password, id).await
}

/// Mails the breach notice to everyone (`account_ids` None) or a chosen set.
#[server(endpoint = "admin/breach-notify-people", input = Json)]
pub async fn admin_breach_notify_people(password: String, id: String, account_ids: Option<Vec<String>>) -> Result<usize, AppError> {
    backend()?.admin_breach_notify_people(password, id, account_ids).await
}

/// Public: how long data is kept, for /privacy.
#[server(endpoint = "privacy/retention", input = GetUrl)]
pub async fn fetch_retention() -> Result<RetentionSettings, AppError> {
    backend()?.retention().await
}

#[server(endpoint = "admin/overview", input = Json)]
pub async fn fetch_admin_overview() -> Result<AdminOverview, AppError> {
    backend()?.admin_overview().await
}

#[server(endpoint = "admin/set-retention", input = Json)]
pub async fn admin_set_retention(password: String, settings: RetentionSettings) -> Result<(), AppError> {
    backend()?.admin_set_retention(password, settings).await
}

/// The Facebook app settings, without the secrets.
#[server(endpoint = "admin/messenger-app", input = Json)]
pub async fn fetch_messenger_app() -> Result<MessengerAppView, AppError> {
    backend()?.admin_messenger_app().await
}

#[server(endpoint = "admin/save-messenger-app", input = Json)]
pub async fn save_messenger_app(password: String, input: MessengerAppInput) -> Result<(), AppError> {
    backend()?.admin_save_messenger_app(password, input).await
}

#[server(endpoint = "messenger/pages", input = GetUrl)]
pub async fn fetch_pages() -> Result<PagesOverview, AppError> {
    backend()?.pages().await
}

/// Manual connection: Facebook must confirm the token belongs to the Page.
#[server(endpoint = "messenger/connect-page", input = Json)]
pub async fn connect_page(page_id: String, access_token: String) -> Result<(), AppError> {
    backend()?.connect_page(page_id, access_token).await
}

/// Facebook Login: the dialog URL, with a `state` bound to this session.
#[server(endpoint = "messenger/facebook-login", input = Json)]
pub async fn facebook_login_start() -> Result<String, AppError> {
    backend()?.facebook_login_start().await
}

#[server(endpoint = "messenger/facebook-callback", input = Json)]
pub async fn facebook_login_finish(code: String, state: String) -> Result<Vec<LoginPage>, AppError> {
    backend()?.facebook_login_finish(code, state).await
}

#[server(endpoint = "messenger/facebook-connect", input = Json)]
pub async fn facebook_login_connect(state: String, page_ids: Vec<String>) -> Result<usize, AppError> {
    backend()?.facebook_login_connect(state, page_ids).await
}

#[server(endpoint = "messenger/disconnect-page", input = Json)]
pub async fn disconnect_page(page: String, erase: bool) -> Result<(), AppError> {
    backend()?.disconnect_page(page, erase).await
}

#[server(endpoint = "messenger/bot-disclosure", input = Json)]
pub async fn set_bot_disclosure(page: String, enabled: bool) -> Result<(), AppError> {
    backend()?.set_bot_disclosure(page, enabled).await
}

/// POST: a name search is personal data, kept out of URLs.
#[server(endpoint = "messenger/leads", input = Json)]
pub async fn fetch_leads(filter: LeadFilter) -> Result<LeadPage, AppError> {
    backend()?.leads(filter).await
}

#[server(endpoint = "messenger/delete-lead", input = Json)]
pub async fn delete_lead(lead: String) -> Result<(), AppError> {
    backend()?.delete_lead(lead).await
}

#[server(endpoint = "messenger/verify-proof", input = Json)]
pub async fn verify_proof(lead: String) -> Result<ProofCheck, AppError> {
    backend()?.verify_proof(lead).await
}

#[server(endpoint = "messenger/labels", input = GetUrl)]
pub async fn fetch_labels() -> Result<Vec<LabelView>, AppError> {
    backend()?.labels().await
}

#[server(endpoint = "messenger/create-label", input = Json)]
pub async fn create_label(name: String) -> Result<LabelView, AppError> {
    backend()?.create_label(name).await
}

#[server(endpoint = "messenger/rename-label", input = Json)]
pub async fn rename_label(label: String, name: String) -> Result<(), AppError> {
    backend()?.rename_label(label, name).await
}

#[server(endpoint = "messenger/delete-label", input = Json)]
pub async fn delete_label(label: String) -> Result<(), AppError> {
    backend()?.delete_label(label).await
}

/// Adds (`assign`) or removes a label on many leads at once.
#[server(endpoint = "messenger/assign-label", input = Json)]
pub async fn assign_label(leads: Vec<String>, label: String, assign: bool) -> Result<usize, AppError> {
    backend()?.assign_label(leads, label, assign).await
}

#[server(endpoint = "messenger/conversation", input = Json)]
pub async fn fetch_conversation(lead: String) -> Result<Conversation, AppError> {
    backend()?.conversation(lead).await
}

#[server(endpoint = "messenger/reply", input = Json)]
pub async fn reply(lead: String, text: String) -> Result<ReplyOutcome, AppError> {
    backend()?.reply(lead, text).await
}

/// Public: the status of a Meta data-deletion request, by its confirmation code.
#[server(endpoint = "messenger/deletion-status", input = Json)]
pub async fn fetch_deletion_status(code: String) -> Result<Option<DeletionStatus>, AppError> {
    backend()?.deletion_status(code).await
}

#[server(endpoint = "broadcasts/campaigns", input = GetUrl)]
pub async fn fetch_campaigns() -> Result<Vec<CampaignSummary>, AppError> {
    backend()?.campaigns().await
}

/// Creates a draft (`input.id` None) or edits one; returns its id.
#[server(endpoint = "broadcasts/save", input = Json)]
pub async fn save_campaign(input: CampaignInput) -> Result<String, AppError> {
    backend()?.save_campaign(input).await
}

/// The live audience count and the message as a lead will see it.
#[server(endpoint = "broadcasts/preview", input = Json)]
pub async fn preview_campaign(input: CampaignInput) -> Result<AudiencePreview, AppError> {
    backend()?.preview_campaign(input).await
}

#[server(endpoint = "broadcasts/detail", input = Json)]
pub async fn fetch_campaign(id: String) -> Result<CampaignDetail, AppError> {
    backend()?.campaign(id).await
}

#[server(endpoint = "broadcasts/send-now", input = Json)]
pub async fn send_campaign_now(id: String) -> Result<(), AppError> {
    backend()?.send_campaign_now(id).await
}

/// Returns the moment it will start (Unix seconds).
#[server(endpoint = "broadcasts/schedule", input = Json)]
pub async fn schedule_campaign(id: String, schedule: ScheduleInput) -> Result<i64, AppError> {
    backend()?.schedule_campaign(id, schedule).await
}

#[server(endpoint = "broadcasts/pause", input = Json)]
pub async fn pause_campaign(id: String) -> Result<(), AppError> {
    backend()?.pause_campaign(id).await
}

#[server(endpoint = "broadcasts/resume", input = Json)]
pub async fn resume_campaign(id: String) -> Result<(), AppError> {
    backend()?.resume_campaign(id).await
}

#[server(endpoint = "broadcasts/cancel", input = Json)]
pub async fn cancel_campaign(id: String) -> Result<(), AppError> {
    backend()?.cancel_campaign(id).await
}

/// Public (no sign-in): the page behind an unsubscribe link.
#[server(endpoint = "unsubscribe/info", input = Json)]
pub async fn fetch_unsubscribe_info(token: String) -> Result<UnsubscribeInfo, AppError> {
    backend()?.unsubscribe_info(token).await
}

/// Public: one-click unsubscribe (a POST).
#[server(endpoint = "unsubscribe/confirm", input = Json)]
pub async fn unsubscribe(token: String) -> Result<(), AppError> {
    backend()?.unsubscribe(token).await
}

/// Public: erases everything about this person for this Page.
#[server(endpoint = "unsubscribe/erase", input = Json)]
pub async fn erase_my_data(token: String) -> Result<(), AppError> {
    backend()?.erase_my_data(token).await
}
