//! The server's implementation of the app's `Backend` contract. Each method
//! reads the request once, then delegates to the capability module that owns
//! the work; cookies and `Clear-Site-Data` are set here.

use std::net::{IpAddr, Ipv4Addr};

use app::backend::Backend;
use app::error::AppError;
use app::types::{
    AdminActionRow, AdminOverview, AdminUserPage, AudiencePreview, Breach, BreachInput, CampaignDetail, CampaignInput, CampaignSummary, Conversation,
    CurrentUser, DatabaseState, DeletionStatus, ExportStatus, LabelView, LeadFilter, LeadPage, LoginInput, LoginPage, MessengerAppInput, MessengerAppView,
    NotificationSettings, PagesOverview, PersonalDataView, PolicyVersion, PrivacyOverview, ProofCheck, Recipient, RegisterInput, ReplyOutcome,
    RetentionSettings, Role, ScheduleInput, SecurityOverview, ServerStatus, UnsubscribeInfo,
};
use async_trait::async_trait;
use http::header::{HeaderName, HeaderValue, SET_COOKIE, USER_AGENT};
use leptos::prelude::use_context;
use leptos_axum::ResponseOptions;

use crate::accounts::{self, AccountError};
use crate::context::{Ctx, RequestInfo};
use crate::http::ClientIp;
use crate::sessions;

pub struct Services {
    pub ctx: Ctx,
}

/// The request behind the running server function.
fn request_info() -> RequestInfo {
    let parts = use_context::<http::request::Parts>();
    let headers = parts.as_ref().map(|p| &p.headers);
    RequestInfo {
        session_token: headers.and_then(sessions::token_from_headers),
        ip: parts.as_ref().and_then(|p| p.extensions.get::<ClientIp>()).map(|ClientIp(ip)| *ip).unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
        user_agent: headers.and_then(|h| h.get(USER_AGENT)).and_then(|v| v.to_str().ok()).unwrap_or("").chars().take(512).collect(),
    }
}

fn set_header(name: HeaderName, value: &str) {
    if let (Some(response), Ok(value)) = (use_context::<ResponseOptions>(), HeaderValue::from_str(value)) {
        response.append_header(name, value);
    }
}

fn set_session_cookie(ctx: &Ctx, token: &str, persistent: bool) {
    let max_age = persistent.then_some(ctx.settings.session_persistent_secs);
    set_header(SET_COOKIE, &sessions::set_cookie(token, max_age));
}

/// Logout's answer: the cookie is cleared and the browser told to wipe
/// everything it holds for this origin.
fn clear_browser_state() {
    set_header(SET_COOKIE, &sessions::clear_cookie());
    set_header(HeaderName::from_static("clear-site-data"), "\"cache\", \"cookies\", \"storage\"");
}

/// The user's sentence for a failure, answered with its HTTP status.
fn user_error(operation: &'static str) -> impl FnOnce(AccountError) -> AppError {
    move |e| {
        let error = e.into_app_error(operation);
        if let (Some(response), Ok(status)) = (use_context::<ResponseOptions>(), http::StatusCode::from_u16(error.status())) {
            response.set_status(status);
        }
        error
    }
}

/// As `user_error`, for the Messenger module's errors.
fn messenger_error(operation: &'static str) -> impl FnOnce(crate::messenger::MessengerError) -> AppError {
    move |e| {
        let error = e.into_app_error(operation);
        if let (Some(response), Ok(status)) = (use_context::<ResponseOptions>(), http::StatusCode::from_u16(error.status())) {
            response.set_status(status);
        }
        error
    }
}

#[async_trait]
impl Backend for Services {
    async fn server_status(&self) -> Result<ServerStatus, AppError> {
        let (database, schema_version) = match self.ctx.db.health().await {
            Ok(v) => (DatabaseState::Ok, v),
            Err(e) => {
                tracing::error!(error = %e, "status: database unavailable");
                (DatabaseState::Unavailable, 0)
            }
        };
        Ok(ServerStatus { version: env!("CARGO_PKG_VERSION").to_string(), database, schema_version, demo: self.ctx.settings.demo })
    }

