//! The account's privacy center: what we hold, consents, notices, export
//! and self-service erasure.

use super::*;

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
/// Open while a policy change waits for a decision: it helps make one.
pub async fn privacy_overview(ctx: &Ctx, request: &RequestInfo) -> Result<PrivacyOverview> {
    let (session, _) = current(ctx, request).await?.ok_or(AppError::NotSignedIn)?;
    let mut holdings = Vec::new();
    for category in app::inventory::INVENTORY {
        let count = crate::privacy::erasure::count_category(ctx, category.table, category.owner, &session.account_id).await?;
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
    let key = ctx.crypto.account_key(&session.account_id).await?;
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
pub async fn accept_policies(ctx: &Ctx, request: &RequestInfo, shown: &[app::types::PolicyVersion]) -> Result<CurrentUser> {
    let (session, user) = current(ctx, request).await?.ok_or(AppError::NotSignedIn)?;
    let pending: Vec<app::types::PolicyVersion> =
        user.pending_policies.iter().map(|c| app::types::PolicyVersion { document: c.document.clone(), version: c.version }).collect();
    let same = shown.len() == pending.len() && pending.iter().all(|p| shown.contains(p));
    if !same {
        return Err(AppError::PolicyChangedMeanwhile.into());
    }
    for change in &user.pending_policies {
        crate::privacy::ledger::append(ctx, &session.account_id, &change.document, change.version).await?;
    }
    let account = load_account(ctx, &session.account_id).await?.ok_or(AppError::NotSignedIn)?;
    account.current_user(ctx).await
}

pub async fn notification_settings(ctx: &Ctx, request: &RequestInfo) -> Result<NotificationSettings> {
    let (session, _) = require_session(ctx, request).await?;
    let account = load_account(ctx, &session.account_id).await?.ok_or(AppError::NotSignedIn)?;
    Ok(NotificationSettings {
        new_signin: account.row.notify_new_signin,
        policy_updates: account.row.notify_policy_updates,
        export_ready: account.row.notify_export_ready,
    })
}

pub async fn set_notification_settings(ctx: &Ctx, request: &RequestInfo, settings: NotificationSettings) -> Result<()> {
    let (session, _) = require_session(ctx, request).await?;
    ctx.db
        .client()
        .query("UPDATE $id SET notify_new_signin = $a, notify_policy_updates = $b, notify_export_ready = $c")
        .bind(("id", account_record(&session.account_id)))
        .bind(("a", settings.new_signin))
        .bind(("b", settings.policy_updates))
        .bind(("c", settings.export_ready))
        .await?
        .check()?;
    Ok(())
}

/// "Download my data": needs the password again; one export per hour.
pub async fn request_export(ctx: &Ctx, request: &RequestInfo, password_input: &str) -> Result<app::types::ExportStatus> {
    let (session, _) = current(ctx, request).await?.ok_or(AppError::NotSignedIn)?;
    let account = load_account(ctx, &session.account_id).await?.ok_or(AppError::NotSignedIn)?;
    account.check_password(ctx, request, password_input).await?;
    Ok(crate::privacy::export::start(ctx, &account.id).await?)
}

pub async fn export_status(ctx: &Ctx, request: &RequestInfo) -> Result<Option<app::types::ExportStatus>> {
    let (session, _) = current(ctx, request).await?.ok_or(AppError::NotSignedIn)?;
    Ok(crate::privacy::export::status(ctx, &session.account_id).await?)
}

/// Self-service erasure: password and the typed confirmation, then everything goes.
pub async fn delete_account(ctx: &Ctx, request: &RequestInfo, password_input: &str, confirmation: &str) -> Result<()> {
    let (session, _) = current(ctx, request).await?.ok_or(AppError::NotSignedIn)?;
    let account = load_account(ctx, &session.account_id).await?.ok_or(AppError::NotSignedIn)?;
    account.check_password(ctx, request, password_input).await?;
    if confirmation.trim() != app::types::DELETE_CONFIRMATION {
        return Err(AppError::ConfirmationMismatch.into());
    }
    let email = account.email()?;
    crate::privacy::erasure::erase(ctx, &account.id, Some(&email)).await?;
    Ok(())
}
