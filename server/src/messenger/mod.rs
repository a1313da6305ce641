//! Messenger: the Facebook app settings, Meta's signatures, the Graph API
//! client, connected Pages, the webhook and its ingest, leads with their
//! opt-in proof, labels, the inbox, STOP keywords and Meta's data-deletion
//! callback.

pub mod deletion;
pub mod deliveries;
pub mod graph;
pub mod inbox;
pub mod ingest;
pub mod keywords;
pub mod labels;
pub mod leads;
pub mod pages;
pub mod proof_upgrade;
pub mod proofs;
pub mod settings;
pub mod signature;
pub mod takeover;
pub mod webhook;

use std::sync::atomic::{AtomicU64, Ordering};

use app::error::AppError;

use crate::accounts::AccountError;
use crate::context::{Ctx, RequestInfo};
use crate::crypto::{CryptoError, Field, KeyStoreError, SecretKey};

#[derive(Debug, thiserror::Error)]
pub enum MessengerError {
    #[error("{0}")]
    User(AppError),
    #[error("database error: {0}")]
    Database(#[from] surrealdb::Error),
    #[error("key store error: {0}")]
    Keys(#[from] KeyStoreError),
    #[error("decryption error: {0}")]
    Crypto(#[from] CryptoError),
    #[error("app settings: {0}")]
    Settings(#[from] settings::SettingsError),
    #[error(transparent)]
    Graph(#[from] graph::GraphError),
    /// Boxed: an account error is large, and this type is returned everywhere.
    #[error(transparent)]
    Account(Box<AccountError>),
    #[error("a stored webhook delivery is not JSON: {0}")]
    StoredDelivery(String),
    #[error("a webhook delivery was not stored: {0}")]
    DeliveryNotStored(String),
    #[error("sealed content could not be read: {0}")]
    SealedContent(String),
    #[error(transparent)]
    Mail(#[from] crate::mail::MailError),
    #[error(transparent)]
    Stored(#[from] app::types::UnknownName),
}

impl From<AccountError> for MessengerError {
    fn from(e: AccountError) -> Self {
        MessengerError::Account(Box::new(e))
    }
}

impl From<AppError> for MessengerError {
    fn from(e: AppError) -> Self {
        MessengerError::User(e)
    }
}

impl MessengerError {
    /// The user's sentence; internal failures are logged for the operator.
    pub fn into_app_error(self, operation: &str) -> AppError {
        match self {
            MessengerError::User(e) => e,
            MessengerError::Account(e) => (*e).into_app_error(operation),
            MessengerError::Graph(e) => {
                tracing::warn!(operation, error = %e, "Graph API call failed");
                AppError::FacebookUnavailable
            }
            other => {
                tracing::error!(operation, error = %other, "messenger operation failed");
                AppError::Internal
            }
        }
    }
}

pub type Result<T> = std::result::Result<T, MessengerError>;

/// The signed-in account, or the reason it cannot act.
pub async fn signed_in_account(ctx: &Ctx, request: &RequestInfo) -> Result<(crate::sessions::Session, SecretKey)> {
    let (session, _) = crate::accounts::require_session(ctx, request).await?;
    let key = ctx.crypto.account_key(&session.account_id).await?;
    Ok((session, key))
}

/// A record key that sorts by creation time (seconds, then a per-process
/// counter) and stays unique across instances (random suffix).
pub fn time_key(now: i64) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed) % 0x100_0000;
    let mut suffix = [0u8; 4];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut suffix);
    format!("{now:011}{n:06x}{}", hex::encode(suffix))
}

pub fn seal(key: &SecretKey, table: &str, record: &str, field: &str, value: &str) -> String {
    key.seal_str(Field::new(table, record, field), value)
}

pub fn open(key: &SecretKey, table: &str, record: &str, field: &str, blob: &str) -> Result<String> {
    Ok(key.open_string(Field::new(table, record, field), blob)?)
}
