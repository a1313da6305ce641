//! The contract between server-function bodies (here) and the server's
//! capability modules (in the `server` crate), which implement it.
//! Server functions stay thin: they pull the backend from the Leptos context
//! and delegate. Implementations read the request (cookies, client address)
//! from the Leptos context themselves.

mod accounts;
mod admin;
mod broadcasts;
mod messenger;
mod privacy;

pub use accounts::AccountsBackend;
pub use admin::AdminBackend;
pub use broadcasts::BroadcastsBackend;
pub use messenger::MessengerBackend;
pub use privacy::PrivacyBackend;

use std::sync::Arc;

use async_trait::async_trait;

use crate::error::AppError;
use crate::types::ServerStatus;

/// Everything the server implements: one trait per area, as `api/` is split.
#[async_trait]
pub trait Backend: AccountsBackend + PrivacyBackend + AdminBackend + MessengerBackend + BroadcastsBackend + 'static {
    async fn server_status(&self) -> Result<ServerStatus, AppError>;
}

pub type SharedBackend = Arc<dyn Backend>;

/// The backend the server placed into the request's context.
pub fn backend() -> Result<SharedBackend, AppError> {
    leptos::prelude::use_context::<SharedBackend>().ok_or(AppError::Internal)
}
