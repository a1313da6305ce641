//! Account flows: registration with verified email, sign-in, password change
//! and reset, email change, sign-in history, and admin creation.
//! Every personal value goes through the crypto module.

pub mod password_policy;
pub mod throttle;

use app::error::AppError;
use app::types::{
    CategoryHolding, ConsentRecord, CurrentUser, LoginInput, NotificationSettings, PrivacyOverview, RegisterInput, Role, SecurityOverview, SignInRecord,
};
use surrealdb::types::{RecordId, SurrealValue};

use crate::context::{Ctx, RequestInfo};
use crate::crypto::{self, password, random_id, random_token, token_hash, Field, SecretKey};
use crate::mail::{self, templates};
use crate::sessions::{self, account_record, key_string, Session};

const VERIFY_EMAIL_SECS: i64 = 24 * 3600;
const RESET_PASSWORD_SECS: i64 = 3600;
const CHANGE_EMAIL_SECS: i64 = 24 * 3600;
const MAX_DISPLAY_NAME_CHARS: usize = 100;
const HISTORY_LIMIT: i64 = 200;

/// Errors of the account flows: either the user's mistake (shown as is) or an
/// internal failure (logged for the operator, shown as a generic sentence).
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("{0}")]
    User(AppError),
    #[error("database error: {0}")]
    Database(#[from] surrealdb::Error),
    #[error("key store error: {0}")]
    Keys(#[from] crypto::KeyStoreError),
    #[error("decryption error: {0}")]
    Crypto(#[from] crypto::CryptoError),
    #[error(transparent)]
    Session(#[from] sessions::SessionError),
    #[error(transparent)]
    Mail(#[from] mail::MailError),
    #[error(transparent)]
    Ledger(#[from] crate::privacy::ledger::LedgerError),
    #[error(transparent)]
    Erasure(#[from] crate::privacy::erasure::ErasureError),
    #[error(transparent)]
    Export(#[from] crate::privacy::export::ExportError),
    #[error(transparent)]
    Policy(#[from] crate::privacy::policies::PolicyError),
}

impl From<AppError> for AccountError {
    fn from(e: AppError) -> Self {
        AccountError::User(e)
    }
}

impl AccountError {
    /// The sentence for the user; internal failures are logged here, without personal data.
    pub fn into_app_error(self, operation: &str) -> AppError {
        match self {
            AccountError::User(e) => e,
            AccountError::Policy(crate::privacy::policies::PolicyError::UnknownDocument(_) | crate::privacy::policies::PolicyError::Empty) => {
                AppError::InvalidPolicy
            }
            AccountError::Policy(crate::privacy::policies::PolicyError::TitleNotSingleLine) => AppError::NotSingleLine { field: "The title".into() },
            AccountError::Export(crate::privacy::export::ExportError::TooSoon { retry_after_secs }) => {
                AppError::ExportTooSoon { retry_after_mins: (retry_after_secs + 59) / 60 }
            }
            other => {
                tracing::error!(operation, error = %other, "account operation failed");
                AppError::Internal
            }
        }
    }
}

type Result<T> = std::result::Result<T, AccountError>;

#[derive(Debug, SurrealValue)]
struct AccountRow {
    id: RecordId,
    email_enc: String,
    display_name_enc: Option<String>,
    password_hash: String,
    role: String,
    email_verified: bool,
    disabled: bool,
    must_change_password: bool,
    pending_email_enc: Option<String>,
    notify_new_signin: bool,
    notify_policy_updates: bool,
    notify_export_ready: bool,
}

/// An account with its data key, as the flows need it.
struct Account {
    id: String,
    key: SecretKey,
    row: AccountRow,
}

impl Account {
    fn email(&self) -> Result<String> {
        Ok(self.key.open_string(Field::new("account", &self.id, "email"), &self.row.email_enc)?)
    }

    fn display_name(&self) -> Result<Option<String>> {
        match &self.row.display_name_enc {
            Some(blob) => Ok(Some(self.key.open_string(Field::new("account", &self.id, "display_name"), blob)?)),
            None => Ok(None),
        }
    }

    /// Re-authentication: the account's current password, or WrongPassword.
    fn check_password(&self, input: &str) -> Result<()> {
        if input.len() > password_policy::MAX_BYTES || !password::verify(input, &self.row.password_hash) {
            return Err(AppError::WrongPassword.into());
        }
        Ok(())
    }

    async fn current_user(&self, ctx: &Ctx) -> Result<CurrentUser> {
        Ok(CurrentUser {
            email: self.email()?,
            display_name: self.display_name()?,
            role: if self.row.role == "admin" { Role::Admin } else { Role::User },
            must_change_password: self.row.must_change_password,
            pending_policies: crate::privacy::policies::pending_for(ctx, &self.id).await?,
        })
    }
}

/// The account's email address, for notices from other modules.
pub async fn account_email(ctx: &Ctx, id: &str) -> Result<Option<String>> {
    load_account(ctx, id).await?.map(|a| a.email()).transpose()
}

async fn load_account(ctx: &Ctx, id: &str) -> Result<Option<Account>> {
    let row: Option<AccountRow> = ctx.db.client().query("SELECT * FROM ONLY $id").bind(("id", account_record(id))).await?.take(0)?;
    match row {
        Some(row) => Ok(Some(Account { id: id.to_string(), key: ctx.crypto.account_key(id).await?, row })),
        None => Ok(None),
    }
}

async fn find_by_email(ctx: &Ctx, email: &str) -> Result<Option<Account>> {
    let id: Option<RecordId> = ctx
        .db
        .client()
        .query("SELECT VALUE id FROM ONLY account WHERE email_index = $index LIMIT 1")
        .bind(("index", ctx.crypto.email_index(email)))
        .await?
        .take(0)?;
    match id {
        Some(id) => load_account(ctx, &key_string(&id)).await,
        None => Ok(None),
    }
}

/// A plausible address: one `@`, a dotted domain, no spaces, at most 254 bytes.
pub fn validate_email(email: &str) -> std::result::Result<(), AppError> {
    let email = email.trim();
    let valid = email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control() || "<>,;\"()[]\\".contains(c))
        && match email.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !domain.contains("..")
            }
            None => false,
        };
    if valid {
        Ok(())
    } else {
        Err(AppError::InvalidEmail)
    }
}

/// Statements with a WHERE on an indexed field (checked by `index_use`).
pub(crate) const DROP_TOKENS_FOR: &str = "DELETE account_token WHERE account = $account AND purpose = $purpose";
pub(crate) const CONSUME_TOKEN: &str = "DELETE account_token WHERE token_hash = $hash AND purpose = $purpose AND expires_at > $now RETURN BEFORE";

async fn issue_token(ctx: &Ctx, account_id: &str, purpose: &str, lifetime: i64) -> Result<String> {
    // One live token per purpose: a new request replaces the old link.
    ctx.db.client().query(DROP_TOKENS_FOR).bind(("account", account_record(account_id))).bind(("purpose", purpose.to_string())).await?.check()?;
    let token = random_token();
    let now = ctx.now();
    ctx.db
        .client()
        .query("CREATE $id SET account = $account, purpose = $purpose, token_hash = $hash, expires_at = $expires, created_at = $now")
        .bind(("id", RecordId::new("account_token", random_id())))
        .bind(("account", account_record(account_id)))
        .bind(("purpose", purpose.to_string()))
        .bind(("hash", token_hash(&token)))
        .bind(("expires", now + lifetime))
        .bind(("now", now))
        .await?
        .check()?;
    Ok(token)
}

/// Consumes a single-use token: returns its account id if it was valid.
async fn consume_token(ctx: &Ctx, token: &str, purpose: &str) -> Result<String> {
    if token.is_empty() || token.len() > 100 {
        return Err(AppError::InvalidOrExpiredLink.into());
    }
    let deleted: Vec<RecordId> = ctx
        .db
        .client()
        .query(CONSUME_TOKEN)
        .bind(("hash", token_hash(token)))
        .bind(("purpose", purpose.to_string()))
        .bind(("now", ctx.now()))
        .await?
        .take((0, "account"))?;
    deleted.first().map(key_string).ok_or(AccountError::User(AppError::InvalidOrExpiredLink))
}

/// Registration. The answer is the same whether or not the email already has
/// an account; the owner of an existing address gets a mail instead.
pub async fn register(ctx: &Ctx, input: RegisterInput) -> Result<()> {
    let email = input.email.trim().to_string();
    validate_email(&email)?;
    let display_name = input.display_name.map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
    if display_name.as_ref().is_some_and(|n| n.chars().count() > MAX_DISPLAY_NAME_CHARS) {
        return Err(AppError::DisplayNameTooLong.into());
    }
    if display_name.as_ref().is_some_and(|n| !app::text::is_single_line(n)) {
        return Err(AppError::NotSingleLine { field: "The display name".into() }.into());
    }
    if !input.accept_terms {
        return Err(AppError::TermsNotAccepted.into());
    }
    password_policy::check(&input.password, &email, display_name.as_deref())?;
    // Hash before looking the address up, so both paths take the same time.
    let password_hash = password::hash(&input.password);

    if let Some(existing) = find_by_email(ctx, &email).await? {
        mail::enqueue(ctx, templates::registration_attempt(&email, &ctx.link("/login")).for_account(&existing.id)).await?;
        return Ok(());
    }
    let id = random_id();
    match create_account(ctx, &id, &email, display_name.as_deref(), &password_hash, "user", false, false).await {
        Ok(()) => {}
        // A concurrent registration of the same address won the unique index.
        Err(AccountError::Database(_)) if find_by_email(ctx, &email).await?.is_some() => return Ok(()),
        Err(e) => return Err(e),
    }
    for document in crate::privacy::DOCUMENTS {
        let version = crate::privacy::current_version(ctx, document).await?;
        crate::privacy::ledger::append(ctx, &id, document, version).await?;
    }
    let token = issue_token(ctx, &id, "verify_email", VERIFY_EMAIL_SECS).await?;
    let link = ctx.link(&format!("/verify-email?token={token}"));
    mail::enqueue(ctx, templates::account_created(&email, &link).for_account(&id)).await?;
    tracing::info!(account = %id, "account registered");
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn create_account(
    ctx: &Ctx,
    id: &str,
    email: &str,
    display_name: Option<&str>,
    password_hash: &str,
    role: &str,
    email_verified: bool,
    must_change_password: bool,
) -> Result<()> {
    let key = ctx.crypto.create_account_key(id).await?;
    let created = ctx
        .db
        .client()
        .query(
            "CREATE $id SET email_index = $index, email_enc = $email, display_name_enc = $name, password_hash = $hash, \
             role = $role, email_verified = $verified, disabled = false, must_change_password = $must_change, created_at = $now, \
             password_changed_at = $now",
        )
        .bind(("id", account_record(id)))
        .bind(("index", ctx.crypto.email_index(email)))
        .bind(("email", key.seal_str(Field::new("account", id, "email"), email)))
        .bind(("name", display_name.map(|n| key.seal_str(Field::new("account", id, "display_name"), n))))
        .bind(("hash", password_hash.to_string()))
        .bind(("role", role.to_string()))
        .bind(("verified", email_verified))
        .bind(("must_change", must_change_password))
        .bind(("now", ctx.now()))
        .await?
        .check();
    if let Err(e) = created {
        ctx.crypto.destroy_account_key(id).await?;
        return Err(e.into());
    }
    Ok(())
}

pub async fn verify_email(ctx: &Ctx, token: &str) -> Result<()> {
    let id = consume_token(ctx, token, "verify_email").await?;
    ctx.db.client().query("UPDATE $id SET email_verified = true").bind(("id", account_record(&id))).await?.check()?;
    if let Some(account) = load_account(ctx, &id).await? {
        mail::enqueue(ctx, templates::email_verified(&account.email()?).for_account(&id)).await?;
    }
    Ok(())
}

/// Sign-in. Failures are generic and rate-limited per IP and per account.
/// Returns the new session's token and the user.
pub async fn login(ctx: &Ctx, throttle: &throttle::Throttle, input: LoginInput, request: &RequestInfo) -> Result<(String, Session, CurrentUser)> {
    let now = ctx.now();
    let ip_key = format!("ip:{}", request.ip);
    let account_key = format!("account:{}", ctx.crypto.email_index(&input.email));
    for key in [&ip_key, &account_key] {
        throttle.check(key, now).map_err(|retry_after_secs| AppError::TooManyAttempts { retry_after_secs })?;
    }
    let account = if input.password.len() <= password_policy::MAX_BYTES { find_by_email(ctx, &input.email).await? } else { None };
    let stored_hash = account.as_ref().map(|a| a.row.password_hash.as_str()).unwrap_or(password::dummy_hash());
    let password_ok = password::verify(&input.password, stored_hash);
    let Some(account) = account.filter(|_| password_ok) else {
        throttle.record_failure(&ip_key, now);
        throttle.record_failure(&account_key, now);
        return Err(AppError::InvalidCredentials.into());
    };
    throttle.reset(&ip_key);
    throttle.reset(&account_key);
    if account.row.disabled {
        return Err(AppError::AccountDisabled.into());
    }
    if !account.row.email_verified {
        return Err(AppError::EmailNotVerified.into());
    }
    if password::needs_rehash(&account.row.password_hash) {
        ctx.db
            .client()
            .query("UPDATE $id SET password_hash = $hash")
            .bind(("id", account_record(&account.id)))
            .bind(("hash", password::hash(&input.password)))
            .await?
            .check()?;
    }
    // A fresh session id on every sign-in; the one the browser had is dropped.
    if let Some(old) = &request.session_token {
        sessions::revoke_token(ctx, old).await?;
    }
    let (token, session) = sessions::create(ctx, &account.id, &account.key, input.keep_signed_in, &request.user_agent).await?;
    record_signin(ctx, &account, request).await?;
    Ok((token, session, account.current_user(ctx).await?))
}

/// Records the sign-in, and warns the owner when it comes from a browser
/// family or IP address not seen in the kept history.
async fn record_signin(ctx: &Ctx, account: &Account, request: &RequestInfo) -> Result<()> {
    let id = random_id();
    let now = ctx.now();
    let browser = sessions::user_agent_family(&request.user_agent);
    let device_index = ctx.crypto.keyed_index("signin-device", &format!("{}|{browser}", account.id));
    let ip_index = ctx.crypto.keyed_index("signin-ip", &format!("{}|{}", account.id, request.ip));
    let seen: Option<i64> = ctx
        .db
        .client()
        .query("RETURN count(SELECT id FROM signin_event WHERE account = $account AND device_index = $device AND ip_index = $ip)")
        .bind(("account", account_record(&account.id)))
        .bind(("device", device_index.clone()))
        .bind(("ip", ip_index.clone()))
        .await?
        .take(0)?;
    let before: Option<i64> = ctx
        .db
        .client()
        .query("RETURN count(SELECT id FROM signin_event WHERE account = $account)")
        .bind(("account", account_record(&account.id)))
        .await?
        .take(0)?;
    if seen.unwrap_or(0) == 0 && before.unwrap_or(0) > 0 && account.row.notify_new_signin {
        let link = ctx.link("/account/security");
        mail::enqueue(ctx, templates::new_signin(&account.email()?, &browser, &request.ip.to_string(), &link).for_account(&account.id)).await?;
    }
    ctx.db
        .client()
        .query(
            "CREATE $id SET account = $account, at = $now, ip_enc = $ip, user_agent_enc = $ua, \
             device_index = $device, ip_index = $ip_index; \
             UPDATE $account SET last_signin_at = $now;",
        )
        .bind(("device", device_index))
        .bind(("ip_index", ip_index))
        .bind(("id", RecordId::new("signin_event", id.clone())))
        .bind(("account", account_record(&account.id)))
        .bind(("now", now))
        .bind(("ip", account.key.seal_str(Field::new("signin_event", &id, "ip"), &request.ip.to_string())))
        .bind(("ua", account.key.seal_str(Field::new("signin_event", &id, "user_agent"), &sessions::user_agent_family(&request.user_agent))))
        .await?
        .check()?;
    Ok(())
}

/// The signed-in account behind a request, if any.
pub async fn current(ctx: &Ctx, request: &RequestInfo) -> Result<Option<(Session, CurrentUser)>> {
    let Some(token) = &request.session_token else {
        return Ok(None);
    };
    let Some(session) = sessions::authenticate(ctx, token).await? else {
        return Ok(None);
    };
    match load_account(ctx, &session.account_id).await? {
        Some(account) if !account.row.disabled => Ok(Some((session, account.current_user(ctx).await?))),
        _ => Ok(None),
    }
}

/// The session of a request that must be signed in (and not owe a password change).
pub async fn require_session(ctx: &Ctx, request: &RequestInfo) -> Result<(Session, CurrentUser)> {
    let (session, user) = current(ctx, request).await?.ok_or(AppError::NotSignedIn)?;
    if user.must_change_password {
        return Err(AppError::PasswordChangeRequired.into());
    }
    if !user.pending_policies.is_empty() {
        return Err(AppError::PolicyAcceptanceRequired.into());
    }
    Ok((session, user))
}

pub async fn logout(ctx: &Ctx, request: &RequestInfo) -> Result<()> {
    if let Some(token) = &request.session_token {
        sessions::revoke_token(ctx, token).await?;
    }
    Ok(())
}

pub async fn logout_everywhere(ctx: &Ctx, request: &RequestInfo) -> Result<()> {
    let (session, _) = current(ctx, request).await?.ok_or(AppError::NotSignedIn)?;
    sessions::revoke_all(ctx, &session.account_id, None).await?;
    Ok(())
}

/// Password change: needs the current password; every other session ends,
/// this one gets a new id, and a notice is mailed. Returns the new session.
pub async fn change_password(ctx: &Ctx, request: &RequestInfo, current_password: &str, new_password: &str) -> Result<(String, Session)> {
    // Allowed while a password change is owed: that is how it gets paid.
    let (session, _) = current(ctx, request).await?.ok_or(AppError::NotSignedIn)?;
    let account = load_account(ctx, &session.account_id).await?.ok_or(AppError::NotSignedIn)?;
    account.check_password(current_password)?;
    let email = account.email()?;
    password_policy::check(new_password, &email, account.display_name()?.as_deref())?;
    set_password(ctx, &account.id, new_password).await?;
    sessions::revoke_all(ctx, &account.id, None).await?;
    let (token, new_session) = sessions::create(ctx, &account.id, &account.key, session.persistent, &request.user_agent).await?;
    mail::enqueue(ctx, templates::password_changed(&email).for_account(&account.id)).await?;
    Ok((token, new_session))
}

async fn set_password(ctx: &Ctx, account_id: &str, new_password: &str) -> Result<()> {
    ctx.db
        .client()
        .query("UPDATE $id SET password_hash = $hash, must_change_password = false, password_changed_at = $now")
        .bind(("id", account_record(account_id)))
        .bind(("hash", password::hash(new_password)))
        .bind(("now", ctx.now()))
        .await?
        .check()?;
    Ok(())
}

/// Always answers the same; mails a 1-hour link only if the account exists.
pub async fn request_password_reset(ctx: &Ctx, email: &str) -> Result<()> {
    validate_email(email)?;
    if let Some(account) = find_by_email(ctx, email).await? {
        if !account.row.disabled {
            let token = issue_token(ctx, &account.id, "reset_password", RESET_PASSWORD_SECS).await?;
            let link = ctx.link(&format!("/reset-password?token={token}"));
            mail::enqueue(ctx, templates::password_reset_requested(&account.email()?, &link).for_account(&account.id)).await?;
        }
    }
    Ok(())
}

/// Sets a new password from a reset link, and signs out every session.
pub async fn reset_password(ctx: &Ctx, token: &str, new_password: &str) -> Result<()> {
    let lookup: Option<RecordId> = ctx
        .db
        .client()
        .query("SELECT VALUE account FROM ONLY account_token WHERE token_hash = $hash AND purpose = 'reset_password' AND expires_at > $now LIMIT 1")
        .bind(("hash", token_hash(token)))
        .bind(("now", ctx.now()))
        .await?
        .take(0)?;
    let account_id = lookup.map(|id| key_string(&id)).ok_or(AppError::InvalidOrExpiredLink)?;
    let account = load_account(ctx, &account_id).await?.ok_or(AppError::InvalidOrExpiredLink)?;
    let email = account.email()?;
    // Check the password before spending the token, so a weak choice can be retried.
    password_policy::check(new_password, &email, account.display_name()?.as_deref())?;
    consume_token(ctx, token, "reset_password").await?;
    set_password(ctx, &account.id, new_password).await?;
    sessions::revoke_all(ctx, &account.id, None).await?;
    mail::enqueue(ctx, templates::password_changed(&email).for_account(&account.id)).await?;
    Ok(())
}

/// Starts an email change: the new address must confirm through its link.
pub async fn request_email_change(ctx: &Ctx, request: &RequestInfo, new_email: &str, password_input: &str) -> Result<()> {
    let (session, _) = require_session(ctx, request).await?;
    let account = load_account(ctx, &session.account_id).await?.ok_or(AppError::NotSignedIn)?;
    account.check_password(password_input)?;
    let new_email = new_email.trim();
    validate_email(new_email)?;
    if find_by_email(ctx, new_email).await?.is_some() {
        // Same answer as success: an address's owner is not revealed.
        return Ok(());
    }
    ctx.db
        .client()
        .query("UPDATE $id SET pending_email_enc = $pending, pending_email_index = $index")
        .bind(("id", account_record(&account.id)))
        .bind(("pending", account.key.seal_str(Field::new("account", &account.id, "pending_email"), new_email)))
        .bind(("index", ctx.crypto.email_index(new_email)))
        .await?
        .check()?;
    let token = issue_token(ctx, &account.id, "change_email", CHANGE_EMAIL_SECS).await?;
    let link = ctx.link(&format!("/confirm-email?token={token}"));
    mail::enqueue(ctx, templates::email_change_verify(new_email, &link).for_account(&account.id)).await?;
    Ok(())
}

/// Completes an email change; the old address gets a notice.
pub async fn confirm_email_change(ctx: &Ctx, token: &str) -> Result<()> {
    let account_id = consume_token(ctx, token, "change_email").await?;
    let account = load_account(ctx, &account_id).await?.ok_or(AppError::InvalidOrExpiredLink)?;
    let pending_blob = account.row.pending_email_enc.as_deref().ok_or(AppError::InvalidOrExpiredLink)?;
    let new_email = account.key.open_string(Field::new("account", &account.id, "pending_email"), pending_blob)?;
    let old_email = account.email()?;
    if find_by_email(ctx, &new_email).await?.is_some() {
        return Err(AppError::InvalidOrExpiredLink.into());
    }
    ctx.db
        .client()
        .query(
            "UPDATE $id SET email_enc = $email, email_index = $index, email_verified = true, \
             pending_email_enc = NONE, pending_email_index = NONE",
        )
        .bind(("id", account_record(&account.id)))
        .bind(("email", account.key.seal_str(Field::new("account", &account.id, "email"), &new_email)))
        .bind(("index", ctx.crypto.email_index(&new_email)))
        .await?
        .check()?;
    mail::enqueue(ctx, templates::email_changed(&old_email).for_account(&account.id)).await?;
    Ok(())
}

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
pub async fn accept_policies(ctx: &Ctx, request: &RequestInfo) -> Result<CurrentUser> {
    let (session, user) = current(ctx, request).await?.ok_or(AppError::NotSignedIn)?;
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

/// The address for an optional notice, if the account wants that kind.
pub async fn optional_notice_address(ctx: &Ctx, account_id: &str, kind: &str) -> Result<Option<String>> {
    let Some(account) = load_account(ctx, account_id).await? else {
        return Ok(None);
    };
    let wanted = match kind {
        "export_ready" => account.row.notify_export_ready,
        "policy_updated" => account.row.notify_policy_updates,
        "new_signin" => account.row.notify_new_signin,
        _ => true,
    };
    Ok(if wanted { Some(account.email()?) } else { None })
}

/// Checks the password of the signed-in admin, for destructive admin actions.
pub async fn require_admin_reauth(ctx: &Ctx, request: &RequestInfo, password_input: &str) -> Result<Session> {
    let (session, user) = match require_session(ctx, request).await {
        Ok(found) => found,
        Err(AccountError::User(AppError::NotSignedIn)) => return Err(AppError::Forbidden.into()),
        Err(e) => return Err(e),
    };
    if user.role != Role::Admin {
        return Err(AppError::Forbidden.into());
    }
    let account = load_account(ctx, &session.account_id).await?.ok_or(AppError::NotSignedIn)?;
    account.check_password(password_input)?;
    Ok(session)
}

/// Email and display name, for an audited admin view.
pub async fn email_and_name(ctx: &Ctx, account_id: &str) -> Result<Option<(String, Option<String>)>> {
    match load_account(ctx, account_id).await? {
        Some(account) => Ok(Some((account.email()?, account.display_name()?))),
        None => Ok(None),
    }
}

/// The email of an account, for notices sent by other modules.
pub async fn email_of(ctx: &Ctx, account_id: &str) -> Result<Option<String>> {
    match load_account(ctx, account_id).await? {
        Some(account) => Ok(Some(account.email()?)),
        None => Ok(None),
    }
}

/// "Download my data": needs the password again; one export per hour.
pub async fn request_export(ctx: &Ctx, request: &RequestInfo, password_input: &str) -> Result<app::types::ExportStatus> {
    let (session, _) = current(ctx, request).await?.ok_or(AppError::NotSignedIn)?;
    let account = load_account(ctx, &session.account_id).await?.ok_or(AppError::NotSignedIn)?;
    account.check_password(password_input)?;
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
    account.check_password(password_input)?;
    if confirmation.trim() != app::types::DELETE_CONFIRMATION {
        return Err(AppError::ConfirmationMismatch.into());
    }
    let email = account.email()?;
    crate::privacy::erasure::erase(ctx, &account.id, &email).await?;
    Ok(())
}

#[derive(Debug, SurrealValue)]
struct SigninRow {
    id: RecordId,
    at: i64,
    ip_enc: String,
    user_agent_enc: String,
}

pub async fn security_overview(ctx: &Ctx, request: &RequestInfo) -> Result<SecurityOverview> {
    let (session, _) = require_session(ctx, request).await?;
    let key = ctx.crypto.account_key(&session.account_id).await?;
    let rows: Vec<SigninRow> = ctx
        .db
        .client()
        .query("SELECT id, at, ip_enc, user_agent_enc FROM signin_event WHERE account = $account ORDER BY at DESC LIMIT $limit")
        .bind(("account", account_record(&session.account_id)))
        .bind(("limit", HISTORY_LIMIT))
        .await?
        .take(0)?;
    let mut signins = Vec::with_capacity(rows.len());
    for row in rows {
        let id = key_string(&row.id);
        signins.push(SignInRecord {
            at: row.at,
            ip: key.open_string(Field::new("signin_event", &id, "ip"), &row.ip_enc)?,
            user_agent: key.open_string(Field::new("signin_event", &id, "user_agent"), &row.user_agent_enc)?,
        });
    }
    let sessions = sessions::list(ctx, &session.account_id, &key, &session.id).await?;
    let retention_days = crate::privacy::retention::current(ctx).await?.signin_history_days;
    Ok(SecurityOverview { signins, sessions, retention_days })
}

pub async fn revoke_session(ctx: &Ctx, request: &RequestInfo, session_id: &str) -> Result<()> {
    let (session, _) = require_session(ctx, request).await?;
    if sessions::revoke(ctx, &session.account_id, session_id).await? {
        Ok(())
    } else {
        Err(AppError::SessionNotFound.into())
    }
}

/// `server admin create`: an admin with a one-time password, which must be
/// changed at first sign-in. Returns that password (printed once, never stored).
pub async fn create_admin(ctx: &Ctx, email: &str) -> Result<String> {
    validate_email(email)?;
    if find_by_email(ctx, email).await?.is_some() {
        return Err(AppError::InvalidEmail.into());
    }
    let one_time = format!("{}-{}", &random_token()[..16], &random_token()[..16]);
    let id = random_id();
    create_account(ctx, &id, email.trim(), None, &password::hash(&one_time), "admin", true, true).await?;
    Ok(one_time)
}

/// Deletes sign-in history past its retention, and dead sessions and
/// tokens. Returns how many of each went.
pub async fn purge_expired(ctx: &Ctx) -> Result<app::types::PurgeReport> {
    let now = ctx.now();
    let retention = crate::privacy::retention::current(ctx).await?;
    let mut response = ctx
        .db
        .client()
        .query(
            "RETURN count(SELECT id FROM signin_event WHERE at < $history_cutoff); \
             RETURN count(SELECT id FROM session WHERE expires_at <= $now OR (persistent = false AND last_used_at <= $idle_cutoff)); \
             RETURN count(SELECT id FROM account_token WHERE expires_at <= $now); \
             DELETE signin_event WHERE at < $history_cutoff; \
             DELETE session WHERE expires_at <= $now OR (persistent = false AND last_used_at <= $idle_cutoff); \
             DELETE account_token WHERE expires_at <= $now;",
        )
        .bind(("history_cutoff", now - retention.signin_history_days * 86_400))
        .bind(("now", now))
        .bind(("idle_cutoff", now - ctx.settings.session_idle_secs))
        .await?
        .check()?;
    let signins: Option<i64> = response.take(0)?;
    let sessions: Option<i64> = response.take(1)?;
    let links: Option<i64> = response.take(2)?;
    Ok(app::types::PurgeReport {
        at: now,
        signins: signins.unwrap_or(0),
        sessions: sessions.unwrap_or(0),
        links: links.unwrap_or(0),
        exports: 0,
        leads: 0,
        messages: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::validate_email;

    #[test]
    fn email_validation() {
        for good in ["ada@example.org", " ada+tag@sub.example.co.uk ", "a@b.io"] {
            assert!(validate_email(good).is_ok(), "{good}");
        }
        for bad in
            ["", "ada", "ada@", "@example.org", "ada@example", "a b@example.org", "a@b@c.org", "ada@.example.org", "ada@example..org", "<ada@example.org>"]
        {
            assert!(validate_email(bad).is_err(), "{bad}");
        }
    }
}
