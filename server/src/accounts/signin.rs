//! Sign-in, sign-out, the sign-in history and the session list.

use super::*;

/// Sign-in. Failures are generic and limited per IP and per address, with
/// password re-checks (`PasswordLimits`). Returns the new session's token and the user.
pub async fn login(ctx: &Ctx, input: LoginInput, request: &RequestInfo) -> Result<(String, Session, CurrentUser)> {
    let limits = PasswordLimits::new(ctx, request, &input.email);
    limits.check(ctx).await?;
    let account = if input.password.len() <= password_policy::MAX_BYTES { find_by_email(ctx, &input.email).await? } else { None };
    let password_ok = password::verify(&input.password, account.as_ref().map(|a| a.row.password_hash.as_str())).await;
    let Some(account) = account.filter(|_| password_ok) else {
        limits.failed(ctx).await?;
        return Err(AppError::InvalidCredentials.into());
    };
    limits.passed(ctx).await?;
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
            .bind(("hash", password::hash(&input.password).await))
            .await?
            .check()?;
    }
    // A fresh session id on every sign-in; the one the browser had is dropped.
    if let Some(old) = &request.session_token {
        sessions::revoke_token(ctx, old).await?;
    }
    let (token, session) = sessions::create(ctx, &account.id, &account.key, input.keep_signed_in, &request.user_agent).await?;
    record_signin(ctx, &account, request).await?;
    let user = account.current_user(ctx, &session).await?;
    Ok((token, session, user))
}

/// Records the sign-in, and warns the owner when it comes from a browser
/// family or IP address not seen in the kept history.
pub(super) async fn record_signin(ctx: &Ctx, account: &Account, request: &RequestInfo) -> Result<()> {
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

pub async fn logout(ctx: &Ctx, request: &RequestInfo) -> Result<()> {
    if let Some(token) = &request.session_token {
        sessions::revoke_token(ctx, token).await?;
    }
    Ok(())
}

pub async fn logout_everywhere(ctx: &Ctx, caller: &SignedIn) -> Result<()> {
    let session = &caller.session;
    sessions::revoke_all(ctx, &session.account_id, None).await?;
    cancel_email_change(ctx, &session.account_id).await?;
    Ok(())
}

#[derive(Debug, SurrealValue)]
struct SigninRow {
    id: RecordId,
    at: i64,
    ip_enc: String,
    user_agent_enc: String,
}

pub async fn security_overview(ctx: &Ctx, caller: &Ready) -> Result<SecurityOverview> {
    let (session, key) = (&caller.session, &caller.key);
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
    let sessions = sessions::list(ctx, &session.account_id, key, &session.id).await?;
    let retention_days = crate::policies::retention::retention_settings(ctx).await?.signin_history_days;
    Ok(SecurityOverview { signins, sessions, retention_days })
}

pub async fn revoke_session(ctx: &Ctx, caller: &Ready, session_id: &str) -> Result<()> {
    let session = &caller.session;
    if sessions::revoke(ctx, &session.account_id, session_id).await? {
        Ok(())
    } else {
        Err(AppError::SessionNotFound.into())
    }
}
