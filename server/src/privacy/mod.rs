//! The privacy center: policies and re-acceptance, the hash-chained consent
//! ledger, export and erasure driven by the data inventory.

pub mod erasure;
pub mod export;
pub mod ledger;
pub mod policies;
pub mod retention;
mod sealed_file;
mod zip_stream;

pub use policies::{current_version, ensure_initial_policies, DOCUMENTS};
