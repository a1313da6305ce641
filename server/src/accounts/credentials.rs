//! Changing the password or the address: password change and reset, email
//! change, and the admin's re-authentication.

use super::*;

/// Password change: needs the current password; every other session ends,
/// this one gets a new id, and a notice is mailed. Returns the new session.
/// Allowed while a password change is owed: that is how it gets paid.
pub async fn change_password(ctx: &Ctx, caller: &SignedIn, current_password: &str, new_password: &str) -> Result<(String, Session)> {
    let account = caller.reauthenticated_account(ctx, current_password).await?;
    let email = account.email()?;
    password_policy::check(new_password, &email, account.display_name()?.as_deref()).await?;
    set_password(ctx, &account.id, new_password).await?;
    sessions::revoke_all(ctx, &account.id, None).await?;
    cancel_email_change(ctx, &account.id).await?;
    let (token, new_session) = sessions::create(ctx, &account.id, &account.key, caller.session.persistent, &caller.request.user_agent).await?;
    mail::enqueue(ctx, templates::password_changed(&email).for_account(&account.id)).await?;
    Ok((token, new_session))
}

pub(super) async fn set_password(ctx: &Ctx, account_id: &str, new_password: &str) -> Result<()> {
    ctx.db
        .client()
        .query("UPDATE $id SET password_hash = $hash, must_change_password = false, password_changed_at = $now")
        .bind(("id", account_record(account_id)))
        .bind(("hash", password::hash(new_password).await))
        .bind(("now", ctx.now()))
        .await?
        .check()?;
    Ok(())
}

/// Always answers the same, after the same work (`requests`); the worker
/// mails a 1-hour link only if the account exists.
pub async fn request_password_reset(ctx: &Ctx, request: &RequestInfo, email: &str) -> Result<()> {
    let email = email.trim().to_string();
    validate_email(&email)?;
    limit_requests(ctx, "mail", request, &email).await?;
    enqueue(ctx, &AccountRequest::ResetPassword { email }).await
}

/// The worker's half of a reset request.
pub(super) async fn mail_reset_link(ctx: &Ctx, email: &str) -> Result<()> {
    if let Some(account) = find_by_email(ctx, email).await? {
        if !account.row.disabled {
            let token = issue_token(ctx, &account.id, "reset_password", RESET_PASSWORD_SECS).await?;
            let link = ctx.link(&format!("/reset-password?token={token}"));
            mail::enqueue(ctx, templates::password_reset_requested(&account.email()?, &link).for_account(&account.id)).await?;
        }
    }
    Ok(())
}

/// Sets a new password from a reset link, signs out every session, cancels
/// a pending email change, and counts as verifying the address.
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
    password_policy::check(new_password, &email, account.display_name()?.as_deref()).await?;
    consume_token(ctx, token, "reset_password").await?;
    set_password(ctx, &account.id, new_password).await?;
    sessions::revoke_all(ctx, &account.id, None).await?;
    cancel_email_change(ctx, &account.id).await?;
    // The link reached the address: that proves control of it, as verifying does.
    ctx.db.client().query("UPDATE $id SET email_verified = true").bind(("id", account_record(&account.id))).await?.check()?;
    mail::enqueue(ctx, templates::password_changed(&email).for_account(&account.id)).await?;
    Ok(())
}

/// Starts an email change: the new address must confirm through its link.
/// The answer, and the work before it, are the same whether or not the new
/// address already has an account (`requests`): the worker then writes the
/// pending change and mails the link, or does nothing.
pub async fn request_email_change(ctx: &Ctx, caller: &Ready, new_email: &str, password_input: &str) -> Result<()> {
    let account = caller.reauthenticated_account(ctx, password_input).await?;
    let new_email = new_email.trim().to_string();
    validate_email(&new_email)?;
    enqueue(ctx, &AccountRequest::ChangeEmail { account_id: account.id, session_id: caller.session.id.clone(), new_email }).await
}

/// The worker's half of an email change. The change is written only while
/// the session that asked for it lives: a password change, a reset or
/// "sign out everywhere" ends that session before it cancels pending
/// changes, so a request still queued then is dropped here, not revived.
pub(super) async fn start_email_change(ctx: &Ctx, account_id: &str, session_id: &str, new_email: &str) -> Result<()> {
    if find_by_email(ctx, new_email).await?.is_some() {
        return Ok(());
    }
    let Some(account) = load_account(ctx, account_id).await? else { return Ok(()) };
    let written: Vec<RecordId> = ctx
        .db
        .client()
        .query("UPDATE $id SET pending_email_enc = $pending, pending_email_index = $index WHERE record::exists($asked_from) RETURN VALUE id")
        .bind(("id", account_record(&account.id)))
        .bind(("asked_from", RecordId::new("session", session_id.to_string())))
        .bind(("pending", account.key.seal_str(Field::new("account", &account.id, "pending_email"), new_email)))
        .bind(("index", ctx.crypto.email_index(new_email)))
        .await?
        .take(0)?;
    if written.is_empty() {
        return Ok(());
    }
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
