//! Who is calling, resolved once per request (as vaultwarden's `Headers`
//! guard does): the session is authenticated, the account loaded and its
//! data key unwrapped, once. Each level is its own type, so a capability
//! function says in its signature what it needs, and no check is skipped or
//! repeated.

use std::ops::Deref;

use super::*;

/// A signed-in account, with its data key. It may still owe a password
/// change or a policy acceptance: only the flows that settle those take it.
pub struct SignedIn {
    pub request: RequestInfo,
    pub session: Session,
    pub user: CurrentUser,
    pub key: SecretKey,
}

/// Signed in and past the gate: no password change owed, every policy
/// version accepted.
pub struct Ready(SignedIn);

/// An admin, past the gate.
pub struct Admin(SignedIn);

/// The signed-in account behind a request (disabled accounts are not).
pub async fn signed_in(ctx: &Ctx, request: RequestInfo) -> Result<SignedIn> {
    let token = request.session_token.as_deref().ok_or(AppError::NotSignedIn)?;
    let session = sessions::authenticate(ctx, token).await?.ok_or(AppError::NotSignedIn)?;
    match load_account(ctx, &session.account_id).await? {
        Some(account) if !account.row.disabled => {
            let user = account.current_user(ctx, &session).await?;
            Ok(SignedIn { request, session, user, key: account.key })
        }
        _ => Err(AppError::NotSignedIn.into()),
    }
}

/// Who the browser is signed in as, if anyone: "not signed in" is an answer here.
pub async fn current_user(ctx: &Ctx, request: RequestInfo) -> Result<Option<CurrentUser>> {
    match signed_in(ctx, request).await {
        Ok(caller) => Ok(Some(caller.user)),
        Err(Error::User(AppError::NotSignedIn)) => Ok(None),
        Err(e) => Err(e),
    }
}

impl SignedIn {
    pub fn account_id(&self) -> &str {
        &self.session.account_id
    }

    pub fn ready(self) -> Result<Ready> {
        if self.user.must_change_password {
            return Err(AppError::PasswordChangeRequired.into());
        }
        if !self.user.pending_policies.is_empty() {
            return Err(AppError::PolicyAcceptanceRequired.into());
        }
        Ok(Ready(self))
    }
}

impl SignedIn {
    /// The account, its password checked again (limited like sign-in).
    pub(super) async fn reauthenticated_account(&self, ctx: &Ctx, password_input: &str) -> Result<Account> {
        let account = load_account(ctx, self.account_id()).await?.ok_or(AppError::NotSignedIn)?;
        account.check_password(ctx, &self.request, password_input).await?;
        Ok(account)
    }
}

/// The admin behind a request; anyone else is refused (403).
pub async fn admin(ctx: &Ctx, request: RequestInfo) -> Result<Admin> {
    match signed_in(ctx, request).await {
        Err(Error::User(AppError::NotSignedIn)) => Err(AppError::Forbidden.into()),
        found => found?.ready()?.admin(),
    }
}

impl Ready {
    pub fn admin(self) -> Result<Admin> {
        match self.user.role {
            Role::Admin => Ok(Admin(self.0)),
            Role::User => Err(AppError::Forbidden.into()),
        }
    }
}

impl Admin {
    /// The admin's password, again, for destructive admin actions.
    pub async fn reauthenticate(&self, ctx: &Ctx, password_input: &str) -> Result<()> {
        self.reauthenticated_account(ctx, password_input).await.map(|_| ())
    }
}

impl Deref for Ready {
    type Target = SignedIn;
    fn deref(&self) -> &SignedIn {
        &self.0
    }
}

impl Deref for Admin {
    type Target = SignedIn;
    fn deref(&self) -> &SignedIn {
        &self.0
    }
}
