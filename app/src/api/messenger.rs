//! Messenger: Pages, leads, labels, the inbox, proofs, deletion status.

use leptos::prelude::*;
use leptos::server_fn::codec::{GetUrl, Json};

use crate::error::AppError;
use crate::types::{Conversation, ConversationList, DeletionStatus, LabelView, LeadFilter, LeadPage, LoginPage, PagesOverview, ProofCheck, ReplyOutcome};

#[cfg(feature = "ssr")]
use crate::backend::backend;

#[server(endpoint = "messenger/pages", input = GetUrl)]
pub async fn pages() -> Result<PagesOverview, AppError> {
    backend()?.pages().await
}

/// Manual connection: Facebook must confirm the token belongs to the Page.
#[server(endpoint = "messenger/connect-page", input = Json)]
pub async fn connect_page(page_id: String, access_token: String) -> Result<(), AppError> {
    backend()?.connect_page(page_id, access_token).await
}

/// Facebook Login: the dialog URL, with a `state` bound to this session.
#[server(endpoint = "messenger/facebook-login", input = Json)]
pub async fn facebook_login_start() -> Result<String, AppError> {
    backend()?.facebook_login_start().await
}

#[server(endpoint = "messenger/facebook-callback", input = Json)]
pub async fn facebook_login_finish(code: String, state: String) -> Result<Vec<LoginPage>, AppError> {
    backend()?.facebook_login_finish(code, state).await
}

#[server(endpoint = "messenger/facebook-connect", input = Json)]
pub async fn facebook_login_connect(state: String, page_ids: Vec<String>) -> Result<usize, AppError> {
    backend()?.facebook_login_connect(state, page_ids).await
}

#[server(endpoint = "messenger/disconnect-page", input = Json)]
pub async fn disconnect_page(page: String, erase: bool) -> Result<(), AppError> {
    backend()?.disconnect_page(page, erase).await
}

#[server(endpoint = "messenger/bot-disclosure", input = Json)]
pub async fn set_bot_disclosure(page: String, enabled: bool) -> Result<(), AppError> {
    backend()?.set_bot_disclosure(page, enabled).await
}

/// POST: a name search is personal data, kept out of URLs.
#[server(endpoint = "messenger/leads", input = Json)]
pub async fn leads(filter: LeadFilter) -> Result<LeadPage, AppError> {
    backend()?.leads(filter).await
}

#[server(endpoint = "messenger/delete-lead", input = Json)]
pub async fn delete_lead(lead: String) -> Result<(), AppError> {
    backend()?.delete_lead(lead).await
}

#[server(endpoint = "messenger/verify-proof", input = Json)]
pub async fn verify_proof(lead: String) -> Result<ProofCheck, AppError> {
    backend()?.verify_proof(lead).await
}

#[server(endpoint = "messenger/labels", input = GetUrl)]
pub async fn labels() -> Result<Vec<LabelView>, AppError> {
    backend()?.labels().await
}

#[server(endpoint = "messenger/create-label", input = Json)]
pub async fn create_label(name: String) -> Result<LabelView, AppError> {
    backend()?.create_label(name).await
}

#[server(endpoint = "messenger/rename-label", input = Json)]
pub async fn rename_label(label: String, name: String) -> Result<(), AppError> {
    backend()?.rename_label(label, name).await
}

#[server(endpoint = "messenger/delete-label", input = Json)]
pub async fn delete_label(label: String) -> Result<(), AppError> {
    backend()?.delete_label(label).await
}

/// Adds (`assign`) or removes a label on many leads at once.
#[server(endpoint = "messenger/assign-label", input = Json)]
pub async fn assign_label(leads: Vec<String>, label: String, assign: bool) -> Result<usize, AppError> {
    backend()?.assign_label(leads, label, assign).await
}

/// The inbox's list, the most recently active conversation first.
#[server(name = ConversationsCall, endpoint = "messenger/conversations", input = Json)]
pub async fn conversations(after: Option<String>) -> Result<ConversationList, AppError> {
    backend()?.conversations(after).await
}

#[server(name = ConversationCall, endpoint = "messenger/conversation", input = Json)]
pub async fn conversation(lead: String) -> Result<Conversation, AppError> {
    backend()?.conversation(lead).await
}

#[server(endpoint = "messenger/reply", input = Json)]
pub async fn reply(lead: String, text: String) -> Result<ReplyOutcome, AppError> {
    backend()?.reply(lead, text).await
}

/// Public: the status of a Meta data-deletion request, by its confirmation code.
#[server(name = DeletionStatusCall, endpoint = "messenger/deletion-status", input = Json)]
pub async fn deletion_status(code: String) -> Result<Option<DeletionStatus>, AppError> {
    backend()?.deletion_status(code).await
}