    async fn current_user(&self) -> Result<Option<CurrentUser>, AppError> {
        let request = request_info();
        let current = accounts::current(&self.ctx, &request).await.map_err(user_error("current user"))?;
        Ok(current.map(|(_, user)| user))
    }

    async fn register(&self, input: RegisterInput) -> Result<(), AppError> {
        let request = request_info();
        accounts::register(&self.ctx, &request, input).await.map_err(user_error("register"))
    }

    async fn resend_verification(&self, email: String) -> Result<(), AppError> {
        let request = request_info();
        accounts::resend_verification(&self.ctx, &request, &email).await.map_err(user_error("resend verification"))
    }

    async fn verify_email(&self, token: String) -> Result<(), AppError> {
        accounts::verify_email(&self.ctx, &token).await.map_err(user_error("verify email"))
    }

    async fn login(&self, input: LoginInput) -> Result<CurrentUser, AppError> {
        let request = request_info();
        let persistent = input.keep_signed_in;
        let (token, _, user) = accounts::login(&self.ctx, input, &request).await.map_err(user_error("login"))?;
        set_session_cookie(&self.ctx, &token, persistent);
        Ok(user)
    }

    async fn logout(&self) -> Result<(), AppError> {
        let request = request_info();
        clear_browser_state();
        accounts::logout(&self.ctx, &request).await.map_err(user_error("logout"))
    }

    async fn logout_everywhere(&self) -> Result<(), AppError> {
        let request = request_info();
        accounts::logout_everywhere(&self.ctx, &request).await.map_err(user_error("logout everywhere"))?;
        clear_browser_state();
        Ok(())
    }

    async fn change_password(&self, current_password: String, new_password: String) -> Result<(), AppError> {
        let request = request_info();
        let (token, session) = accounts::change_password(&self.ctx, &request, &current_password, &new_password).await.map_err(user_error("change password"))?;
        set_session_cookie(&self.ctx, &token, session.persistent);
        Ok(())
    }

    async fn request_password_reset(&self, email: String) -> Result<(), AppError> {
        let request = request_info();
        accounts::request_password_reset(&self.ctx, &request, &email).await.map_err(user_error("request password reset"))
    }

    async fn reset_password(&self, token: String, new_password: String) -> Result<(), AppError> {
        accounts::reset_password(&self.ctx, &token, &new_password).await.map_err(user_error("reset password"))
    }

    async fn request_email_change(&self, new_email: String, password: String) -> Result<(), AppError> {
        let request = request_info();
        accounts::request_email_change(&self.ctx, &request, &new_email, &password).await.map_err(user_error("request email change"))
    }

    async fn confirm_email_change(&self, token: String) -> Result<(), AppError> {
        accounts::confirm_email_change(&self.ctx, &token).await.map_err(user_error("confirm email change"))
    }

    async fn security_overview(&self) -> Result<SecurityOverview, AppError> {
        let request = request_info();
        accounts::security_overview(&self.ctx, &request).await.map_err(user_error("security overview"))
    }

    async fn revoke_session(&self, session_id: String) -> Result<(), AppError> {
        let request = request_info();
        accounts::revoke_session(&self.ctx, &request, &session_id).await.map_err(user_error("revoke session"))
    }

    async fn privacy_overview(&self) -> Result<PrivacyOverview, AppError> {
        let request = request_info();
        accounts::privacy_overview(&self.ctx, &request).await.map_err(user_error("privacy overview"))
    }

    async fn delete_account(&self, password: String, confirmation: String) -> Result<(), AppError> {
        let request = request_info();
        accounts::delete_account(&self.ctx, &request, &password, &confirmation).await.map_err(user_error("delete account"))?;
        clear_browser_state();
        Ok(())
    }

    async fn request_export(&self, password: String) -> Result<ExportStatus, AppError> {
        let request = request_info();
        accounts::request_export(&self.ctx, &request, &password).await.map_err(user_error("request export"))
    }

    async fn export_status(&self) -> Result<Option<ExportStatus>, AppError> {
        let request = request_info();
        accounts::export_status(&self.ctx, &request).await.map_err(user_error("export status"))
    }

