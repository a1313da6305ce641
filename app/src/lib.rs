//! Shared UI, types and server-function declarations.
//!
//! Compiled twice: with `csr` into the browser bundle, and with `ssr` into the
//! server, where the server-function bodies run and call the server's
//! capability modules through the [`backend::Backend`] trait.

pub mod api;
pub mod auth;
#[cfg(feature = "ssr")]
pub mod backend;
pub mod campaign_rules;
pub mod client_storage;
pub mod error;
pub mod inventory;
pub mod live;
pub mod messaging;
pub mod pages;
pub mod template;
pub mod text;
pub mod types;

pub use pages::App;
