//! Sessions: 256-bit random tokens in a `__Host-` cookie; the database keeps
//! only their SHA-256. Without "keep me signed in" a session ends after 30
//! idle minutes or 8 hours; with it, after 30 days.

use app::types::ActiveSession;
use http::HeaderMap;
use surrealdb::types::{RecordId, SurrealValue};

use crate::context::Ctx;
use crate::crypto::{random_id, random_token, token_hash, Field, SecretKey};
use crate::db::ids::{account_record, key_string};
use crate::error::Result;

pub const COOKIE_NAME: &str = "__Host-chatfbtop_session";
/// Last-use is written at most this often, so reads do not all become writes.
const TOUCH_EVERY_SECS: i64 = 60;

#[derive(Clone, Debug)]
pub struct Session {
    pub id: String,
    pub account_id: String,
    pub persistent: bool,
    /// The person said "No thanks" to browser storage in this session.
    pub storage_offer_declined: bool,
}

#[derive(Debug, SurrealValue)]
struct SessionRow {
    id: RecordId,
    account: RecordId,
    persistent: bool,
    created_at: i64,
    last_used_at: i64,
    expires_at: i64,
    user_agent_enc: String,
    storage_offer_declined: Option<bool>,
}

impl SessionRow {
    /// Neither past its absolute end nor idle too long (unless kept).
    fn open_at(&self, now: i64, idle_secs: i64) -> bool {
        self.expires_at > now && (self.persistent || self.last_used_at + idle_secs > now)
    }
}

/// Starts a session and returns its token (for the cookie only; never stored).
pub async fn create(ctx: &Ctx, account_id: &str, account_key: &SecretKey, persistent: bool, user_agent: &str) -> Result<(String, Session)> {
    let token = random_token();
    let id = random_id();
    let now = ctx.now();
    let lifetime = if persistent { ctx.settings.session_persistent_secs } else { ctx.settings.session_absolute_secs };
    ctx.db
        .client()
        .query(
            "CREATE $id SET account = $account, token_hash = $hash, persistent = $persistent, created_at = $now, \
             last_used_at = $now, expires_at = $expires, user_agent_enc = $ua",
        )
        .bind(("id", RecordId::new("session", id.clone())))
        .bind(("account", account_record(account_id)))
        .bind(("hash", token_hash(&token)))
        .bind(("persistent", persistent))
        .bind(("now", now))
        .bind(("expires", now + lifetime))
        .bind(("ua", account_key.seal_str(Field::new("session", &id, "user_agent"), &user_agent_family(user_agent))))
        .await?
        .check()?;
    Ok((token, Session { id, account_id: account_id.to_string(), persistent, storage_offer_declined: false }))
}

/// The live session for a cookie token, or None. Expired sessions are deleted.
pub async fn authenticate(ctx: &Ctx, token: &str) -> Result<Option<Session>> {
    let row: Option<SessionRow> =
        ctx.db.client().query("SELECT * FROM ONLY session WHERE token_hash = $hash LIMIT 1").bind(("hash", token_hash(token))).await?.take(0)?;
    let Some(row) = row else { return Ok(None) };
    let now = ctx.now();
    if !row.open_at(now, ctx.settings.session_idle_secs) {
        ctx.db.client().query("DELETE $id").bind(("id", row.id)).await?.check()?;
        return Ok(None);
    }
    if now - row.last_used_at >= TOUCH_EVERY_SECS {
        ctx.db.client().query("UPDATE $id SET last_used_at = $now").bind(("id", row.id.clone())).bind(("now", now)).await?.check()?;
    }
    Ok(Some(Session {
        id: key_string(&row.id),
        account_id: key_string(&row.account),
        persistent: row.persistent,
        storage_offer_declined: row.storage_offer_declined.unwrap_or(false),
    }))
}

