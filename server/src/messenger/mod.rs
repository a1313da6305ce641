//! Messenger (issue 6, in progress): the app settings, Meta's signatures,
//! and the webhook endpoint.

pub mod settings;
pub mod signature;
pub mod webhook;
