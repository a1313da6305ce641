//! Connecting Pages: Facebook Login (a `state` bound to the session, code
//! exchange, `/me/accounts`, the user picks) or manually (Page id and token,
//! checked with `GET /{page}?fields=id,name`). Tokens are sealed under the
//! account's key. A token Facebook rejects (190) marks the Page for reconnection.

use app::error::AppError;
use app::types::{LoginPage, PageStatus, PageView, PagesOverview};
use serde_json::json;
use surrealdb::types::{RecordId, SurrealValue};

use super::graph::{ErrorKind, Graph};
use super::settings::{self, AppSettings};
use super::{open, seal, Error, Result};
use crate::accounts::Ready;
use crate::context::Ctx;
use crate::crypto::SecretKey;
use crate::db::ids::{account_record, key_string};
use crate::db::ids::{record, valid_key};
use crate::db::{is_conflict, retry_on_conflict, Client};

pub const LOGIN_TTL_SECS: i64 = 15 * 60;
const MAX_PAGE_ID: usize = 40;

#[derive(Debug, Clone, SurrealValue)]
pub struct PageRow {
    pub id: RecordId,
    pub account: RecordId,
    pub page_id: String,
    pub name_enc: String,
    pub token_sealed: Option<String>,
    pub status: String,
    pub bot_disclosure: bool,
    pub connected_at: i64,
}

impl PageRow {
    pub fn key(&self) -> String {
        key_string(&self.id)
    }

    pub fn account_id(&self) -> String {
        key_string(&self.account)
    }

    pub fn name(&self, key: &SecretKey) -> Result<String> {
        open(key, "page", &self.key(), "name", &self.name_enc)
    }

    /// The Page token, unless the Page was disconnected.
    pub fn token(&self, key: &SecretKey) -> Result<Option<String>> {
        self.token_sealed.as_deref().map(|t| open(key, "page", &self.key(), "token", t)).transpose()
    }

    pub fn status(&self) -> Result<PageStatus> {
        Ok(self.status.parse()?)
    }
}

/// The record key for Facebook's Page id: a keyed hash, one owner per Page.
pub fn page_key(ctx: &Ctx, page_id: &str) -> String {
    ctx.crypto.keyed_index("page", page_id)
}

/// The Page's audience guard: a lead's erasure and a campaign queue batch
/// both write it, so the two conflict instead of interleaving unseen
/// (`broadcasts::queue` explains the race).
pub(crate) const BUMP_AUDIENCE_EPOCH: &str = "UPDATE $page SET audience_epoch += 1;";

/// Deletes `id` (a lead or a campaign of `page`) and runs `with` (what goes
/// with it, by `$id`) in one transaction that writes the Page's audience
/// guard, again after a conflict. One transaction: a crash can never leave
/// the record gone and the rest behind, out of reach of a retry.
pub(crate) async fn delete_guarded(db: &Client, page: &RecordId, id: &RecordId, with: &str) -> surrealdb::Result<()> {
    retry_on_conflict("guarded deletion", || async {
        let tx = db.begin().await?;
        let deleted = tx.query(BUMP_AUDIENCE_EPOCH).query("DELETE $id").query(with).bind(("page", page.clone())).bind(("id", id.clone())).await;
        tx.finish(deleted.and_then(|r| r.check()).map(drop)).await
    })
    .await
}

/// A statement with a WHERE on an indexed field (checked by `index_use`).
pub(crate) const DROP_PAGE_LOGINS: &str = "DELETE page_login WHERE account = $account";

pub async fn load(ctx: &Ctx, key: &str) -> Result<Option<PageRow>> {
    Ok(ctx.db.client().query("SELECT * FROM ONLY $id").bind(("id", record("page", key))).await?.take(0)?)
}

/// A Page and whether its account is disabled, read together: the webhook
/// routes every entry through this, so it is one read, not two.
#[derive(Debug, SurrealValue)]
pub struct RoutedPage {
    pub page: PageRow,
    pub account_disabled: Option<bool>,
}

pub async fn load_routed(ctx: &Ctx, key: &str) -> Result<Option<RoutedPage>> {
    let query = "SELECT VALUE { page: $this, account_disabled: account.disabled } FROM ONLY $id";
    Ok(ctx.db.client().query(query).bind(("id", record("page", key))).await?.take(0)?)
}