/// Whether a session is still open, without counting as its use: a live
/// connection must not keep an idle session alive.
pub async fn still_open(ctx: &Ctx, session_id: &str) -> Result<bool> {
    let row: Option<SessionRow> =
        ctx.db.client().query("SELECT * FROM ONLY $id").bind(("id", RecordId::new("session", session_id.to_string()))).await?.take(0)?;
    Ok(row.is_some_and(|row| row.open_at(ctx.now(), ctx.settings.session_idle_secs)))
}

/// Remembers, until this session ends, that the browser-storage offer was declined.
pub async fn decline_storage_offer(ctx: &Ctx, session: &Session) -> Result<()> {
    // The request that touched the session's last use may be writing it too.
    crate::db::retry_on_conflict("decline the storage offer", || async {
        ctx.db.client().query("UPDATE $id SET storage_offer_declined = true").bind(("id", RecordId::new("session", session.id.clone()))).await?.check()
    })
    .await?;
    Ok(())
}

/// Statements with a WHERE on an indexed field (checked by `index_use`).
pub(crate) const REVOKE_TOKEN: &str = "DELETE session WHERE token_hash = $hash";
pub(crate) const REVOKE_ALL: &str = "DELETE session WHERE account = $account AND id != $keep";

pub async fn revoke_token(ctx: &Ctx, token: &str) -> Result<()> {
    ctx.db.client().query(REVOKE_TOKEN).bind(("hash", token_hash(token))).await?.check()?;
    Ok(())
}

/// Revokes one of the account's sessions; false if it was not theirs or is gone.
pub async fn revoke(ctx: &Ctx, account_id: &str, session_id: &str) -> Result<bool> {
    let deleted: Vec<RecordId> = ctx
        .db
        .client()
        .query("DELETE $id WHERE account = $account RETURN BEFORE")
        .bind(("id", RecordId::new("session", session_id.to_string())))
        .bind(("account", account_record(account_id)))
        .await?
        .take((0, "id"))?;
    Ok(!deleted.is_empty())
}

/// Signs the account out everywhere, optionally keeping one session.
pub async fn revoke_all(ctx: &Ctx, account_id: &str, keep: Option<&str>) -> Result<()> {
    // A request of one of those sessions may be touching it meanwhile.
    crate::db::retry_on_conflict("revoke all sessions", || async {
        ctx.db
            .client()
            .query(REVOKE_ALL)
            .bind(("account", account_record(account_id)))
            .bind(("keep", RecordId::new("session", keep.unwrap_or("").to_string())))
            .await?
            .check()
    })
    .await?;
    Ok(())
}

pub async fn list(ctx: &Ctx, account_id: &str, key: &SecretKey, current: &str) -> Result<Vec<ActiveSession>> {
    let rows: Vec<SessionRow> = ctx
        .db
        .client()
        .query("SELECT * FROM session WHERE account = $account AND expires_at > $now ORDER BY last_used_at DESC")
        .bind(("account", account_record(account_id)))
        .bind(("now", ctx.now()))
        .await?
        .take(0)?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let id = key_string(&row.id);
            let user_agent = key.open_string(Field::new("session", &id, "user_agent"), &row.user_agent_enc).unwrap_or_else(|_| "unknown".to_string());
            ActiveSession { current: id == current, id, created_at: row.created_at, last_used_at: row.last_used_at, user_agent, persistent: row.persistent }
        })
        .collect())
}

/// The session cookie. Without "keep me signed in" it has no Max-Age, so the
/// browser drops it when it closes.
/// A `Set-Cookie` value for one of our cookies: host-only, HTTPS-only,
/// never readable by scripts, never sent from another site.
fn cookie_header(name: &str, value: &str, max_age_secs: Option<i64>) -> String {
    let max_age = max_age_secs.map(|secs| format!("; Max-Age={secs}")).unwrap_or_default();
    format!("{name}={value}; Secure; HttpOnly; SameSite=Strict; Path=/{max_age}")
}

pub fn set_cookie(token: &str, max_age_secs: Option<i64>) -> String {
    cookie_header(COOKIE_NAME, token, max_age_secs)
}

pub fn clear_cookie() -> String {
    cookie_header(COOKIE_NAME, "", Some(0))
}

