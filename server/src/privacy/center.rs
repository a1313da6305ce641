//! The account's privacy centre: what we hold, consents, export and
//! self-service erasure. Open while a policy change waits for a decision:
//! it helps make one.

use app::error::AppError;
use app::types::{CategoryHolding, ConsentRecord, CurrentUser, PrivacyOverview};
use surrealdb::types::{RecordId, SurrealValue};

use crate::accounts::{self, SignedIn};
use crate::context::Ctx;
use crate::crypto::Field;
use crate::db::ids::{account_record, key_string};
use crate::error::Result;

#[derive(Debug, SurrealValue)]
struct AccessRow {
    id: RecordId,
    at: i64,
    admin_role: String,
    categories: Vec<String>,
    reason_enc: String,
}

#[derive(Debug, SurrealValue)]
struct ConsentRow {
    document: String,
    version: i64,
    accepted_at: i64,
}

/// The privacy dashboard: what we hold per inventory category, and the consent ledger.
pub async fn privacy_overview(ctx: &Ctx, caller: &SignedIn) -> Result<PrivacyOverview> {
    let session = &caller.session;
    let mut holdings = Vec::new();
    for category in app::inventory::INVENTORY {
        let count = super::erasure::count_category(ctx, category.table, category.owner, &session.account_id).await?;
        holdings.push(CategoryHolding {
            key: category.key.to_string(),
            title: category.title.to_string(),
            what: category.what.to_string(),
            count,
            retention: category.retention.to_string(),
        });
    }
    let rows: Vec<ConsentRow> = ctx
        .db
        .client()
        .query("SELECT document, version, accepted_at FROM consent WHERE account = $account ORDER BY seq")
        .bind(("account", account_record(&session.account_id)))
        .await?
        .take(0)?;
    let consents = rows.into_iter().map(|r| ConsentRecord { document: r.document, version: r.version, accepted_at: r.accepted_at }).collect();
    let key = &caller.key;
    let access_rows: Vec<AccessRow> = ctx
        .db
        .client()
        .query("SELECT id, at, admin_role, categories, reason_enc FROM access_log WHERE account = $account ORDER BY at DESC")
        .bind(("account", account_record(&session.account_id)))
        .await?
        .take(0)?;
    let mut admin_access = Vec::new();
    for row in access_rows {
        let id = key_string(&row.id);
        admin_access.push(app::types::AccessRecord {
            at: row.at,
            admin_role: row.admin_role,
            categories: row.categories,
            reason: key.open_string(Field::new("access_log", &id, "reason"), &row.reason_enc)?,
        });
    }
    Ok(PrivacyOverview { holdings, consents, admin_access })
}

/// Accepts every pending policy version, appending to the consent ledger.
/// Only the versions the person was shown: if one was published while they
/// read, nothing is recorded and they are asked to read the new one.
pub async fn accept_policies(ctx: &Ctx, caller: &SignedIn, shown: &[app::types::PolicyVersion]) -> Result<CurrentUser> {
    let (session, user) = (&caller.session, &caller.user);
    let pending: Vec<app::types::PolicyVersion> =
        user.pending_policies.iter().map(|c| app::types::PolicyVersion { document: c.document.clone(), version: c.version }).collect();
    let same = shown.len() == pending.len() && pending.iter().all(|p| shown.contains(p));
    if !same {
        return Err(AppError::PolicyChangedMeanwhile.into());
    }
    for change in &user.pending_policies {
        crate::policies::ledger::append(ctx, &session.account_id, &change.document, change.version).await?;
    }
    Ok(accounts::signed_in(ctx, caller.request.clone()).await?.user)
}

/// "Download my data": needs the password again; one export per hour.
pub async fn request_export(ctx: &Ctx, caller: &SignedIn, password_input: &str) -> Result<app::types::ExportStatus> {
    let account = accounts::reauthenticate(ctx, caller, password_input).await?;
    let ready_notice_to = account.notices.export_ready.then_some(account.email);
    super::export::start(ctx, &account.id, ready_notice_to).await
}

pub async fn export_status(ctx: &Ctx, caller: &SignedIn) -> Result<Option<app::types::ExportStatus>> {
    super::export::status(ctx, caller.account_id()).await
}

/// Self-service erasure: password and the typed confirmation, then everything goes.
pub async fn delete_account(ctx: &Ctx, caller: &SignedIn, password_input: &str, confirmation: &str) -> Result<()> {
    let account = accounts::reauthenticate(ctx, caller, password_input).await?;
    if confirmation.trim() != app::types::DELETE_CONFIRMATION {
        return Err(AppError::ConfirmationMismatch.into());
    }
    super::erasure::erase(ctx, &account.id, Some(&account.email)).await?;
    Ok(())
}
