//! Admin actions. Every one checks the role on the server (403 and no data
//! otherwise), destructive ones ask for the admin's password again, and each
//! is written to the append-only admin action log. Opening a user's personal
//! data needs a stated reason and is recorded where the user can see it.

use app::error::AppError;
use app::types::{AccountStatus, AdminActionRow, AdminUserPage, AdminUserRow, PersonalDataView, Role, SignInRecord};
use surrealdb::types::{RecordId, SurrealValue};

mod register;

pub use register::{
    breaches, mark_authority_notified, notify_people_of_breach, parse_local_time, recipients, record_breach, remove_recipient, save_recipient,
    BREACH_DEADLINE_SECS,
};

use crate::accounts::{self, Admin};
use crate::context::Ctx;
use crate::crypto::{random_id, Field};
use crate::db::ids::{account_record, key_string};
use crate::error::{Error, Result};
use crate::sessions;

const PAGE: i64 = 50;
const MAX_REASON_CHARS: usize = 500;

fn reason(text: &str) -> Result<&str> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > MAX_REASON_CHARS {
        return Err(AppError::ReasonRequired.into());
    }
    app::text::require_single_line([("The reason", text)])?;
    Ok(text)
}

/// Appends to the admin action log; the reason is sealed under the system key.
async fn log_action(ctx: &Ctx, admin: &Admin, action: &str, target: Option<&str>, reason: Option<&str>) -> Result<()> {
    let id = random_id();
    let sealed = reason.map(|r| ctx.crypto.system_key().seal_str(Field::new("admin_action", &id, "reason"), r));
    ctx.db
        .client()
        .query("CREATE $id SET at = $now, admin_id = $admin, action = $action, target_id = $target, reason_enc = $reason")
        .bind(("id", RecordId::new("admin_action", id.clone())))
        .bind(("now", ctx.now()))
        .bind(("admin", admin.account_id().to_string()))
        .bind(("action", action.to_string()))
        .bind(("target", target.map(str::to_string)))
        .bind(("reason", sealed))
        .await?
        .check()?;
    Ok(())
}

#[derive(Debug, SurrealValue)]
struct UserRow {
    id: RecordId,
    role: String,
    email_verified: bool,
    disabled: bool,
    created_at: i64,
    last_signin_at: Option<i64>,
}

fn to_row(u: UserRow) -> Result<AdminUserRow> {
    Ok(AdminUserRow {
        id: key_string(&u.id),
        status: if u.disabled {
            AccountStatus::Disabled
        } else if u.email_verified {
            AccountStatus::Active
        } else {
            AccountStatus::Unverified
        },
        role: u.role.parse()?,
        created_at: u.created_at,
        last_signin_at: u.last_signin_at,
    })
}

/// Newest first, 50 a page (keyset on the creation time index), or the one
/// account whose email matches exactly (through the blind index).
pub async fn list_users(ctx: &Ctx, admin: &Admin, email: Option<String>, before: Option<i64>) -> Result<AdminUserPage> {
    const FIELDS: &str = "id, role, email_verified, disabled, created_at, last_signin_at";
    if let Some(email) = email.map(|e| e.trim().to_string()).filter(|e| !e.is_empty()) {
        let rows: Vec<UserRow> = ctx
            .db
            .client()
            .query(format!("SELECT {FIELDS} FROM account WHERE email_index = $index"))
            .bind(("index", ctx.crypto.email_index(&email)))
            .await?
            .take(0)?;
        log_action(ctx, admin, "search_user_by_email", rows.first().map(|r| key_string(&r.id)).as_deref(), None).await?;
        return Ok(AdminUserPage { users: rows.into_iter().map(to_row).collect::<Result<_>>()?, next_before: None });
    }
    let rows: Vec<UserRow> = ctx
        .db
        .client()
        .query(format!("SELECT {FIELDS} FROM account WHERE created_at < $before ORDER BY created_at DESC LIMIT $limit"))
        .bind(("before", before.unwrap_or(i64::MAX)))
        .bind(("limit", PAGE))
        .await?
        .take(0)?;
    let next_before = (rows.len() as i64 == PAGE).then(|| rows.last().map(|r| r.created_at)).flatten();
    Ok(AdminUserPage { users: rows.into_iter().map(to_row).collect::<Result<_>>()?, next_before })
}

