//! Server-function declarations. Every one has a fixed `endpoint`, so the
//! URL is the same in the WASM build and the server build. Reads may be GET;
//! everything that changes state is POST (the server rejects cross-origin POSTs).

mod accounts;
mod admin;
mod broadcasts;
mod messenger;
mod privacy;

pub use accounts::*;
pub use admin::*;
pub use broadcasts::*;
pub use messenger::*;
pub use privacy::*;

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;

use crate::error::AppError;
use crate::types::ServerStatus;

#[cfg(feature = "ssr")]
use crate::backend::backend;

#[server(endpoint = "status", input = GetUrl)]
pub async fn fetch_status() -> Result<ServerStatus, AppError> {
    backend()?.server_status().await
}
