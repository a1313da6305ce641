//! The Facebook app's settings. Secrets are sealed under the system key and
//! never returned to the browser once entered. Every app secret the app has
//! had is kept by version (`app_secret:<n>`) for as long as an opt-in proof
//! was signed with it, so that "Verify proof" still works after a change.

use std::sync::Arc;

use app::error::AppError;
use surrealdb::types::{RecordId, SurrealValue};
use zeroize::Zeroizing;

use crate::context::Ctx;
use crate::crypto::Field;
use crate::error::Result;

pub struct AppSettings {
    pub app_id: String,
    pub app_secret: Zeroizing<String>,
    pub verify_token: Zeroizing<String>,
    pub graph_base_url: String,
    pub graph_version: String,
}

#[derive(Debug, SurrealValue)]
struct Row {
    app_id: String,
    app_secret_sealed: String,
    verify_token_sealed: String,
    graph_base_url: String,
    graph_version: String,
}

fn record() -> RecordId {
    RecordId::new("messenger_app", "config")
}

/// Where the Graph API may be reached: over HTTPS, or over plain HTTP on
/// this machine only (the stand-in). The address is parsed, so that a host
/// such as `localhost.evil.tld` is not taken for the loopback, and it may
/// carry no credentials, query or fragment. Checked when it is saved and
/// again wherever it is used (`graph::Graph`), for a value stored by an
/// earlier release.
pub fn graph_base_url_allowed(base: &str) -> bool {
    // The parser drops tabs and line breaks silently, but the raw text is what is stored.
    if base.chars().any(char::is_control) || base.trim() != base {
        return false;
    }
    let Ok(url) = url::Url::parse(base) else { return false };
    if !url.username().is_empty() || url.password().is_some() || url.query().is_some() || url.fragment().is_some() {
        return false;
    }
    let loopback = match url.host() {
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => return false,
    };
    match url.scheme() {
        "https" => true,
        "http" => loopback,
        _ => false,
    }
}

/// Where the webhook endpoints' copy is kept (`Ctx::memo`).
const MEMO: &str = "messenger_app";
/// How old the webhook endpoints' copy may be: a change saved by this
/// instance is seen at once, one saved by another instance within this.
const MAX_AGE_SECS: i64 = 5;

/// The settings for the webhook endpoints, which need them on every
/// request: read from the database at most every few seconds.
pub async fn load_recent(ctx: &Ctx) -> Result<Arc<Option<AppSettings>>> {
    ctx.memo.get_or_load(MEMO, ctx.now(), MAX_AGE_SECS, || load(ctx)).await
}

/// The settings for a call to Facebook: "not set up" without them, and
/// refused (with a line for the operator) when the stored Graph API address
/// is not one `graph_base_url_allowed` accepts: nothing is sent to it.
pub async fn load_for_graph(ctx: &Ctx) -> Result<AppSettings> {
    let settings = load(ctx).await?.ok_or(AppError::MessengerNotConfigured)?;
    if !graph_base_url_allowed(&settings.graph_base_url) {
        tracing::error!("{GRAPH_BASE_URL_REFUSED}");
        return Err(AppError::MessengerNotConfigured.into());
    }
    Ok(settings)
}

/// The operator's line when a stored Graph API address is refused (the address
/// itself is not logged: it may carry credentials).
pub const GRAPH_BASE_URL_REFUSED: &str = "the stored Graph API base URL is refused (HTTPS, or plain HTTP to this machine only; no credentials, \
     query, fragment, spaces or control characters): no call goes to Facebook until an admin saves the Facebook app settings again";

pub async fn load(ctx: &Ctx) -> Result<Option<AppSettings>> {
    let row: Option<Row> = ctx.db.client().query("SELECT * FROM ONLY $id").bind(("id", record())).await?.take(0)?;
    let Some(row) = row else { return Ok(None) };
    let key = ctx.crypto.system_key();
    Ok(Some(AppSettings {
        app_id: row.app_id,
        app_secret: Zeroizing::new(key.open_string(Field::new("messenger_app", "config", "app_secret"), &row.app_secret_sealed)?),
        verify_token: Zeroizing::new(key.open_string(Field::new("messenger_app", "config", "verify_token"), &row.verify_token_sealed)?),
        graph_base_url: row.graph_base_url,
        graph_version: row.graph_version,
    }))
}

pub async fn save(ctx: &Ctx, settings: &AppSettings) -> Result<()> {
    let key = ctx.crypto.system_key();
    ctx.db
        .client()
        .query(
            "UPSERT $id SET app_id = $app_id, app_secret_sealed = $secret, verify_token_sealed = $verify_token, \
             graph_base_url = $base, graph_version = $version, updated_at = $now",
        )
        .bind(("id", record()))
        .bind(("app_id", settings.app_id.clone()))
        .bind(("secret", key.seal_str(Field::new("messenger_app", "config", "app_secret"), &settings.app_secret)))
        .bind(("verify_token", key.seal_str(Field::new("messenger_app", "config", "verify_token"), &settings.verify_token)))
        .bind(("base", settings.graph_base_url.clone()))
        .bind(("version", settings.graph_version.clone()))
        .bind(("now", ctx.now()))
        .await?
        .check()?;
    version_secret(ctx, &settings.app_secret).await?;
    ctx.memo.forget(MEMO);
    Ok(())
}

