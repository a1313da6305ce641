//! Broadcasts: campaigns, and the public unsubscribe pages.

use async_trait::async_trait;

use crate::error::AppError;
use crate::types::{AudiencePreview, CampaignDetail, CampaignInput, CampaignSummary, Dashboard, ScheduleInput, UnsubscribeInfo};

#[async_trait]
pub trait BroadcastsBackend: Send + Sync {
    async fn dashboard(&self, utc_offset_minutes: i32) -> Result<Dashboard, AppError>;
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
}
