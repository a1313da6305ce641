//! Account flows: registration with verified email, sign-in, password change
//! and reset, email change, sign-in history, and admin creation.
//! Every personal value goes through the crypto module.

mod caller;
mod credentials;
mod notices;
pub mod password_policy;
mod registration;
mod requests;
mod signin;
mod tokens;

pub use caller::*;
pub use credentials::*;
pub use notices::*;
pub use registration::*;
#[cfg(test)]
pub(crate) use requests::DUE_REQUESTS;
pub use requests::{complete_due, run_worker, REQUEST_LEASE_SECS};
use requests::{enqueue, AccountRequest};
pub use signin::*;
pub(crate) use tokens::*;

use app::error::AppError;
use app::types::{CurrentUser, LoginInput, NotificationSettings, RegisterInput, Role, SecurityOverview, SignInRecord};
use surrealdb::types::{RecordId, SurrealValue};

use crate::context::{attempts, Ctx, RequestInfo};
use crate::crypto::{password, random_id, random_token, token_hash, Field, SecretKey};
use crate::db::ids::{account_record, key_string};
use crate::mail::{self, templates};
use crate::sessions::{self, Session};

pub const VERIFY_EMAIL_SECS: i64 = 24 * 3600;
const RESET_PASSWORD_SECS: i64 = 3600;
const CHANGE_EMAIL_SECS: i64 = 24 * 3600;
const MAX_DISPLAY_NAME_CHARS: usize = 100;
const HISTORY_LIMIT: i64 = 200;

pub(crate) use crate::error::{Error, Result};

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
    /// Limited like sign-in, and on the same counts.
    async fn check_password(&self, ctx: &Ctx, request: &RequestInfo, input: &str) -> Result<()> {
        let limits = PasswordLimits::new(ctx, request, &self.email()?);
        limits.check(ctx).await?;
        if input.len() > password_policy::MAX_BYTES || !password::verify(input, Some(&self.row.password_hash)).await {
            limits.failed(ctx).await?;
            return Err(AppError::WrongPassword.into());
        }
        limits.passed(ctx).await?;
        Ok(())
    }

    /// The user as this session sees them.
    async fn current_user(&self, ctx: &Ctx, session: &Session) -> Result<CurrentUser> {
        Ok(CurrentUser {
            email: self.email()?,
            display_name: self.display_name()?,
            role: self.row.role.parse()?,
            must_change_password: self.row.must_change_password,
            pending_policies: crate::policies::documents::pending_for(ctx, &self.id).await?,
            storage_offer_declined: session.storage_offer_declined,
        })
    }
}

/// The attempt-limit keys of a password check (sign-in or re-check): the
/// caller's IP and the address.
struct PasswordLimits {
    ip: String,
    address: String,
}

impl PasswordLimits {
    fn new(ctx: &Ctx, request: &RequestInfo, email: &str) -> Self {
        PasswordLimits { ip: format!("password-ip:{}", request.ip), address: format!("password-address:{}", ctx.crypto.email_index(email)) }
    }

    async fn check(&self, ctx: &Ctx) -> Result<()> {
        attempts::check(ctx, &[&self.ip, &self.address]).await
    }

    async fn failed(&self, ctx: &Ctx) -> Result<()> {
        attempts::record_failure(ctx, &self.ip).await?;
        attempts::record_failure(ctx, &self.address).await
    }

    /// A success clears the address's count, not the IP's: otherwise signing
    /// in to one's own account between guesses would wipe the count of
    /// guesses at everyone else's.
    async fn passed(&self, ctx: &Ctx) -> Result<()> {
        attempts::reset(ctx, &self.address).await
    }
}

/// Limits a request that costs whatever its outcome (a registration, a mail
/// asked for): per IP (`--requests-per-ip-per-hour`) and per address, under `purpose`.
async fn limit_requests(ctx: &Ctx, purpose: &str, request: &RequestInfo, email: &str) -> Result<()> {
    let per_ip = (format!("{purpose}-ip:{}", request.ip), i64::from(ctx.settings.requests_per_ip_per_hour));
    let per_address = (format!("{purpose}-address:{}", ctx.crypto.email_index(email)), attempts::REQUESTS_PER_ADDRESS_PER_HOUR);
    for (key, limit) in [per_ip, per_address] {
        attempts::take(ctx, &key, limit).await?;
    }
    Ok(())
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

/// The signed-in account with its password checked again, for steps that
/// hand out data or cannot be undone. Allowed while a policy change waits
/// for a decision: downloading one's data or leaving helps make it.
pub struct Reauthenticated {
    pub id: String,
    pub email: String,
    pub notices: NotificationSettings,
}

pub async fn reauthenticate(ctx: &Ctx, caller: &SignedIn, password_input: &str) -> Result<Reauthenticated> {
    let account = caller.reauthenticated_account(ctx, password_input).await?;
    Ok(Reauthenticated { email: account.email()?, notices: account.notices(), id: account.id })
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
