//! Registration with a verified address, and `server admin create`.

use super::*;
use app::types::PolicyVersion;

/// Registration. The answer is the same whether or not the address already
/// has an account, and so is the work before it (`requests`); the worker
/// then creates the account, or mails the address's owner instead. Returns
/// the sign-up nonce for the registering browser's cookie.
pub async fn register(ctx: &Ctx, request: &RequestInfo, input: RegisterInput) -> Result<String> {
    let email = input.email.trim().to_string();
    validate_email(&email)?;
    let display_name = input.display_name.map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
    if display_name.as_ref().is_some_and(|n| n.chars().count() > MAX_DISPLAY_NAME_CHARS) {
        return Err(AppError::DisplayNameTooLong.into());
    }
    if display_name.as_ref().is_some_and(|n| !app::text::is_single_line(n)) {
        return Err(AppError::NotSingleLine { field: "The display name".into() }.into());
    }
    if input.accepted.is_empty() {
        return Err(AppError::TermsNotAccepted.into());
    }
    // The consent names the versions the form showed; one published since
    // must be read first.
    if !crate::policies::are_current(ctx, &input.accepted).await? {
        return Err(AppError::PolicyChangedMeanwhile.into());
    }
    password_policy::check(&input.password, &email, display_name.as_deref()).await?;
    limit_requests(ctx, "register", request, &email).await?;
    let password_hash = password::hash(&input.password).await;
    let nonce = random_token();
    let signup_nonce_hash = Some(token_hash(&nonce));
    enqueue(ctx, &AccountRequest::Register { email, display_name, password_hash, accepted: input.accepted, signup_nonce_hash }).await?;
    Ok(nonce)
}

/// Who registers, as the worker receives it.
pub(super) struct NewAccount<'a> {
    pub email: &'a str,
    pub display_name: Option<&'a str>,
    pub password_hash: &'a str,
}

/// The worker's half of a registration.
pub(super) async fn complete(ctx: &Ctx, new: &NewAccount<'_>, accepted: &[PolicyVersion], signup_nonce_hash: Option<&str>) -> Result<()> {
    let NewAccount { email, display_name, password_hash } = *new;
    if let Some(existing) = find_by_email(ctx, email).await? {
        mail::enqueue(ctx, templates::registration_attempt(email, &ctx.link("/login")).for_account(&existing.id)).await?;
        return Ok(());
    }
    let id = random_id();
    match create_account(ctx, &id, email, display_name, password_hash, "user", false, false).await {
        Ok(()) => {}
        // A concurrent registration of the same address won the unique index.
        Err(Error::Database(_)) if find_by_email(ctx, email).await?.is_some() => return Ok(()),
        Err(e) => return Err(e),
    }
    // Best effort: without it, the link only verifies (and the retry of a
    // failed request would find the account and mail "already registered").
    let kept = ctx
        .db
        .client()
        .query("UPDATE $id SET signup_nonce_hash = $hash")
        .bind(("id", account_record(&id)))
        .bind(("hash", signup_nonce_hash.map(str::to_string)))
        .await
        .and_then(|r| r.check());
    if let Err(e) = kept {
        tracing::warn!(account = %id, error = %e, "the sign-up cookie's hash was not kept: its link will only verify");
    }
    // Versions published after the form was shown stay pending, and are
    // asked for at the first sign-in.
    for document in crate::policies::DOCUMENTS {
        let version = match accepted.iter().find(|v| v.document == document) {
            Some(shown) => shown.version,
            None => crate::policies::current_version(ctx, document).await?,
        };
        crate::policies::ledger::append(ctx, &id, document, version).await?;
    }
    let token = issue_token(ctx, &id, "verify_email", VERIFY_EMAIL_SECS).await?;
    let link = ctx.link(&format!("/verify-email?token={token}"));
    mail::enqueue(ctx, templates::account_created(email, &link).for_account(&id)).await?;
    tracing::info!(account = %id, "account registered");
    Ok(())
}

/// "Send the verification mail again": answered alike for every address,
/// limited like the other mails one can ask for.
pub async fn resend_verification(ctx: &Ctx, request: &RequestInfo, email: &str) -> Result<()> {
    let email = email.trim().to_string();
    validate_email(&email)?;
    limit_requests(ctx, "mail", request, &email).await?;
    enqueue(ctx, &AccountRequest::ResendVerification { email }).await
}

/// The worker's half: a new link, only to an unverified, enabled account.
pub(super) async fn mail_verification_again(ctx: &Ctx, email: &str) -> Result<()> {
    let Some(account) = find_by_email(ctx, email).await? else { return Ok(()) };
    if account.row.email_verified || account.row.disabled {
        return Ok(());
    }
    let token = issue_token(ctx, &account.id, "verify_email", VERIFY_EMAIL_SECS).await?;
    let link = ctx.link(&format!("/verify-email?token={token}"));
    mail::enqueue(ctx, templates::account_created(&account.email()?, &link).for_account(&account.id)).await?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn create_account(
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

/// Verifies the address. The browser that registered it, and no other, is
/// signed in too, for its browser session only: the link proves control of
/// the address, the sign-up cookie (whose hash the account keeps until now)
/// that this browser chose the password. A copied or forwarded link, or one
/// opened elsewhere, only verifies; so does a disabled account's.
pub async fn verify_email(ctx: &Ctx, token: &str, signup_nonce: Option<&str>, request: &RequestInfo) -> Result<Option<(String, Session, CurrentUser)>> {
    let id = consume_token(ctx, token, "verify_email").await?;
    let kept: Option<String> = ctx
        .db
        .client()
        .query("SELECT VALUE signup_nonce_hash FROM ONLY $id; UPDATE $id SET email_verified = true, signup_nonce_hash = NONE;")
        .bind(("id", account_record(&id)))
        .await?
        .check()?
        .take(0)?;
    let Some(account) = load_account(ctx, &id).await? else { return Ok(None) };
    mail::enqueue(ctx, templates::email_verified(&account.email()?).for_account(&id)).await?;
    let same_browser = matches!((signup_nonce, kept), (Some(nonce), Some(hash)) if token_hash(nonce) == hash);
    if !same_browser || account.row.disabled {
        return Ok(None);
    }
    // The address is verified whatever happens now: a failure to sign in
    // leaves the person to sign in themselves, not an error.
    match sign_in_after_verification(ctx, &account, request).await {
        Ok(signed_in) => Ok(Some(signed_in)),
        Err(e) => {
            tracing::warn!(account = %id, error = %e, "verified, but the registering browser could not be signed in");
            Ok(None)
        }
    }
}

async fn sign_in_after_verification(ctx: &Ctx, account: &Account, request: &RequestInfo) -> Result<(String, Session, CurrentUser)> {
    if let Some(old) = &request.session_token {
        sessions::revoke_token(ctx, old).await?;
    }
    let (token, session) = sessions::create(ctx, &account.id, &account.key, false, &request.user_agent).await?;
    super::signin::record_signin(ctx, account, request).await?;
    let user = account.current_user(ctx, &session).await?;
    tracing::info!(account = %account.id, "verified and signed in by the registering browser");
    Ok((token, session, user))
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
    create_account(ctx, &id, email.trim(), None, &password::hash(&one_time).await, "admin", true, true).await?;
    Ok(one_time)
}