    async fn accept_policies(&self, shown: Vec<PolicyVersion>) -> Result<CurrentUser, AppError> {
        let request = request_info();
        accounts::accept_policies(&self.ctx, &request, &shown).await.map_err(user_error("accept policies"))
    }

    async fn notification_settings(&self) -> Result<NotificationSettings, AppError> {
        let request = request_info();
        accounts::notification_settings(&self.ctx, &request).await.map_err(user_error("notification settings"))
    }

    async fn set_notification_settings(&self, settings: NotificationSettings) -> Result<(), AppError> {
        let request = request_info();
        accounts::set_notification_settings(&self.ctx, &request, settings).await.map_err(user_error("set notification settings"))
    }

    async fn publish_policy(&self, password: String, document: String, title: String, body: String, summary: String) -> Result<i64, AppError> {
        let request = request_info();
        crate::admin::publish_policy(&self.ctx, &request, &password, &document, &title, &body, &summary).await.map_err(user_error("publish policy"))
    }

    async fn admin_list_users(&self, email: Option<String>, before: Option<i64>) -> Result<AdminUserPage, AppError> {
        let request = request_info();
        crate::admin::list_users(&self.ctx, &request, email, before).await.map_err(user_error("admin list users"))
    }

    async fn admin_set_disabled(&self, account_id: String, disabled: bool) -> Result<(), AppError> {
        let request = request_info();
        crate::admin::set_disabled(&self.ctx, &request, &account_id, disabled).await.map_err(user_error("admin set disabled"))
    }

    async fn admin_set_role(&self, password: String, account_id: String, role: Role) -> Result<(), AppError> {
        let request = request_info();
        crate::admin::set_role(&self.ctx, &request, &password, &account_id, role).await.map_err(user_error("admin set role"))
    }

    async fn admin_delete_user(&self, password: String, account_id: String, reason: String) -> Result<(), AppError> {
        let request = request_info();
        crate::admin::delete_user(&self.ctx, &request, &password, &account_id, &reason).await.map_err(user_error("admin delete user"))
    }

    async fn admin_view_personal_data(&self, account_id: String, reason: String) -> Result<PersonalDataView, AppError> {
        let request = request_info();
        crate::admin::view_personal_data(&self.ctx, &request, &account_id, &reason).await.map_err(user_error("admin view personal data"))
    }

    async fn admin_actions(&self, before: Option<i64>) -> Result<Vec<AdminActionRow>, AppError> {
        let request = request_info();
        crate::admin::actions(&self.ctx, &request, before).await.map_err(user_error("admin actions"))
    }

    async fn recipients(&self) -> Result<Vec<Recipient>, AppError> {
        crate::admin::recipients(&self.ctx).await.map_err(user_error("recipients"))
    }

    async fn admin_save_recipient(&self, password: String, recipient: Recipient) -> Result<String, AppError> {
        let request = request_info();
        crate::admin::save_recipient(&self.ctx, &request, &password, recipient).await.map_err(user_error("save recipient"))
    }

    async fn admin_remove_recipient(&self, password: String, id: String) -> Result<(), AppError> {
        let request = request_info();
        crate::admin::remove_recipient(&self.ctx, &request, &password, &id).await.map_err(user_error("remove recipient"))
    }

    async fn admin_breaches(&self) -> Result<Vec<Breach>, AppError> {
        let request = request_info();
        crate::admin::breaches(&self.ctx, &request).await.map_err(user_error("breaches"))
    }

    async fn admin_record_breach(&self, input: BreachInput) -> Result<String, AppError> {
        let request = request_info();
        crate::admin::record_breach(&self.ctx, &request, input).await.map_err(user_error("record breach"))
    }

    async fn admin_breach_authority_notified(&self, password: String, id: String) -> Result<(), AppError> {
        let request = request_info();
        crate::admin::mark_authority_notified(&self.ctx, &request, &password, &id).await.map_err(user_error("breach authority notified"))
    }

    async fn admin_breach_notify_people(&self, password: String, id: String, account_ids: Option<Vec<String>>) -> Result<usize, AppError> {
        let request = request_info();
        crate::admin::notify_people(&self.ctx, &request, &password, &id, account_ids).await.map_err(user_error("breach notify people"))
    }

