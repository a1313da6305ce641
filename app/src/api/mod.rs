//! Server-function declarations. Every one has a fixed `endpoint`, so the
//! URL is the same in the WASM build and the server build. Reads may be GET;
//! everything that changes state is POST (the server rejects cross-origin POSTs).
//!
//! One name per operation: a function here, its `Backend` method and the
//! capability function behind it share a name. Where the struct the macro
//! generates would clash with a shared type, it is named `<Type>Call`.

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

#[server(name = ServerStatusCall, endpoint = "status", input = GetUrl)]
pub async fn server_status() -> Result<ServerStatus, AppError> {
    backend()?.server_status().await
}
