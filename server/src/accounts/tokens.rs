//! Single-use links (verify, reset, change email): one live token per
//! purpose and account, stored as a hash.

use super::*;

/// Statements with a WHERE on an indexed field (checked by `index_use`).
pub(crate) const DROP_TOKENS_FOR: &str = "DELETE account_token WHERE account = $account AND purpose = $purpose";
pub(crate) const CONSUME_TOKEN: &str = "DELETE account_token WHERE token_hash = $hash AND purpose = $purpose AND expires_at > $now RETURN BEFORE";

pub(super) async fn issue_token(ctx: &Ctx, account_id: &str, purpose: &str, lifetime: i64) -> Result<String> {
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
pub(super) async fn consume_token(ctx: &Ctx, token: &str, purpose: &str) -> Result<String> {
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
    deleted.first().map(key_string).ok_or(Error::User(AppError::InvalidOrExpiredLink))
}

/// Drops a pending email change and its link. Done whenever the password
/// changes or every session is ended: someone who briefly had the password
/// must not be able to move the account to their own address afterwards.
pub(super) async fn cancel_email_change(ctx: &Ctx, account_id: &str) -> Result<()> {
    ctx.db
        .client()
        .query(format!("UPDATE $account SET pending_email_enc = NONE, pending_email_index = NONE; {DROP_TOKENS_FOR}"))
        .bind(("account", account_record(account_id)))
        .bind(("purpose", "change_email"))
        .await?
        .check()?;
    Ok(())
}