    async fn retention(&self) -> Result<RetentionSettings, AppError> {
        crate::privacy::retention::current(&self.ctx).await.map_err(|e| user_error("retention")(e.into()))
    }

    async fn admin_overview(&self) -> Result<AdminOverview, AppError> {
        let request = request_info();
        crate::admin::overview(&self.ctx, &request).await.map_err(user_error("admin overview"))
    }

    async fn admin_set_retention(&self, password: String, settings: RetentionSettings) -> Result<(), AppError> {
        let request = request_info();
        crate::admin::set_retention(&self.ctx, &request, &password, settings).await.map_err(user_error("set retention"))
    }

    async fn admin_messenger_app(&self) -> Result<MessengerAppView, AppError> {
        let request = request_info();
        crate::admin::messenger_app(&self.ctx, &request).await.map_err(user_error("messenger app"))
    }

    async fn admin_save_messenger_app(&self, password: String, input: MessengerAppInput) -> Result<(), AppError> {
        let request = request_info();
        crate::admin::save_messenger_app(&self.ctx, &request, &password, input).await.map_err(user_error("save messenger app"))
    }

    async fn pages(&self) -> Result<PagesOverview, AppError> {
        let request = request_info();
        crate::messenger::pages::list(&self.ctx, &request, self.ctx.settings.demo).await.map_err(messenger_error("pages"))
    }

    async fn connect_page(&self, page_id: String, access_token: String) -> Result<(), AppError> {
        let request = request_info();
        crate::messenger::pages::connect_manual(&self.ctx, &request, &page_id, &access_token).await.map(|_| ()).map_err(messenger_error("connect page"))
    }

    async fn facebook_login_start(&self) -> Result<String, AppError> {
        let request = request_info();
        crate::messenger::pages::start_login(&self.ctx, &request).await.map_err(messenger_error("facebook login start"))
    }

    async fn facebook_login_finish(&self, code: String, state: String) -> Result<Vec<LoginPage>, AppError> {
        let request = request_info();
        crate::messenger::pages::finish_login(&self.ctx, &request, &code, &state).await.map_err(messenger_error("facebook login finish"))
    }

    async fn facebook_login_connect(&self, state: String, page_ids: Vec<String>) -> Result<usize, AppError> {
        let request = request_info();
        crate::messenger::pages::connect_login_pages(&self.ctx, &request, &state, &page_ids).await.map_err(messenger_error("facebook login connect"))
    }

    async fn disconnect_page(&self, page: String, erase: bool) -> Result<(), AppError> {
        let request = request_info();
        crate::messenger::pages::disconnect(&self.ctx, &request, &page, erase).await.map_err(messenger_error("disconnect page"))
    }

    async fn set_bot_disclosure(&self, page: String, enabled: bool) -> Result<(), AppError> {
        let request = request_info();
        crate::messenger::pages::set_bot_disclosure(&self.ctx, &request, &page, enabled).await.map_err(messenger_error("bot disclosure"))
    }

    async fn leads(&self, filter: LeadFilter) -> Result<LeadPage, AppError> {
        let request = request_info();
        crate::messenger::leads::list(&self.ctx, &request, filter).await.map_err(messenger_error("leads"))
    }

    async fn delete_lead(&self, lead: String) -> Result<(), AppError> {
        let request = request_info();
        crate::messenger::leads::delete(&self.ctx, &request, &lead).await.map_err(messenger_error("delete lead"))
    }

    async fn verify_proof(&self, lead: String) -> Result<ProofCheck, AppError> {
        let request = request_info();
        crate::messenger::leads::verify_proof(&self.ctx, &request, &lead).await.map_err(messenger_error("verify proof"))
    }

    async fn labels(&self) -> Result<Vec<LabelView>, AppError> {
        let request = request_info();
        crate::messenger::labels::labels(&self.ctx, &request).await.map_err(messenger_error("labels"))
    }

    async fn create_label(&self, name: String) -> Result<LabelView, AppError> {
        let request = request_info();
        crate::messenger::labels::create_label(&self.ctx, &request, &name).await.map_err(messenger_error("create label"))
    }