async fn exists(ctx: &Ctx, account_id: &str) -> Result<()> {
    let found: Option<RecordId> = ctx.db.client().query("SELECT VALUE id FROM ONLY $id").bind(("id", account_record(account_id))).await?.take(0)?;
    found.map(|_| ()).ok_or(Error::User(AppError::AccountNotFound))
}

/// Disabling ends every session of the account at once, stops its sends
/// and campaigns, and its Pages' webhook events are no longer applied
/// (`messenger::ingest`).
pub async fn set_disabled(ctx: &Ctx, admin: &Admin, account_id: &str, disabled: bool) -> Result<()> {
    exists(ctx, account_id).await?;
    if disabled && account_id == admin.account_id() {
        return Err(AppError::LastAdmin.into());
    }
    // A worker or the account's own request may write the row meanwhile: the click must not fail for that.
    crate::db::retry_on_conflict("account disabled flag", || async {
        ctx.db.client().query("UPDATE $id SET disabled = $disabled").bind(("id", account_record(account_id))).bind(("disabled", disabled)).await?.check()
    })
    .await?;
    if disabled {
        sessions::revoke_all(ctx, account_id, None).await?;
        crate::broadcasts::gate::stop_account(ctx, account_id).await.map_err(|e| Error::internal("the account's sends could not be stopped", e.to_string()))?;
    } else {
        crate::broadcasts::gate::allow_account(ctx, account_id).await;
    }
    log_action(ctx, admin, if disabled { "disable_user" } else { "enable_user" }, Some(account_id), None).await
}

pub async fn set_role(ctx: &Ctx, admin: &Admin, password: &str, account_id: &str, role: Role) -> Result<()> {
    admin.reauthenticate(ctx, password).await?;
    exists(ctx, account_id).await?;
    if role == Role::User {
        let admins: Option<i64> = ctx
            .db
            .client()
            .query("RETURN count(SELECT id FROM account WHERE role = 'admin' AND id != $id AND disabled = false)")
            .bind(("id", account_record(account_id)))
            .await?
            .take(0)?;
        if admins.unwrap_or(0) == 0 {
            return Err(AppError::LastAdmin.into());
        }
    }
    let name = role.as_str();
    ctx.db.client().query("UPDATE $id SET role = $role").bind(("id", account_record(account_id))).bind(("role", name.to_string())).await?.check()?;
    log_action(ctx, admin, &format!("set_role_{name}"), Some(account_id), None).await
}

/// The same complete erasure as self-deletion; the user gets the mail.
pub async fn delete_user(ctx: &Ctx, admin: &Admin, password: &str, account_id: &str, why: &str) -> Result<()> {
    admin.reauthenticate(ctx, password).await?;
    let why = reason(why)?;
    if account_id == admin.account_id() {
        return Err(AppError::LastAdmin.into());
    }
    let email = accounts::email_of(ctx, account_id).await?.ok_or(AppError::AccountNotFound)?;
    crate::privacy::erasure::erase(ctx, account_id, Some(&email)).await?;
    log_action(ctx, admin, "delete_user", Some(account_id), Some(why)).await
}

#[derive(Debug, SurrealValue)]
struct SigninRow {
    id: RecordId,
    at: i64,
    ip_enc: String,
    user_agent_enc: String,
}

