//! Labels: the account's own words for grouping leads, sealed under its
//! key like everything it owns (so they are sorted here, after opening).

use app::error::AppError;
use app::types::LabelView;
use surrealdb::types::{RecordId, SurrealValue};

use super::{open, seal, Result};
use crate::accounts::Ready;
use crate::context::Ctx;
use crate::db::ids::{account_record, key_string};
use crate::db::ids::{record, valid_key};

const MAX_LABELS: usize = 200;

#[derive(Debug, SurrealValue)]
struct LabelRow {
    id: RecordId,
    name_enc: String,
}

/// The account's labels, by name (sorted here: the names are sealed).
pub async fn labels_of(ctx: &Ctx, account_id: &str) -> Result<Vec<LabelView>> {
    let rows: Vec<LabelRow> =
        ctx.db.client().query("SELECT id, name_enc FROM label WHERE account = $account").bind(("account", account_record(account_id))).await?.take(0)?;
    let key = ctx.crypto.account_key(account_id).await?;
    let mut labels = rows
        .into_iter()
        .map(|r| {
            let id = key_string(&r.id);
            Ok(LabelView { name: open(&key, "label", &id, "name", &r.name_enc)?, id })
        })
        .collect::<Result<Vec<_>>>()?;
    labels.sort_by(|a, b| a.name.to_lowercase().cmp(&b.name.to_lowercase()).then_with(|| a.name.cmp(&b.name)));
    Ok(labels)
}

pub async fn labels(ctx: &Ctx, caller: &Ready) -> Result<Vec<LabelView>> {
    let session = &caller.session;
    labels_of(ctx, &session.account_id).await
}

fn clean_label(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 50 || !app::text::is_single_line(name) {
        return Err(AppError::InvalidLabel.into());
    }
    Ok(name.to_string())
}

pub async fn create_label(ctx: &Ctx, caller: &Ready, name: &str) -> Result<LabelView> {
    let (session, key) = (&caller.session, &caller.key);
    let name = clean_label(name)?;
    let existing = labels_of(ctx, &session.account_id).await?;
    if existing.len() >= MAX_LABELS || existing.iter().any(|l| l.name.eq_ignore_ascii_case(&name)) {
        return Err(AppError::InvalidLabel.into());
    }
    let id = crate::crypto::random_id();
    ctx.db
        .client()
        .query("CREATE $id SET account = $account, name_enc = $name, created_at = $now")
        .bind(("id", record("label", &id)))
        .bind(("account", account_record(&session.account_id)))
        .bind(("name", seal(key, "label", &id, "name", &name)))
        .bind(("now", ctx.now()))
        .await?
        .check()?;
    Ok(LabelView { id, name })
}

async fn owned_label(ctx: &Ctx, account_id: &str, label: &str) -> Result<RecordId> {
    if valid_key(label) && labels_of(ctx, account_id).await?.iter().any(|l| l.id == label) {
        Ok(record("label", label))
    } else {
        Err(AppError::LabelNotFound.into())
    }
}

pub async fn rename_label(ctx: &Ctx, caller: &Ready, label: &str, name: &str) -> Result<()> {
    let (session, key) = (&caller.session, &caller.key);
    let id = owned_label(ctx, &session.account_id, label).await?;
    let name = clean_label(name)?;
    if labels_of(ctx, &session.account_id).await?.iter().any(|l| l.id != label && l.name.eq_ignore_ascii_case(&name)) {
        return Err(AppError::InvalidLabel.into());
    }
    let sealed = seal(key, "label", label, "name", &name);
    ctx.db.client().query("UPDATE $id SET name_enc = $name").bind(("id", id)).bind(("name", sealed)).await?.check()?;
    Ok(())
}

/// A statement with a WHERE on an indexed field (checked by `index_use`).
pub(crate) const UNLABEL_LEADS: &str = "UPDATE lead SET labels -= $id WHERE account = $account AND $id IN labels";

pub async fn delete_label(ctx: &Ctx, caller: &Ready, label: &str) -> Result<()> {
    let session = &caller.session;
    let id = owned_label(ctx, &session.account_id, label).await?;
    ctx.db.client().query(format!("{UNLABEL_LEADS}; DELETE $id")).bind(("id", id)).bind(("account", account_record(&session.account_id))).await?.check()?;
    Ok(())
}

/// Adds or removes a label on many leads at once; leads of other accounts are ignored.
pub async fn assign_label(ctx: &Ctx, caller: &Ready, leads: &[String], label: &str, assign: bool) -> Result<usize> {
    let session = &caller.session;
    let id = owned_label(ctx, &session.account_id, label).await?;
    let ids: Vec<RecordId> = leads.iter().filter(|l| valid_key(l)).take(10_000).map(|l| record("lead", l)).collect();
    let statement = if assign {
        "UPDATE $leads SET labels += $label WHERE account = $account AND $label NOT IN labels RETURN id"
    } else {
        "UPDATE $leads SET labels -= $label WHERE account = $account AND $label IN labels RETURN id"
    };
    let changed: Vec<serde_json::Value> =
        ctx.db.client().query(statement).bind(("leads", ids)).bind(("label", id)).bind(("account", account_record(&session.account_id))).await?.take(0)?;
    Ok(changed.len())
}