    async fn rename_label(&self, label: String, name: String) -> Result<(), AppError> {
        let request = request_info();
        crate::messenger::labels::rename_label(&self.ctx, &request, &label, &name).await.map_err(messenger_error("rename label"))
    }

    async fn delete_label(&self, label: String) -> Result<(), AppError> {
        let request = request_info();
        crate::messenger::labels::delete_label(&self.ctx, &request, &label).await.map_err(messenger_error("delete label"))
    }

    async fn assign_label(&self, leads: Vec<String>, label: String, assign: bool) -> Result<usize, AppError> {
        let request = request_info();
        crate::messenger::labels::assign_label(&self.ctx, &request, &leads, &label, assign).await.map_err(messenger_error("assign label"))
    }

    async fn conversation(&self, lead: String) -> Result<Conversation, AppError> {
        let request = request_info();
        crate::messenger::inbox::conversation(&self.ctx, &request, &lead).await.map_err(messenger_error("conversation"))
    }

    async fn reply(&self, lead: String, text: String) -> Result<ReplyOutcome, AppError> {
        let request = request_info();
        crate::messenger::inbox::reply(&self.ctx, &request, &lead, &text).await.map_err(messenger_error("reply"))
    }

    async fn deletion_status(&self, code: String) -> Result<Option<DeletionStatus>, AppError> {
        crate::messenger::deletion::status(&self.ctx, &code).await.map_err(messenger_error("deletion status"))
    }

    async fn campaigns(&self) -> Result<Vec<CampaignSummary>, AppError> {
        let request = request_info();
        crate::broadcasts::list(&self.ctx, &request).await.map_err(messenger_error("campaigns"))
    }

    async fn save_campaign(&self, input: CampaignInput) -> Result<String, AppError> {
        let request = request_info();
        crate::broadcasts::save(&self.ctx, &request, input).await.map_err(messenger_error("save campaign"))
    }

    async fn preview_campaign(&self, input: CampaignInput) -> Result<AudiencePreview, AppError> {
        let request = request_info();
        crate::broadcasts::preview(&self.ctx, &request, input).await.map_err(messenger_error("preview campaign"))
    }

    async fn campaign(&self, id: String) -> Result<CampaignDetail, AppError> {
        let request = request_info();
        crate::broadcasts::stats::detail(&self.ctx, &request, &id).await.map_err(messenger_error("campaign"))
    }

    async fn send_campaign_now(&self, id: String) -> Result<(), AppError> {
        let request = request_info();
        crate::broadcasts::send_now(&self.ctx, &request, &id).await.map_err(messenger_error("send campaign"))
    }

    async fn schedule_campaign(&self, id: String, schedule: ScheduleInput) -> Result<i64, AppError> {
        let request = request_info();
        crate::broadcasts::schedule(&self.ctx, &request, &id, schedule).await.map_err(messenger_error("schedule campaign"))
    }

    async fn pause_campaign(&self, id: String) -> Result<(), AppError> {
        let request = request_info();
        crate::broadcasts::pause(&self.ctx, &request, &id).await.map_err(messenger_error("pause campaign"))
    }

    async fn resume_campaign(&self, id: String) -> Result<(), AppError> {
        let request = request_info();
        crate::broadcasts::resume(&self.ctx, &request, &id).await.map_err(messenger_error("resume campaign"))
    }

    async fn cancel_campaign(&self, id: String) -> Result<(), AppError> {
        let request = request_info();
        crate::broadcasts::cancel(&self.ctx, &request, &id).await.map_err(messenger_error("cancel campaign"))
    }

    async fn unsubscribe_info(&self, token: String) -> Result<UnsubscribeInfo, AppError> {
        crate::broadcasts::unsubscribe::info(&self.ctx, &token).await.map_err(messenger_error("unsubscribe info"))
    }

    async fn unsubscribe(&self, token: String) -> Result<(), AppError> {
        crate::broadcasts::unsubscribe::unsubscribe(&self.ctx, &token).await.map_err(messenger_error("unsubscribe"))
    }

    async fn erase_my_data(&self, token: String) -> Result<(), AppError> {
        crate::broadcasts::unsubscribe::erase(&self.ctx, &token).await.map_err(messenger_error("erase my data"))
    }
}
