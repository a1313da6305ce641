//! The privacy centre: what we hold, consents, export, erasure, recipients, retention.

use super::*;

#[async_trait]
impl PrivacyBackend for Services {
    async fn privacy_overview(&self) -> Result<PrivacyOverview, AppError> {
        let caller = self.signed_in("privacy overview").await?;
        crate::privacy::privacy_overview(&self.ctx, &caller).await.map_err(user_error("privacy overview"))
    }

    async fn delete_account(&self, password: String, confirmation: String) -> Result<(), AppError> {
        let caller = self.signed_in("delete account").await?;
        crate::privacy::delete_account(&self.ctx, &caller, &password, &confirmation).await.map_err(user_error("delete account"))?;
        clear_browser_state();
        Ok(())
    }

    async fn request_export(&self, password: String) -> Result<ExportStatus, AppError> {
        let caller = self.signed_in("request export").await?;
        crate::privacy::request_export(&self.ctx, &caller, &password).await.map_err(user_error("request export"))
    }

    async fn export_status(&self) -> Result<Option<ExportStatus>, AppError> {
        let caller = self.signed_in("export status").await?;
        crate::privacy::export_status(&self.ctx, &caller).await.map_err(user_error("export status"))
    }

    async fn accept_policies(&self, shown: Vec<PolicyVersion>) -> Result<CurrentUser, AppError> {
        let caller = self.signed_in("accept policies").await?;
        crate::privacy::accept_policies(&self.ctx, &caller, &shown).await.map_err(user_error("accept policies"))
    }

    async fn current_policies(&self) -> Result<Vec<PolicyChange>, AppError> {
        crate::policies::current(&self.ctx).await.map_err(|e| user_error("current policies")(e.into()))
    }

    async fn recipients(&self) -> Result<Vec<Recipient>, AppError> {
        crate::admin::recipients(&self.ctx).await.map_err(user_error("recipients"))
    }

    async fn retention_settings(&self) -> Result<RetentionSettings, AppError> {
        crate::policies::retention::retention_settings(&self.ctx).await.map_err(|e| user_error("retention")(e.into()))
    }
}
