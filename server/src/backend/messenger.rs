//! Messenger: Pages, leads, labels, the inbox, proofs, deletion status.

use super::*;

#[async_trait]
impl MessengerBackend for Services {
    async fn pages(&self) -> Result<PagesOverview, AppError> {
        let caller = self.ready("pages").await?;
        crate::messenger::pages::pages(&self.ctx, &caller, self.ctx.settings.demo).await.map_err(user_error("pages"))
    }

    async fn connect_page(&self, page_id: String, access_token: String) -> Result<(), AppError> {
        let caller = self.ready("connect page").await?;
        crate::messenger::pages::connect_page(&self.ctx, &caller, &page_id, &access_token).await.map(|_| ()).map_err(user_error("connect page"))
    }

    async fn facebook_login_start(&self) -> Result<String, AppError> {
        let caller = self.ready("facebook login start").await?;
        crate::messenger::pages::facebook_login_start(&self.ctx, &caller).await.map_err(user_error("facebook login start"))
    }

    async fn facebook_login_finish(&self, code: String, state: String) -> Result<Vec<LoginPage>, AppError> {
        let caller = self.ready("facebook login finish").await?;
        crate::messenger::pages::facebook_login_finish(&self.ctx, &caller, &code, &state).await.map_err(user_error("facebook login finish"))
    }

    async fn facebook_login_connect(&self, state: String, page_ids: Vec<String>) -> Result<usize, AppError> {
        let caller = self.ready("facebook login connect").await?;
        crate::messenger::pages::facebook_login_connect(&self.ctx, &caller, &state, &page_ids).await.map_err(user_error("facebook login connect"))
    }

    async fn disconnect_page(&self, page: String, erase: bool) -> Result<(), AppError> {
        let caller = self.ready("disconnect page").await?;
        crate::messenger::pages::disconnect_page(&self.ctx, &caller, &page, erase, &crate::broadcasts::DEPENDENTS).await.map_err(user_error("disconnect page"))
    }

    async fn set_bot_disclosure(&self, page: String, enabled: bool) -> Result<(), AppError> {
        let caller = self.ready("bot disclosure").await?;
        crate::messenger::pages::set_bot_disclosure(&self.ctx, &caller, &page, enabled).await.map_err(user_error("bot disclosure"))
    }

    async fn leads(&self, filter: LeadFilter) -> Result<LeadPage, AppError> {
        let caller = self.ready("leads").await?;
        crate::messenger::leads::leads(&self.ctx, &caller, filter).await.map_err(user_error("leads"))
    }

    async fn delete_lead(&self, lead: String) -> Result<(), AppError> {
        let caller = self.ready("delete lead").await?;
        crate::messenger::leads::delete_lead(&self.ctx, &caller, &lead, &crate::broadcasts::DEPENDENTS).await.map_err(user_error("delete lead"))
    }

    async fn verify_proof(&self, lead: String) -> Result<ProofCheck, AppError> {
        let caller = self.ready("verify proof").await?;
        crate::messenger::leads::verify_proof(&self.ctx, &caller, &lead).await.map_err(user_error("verify proof"))
    }

    async fn labels(&self) -> Result<Vec<LabelView>, AppError> {
        let caller = self.ready("labels").await?;
        crate::messenger::labels::labels(&self.ctx, &caller).await.map_err(user_error("labels"))
    }

    async fn create_label(&self, name: String) -> Result<LabelView, AppError> {
        let caller = self.ready("create label").await?;
        crate::messenger::labels::create_label(&self.ctx, &caller, &name).await.map_err(user_error("create label"))
    }

    async fn rename_label(&self, label: String, name: String) -> Result<(), AppError> {
        let caller = self.ready("rename label").await?;
        crate::messenger::labels::rename_label(&self.ctx, &caller, &label, &name).await.map_err(user_error("rename label"))
    }

    async fn delete_label(&self, label: String) -> Result<(), AppError> {
        let caller = self.ready("delete label").await?;
        crate::messenger::labels::delete_label(&self.ctx, &caller, &label).await.map_err(user_error("delete label"))
    }

    async fn assign_label(&self, leads: Vec<String>, label: String, assign: bool) -> Result<usize, AppError> {
        let caller = self.ready("assign label").await?;
        crate::messenger::labels::assign_label(&self.ctx, &caller, &leads, &label, assign).await.map_err(user_error("assign label"))
    }

    async fn conversation(&self, lead: String) -> Result<Conversation, AppError> {
        let caller = self.ready("conversation").await?;
        crate::broadcasts::conversation(&self.ctx, &caller, &lead).await.map_err(user_error("conversation"))
    }

    async fn conversations(&self, after: Option<String>) -> Result<ConversationList, AppError> {
        let caller = self.ready("conversations").await?;
        crate::messenger::conversations::conversations(&self.ctx, &caller, after).await.map_err(user_error("conversations"))
    }

    async fn reply(&self, lead: String, text: String) -> Result<ReplyOutcome, AppError> {
        let caller = self.ready("reply").await?;
        crate::messenger::inbox::reply(&self.ctx, &caller, &lead, &text).await.map_err(user_error("reply"))
    }

    async fn deletion_status(&self, code: String) -> Result<Option<DeletionStatus>, AppError> {
        crate::messenger::deletion::deletion_status(&self.ctx, &code).await.map_err(user_error("deletion status"))
    }
}
