//! Broadcasts: campaigns, and the public unsubscribe pages.

use super::*;

#[async_trait]
impl BroadcastsBackend for Services {
    async fn dashboard(&self, utc_offset_minutes: i32) -> Result<Dashboard, AppError> {
        let caller = self.ready("dashboard").await?;
        crate::broadcasts::dashboard(&self.ctx, &caller, utc_offset_minutes).await.map_err(user_error("dashboard"))
    }

    async fn campaigns(&self) -> Result<Vec<CampaignSummary>, AppError> {
        let caller = self.ready("campaigns").await?;
        crate::broadcasts::campaigns(&self.ctx, &caller, crate::broadcasts::LISTED_CAMPAIGNS).await.map_err(user_error("campaigns"))
    }

    async fn save_campaign(&self, input: CampaignInput) -> Result<String, AppError> {
        let caller = self.ready("save campaign").await?;
        crate::broadcasts::save_campaign(&self.ctx, &caller, input).await.map_err(user_error("save campaign"))
    }

    async fn preview_campaign(&self, input: CampaignInput) -> Result<AudiencePreview, AppError> {
        let caller = self.ready("preview campaign").await?;
        crate::broadcasts::preview_campaign(&self.ctx, &caller, input).await.map_err(user_error("preview campaign"))
    }

    async fn campaign(&self, id: String) -> Result<CampaignDetail, AppError> {
        let caller = self.ready("campaign").await?;
        crate::broadcasts::stats::campaign(&self.ctx, &caller, &id).await.map_err(user_error("campaign"))
    }

    async fn send_campaign_now(&self, id: String) -> Result<(), AppError> {
        let caller = self.ready("send campaign").await?;
        crate::broadcasts::send_campaign_now(&self.ctx, &caller, &id).await.map_err(user_error("send campaign"))
    }

    async fn schedule_campaign(&self, id: String, schedule: ScheduleInput) -> Result<i64, AppError> {
        let caller = self.ready("schedule campaign").await?;
        crate::broadcasts::schedule_campaign(&self.ctx, &caller, &id, schedule).await.map_err(user_error("schedule campaign"))
    }

    async fn pause_campaign(&self, id: String) -> Result<(), AppError> {
        let caller = self.ready("pause campaign").await?;
        crate::broadcasts::pause_campaign(&self.ctx, &caller, &id).await.map_err(user_error("pause campaign"))
    }

    async fn resume_campaign(&self, id: String) -> Result<(), AppError> {
        let caller = self.ready("resume campaign").await?;
        crate::broadcasts::resume_campaign(&self.ctx, &caller, &id).await.map_err(user_error("resume campaign"))
    }

    async fn cancel_campaign(&self, id: String) -> Result<(), AppError> {
        let caller = self.ready("cancel campaign").await?;
        crate::broadcasts::cancel_campaign(&self.ctx, &caller, &id).await.map_err(user_error("cancel campaign"))
    }

    async fn unsubscribe_info(&self, token: String) -> Result<UnsubscribeInfo, AppError> {
        crate::broadcasts::unsubscribe::unsubscribe_info(&self.ctx, &token).await.map_err(user_error("unsubscribe info"))
    }

    async fn unsubscribe(&self, token: String) -> Result<(), AppError> {
        crate::broadcasts::unsubscribe::unsubscribe(&self.ctx, &token).await.map_err(user_error("unsubscribe"))
    }

    async fn erase_my_data(&self, token: String) -> Result<(), AppError> {
        crate::broadcasts::unsubscribe::erase_my_data(&self.ctx, &token).await.map_err(user_error("erase my data"))
    }
}
