//! Broadcasts: campaigns, and the public unsubscribe pages.

use leptos::prelude::*;
use leptos::server_fn::codec::{GetUrl, Json};

use crate::error::AppError;
use crate::types::{AudiencePreview, CampaignDetail, CampaignInput, CampaignSummary, Dashboard, ScheduleInput, UnsubscribeInfo};

#[cfg(feature = "ssr")]
use crate::backend::backend;

/// The signed-in home: the first steps taken (connect, answer, send), and
/// the last 14 days counted from local midnight (`utc_offset_minutes` east of UTC).
#[server(name = DashboardCall, endpoint = "broadcasts/dashboard", input = GetUrl)]
pub async fn dashboard(utc_offset_minutes: i32) -> Result<Dashboard, AppError> {
    backend()?.dashboard(utc_offset_minutes).await
}

#[server(endpoint = "broadcasts/campaigns", input = GetUrl)]
pub async fn campaigns() -> Result<Vec<CampaignSummary>, AppError> {
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
pub async fn campaign(id: String) -> Result<CampaignDetail, AppError> {
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
#[server(name = UnsubscribeInfoCall, endpoint = "unsubscribe/info", input = Json)]
pub async fn unsubscribe_info(token: String) -> Result<UnsubscribeInfo, AppError> {
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
