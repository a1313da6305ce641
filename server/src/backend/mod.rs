//! The server's implementation of the app's `Backend` contract, one file per
//! area as in `app/src/api/`. Each method resolves its caller once
//! (`signed_in`, `ready` or `admin`: who is calling, with the account's key),
//! then delegates to the capability module that owns the work, and turns its
//! error into the user's sentence with its status. Cookies and
//! `Clear-Site-Data` are set here.

mod accounts;
mod admin;
mod broadcasts;
mod messenger;
mod privacy;

use app::backend::{AccountsBackend, AdminBackend, Backend, BroadcastsBackend, MessengerBackend, PrivacyBackend};
use app::error::AppError;
use app::types::{
    AdminActionRow, AdminOverview, AdminUserPage, AudiencePreview, Breach, BreachInput, CampaignDetail, CampaignInput, CampaignSummary, Conversation,
    ConversationList, CurrentUser, Dashboard, DatabaseState, DeletionStatus, ExportStatus, LabelView, LeadFilter, LeadPage, LoginInput, LoginPage,
    MessengerAppInput, MessengerAppView, NotificationSettings, PagesOverview, PersonalDataView, PolicyChange, PolicyVersion, PrivacyOverview, ProofCheck,
    Recipient, RegisterInput, ReplyOutcome, RetentionSettings, Role, ScheduleInput, SecurityOverview, ServerStatus, UnsubscribeInfo,
};
use async_trait::async_trait;
use http::header::{HeaderName, HeaderValue, SET_COOKIE};
use leptos::prelude::use_context;
use leptos_axum::ResponseOptions;

use crate::accounts::{Admin, Ready, SignedIn};
use crate::context::{Ctx, RequestInfo};
use crate::error::Error;
use crate::sessions;

pub struct Services {
    pub ctx: Ctx,
}

/// The request behind the running server function.
fn request_info() -> RequestInfo {
    match use_context::<http::request::Parts>() {
        Some(parts) => crate::http::request_info(&parts.headers, &parts.extensions),
        None => crate::http::request_info(&http::HeaderMap::new(), &http::Extensions::new()),
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
fn user_error(operation: &'static str) -> impl FnOnce(Error) -> AppError {
    move |e| {
        let error = e.into_app_error(operation);
        if let (Some(response), Ok(status)) = (use_context::<ResponseOptions>(), http::StatusCode::from_u16(error.status())) {
            response.set_status(status);
        }
        error
    }
}

impl Services {
    /// Who is calling, resolved once for the request: the signed-in
    /// account with its key, or the user's sentence why not.
    async fn signed_in(&self, operation: &'static str) -> Result<SignedIn, AppError> {
        crate::accounts::signed_in(&self.ctx, request_info()).await.map_err(user_error(operation))
    }

    /// Signed in and past the gate (no password change owed, every policy accepted).
    async fn ready(&self, operation: &'static str) -> Result<Ready, AppError> {
        self.signed_in(operation).await?.ready().map_err(user_error(operation))
    }

    async fn admin(&self, operation: &'static str) -> Result<Admin, AppError> {
        crate::accounts::admin(&self.ctx, request_info()).await.map_err(user_error(operation))
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
}
