//! The public unsubscribe page behind `/u/<token>`. The token names the lead
//! and carries a keyed MAC of (lead, Page), so it cannot be guessed or
//! forged, and it stays valid after the campaign ends. No sign-in: one POST
//! unsubscribes; "erase my data" erases everything about the lead for that
//! Page (the keyed-hash suppression entry stays, so no campaign reaches them).

use app::error::AppError;
use app::types::UnsubscribeInfo;

use crate::context::Ctx;
use crate::db::ids::key_string;
use crate::db::ids::valid_key;
use crate::messenger::leads::{self, LeadRecord};
use crate::messenger::{pages, Result};

const MAC_CHARS: usize = 32;

fn mac(ctx: &Ctx, lead_key: &str, page_key: &str) -> String {
    ctx.crypto.keyed_index("unsubscribe", &format!("{lead_key}|{page_key}"))[..MAC_CHARS].to_string()
}

pub fn token(ctx: &Ctx, lead_key: &str, page_key: &str) -> String {
    format!("{lead_key}{}", mac(ctx, lead_key, page_key))
}

pub fn link(ctx: &Ctx, lead_key: &str, page_key: &str) -> String {
    ctx.link(&format!("/u/{}", token(ctx, lead_key, page_key)))
}

/// The lead key and the MAC a token carries, if it is shaped like a token.
pub(crate) fn token_parts(token: &str) -> Option<(&str, &str)> {
    let token = token.trim();
    if !valid_key(token) || token.len() <= MAC_CHARS {
        return None;
    }
    Some(token.split_at(token.len() - MAC_CHARS))
}

/// Compares two MACs in constant time.
pub(crate) fn same_mac(expected: &str, given: &str) -> bool {
    expected.len() == given.len() && expected.bytes().zip(given.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

/// The lead a token names, if the MAC matches. A link sent before the
/// Page was taken over names the Page's own record, while the lead now
/// sits under its owner's archived copy of it (`messenger::takeover`): the
/// person can still unsubscribe and erase their data there.
async fn lead_of(ctx: &Ctx, token: &str) -> Result<LeadRecord> {
    let (lead_key, given) = token_parts(token).ok_or(AppError::InvalidUnsubscribeLink)?;
    let row: Option<LeadRecord> =
        ctx.db.client().query(format!("SELECT {} FROM ONLY $id", leads::LIST_FIELDS)).bind(("id", crate::db::ids::record("lead", lead_key))).await?.take(0)?;
    let row = row.ok_or(AppError::InvalidUnsubscribeLink)?;
    if same_mac(&mac(ctx, lead_key, &key_string(&row.page)), given) {
        return Ok(row);
    }
    let page = pages::load(ctx, &key_string(&row.page)).await?.ok_or(AppError::InvalidUnsubscribeLink)?;
    let page_record_of_its_id = pages::page_key(ctx, &page.page_id);
    if page_record_of_its_id != key_string(&row.page) && same_mac(&mac(ctx, lead_key, &page_record_of_its_id), given) {
        return Ok(row);
    }
    Err(AppError::InvalidUnsubscribeLink.into())
}

pub async fn unsubscribe_info(ctx: &Ctx, token: &str) -> Result<UnsubscribeInfo> {
    let lead = lead_of(ctx, token).await?;
    let page = pages::load(ctx, &key_string(&lead.page)).await?.ok_or(AppError::InvalidUnsubscribeLink)?;
    let key = ctx.crypto.account_key(&page.account_id()).await?;
    Ok(UnsubscribeInfo { page_name: page.name(&key)?, subscribed: lead.subscribed })
}

/// Unsubscribes: the lead is marked and goes on the Page's suppression list.
pub async fn unsubscribe(ctx: &Ctx, token: &str) -> Result<()> {
    let lead = lead_of(ctx, token).await?;
    suppress(ctx, &lead).await?;
    tracing::info!(lead = %lead.key(), "unsubscribed through the link");
    Ok(())
}

async fn suppress(ctx: &Ctx, lead: &LeadRecord) -> Result<()> {
    let page = pages::load(ctx, &key_string(&lead.page)).await?.ok_or(AppError::InvalidUnsubscribeLink)?;
    let key = ctx.crypto.account_key(&page.account_id()).await?;
    leads::set_subscribed(ctx, lead, &page.page_id, &lead.psid(&key)?, false).await
}

/// "Erase my data": unsubscribes, then erases the lead, its conversation,
/// its proof and its campaign deliveries.
pub async fn erase_my_data(ctx: &Ctx, token: &str) -> Result<()> {
    let lead = lead_of(ctx, token).await?;
    suppress(ctx, &lead).await?;
    leads::erase_lead(ctx, &lead.id, &super::DEPENDENTS).await?;
    tracing::info!("a lead erased their data through the unsubscribe link");
    Ok(())
}
