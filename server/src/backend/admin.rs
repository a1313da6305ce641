//! The admin panel: users, the action log, policies, retention, breaches, the Facebook app.

use super::*;

#[async_trait]
impl AdminBackend for Services {
    async fn publish_policy(&self, password: String, document: String, title: String, body: String, summary: String) -> Result<i64, AppError> {
        let caller = self.admin("publish policy").await?;
        crate::admin::publish_policy(&self.ctx, &caller, &password, &document, &title, &body, &summary).await.map_err(user_error("publish policy"))
    }

    async fn list_users(&self, email: Option<String>, before: Option<i64>) -> Result<AdminUserPage, AppError> {
        let caller = self.admin("admin list users").await?;
        crate::admin::list_users(&self.ctx, &caller, email, before).await.map_err(user_error("admin list users"))
    }

    async fn set_disabled(&self, account_id: String, disabled: bool) -> Result<(), AppError> {
        let caller = self.admin("admin set disabled").await?;
        crate::admin::set_disabled(&self.ctx, &caller, &account_id, disabled).await.map_err(user_error("admin set disabled"))
    }

    async fn set_role(&self, password: String, account_id: String, role: Role) -> Result<(), AppError> {
        let caller = self.admin("admin set role").await?;
        crate::admin::set_role(&self.ctx, &caller, &password, &account_id, role).await.map_err(user_error("admin set role"))
    }

    async fn delete_user(&self, password: String, account_id: String, reason: String) -> Result<(), AppError> {
        let caller = self.admin("admin delete user").await?;
        crate::admin::delete_user(&self.ctx, &caller, &password, &account_id, &reason).await.map_err(user_error("admin delete user"))
    }

    async fn view_personal_data(&self, account_id: String, reason: String) -> Result<PersonalDataView, AppError> {
        let caller = self.admin("admin view personal data").await?;
        crate::admin::view_personal_data(&self.ctx, &caller, &account_id, &reason).await.map_err(user_error("admin view personal data"))
    }

    async fn admin_actions(&self, before: Option<i64>) -> Result<Vec<AdminActionRow>, AppError> {
        let caller = self.admin("admin actions").await?;
        crate::admin::admin_actions(&self.ctx, &caller, before).await.map_err(user_error("admin actions"))
    }

    async fn save_recipient(&self, password: String, recipient: Recipient) -> Result<String, AppError> {
        let caller = self.admin("save recipient").await?;
        crate::admin::save_recipient(&self.ctx, &caller, &password, recipient).await.map_err(user_error("save recipient"))
    }

    async fn remove_recipient(&self, password: String, id: String) -> Result<(), AppError> {
        let caller = self.admin("remove recipient").await?;
        crate::admin::remove_recipient(&self.ctx, &caller, &password, &id).await.map_err(user_error("remove recipient"))
    }

    async fn breaches(&self) -> Result<Vec<Breach>, AppError> {
        let caller = self.admin("breaches").await?;
        crate::admin::breaches(&self.ctx, &caller).await.map_err(user_error("breaches"))
    }

    async fn record_breach(&self, input: BreachInput) -> Result<String, AppError> {
        let caller = self.admin("record breach").await?;
        crate::admin::record_breach(&self.ctx, &caller, input).await.map_err(user_error("record breach"))
    }

    async fn mark_authority_notified(&self, password: String, id: String) -> Result<(), AppError> {
        let caller = self.admin("breach authority notified").await?;
        crate::admin::mark_authority_notified(&self.ctx, &caller, &password, &id).await.map_err(user_error("breach authority notified"))
    }

    async fn notify_people_of_breach(&self, password: String, id: String, account_ids: Option<Vec<String>>) -> Result<usize, AppError> {
        let caller = self.admin("breach notify people").await?;
        crate::admin::notify_people_of_breach(&self.ctx, &caller, &password, &id, account_ids).await.map_err(user_error("breach notify people"))
    }

    async fn admin_overview(&self) -> Result<AdminOverview, AppError> {
        let caller = self.admin("admin overview").await?;
        crate::admin::admin_overview(&self.ctx, &caller).await.map_err(user_error("admin overview"))
    }

    async fn set_retention(&self, password: String, settings: RetentionSettings) -> Result<(), AppError> {
        let caller = self.admin("set retention").await?;
        crate::admin::set_retention(&self.ctx, &caller, &password, settings).await.map_err(user_error("set retention"))
    }

    async fn messenger_app(&self) -> Result<MessengerAppView, AppError> {
        let caller = self.admin("messenger app").await?;
        crate::admin::messenger_app(&self.ctx, &caller).await.map_err(user_error("messenger app"))
    }

    async fn save_messenger_app(&self, password: String, input: MessengerAppInput) -> Result<(), AppError> {
        let caller = self.admin("save messenger app").await?;
        crate::admin::save_messenger_app(&self.ctx, &caller, &password, input).await.map_err(user_error("save messenger app"))
    }
}
