//! Types shared by the server functions and the WASM client.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DatabaseState {
    Ok,
    Unavailable,
}

/// What the home page shows about the running installation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerStatus {
    pub version: String,
    pub database: DatabaseState,
    pub schema_version: u32,
}
