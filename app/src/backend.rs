//! The contract between server-function bodies (here) and the server's
//! capability modules (in the `server` crate), which implement it.
//! Server functions stay thin: they pull the backend from the Leptos context
//! and delegate.

use std::sync::Arc;

use async_trait::async_trait;

use crate::error::AppError;
use crate::types::ServerStatus;

#[async_trait]
pub trait Backend: Send + Sync + 'static {
    async fn server_status(&self) -> Result<ServerStatus, AppError>;
}

pub type SharedBackend = Arc<dyn Backend>;

/// The backend the server placed into the request's context.
pub fn backend() -> Result<SharedBackend, AppError> {
    leptos::prelude::use_context::<SharedBackend>().ok_or(AppError::Internal)
}
