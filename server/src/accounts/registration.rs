//! Registration with a verified address, and `server admin create`.

use super::*;
use app::types::PolicyVersion;

/// Registration. The answer is the same whether or not the address already
/// has an account, and so is the work before it (`requests`); the worker
/// then creates the account, or mails the address's owner instead.
pub async fn register(ctx: &Ctx, request: &RequestInfo, input: RegisterInput) -> Result<()> {
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
    enqueue(ctx, &AccountRequest::Register { email, display_name, password_hash, accepted: input.accepted }).await
}

/// The worker's half of a registration.
pub(super) async fn complete(ctx: &Ctx, email: &str, display_name: Option<&str>, password_hash: &str, accepted: &[PolicyVersion]) -> Result<()> {
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

pub async fn verify_email(ctx: &Ctx, token: &str) -> Result<()> {
    let id = consume_token(ctx, token, "verify_email").await?;
    ctx.db.client().query("UPDATE $id SET email_verified = true").bind(("id", account_record(&id))).await?.check()?;
    if let Some(account) = load_account(ctx, &id).await? {
        mail::enqueue(ctx, templates::email_verified(&account.email()?).for_account(&id)).await?;
    }
    Ok(())
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