#[derive(Debug, SurrealValue)]
struct SecretRow {
    version: i64,
    secret_sealed: String,
}

fn secret_field(version: &str) -> Field<'_> {
    Field::new("app_secret", version, "secret")
}

/// Every app secret the app has had, newest first: (version, secret).
pub async fn secret_versions(ctx: &Ctx) -> Result<Vec<(i64, Zeroizing<String>)>> {
    let rows: Vec<SecretRow> = ctx.db.client().query("SELECT record::id(id) AS version, secret_sealed FROM app_secret ORDER BY version DESC").await?.take(0)?;
    let key = ctx.crypto.system_key();
    rows.into_iter().map(|r| Ok((r.version, Zeroizing::new(key.open_string(secret_field(&r.version.to_string()), &r.secret_sealed)?)))).collect()
}

/// The secret of one version, if it is still kept.
pub async fn secret_of_version(ctx: &Ctx, version: i64) -> Result<Option<Zeroizing<String>>> {
    let sealed: Option<String> =
        ctx.db.client().query("SELECT VALUE secret_sealed FROM ONLY $id").bind(("id", RecordId::new("app_secret", version))).await?.take(0)?;
    let key = ctx.crypto.system_key();
    Ok(match sealed {
        Some(blob) => Some(Zeroizing::new(key.open_string(secret_field(&version.to_string()), &blob)?)),
        None => None,
    })
}

/// Gives the secret a new version unless it is the newest one already, and
/// records it as current. Also what an installation from before versions
/// gets at start, for the secret it has.
pub async fn version_secret(ctx: &Ctx, secret: &str) -> Result<i64> {
    let versions = secret_versions(ctx).await?;
    let version = match versions.first() {
        Some((newest, kept)) if kept.as_str() == secret => *newest,
        Some((newest, _)) => newest + 1,
        None => 1,
    };
    ctx.db
        .client()
        .query("UPSERT $secret SET secret_sealed = $sealed, created_at = $now; UPDATE $config SET secret_version = $version")
        .bind(("secret", RecordId::new("app_secret", version)))
        .bind(("sealed", ctx.crypto.system_key().seal_str(secret_field(&version.to_string()), secret)))
        .bind(("now", ctx.now()))
        .bind(("config", record()))
        .bind(("version", version))
        .await?
        .check()?;
    Ok(version)
}

/// A statement with a WHERE on an indexed field (checked by `index_use`).
pub(crate) const PROOFS_SIGNED_WITH: &str = "SELECT VALUE id FROM lead WHERE proof_secret_version = $version LIMIT 1";

/// Deletes the earlier secrets that no proof refers to any more.
pub async fn purge_unused_secrets(ctx: &Ctx) -> Result<u64> {
    let current: Option<i64> = ctx.db.client().query("SELECT VALUE secret_version FROM ONLY $id").bind(("id", record())).await?.take(0)?;
    let mut purged = 0;
    for (version, _) in secret_versions(ctx).await? {
        if Some(version) == current {
            continue;
        }
        let used: Vec<RecordId> = ctx.db.client().query(PROOFS_SIGNED_WITH).bind(("version", version)).await?.take(0)?;
        if used.is_empty() {
            ctx.db.client().query("DELETE $id").bind(("id", RecordId::new("app_secret", version))).await?.check()?;
            purged += 1;
        }
    }
    Ok(purged)
}

#[cfg(test)]
mod tests {
    use super::graph_base_url_allowed;

    #[test]
    fn https_anywhere_and_plain_http_only_on_the_loopback() {
        for ok in [
            "https://graph.facebook.com",
            "https://graph.example.org:8443/",
            "http://localhost:8081",
            "http://LOCALHOST",
            "http://127.0.0.1:9",
            "http://127.8.0.1",
            "http://[::1]:8081",
        ] {
            assert!(graph_base_url_allowed(ok), "{ok}");
        }
    }

    #[test]
    fn look_alike_hosts_credentials_and_other_schemes_are_refused() {
        for bad in [
            "http://localhost.evil.tld",
            "http://127.0.0.1.evil.tld",
            "http://localhost@evil.tld",
            "http://evil.tld#@localhost",
            "http://10.0.0.1",
            "https://user:pass@graph.facebook.com",
            "https://graph.facebook.com/?x=1",
            "ftp://localhost",
            "file:///etc/passwd",
            "graph.facebook.com",
            "",
            "https://graph.face\tbook.com",
            "https://graph.facebook.com/\n",
            "http://local\nhost:8081",
            "http://127.0.0.1:9\r",
            " https://graph.facebook.com",
            "https://graph.facebook.com\u{7f}",
        ] {
            assert!(!graph_base_url_allowed(bad), "{bad}");
        }
    }
}
