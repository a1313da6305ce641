//! The privacy centre: what we hold, consents, export, erasure, recipients, retention.

use async_trait::async_trait;

use crate::error::AppError;
use crate::types::{CurrentUser, ExportStatus, PolicyChange, PolicyVersion, PrivacyOverview, Recipient, RetentionSettings};

#[async_trait]
pub trait PrivacyBackend: Send + Sync {
    async fn privacy_overview(&self) -> Result<PrivacyOverview, AppError>;
    async fn delete_account(&self, password: String, confirmation: String) -> Result<(), AppError>;
    async fn request_export(&self, password: String) -> Result<ExportStatus, AppError>;
    async fn export_status(&self) -> Result<Option<ExportStatus>, AppError>;
    async fn accept_policies(&self, shown: Vec<PolicyVersion>) -> Result<CurrentUser, AppError>;
    async fn current_policies(&self) -> Result<Vec<PolicyChange>, AppError>;
    async fn recipients(&self) -> Result<Vec<Recipient>, AppError>;
    async fn retention_settings(&self) -> Result<RetentionSettings, AppError>;
}
