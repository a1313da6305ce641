//! The contract between server-function bodies (here) and the server's
//! capability modules (in the `server` crate), which implement it.
//! Server functions stay thin: they pull the backend from the Leptos context
//! and delegate. Implementations read the request (cookies, client address)
//! from the Leptos context themselves.

use std::sync::Arc;

use async_trait::async_trait;

use crate::error::AppError;
use crate::types::{
    AdminActionRow, AdminOverview, AdminUserPage, AudiencePreview, Breach, BreachInput, CampaignDetail, CampaignInput, CampaignSummary, Conversation,
    CurrentUser, DeletionStatus, ExportStatus, LabelView, LeadFilter, LeadPage, LoginInput, LoginPage, MessengerAppInput, MessengerAppView,
    NotificationSettings, PagesOverview, PersonalDataView, PolicyVersion, PrivacyOverview, ProofCheck, Recipient, RegisterInput, ReplyOutcome,
    RetentionSettings, Role, ScheduleInput, SecurityOverview, ServerStatus, UnsubscribeInfo,
};

#[async_trait]
pub trait Backend: Send + Sync + 'static {
    async fn server_status(&self) -> Result<ServerStatus, AppError>;

    async fn current_user(&self) -> Result<Option<CurrentUser>, AppError>;
    async fn register(&self, input: RegisterInput) -> Result<(), AppError>;
    async fn verify_email(&self, token: String) -> Result<(), AppError>;
    async fn resend_verification(&self, email: String) -> Result<(), AppError>;
    async fn login(&self, input: LoginInput) -> Result<CurrentUser, AppError>;
    async fn logout(&self) -> Result<(), AppError>;
    async fn logout_everywhere(&self) -> Result<(), AppError>;
    async fn change_password(&self, current_password: String, new_password: String) -> Result<(), AppError>;
    async fn request_password_reset(&self, email: String) -> Result<(), AppError>;
    async fn reset_password(&self, token: String, new_password: String) -> Result<(), AppError>;
    async fn request_email_change(&self, new_email: String, password: String) -> Result<(), AppError>;
    async fn confirm_email_change(&self, token: String) -> Result<(), AppError>;
    async fn security_overview(&self) -> Result<SecurityOverview, AppError>;
    async fn revoke_session(&self, session_id: String) -> Result<(), AppError>;
    async fn privacy_overview(&self) -> Result<PrivacyOverview, AppError>;
    async fn delete_account(&self, password: String, confirmation: String) -> Result<(), AppError>;
    async fn request_export(&self, password: String) -> Result<ExportStatus, AppError>;
    async fn export_status(&self) -> Result<Option<ExportStatus>, AppError>;
    async fn accept_policies(&self, shown: Vec<PolicyVersion>) -> Result<CurrentUser, AppError>;
    async fn notification_settings(&self) -> Result<NotificationSettings, AppError>;
    async fn set_notification_settings(&self, settings: NotificationSettings) -> Result<(), AppError>;
    async fn publish_policy(&self, password: String, document: String, title: String, body: String, summary: String) -> Result<i64, AppError>;
    async fn admin_list_users(&self, email: Option<String>, before: Option<i64>) -> Result<AdminUserPage, AppError>;
    async fn admin_set_disabled(&self, account_id: String, disabled: bool) -> Result<(), AppError>;
    async fn admin_set_role(&self, password: String, account_id: String, role: Role) -> Result<(), AppError>;
    async fn admin_delete_user(&self, password: String, account_id: String, reason: String) -> Result<(), AppError>;
    async fn admin_view_personal_data(&self, account_id: String, reason: String) -> Result<PersonalDataView, AppError>;
    async fn admin_actions(&self, before: Option<i64>) -> Result<Vec<AdminActionRow>, AppError>;
    async fn recipients(&self) -> Result<Vec<Recipient>, AppError>;
    async fn admin_messenger_app(&self) -> Result<MessengerAppView, AppError>;
    async fn admin_save_messenger_app(&self, password: String, input: MessengerAppInput) -> Result<(), AppError>;
    async fn retention(&self) -> Result<RetentionSettings, AppError>;
    async fn admin_overview(&self) -> Result<AdminOverview, AppError>;
    async fn admin_set_retention(&self, password: String, settings: RetentionSettings) -> Result<(), AppError>;
    async fn admin_save_recipient(&self, password: String, recipient: Recipient) -> Result<String, AppError>;
    async fn admin_remove_recipient(&self, password: String, id: String) -> Result<(), AppError>;
    async fn admin_breaches(&self) -> Result<Vec<Breach>, AppError>;
    async fn admin_record_breach(&self, input: BreachInput) -> Result<String, AppError>;
    async fn admin_breach_authority_notified(&self, password: String, id: String) -> Result<(), AppError>;
    async fn pages(&self) -> Result<PagesOverview, AppError>;
    async fn connect_page(&self, page_id: String, access_token: String) -> Result<(), AppError>;
    async fn facebook_login_start(&self) -> Result<String, AppError>;
    async fn facebook_login_finish(&self, code: String, state: String) -> Result<Vec<LoginPage>, AppError>;
    async fn facebook_login_connect(&self, state: String, page_ids: Vec<String>) -> Result<usize, AppError>;
    async fn disconnect_page(&self, page: String, erase: bool) -> Result<(), AppError>;
    async fn set_bot_disclosure(&self, page: String, enabled: bool) -> Result<(), AppError>;
    async fn leads(&self, filter: LeadFilter) -> Result<LeadPage, AppError>;
    async fn delete_lead(&self, lead: String) -> Result<(), AppError>;
    async fn verify_proof(&self, lead: String) -> Result<ProofCheck, AppError>;
    async fn labels(&self) -> Result<Vec<LabelView>, AppError>;
    async fn create_label(&self, name: String) -> Result<LabelView, AppError>;
    async fn rename_label(&self, label: String, name: String) -> Result<(), AppError>;
    async fn delete_label(&self, label: String) -> Result<(), AppError>;
    async fn assign_label(&self, leads: Vec<String>, label: String, assign: bool) -> Result<usize, AppError>;
    async fn conversation(&self, lead: String) -> Result<Conversation, AppError>;
    async fn reply(&self, lead: String, text: String) -> Result<ReplyOutcome, AppError>;
    async fn deletion_status(&self, code: String) -> Result<Option<DeletionStatus>, AppError>;
    async fn campaigns(&self) -> Result<Vec<CampaignSummary>, AppError>;
    async fn save_campaign(&self, input: CampaignInput) -> Result<String, AppError>;
    async fn preview_campaign(&self, input: CampaignInput) -> Result<AudiencePreview, AppError>;
    async fn campaign(&self, id: String) -> Result<CampaignDetail, AppError>;
    async fn send_campaign_now(&self, id: String) -> Result<(), AppError>;
    async fn schedule_campaign(&self, id: String, schedule: ScheduleInput) -> Result<i64, AppError>;
    async fn pause_campaign(&self, id: String) -> Result<(), AppError>;
    async fn resume_campaign(&self, id: String) -> Result<(), AppError>;
    async fn cancel_campaign(&self, id: String) -> Result<(), AppError>;
    async fn unsubscribe_info(&self, token: String) -> Result<UnsubscribeInfo, AppError>;
    async fn unsubscribe(&self, token: String) -> Result<(), AppError>;
    async fn erase_my_data(&self, token: String) -> Result<(), AppError>;
    async fn admin_breach_notify_people(&self, password: String, id: String, account_ids: Option<Vec<String>>) -> Result<usize, AppError>;
}

pub type SharedBackend = Arc<dyn Backend>;

/// The backend the server placed into the request's context.
pub fn backend() -> Result<SharedBackend, AppError> {
    leptos::prelude::use_context::<SharedBackend>().ok_or(AppError::Internal)
}
