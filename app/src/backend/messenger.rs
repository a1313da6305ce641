//! Messenger: Pages, leads, labels, the inbox, proofs, deletion status.

use async_trait::async_trait;

use crate::error::AppError;
use crate::types::{Conversation, ConversationList, DeletionStatus, LabelView, LeadFilter, LeadPage, LoginPage, PagesOverview, ProofCheck, ReplyOutcome};

#[async_trait]
pub trait MessengerBackend: Send + Sync {
    async fn pages(&self) -> Result<PagesOverview, AppError>;
    async fn connect_page(&self, page_id: String, access_token: String) -> Result<(), AppError>;
    async fn facebook_login_start(&self) -> Result<String, AppError>;
    async fn facebook_login_finish(&self, code: String, state: String) -> Result<Vec<LoginPage>, AppError>;
    async fn facebook_login_connect(&self, state: String, page_ids: Vec<String>) -> Result<usize, AppError>;
    async fn disconnect_page(&self, page: String, erase: bool) -> Result<(), AppError>;
    async fn set_bot_disclosure(&self, page: String, enabled: bool) -> Result<(), AppError>;
    async fn leads(&self, filter: LeadFilter) -> Result<LeadPage, AppError>;
    async fn delete_lead(&self, lead: String) -> Result<(), AppError>;
    async fn verify_proof(&self, lead: String) -> Result<ProofCheck, AppError>;
    async fn labels(&self) -> Result<Vec<LabelView>, AppError>;
    async fn create_label(&self, name: String) -> Result<LabelView, AppError>;
    async fn rename_label(&self, label: String, name: String) -> Result<(), AppError>;
    async fn delete_label(&self, label: String) -> Result<(), AppError>;
    async fn assign_label(&self, leads: Vec<String>, label: String, assign: bool) -> Result<usize, AppError>;
    async fn conversations(&self, after: Option<String>) -> Result<ConversationList, AppError>;
    async fn conversation(&self, lead: String) -> Result<Conversation, AppError>;
    async fn reply(&self, lead: String, text: String) -> Result<ReplyOutcome, AppError>;
    async fn deletion_status(&self, code: String) -> Result<Option<DeletionStatus>, AppError>;
}
