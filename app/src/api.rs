//! Server-function declarations. Every one has a fixed `endpoint`, so the
//! URL is the same in the WASM build and the server build.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;

use crate::error::AppError;
use crate::types::ServerStatus;

/// Read-only, so it may be a GET.
#[server(endpoint = "status", input = GetUrl)]
pub async fn fetch_status() -> Result<ServerStatus, AppError> {
    crate::backend::backend()?.server_status().await
}