/// The Page, if it belongs to the account; otherwise "not found" (never "forbidden": no probing).
pub async fn owned(ctx: &Ctx, account_id: &str, key: &str) -> Result<PageRow> {
    if !valid_key(key) {
        return Err(AppError::PageNotFound.into());
    }
    match load(ctx, key).await? {
        Some(page) if page.account_id() == account_id => Ok(page),
        _ => Err(AppError::PageNotFound.into()),
    }
}

pub async fn app_settings(ctx: &Ctx) -> Result<AppSettings> {
    settings::load_for_graph(ctx).await
}

pub async fn pages(ctx: &Ctx, caller: &Ready, demo: bool) -> Result<PagesOverview> {
    let (session, key) = (&caller.session, &caller.key);
    let rows: Vec<PageRow> = ctx
        .db
        .client()
        .query("SELECT * FROM page WHERE account = $account ORDER BY connected_at, id")
        .bind(("account", account_record(&session.account_id)))
        .await?
        .take(0)?;
    let mut pages = Vec::with_capacity(rows.len());
    for row in rows {
        let leads: Option<i64> = ctx.db.client().query("RETURN count(SELECT id FROM lead WHERE page = $page)").bind(("page", row.id.clone())).await?.take(0)?;
        pages.push(PageView {
            id: row.key(),
            page_id: row.page_id.clone(),
            name: row.name(key)?,
            status: row.status()?,
            bot_disclosure: row.bot_disclosure,
            connected_at: row.connected_at,
            leads: leads.unwrap_or(0),
        });
    }
    Ok(PagesOverview { pages, app_configured: settings::load(ctx).await?.is_some(), demo })
}

/// The account's Page names by Page key.
pub async fn names(ctx: &Ctx, account_id: &str, key: &SecretKey) -> Result<std::collections::HashMap<String, String>> {
    let rows: Vec<PageRow> =
        ctx.db.client().query("SELECT * FROM page WHERE account = $account").bind(("account", account_record(account_id))).await?.take(0)?;
    rows.iter().map(|p| Ok((p.key(), p.name(key)?))).collect()
}

/// How often a connection runs again after another transaction wrote the Page first.
const CONNECT_ATTEMPTS: u32 = 6;

/// Stores (or refreshes) a connection, once Facebook confirmed the token.
/// A Page another account holds is refused while that account can use it;
/// once its token is dead or it disconnected, the Page passes to this one
/// (`takeover`), in the same transaction: of two accounts that connect the
/// Page at once, one wins, and the other runs again and is refused.
pub async fn save(ctx: &Ctx, account_id: &str, key: &SecretKey, page_id: &str, name: &str, token: &str) -> Result<String> {
    let record_key = page_key(ctx, page_id);
    let connection = Connection { account_id, key, record_key: &record_key, page_id, name, token };
    let mut attempt = 1;
    let taken_from = loop {
        let tx = ctx.with_db(ctx.db.begin().await?);
        let stored = store(&tx, &connection).await;
        let Ctx { db, .. } = tx;
        let committed = match stored {
            Ok(taken_from) => db.commit().await.map(|()| taken_from).map_err(Error::from),
            Err(e) => {
                db.cancel().await;
                Err(e)
            }
        };
        match committed {
            Err(Error::Database(e)) if is_conflict(&e) && attempt < CONNECT_ATTEMPTS => {
                tracing::debug!(error = %e, attempt, "a page connection conflicted; trying again");
                tokio::time::sleep(std::time::Duration::from_millis(5 << attempt)).await;
                attempt += 1;
            }
            other => break other?,
        }
    };
    if let Some(previous) = taken_from {
        tracing::info!(page = %record_key, "page taken over; the previous owner's data is archived");
        super::takeover::notify(ctx, previous).await;
    }
    tracing::info!(page = %record_key, "page connected");
    Ok(record_key)
}

/// A connection Facebook confirmed, to store.
struct Connection<'a> {
    account_id: &'a str,
    key: &'a SecretKey,
    record_key: &'a str,
    page_id: &'a str,
    name: &'a str,
    token: &'a str,
}

