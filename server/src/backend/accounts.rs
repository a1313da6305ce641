//! Accounts: registration, sign-in, passwords, addresses, sessions, notices.

use super::*;

#[async_trait]
impl AccountsBackend for Services {
    async fn current_user(&self) -> Result<Option<CurrentUser>, AppError> {
        crate::accounts::current_user(&self.ctx, request_info()).await.map_err(user_error("current user"))
    }

    async fn register(&self, input: RegisterInput) -> Result<(), AppError> {
        let request = request_info();
        let nonce = crate::accounts::register(&self.ctx, &request, input).await.map_err(user_error("register"))?;
        set_header(SET_COOKIE, &sessions::set_signup_cookie(&nonce, crate::accounts::VERIFY_EMAIL_SECS));
        Ok(())
    }

    async fn resend_verification(&self, email: String) -> Result<(), AppError> {
        let request = request_info();
        crate::accounts::resend_verification(&self.ctx, &request, &email).await.map_err(user_error("resend verification"))
    }

    async fn verify_email(&self, token: String) -> Result<Option<CurrentUser>, AppError> {
        let request = request_info();
        let nonce = use_context::<http::request::Parts>().and_then(|p| sessions::signup_nonce_from_headers(&p.headers));
        let verified = crate::accounts::verify_email(&self.ctx, &token, nonce.as_deref(), &request).await;
        // Whatever the link did, the cookie has served.
        if nonce.is_some() {
            set_header(SET_COOKIE, &sessions::clear_signup_cookie());
        }
        Ok(verified.map_err(user_error("verify email"))?.map(|(token, _, user)| {
            set_session_cookie(&self.ctx, &token, false);
            user
        }))
    }

    async fn login(&self, input: LoginInput) -> Result<CurrentUser, AppError> {
        let request = request_info();
        let persistent = input.keep_signed_in;
        let (token, _, user) = crate::accounts::login(&self.ctx, input, &request).await.map_err(user_error("login"))?;
        set_session_cookie(&self.ctx, &token, persistent);
        Ok(user)
    }

    async fn logout(&self) -> Result<(), AppError> {
        let request = request_info();
        clear_browser_state();
        crate::accounts::logout(&self.ctx, &request).await.map_err(user_error("logout"))
    }

    async fn logout_everywhere(&self) -> Result<(), AppError> {
        let caller = self.signed_in("logout everywhere").await?;
        crate::accounts::logout_everywhere(&self.ctx, &caller).await.map_err(user_error("logout everywhere"))?;
        clear_browser_state();
        Ok(())
    }

    async fn decline_storage_offer(&self) -> Result<(), AppError> {
        let caller = self.signed_in("decline storage offer").await?;
        crate::sessions::decline_storage_offer(&self.ctx, &caller.session).await.map_err(user_error("decline storage offer"))
    }

    async fn change_password(&self, current_password: String, new_password: String) -> Result<(), AppError> {
        let caller = self.signed_in("change password").await?;
        let (token, session) =
            crate::accounts::change_password(&self.ctx, &caller, &current_password, &new_password).await.map_err(user_error("change password"))?;
        set_session_cookie(&self.ctx, &token, session.persistent);
        Ok(())
    }

    async fn request_password_reset(&self, email: String) -> Result<(), AppError> {
        let request = request_info();
        crate::accounts::request_password_reset(&self.ctx, &request, &email).await.map_err(user_error("request password reset"))
    }

    async fn reset_password(&self, token: String, new_password: String) -> Result<(), AppError> {
        crate::accounts::reset_password(&self.ctx, &token, &new_password).await.map_err(user_error("reset password"))
    }

    async fn request_email_change(&self, new_email: String, password: String) -> Result<(), AppError> {
        let caller = self.ready("request email change").await?;
        crate::accounts::request_email_change(&self.ctx, &caller, &new_email, &password).await.map_err(user_error("request email change"))
    }

    async fn confirm_email_change(&self, token: String) -> Result<(), AppError> {
        crate::accounts::confirm_email_change(&self.ctx, &token).await.map_err(user_error("confirm email change"))
    }

    async fn security_overview(&self) -> Result<SecurityOverview, AppError> {
        let caller = self.ready("security overview").await?;
        crate::accounts::security_overview(&self.ctx, &caller).await.map_err(user_error("security overview"))
    }

    async fn revoke_session(&self, session_id: String) -> Result<(), AppError> {
        let caller = self.ready("revoke session").await?;
        crate::accounts::revoke_session(&self.ctx, &caller, &session_id).await.map_err(user_error("revoke session"))
    }

    async fn notification_settings(&self) -> Result<NotificationSettings, AppError> {
        let caller = self.ready("notification settings").await?;
        crate::accounts::notification_settings(&self.ctx, &caller).await.map_err(user_error("notification settings"))
    }

    async fn set_notification_settings(&self, settings: NotificationSettings) -> Result<(), AppError> {
        let caller = self.ready("set notification settings").await?;
        crate::accounts::set_notification_settings(&self.ctx, &caller, settings).await.map_err(user_error("set notification settings"))
    }
}
