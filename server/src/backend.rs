//! The server's implementation of the app's `Backend` contract. Each method
//! delegates to the capability module that owns the work.

use app::backend::Backend;
use app::error::AppError;
use app::types::{DatabaseState, ServerStatus};
use async_trait::async_trait;

use crate::db::Database;

pub struct Services {
    pub db: Database,
}

#[async_trait]
impl Backend for Services {
    async fn server_status(&self) -> Result<ServerStatus, AppError> {
        let (database, schema_version) = match self.db.health().await {
            Ok(v) => (DatabaseState::Ok, v),
            Err(e) => {
                tracing::error!(error = %e, "status: database unavailable");
                (DatabaseState::Unavailable, 0)
            }
        };
        Ok(ServerStatus { version: env!("CARGO_PKG_VERSION").to_string(), database, schema_version })
    }
}