/// One try of `save`, on `tx`; returns the previous owner if the Page changed hands.
async fn store(tx: &Ctx, c: &Connection<'_>) -> Result<Option<super::takeover::Previous>> {
    let mut taken_from = None;
    if let Some(existing) = load(tx, c.record_key).await? {
        if existing.account_id() != c.account_id {
            match existing.status()? {
                PageStatus::Active => return Err(AppError::PageAlreadyConnected.into()),
                PageStatus::NeedsReconnection | PageStatus::Disconnected => taken_from = Some(super::takeover::hand_over(tx, &existing).await?),
            }
        }
    }
    tx.db
        .client()
        .query(
            "UPSERT $id SET account = $account, page_id = $page_id, name_enc = $name, token_sealed = $page_token, \
             status = 'active', bot_disclosure = bot_disclosure ?? false, connected_at = $now",
        )
        .bind(("id", record("page", c.record_key)))
        .bind(("account", account_record(c.account_id)))
        .bind(("page_id", c.page_id.to_string()))
        .bind(("name", seal(c.key, "page", c.record_key, "name", c.name)))
        .bind(("page_token", seal(c.key, "page", c.record_key, "token", c.token)))
        .bind(("now", tx.now()))
        .await?
        .check()?;
    Ok(taken_from)
}

fn valid_page_id(page_id: &str) -> bool {
    !page_id.is_empty() && page_id.len() <= MAX_PAGE_ID && page_id.bytes().all(|b| b.is_ascii_digit())
}

/// Manual connection: Facebook must confirm that the token belongs to the Page.
pub async fn connect_page(ctx: &Ctx, caller: &Ready, page_id: &str, token: &str) -> Result<String> {
    let (session, key) = (&caller.session, &caller.key);
    let (page_id, token) = (page_id.trim(), token.trim());
    if !valid_page_id(page_id) || token.is_empty() || token.len() > 1024 {
        return Err(AppError::InvalidPageToken.into());
    }
    let app = app_settings(ctx).await?;
    let graph = Graph::new(&app);
    let checked = graph.page(page_id, token).await;
    let name = match checked {
        Ok((id, name)) if id == page_id => name,
        Ok(_) => return Err(AppError::InvalidPageToken.into()),
        Err(e) if e.kind() == ErrorKind::Temporary => return Err(e.into()),
        Err(_) => return Err(AppError::InvalidPageToken.into()),
    };
    super::takeover::ask_about_owner(ctx, &graph, &session.account_id, page_id).await?;
    subscribe(&graph, page_id, token).await?;
    save(ctx, &session.account_id, key, page_id, &name, token).await
}

async fn subscribe(graph: &Graph, page_id: &str, token: &str) -> Result<()> {
    match graph.subscribe_app(page_id, token).await {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == ErrorKind::Temporary => Err(e.into()),
        Err(_) => Err(AppError::InvalidPageToken.into()),
    }
}

fn login_key(ctx: &Ctx, state: &str) -> String {
    ctx.crypto.keyed_index("fb_login_state", state)
}

fn redirect_uri(ctx: &Ctx) -> String {
    ctx.link("/pages/facebook")
}

/// Facebook Login, step 1: the dialog URL, with a `state` bound to this session.
pub async fn facebook_login_start(ctx: &Ctx, caller: &Ready) -> Result<String> {
    let session = &caller.session;
    let app = app_settings(ctx).await?;
    let state = crate::crypto::random_id();
    ctx.db
        .client()
        .query(format!("{DROP_PAGE_LOGINS}; CREATE $id SET account = $account, session_id = $session_id, created_at = $now"))
        .bind(("id", record("page_login", &login_key(ctx, &state))))
        .bind(("account", account_record(&session.account_id)))
        .bind(("session_id", session.id.clone()))
        .bind(("now", ctx.now()))
        .await?
        .check()?;
    Ok(Graph::new(&app).dialog_url(&app.app_id, &redirect_uri(ctx), &state)?)
}

#[derive(Debug, SurrealValue)]
struct LoginRow {
    account: RecordId,
    session_id: String,
    created_at: i64,
    offered_sealed: Option<String>,
}

async fn login_row(ctx: &Ctx, session: &crate::sessions::Session, state: &str) -> Result<(String, LoginRow)> {
    let key = login_key(ctx, state);
    let row: Option<LoginRow> = ctx.db.client().query("SELECT * FROM ONLY $id").bind(("id", record("page_login", &key))).await?.take(0)?;
    match row {
        Some(row) if key_string(&row.account) == session.account_id && row.session_id == session.id && ctx.now() - row.created_at <= LOGIN_TTL_SECS => {
            Ok((key, row))
        }
        _ => Err(AppError::FacebookLoginExpired.into()),
    }
}