/// Opens a user's personal data for a stated reason. The access is written
/// to the user's own access log (which they see) and to the admin log.
pub async fn view_personal_data(ctx: &Ctx, admin: &Admin, account_id: &str, why: &str) -> Result<PersonalDataView> {
    let why = reason(why)?;
    exists(ctx, account_id).await?;
    let key = ctx.crypto.account_key(account_id).await?;
    let categories = vec!["profile".to_string(), "signin_history".to_string()];
    let log_id = random_id();
    ctx.db
        .client()
        .query("CREATE $id SET account = $account, at = $now, admin_role = 'admin', categories = $categories, reason_enc = $reason")
        .bind(("id", RecordId::new("access_log", log_id.clone())))
        .bind(("account", account_record(account_id)))
        .bind(("now", ctx.now()))
        .bind(("categories", categories))
        .bind(("reason", key.seal_str(Field::new("access_log", &log_id, "reason"), why)))
        .await?
        .check()?;
    log_action(ctx, admin, "view_personal_data", Some(account_id), Some(why)).await?;

    let (email, display_name) = accounts::email_and_name(ctx, account_id).await?.ok_or(AppError::AccountNotFound)?;
    let rows: Vec<SigninRow> = ctx
        .db
        .client()
        .query("SELECT id, at, ip_enc, user_agent_enc FROM signin_event WHERE account = $account ORDER BY at DESC LIMIT 50")
        .bind(("account", account_record(account_id)))
        .await?
        .take(0)?;
    let mut signins = Vec::new();
    for row in rows {
        let id = key_string(&row.id);
        signins.push(SignInRecord {
            at: row.at,
            ip: key.open_string(Field::new("signin_event", &id, "ip"), &row.ip_enc)?,
            user_agent: key.open_string(Field::new("signin_event", &id, "user_agent"), &row.user_agent_enc)?,
        });
    }
    Ok(PersonalDataView { email, display_name, signins })
}

#[derive(Debug, SurrealValue)]
struct ActionRow {
    id: RecordId,
    at: i64,
    admin_id: String,
    action: String,
    target_id: Option<String>,
    reason_enc: Option<String>,
}

/// The admin action log, newest first.
pub async fn admin_actions(ctx: &Ctx, _: &Admin, before: Option<i64>) -> Result<Vec<AdminActionRow>> {
    let rows: Vec<ActionRow> = ctx
        .db
        .client()
        .query("SELECT * FROM admin_action WHERE at <= $before ORDER BY at DESC LIMIT 100")
        .bind(("before", before.unwrap_or(i64::MAX)))
        .await?
        .take(0)?;
    let key = ctx.crypto.system_key();
    rows.into_iter()
        .map(|r| {
            let id = key_string(&r.id);
            let reason = match &r.reason_enc {
                Some(blob) => Some(key.open_string(Field::new("admin_action", &id, "reason"), blob)?),
                None => None,
            };
            Ok(AdminActionRow { at: r.at, admin_id: r.admin_id, action: r.action, target_id: r.target_id, reason })
        })
        .collect()
}

/// Publishes a new policy version: every user is mailed and must re-accept.
pub async fn publish_policy(ctx: &Ctx, admin: &Admin, password: &str, document: &str, title: &str, body: &str, summary: &str) -> Result<i64> {
    admin.reauthenticate(ctx, password).await?;
    let (version, mailed) = crate::policies::documents::publish(ctx, document, title, body, summary).await?;
    log_action(ctx, admin, &format!("publish_policy_{document}_v{version}"), None, None).await?;
    tracing::info!(document, version, mailed, "admin published a policy");
    Ok(version)
}

