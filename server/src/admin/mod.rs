//! Admin actions. Each checks the role on the server, and destructive ones
//! ask for the admin's password again.

use crate::accounts::{self, AccountError};
use crate::context::{Ctx, RequestInfo};

/// Publishes a new policy version: every user is mailed and must re-accept.
pub async fn publish_policy(
    ctx: &Ctx,
    request: &RequestInfo,
    password: &str,
    document: &str,
    title: &str,
    body: &str,
    summary: &str,
) -> Result<i64, AccountError> {
    let session = accounts::require_admin_reauth(ctx, request, password).await?;
    let (version, mailed) = crate::privacy::policies::publish(ctx, document, title, body, summary).await?;
    tracing::info!(admin_session = %session.id, document, version, mailed, "admin published a policy");
    Ok(version)
}