/// Step 2, from the callback: exchanges the code and lists the user's Pages.
pub async fn facebook_login_finish(ctx: &Ctx, caller: &Ready, code: &str, state: &str) -> Result<Vec<LoginPage>> {
    let (session, key) = (&caller.session, &caller.key);
    let (row_key, _) = login_row(ctx, session, state).await?;
    let app = app_settings(ctx).await?;
    let graph = Graph::new(&app);
    let user_token = match graph.exchange_code(&app, &redirect_uri(ctx), code).await {
        Ok(t) => t,
        Err(e) if e.kind() == ErrorKind::Temporary => return Err(e.into()),
        Err(_) => return Err(AppError::FacebookLoginExpired.into()),
    };
    let listed = graph.my_pages(&user_token).await?;
    let offered: Vec<_> = listed.iter().map(|p| json!({"id": p.id, "name": p.name, "token": p.access_token})).collect();
    let sealed = key.seal(crate::crypto::Field::new("page_login", &row_key, "offered"), serde_json::to_vec(&offered).unwrap_or_default().as_slice());
    ctx.db.client().query("UPDATE $id SET offered_sealed = $sealed").bind(("id", record("page_login", &row_key))).bind(("sealed", sealed)).await?.check()?;
    let mut pages = Vec::with_capacity(listed.len());
    for p in listed {
        let connected = load(ctx, &page_key(ctx, &p.id))
            .await?
            .is_some_and(|r| r.account_id() == session.account_id && r.status().is_ok_and(|s| s != PageStatus::Disconnected));
        pages.push(LoginPage { page_id: p.id, name: p.name, connected });
    }
    Ok(pages)
}

/// Step 3: subscribes the app to each chosen Page and stores it.
pub async fn facebook_login_connect(ctx: &Ctx, caller: &Ready, state: &str, page_ids: &[String]) -> Result<usize> {
    let (session, key) = (&caller.session, &caller.key);
    let (row_key, row) = login_row(ctx, session, state).await?;
    let sealed = row.offered_sealed.ok_or(Error::User(AppError::FacebookLoginExpired))?;
    let offered: Vec<serde_json::Value> =
        serde_json::from_slice(&key.open(crate::crypto::Field::new("page_login", &row_key, "offered"), &sealed)?).unwrap_or_default();
    let app = app_settings(ctx).await?;
    let graph = Graph::new(&app);
    let mut connected = 0;
    for wanted in page_ids {
        let Some(p) = offered.iter().find(|p| p["id"].as_str() == Some(wanted.as_str())) else {
            continue;
        };
        let (Some(id), Some(name), Some(token)) = (p["id"].as_str(), p["name"].as_str(), p["token"].as_str()) else {
            continue;
        };
        super::takeover::ask_about_owner(ctx, &graph, &session.account_id, id).await?;
        subscribe(&graph, id, token).await?;
        save(ctx, &session.account_id, key, id, name, token).await?;
        connected += 1;
    }
    ctx.db.client().query("DELETE $id").bind(("id", record("page_login", &row_key))).await?.check()?;
    Ok(connected)
}

/// Disconnects a Page. With `erase`, its leads, conversations and suppression
/// list go too and the Page row is deleted; without, they stay, read-only.
pub async fn disconnect_page(ctx: &Ctx, caller: &Ready, page: &str, erase: bool, dependents: &super::leads::Dependents) -> Result<()> {
    let session = &caller.session;
    let row = owned(ctx, &session.account_id, page).await?;
    if erase {
        super::leads::erase_page_data(ctx, &row.id, dependents).await?;
        ctx.db.client().query("DELETE $id").bind(("id", row.id.clone())).await?.check()?;
    } else {
        ctx.db.client().query("UPDATE $id SET status = 'disconnected', token_sealed = NONE").bind(("id", row.id.clone())).await?.check()?;
    }
    tracing::info!(page = %row.key(), erase, "page disconnected");
    Ok(())
}

pub async fn set_bot_disclosure(ctx: &Ctx, caller: &Ready, page: &str, enabled: bool) -> Result<()> {
    let session = &caller.session;
    let row = owned(ctx, &session.account_id, page).await?;
    ctx.db.client().query("UPDATE $id SET bot_disclosure = $on").bind(("id", row.id)).bind(("on", enabled)).await?.check()?;
    Ok(())
}

/// Facebook answered 190 for this Page's token.
pub async fn mark_needs_reconnection(ctx: &Ctx, page: &RecordId) -> Result<()> {
    ctx.db.client().query("UPDATE $id SET status = 'needs_reconnection' WHERE status = 'active'").bind(("id", page.clone())).await?.check()?;
    tracing::warn!(page = %key_string(page), "page token rejected by Facebook: needs reconnection");
    Ok(())
}