pub fn token_from_headers(headers: &HeaderMap) -> Option<String> {
    cookie(headers, COOKIE_NAME)
}

/// Set by registration on the registering browser: its verification link
/// signs that browser in (`accounts::verify_email`). Lives as long as the link.
pub const SIGNUP_COOKIE_NAME: &str = "__Host-chatfbtop_signup";

pub fn set_signup_cookie(nonce: &str, max_age_secs: i64) -> String {
    cookie_header(SIGNUP_COOKIE_NAME, nonce, Some(max_age_secs))
}

pub fn clear_signup_cookie() -> String {
    cookie_header(SIGNUP_COOKIE_NAME, "", Some(0))
}

pub fn signup_nonce_from_headers(headers: &HeaderMap) -> Option<String> {
    cookie(headers, SIGNUP_COOKIE_NAME)
}

fn cookie(headers: &HeaderMap, wanted: &str) -> Option<String> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == wanted)
        .map(|(_, value)| value.to_string())
        .filter(|v| !v.is_empty() && v.len() <= 100)
}

/// A coarse browser-and-system label: enough to recognise a device, not to fingerprint it.
pub fn user_agent_family(ua: &str) -> String {
    let browser = if ua.contains("Edg/") {
        "Edge"
    } else if ua.contains("OPR/") || ua.contains("Opera") {
        "Opera"
    } else if ua.contains("Firefox/") {
        "Firefox"
    } else if ua.contains("Chrome/") || ua.contains("Chromium/") || ua.contains("HeadlessChrome") {
        "Chrome"
    } else if ua.contains("Safari/") {
        "Safari"
    } else {
        "Other browser"
    };
    let system = if ua.contains("Android") {
        "Android"
    } else if ua.contains("iPhone") || ua.contains("iPad") {
        "iOS"
    } else if ua.contains("Windows") {
        "Windows"
    } else if ua.contains("Mac OS") {
        "macOS"
    } else if ua.contains("Linux") {
        "Linux"
    } else {
        "other system"
    };
    format!("{browser} on {system}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_is_host_prefixed_strict_and_session_scoped_by_default() {
        let session_only = set_cookie("t", None);
        assert!(session_only.starts_with("__Host-chatfbtop_session=t;"));
        for attribute in ["; Secure", "; HttpOnly", "; SameSite=Strict", "; Path=/"] {
            assert!(session_only.contains(attribute), "{attribute} missing: {session_only}");
        }
        assert!(!session_only.contains("Max-Age"), "no Max-Age without keep-me-signed-in");
        assert!(!session_only.contains("Domain"), "__Host- cookies carry no Domain");
        assert!(set_cookie("t", Some(2_592_000)).ends_with("; Max-Age=2592000"));
        assert!(clear_cookie().contains("Max-Age=0"));
        let defaults = crate::context::Settings::default();
        assert_eq!((defaults.session_idle_secs, defaults.session_absolute_secs), (1800, 8 * 3600));
        assert_eq!(defaults.session_persistent_secs, 30 * 86400);
    }

    #[test]
    fn token_is_read_from_the_cookie_header_only_by_name() {
        let mut h = HeaderMap::new();
        h.insert(http::header::COOKIE, format!("other=1; {COOKIE_NAME}=abc; x=y").parse().unwrap());
        assert_eq!(token_from_headers(&h).as_deref(), Some("abc"));
        let mut empty = HeaderMap::new();
        empty.insert(http::header::COOKIE, format!("{COOKIE_NAME}=").parse().unwrap());
        assert_eq!(token_from_headers(&empty), None);
    }

    #[test]
    fn user_agents_are_reduced_to_a_family() {
        let chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36";
        assert_eq!(user_agent_family(chrome), "Chrome on Linux");
        let firefox = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:140.0) Gecko/20100101 Firefox/140.0";
        assert_eq!(user_agent_family(firefox), "Firefox on Windows");
        assert_eq!(user_agent_family(""), "Other browser on other system");
    }
}