/// The panel's front page: credential age, policy acceptance, retention, last purge.
pub async fn admin_overview(ctx: &Ctx, admin: &Admin) -> Result<app::types::AdminOverview> {
    let row: Option<serde_json::Value> =
        ctx.db.client().query("SELECT password_changed_at, created_at FROM ONLY $id").bind(("id", account_record(admin.account_id()))).await?.take(0)?;
    let changed = row.as_ref().and_then(|r| r["password_changed_at"].as_i64().or_else(|| r["created_at"].as_i64()));
    let password_age_days = (ctx.now() - changed.unwrap_or_else(|| ctx.now())) / 86_400;
    let mut acceptance = Vec::new();
    for document in crate::policies::DOCUMENTS {
        let versions: Vec<i64> = ctx
            .db
            .client()
            .query("SELECT VALUE version FROM policy WHERE document = $document ORDER BY version")
            .bind(("document", document.to_string()))
            .await?
            .take(0)?;
        // Each account counts once, under the latest version it accepted.
        let grouped: Vec<serde_json::Value> = ctx
            .db
            .client()
            .query("SELECT account, math::max(version) AS latest FROM consent WHERE document = $document GROUP BY account")
            .bind(("document", document.to_string()))
            .await?
            .take(0)?;
        let latest: Vec<i64> = grouped.iter().filter_map(|row| row["latest"].as_i64()).collect();
        for version in versions {
            let accounts = latest.iter().filter(|v| **v == version).count() as i64;
            acceptance.push(app::types::AcceptanceCount { document: document.to_string(), version, accounts });
        }
    }
    Ok(app::types::AdminOverview {
        password_age_days,
        acceptance,
        retention: crate::policies::retention::retention_settings(ctx).await?,
        last_purge: crate::policies::retention::last_purge(ctx).await?,
        dropped_webhook_events: crate::messenger::webhook::DROPPED_EVENTS.load(std::sync::atomic::Ordering::Relaxed),
    })
}

pub async fn set_retention(ctx: &Ctx, admin: &Admin, password: &str, settings: app::types::RetentionSettings) -> Result<()> {
    admin.reauthenticate(ctx, password).await?;
    if !crate::policies::retention::valid(&settings) {
        return Err(AppError::InvalidRetention.into());
    }
    crate::policies::retention::save(ctx, &settings).await?;
    log_action(ctx, admin, "set_retention", None, None).await
}

/// The Facebook app settings, secrets left out.
pub async fn messenger_app(ctx: &Ctx, _: &Admin) -> Result<app::types::MessengerAppView> {
    let stored = crate::messenger::settings::load(ctx).await?;
    let callback_url = ctx.link("/webhooks/messenger");
    Ok(match stored {
        Some(s) => {
            app::types::MessengerAppView { configured: true, app_id: s.app_id, graph_base_url: s.graph_base_url, graph_version: s.graph_version, callback_url }
        }
        None => app::types::MessengerAppView {
            configured: false,
            app_id: String::new(),
            graph_base_url: "https://graph.facebook.com".into(),
            graph_version: "v21.0".into(),
            callback_url,
        },
    })
}

pub async fn save_messenger_app(ctx: &Ctx, admin: &Admin, password: &str, input: app::types::MessengerAppInput) -> Result<()> {
    admin.reauthenticate(ctx, password).await?;
    let existing = crate::messenger::settings::load(ctx).await?;
    let keep = |new: &str, old: Option<&zeroize::Zeroizing<String>>| {
        if new.is_empty() {
            old.map(|o| o.to_string())
        } else {
            Some(new.to_string())
        }
    };
    let secret = keep(&input.app_secret, existing.as_ref().map(|e| &e.app_secret));
    let token = keep(&input.verify_token, existing.as_ref().map(|e| &e.verify_token));
    let base = input.graph_base_url.trim();
    let (Some(secret), Some(token)) = (secret, token) else { return Err(AppError::IncompleteForm.into()) };
    if input.app_id.trim().is_empty() || input.graph_version.trim().is_empty() {
        return Err(AppError::IncompleteForm.into());
    }
    if !crate::messenger::settings::graph_base_url_allowed(base) {
        return Err(AppError::InvalidGraphBaseUrl.into());
    }
    if ![input.app_id.trim(), input.graph_version.trim(), secret.as_str(), token.as_str()].iter().all(|f| app::text::is_single_line(f)) {
        return Err(AppError::NotSingleLine { field: "Each Facebook app setting".into() }.into());
    }
    let settings = crate::messenger::settings::AppSettings {
        app_id: input.app_id.trim().to_string(),
        app_secret: zeroize::Zeroizing::new(secret),
        verify_token: zeroize::Zeroizing::new(token),
        graph_base_url: base.trim_end_matches('/').to_string(),
        graph_version: input.graph_version.trim().to_string(),
    };
    crate::messenger::settings::save(ctx, &settings).await?;
    log_action(ctx, admin, "save_messenger_app", None, None).await
}
