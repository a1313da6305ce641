//! Third-party recipients and the breach register.

use app::error::AppError;
use app::types::{Breach, BreachInput, Recipient};
use surrealdb::types::{RecordId, SurrealValue};

use super::{log_action, Result};
use crate::accounts::Admin;
use crate::context::Ctx;
use crate::crypto::random_id;
use crate::db::ids::key_string;
use crate::error::Error;

pub const BREACH_DEADLINE_SECS: i64 = 72 * 3600;

#[derive(Debug, SurrealValue)]
struct RecipientRow {
    id: RecordId,
    name: String,
    purpose: String,
    categories: Vec<String>,
    country: String,
    safeguards: String,
}

/// Public: every declared recipient, for /privacy and the registration page.
pub async fn recipients(ctx: &Ctx) -> Result<Vec<Recipient>> {
    let rows: Vec<RecipientRow> = ctx.db.client().query("SELECT * FROM recipient ORDER BY created_at").await?.take(0)?;
    Ok(rows
        .into_iter()
        .map(|r| Recipient { id: key_string(&r.id), name: r.name, purpose: r.purpose, categories: r.categories, country: r.country, safeguards: r.safeguards })
        .collect())
}

fn recipients_text(list: &[Recipient]) -> String {
    if list.is_empty() {
        return "We share personal data with no one.".to_string();
    }
    list.iter()
        .map(|r| format!("- {} ({}): {}; data: {}; safeguards: {}", r.name, r.country, r.purpose, r.categories.join(", "), r.safeguards))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Declares (empty id) or changes a recipient. A change to the list is a
/// policy change: a new privacy-policy version is published and users are told.
pub async fn save_recipient(ctx: &Ctx, admin: &Admin, password: &str, recipient: Recipient) -> Result<String> {
    admin.reauthenticate(ctx, password).await?;
    let fields = [&recipient.name, &recipient.purpose, &recipient.country, &recipient.safeguards];
    if fields.iter().any(|f| f.trim().is_empty()) || recipient.categories.is_empty() {
        return Err(AppError::IncompleteForm.into());
    }
    // The name and country go into the policy change's mail, and every
    // field into the published policy, one line each.
    let categories = recipient.categories.iter().map(|c| ("Each category of data", c.trim()));
    app::text::require_single_line(
        [
            ("The recipient's name", recipient.name.trim()),
            ("The purpose", recipient.purpose.trim()),
            ("The country", recipient.country.trim()),
            ("The safeguards", recipient.safeguards.trim()),
        ]
        .into_iter()
        .chain(categories),
    )?;
    let id = if recipient.id.is_empty() { random_id() } else { recipient.id.clone() };
    ctx.db
        .client()
        .query("UPSERT $id SET name = $name, purpose = $purpose, categories = $categories, country = $country, safeguards = $safeguards, created_at = created_at ?? $now")
        .bind(("id", RecordId::new("recipient", id.clone())))
        .bind(("name", recipient.name.trim().to_string()))
        .bind(("purpose", recipient.purpose.trim().to_string()))
        .bind(("categories", recipient.categories.clone()))
        .bind(("country", recipient.country.trim().to_string()))
        .bind(("safeguards", recipient.safeguards.trim().to_string()))
        .bind(("now", ctx.now()))
        .await?
        .check()?;
    log_action(ctx, admin, "save_recipient", Some(&id), None).await?;
    announce_recipient_change(ctx, &format!("We now share data with {}.", recipient.name.trim())).await?;
    Ok(id)
}

pub async fn remove_recipient(ctx: &Ctx, admin: &Admin, password: &str, id: &str) -> Result<()> {
    admin.reauthenticate(ctx, password).await?;
    ctx.db.client().query("DELETE $id").bind(("id", RecordId::new("recipient", id.to_string()))).await?.check()?;
    log_action(ctx, admin, "remove_recipient", Some(id), None).await?;
    announce_recipient_change(ctx, "We no longer share data with a former recipient.").await
}

async fn announce_recipient_change(ctx: &Ctx, summary: &str) -> Result<()> {
    let list = recipients(ctx).await?;
    let body = format!(
        "{}{}{}",
        crate::policies::documents::current_body(ctx, "privacy").await?,
        crate::policies::documents::RECIPIENTS_HEADING,
        recipients_text(&list)
    );
    crate::policies::documents::publish(ctx, "privacy", "Privacy policy", &body, summary).await?;
    Ok(())
}

/// `YYYY-MM-DDTHH:MM` at `offset` minutes east of UTC, as Unix seconds.
pub fn parse_local_time(local: &str, offset_minutes: i32) -> Option<i64> {
    let (date, time) = local.trim().split_once('T')?;
    let mut d = date.split('-').map(|p| p.parse::<i64>());
    let (y, m, day) = (d.next()?.ok()?, d.next()?.ok()?, d.next()?.ok()?);
    let mut t = time.split(':').map(|p| p.parse::<i64>());
    let (hh, mm) = (t.next()?.ok()?, t.next()?.ok()?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) || !(0..24).contains(&hh) || !(0..60).contains(&mm) || offset_minutes.abs() > 14 * 60 {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hh * 3600 + mm * 60 - i64::from(offset_minutes) * 60)
}

#[derive(Debug, SurrealValue)]
struct BreachRow {
    id: RecordId,
    discovered_at: i64,
    nature: String,
    categories: Vec<String>,
    approx_affected: i64,
    consequences: String,
    measures: String,
    authority_notified_at: Option<i64>,
}

async fn log_change(ctx: &Ctx, breach: &str, admin_id: &str, change: &str) -> Result<()> {
    ctx.db
        .client()
        .query("CREATE $id SET breach = $breach, at = $now, admin_id = $admin, change = $change")
        .bind(("id", RecordId::new("breach_change", random_id())))
        .bind(("breach", RecordId::new("breach", breach.to_string())))
        .bind(("now", ctx.now()))
        .bind(("admin", admin_id.to_string()))
        .bind(("change", change.to_string()))
        .await?
        .check()?;
    Ok(())
}

pub async fn record_breach(ctx: &Ctx, admin: &Admin, input: BreachInput) -> Result<String> {
    let discovered_at = parse_local_time(&input.discovered_local, input.utc_offset_minutes).ok_or(AppError::IncompleteForm)?;
    if input.nature.trim().is_empty() || input.categories.is_empty() || input.approx_affected < 0 {
        return Err(AppError::IncompleteForm.into());
    }
    // Each goes into the mail to the people affected.
    let categories = input.categories.iter().map(|c| ("Each category of data", c.trim()));
    app::text::require_single_line(
        [
            ("The nature of the breach", input.nature.trim()),
            ("The likely consequences", input.consequences.trim()),
            ("The measures taken", input.measures.trim()),
        ]
        .into_iter()
        .chain(categories),
    )?;
    let id = random_id();
    ctx.db
        .client()
        .query(
            "CREATE $id SET discovered_at = $discovered, nature = $nature, categories = $categories, approx_affected = $affected, \
             consequences = $consequences, measures = $measures, created_at = $now",
        )
        .bind(("id", RecordId::new("breach", id.clone())))
        .bind(("discovered", discovered_at))
        .bind(("nature", input.nature.trim().to_string()))
        .bind(("categories", input.categories))
        .bind(("affected", input.approx_affected))
        .bind(("consequences", input.consequences.trim().to_string()))
        .bind(("measures", input.measures.trim().to_string()))
        .bind(("now", ctx.now()))
        .await?
        .check()?;
    log_change(ctx, &id, admin.account_id(), "recorded").await?;
    log_action(ctx, admin, "record_breach", Some(&id), None).await?;
    Ok(id)
}

/// Marks the breach as notified to the supervisory authority (now).
pub async fn mark_authority_notified(ctx: &Ctx, admin: &Admin, password: &str, id: &str) -> Result<()> {
    admin.reauthenticate(ctx, password).await?;
    let updated: Vec<RecordId> = ctx
        .db
        .client()
        .query("UPDATE $id SET authority_notified_at = $now RETURN VALUE id")
        .bind(("id", RecordId::new("breach", id.to_string())))
        .bind(("now", ctx.now()))
        .await?
        .take(0)?;
    if updated.is_empty() {
        return Err(AppError::BreachNotFound.into());
    }
    log_change(ctx, id, admin.account_id(), "authority notified").await?;
    log_action(ctx, admin, "breach_authority_notified", Some(id), None).await
}

#[derive(Debug, SurrealValue)]
struct Addressee {
    id: RecordId,
    email_enc: String,
}

/// Mails the breach notice to the chosen accounts (all when `account_ids` is None).
/// Returns how many notices were queued.
pub async fn notify_people_of_breach(ctx: &Ctx, admin: &Admin, password: &str, id: &str, account_ids: Option<Vec<String>>) -> Result<usize> {
    admin.reauthenticate(ctx, password).await?;
    let breach = load(ctx, id).await?.ok_or(AppError::BreachNotFound)?;
    let filter = account_ids.map(|ids| ids.into_iter().map(|i| RecordId::new("account", i)).collect::<Vec<_>>());
    let people: Vec<Addressee> = match &filter {
        Some(ids) => ctx.db.client().query("SELECT id, email_enc FROM account WHERE id IN $ids").bind(("ids", ids.clone())).await?.take(0)?,
        None => ctx.db.client().query("SELECT id, email_enc FROM account").await?.take(0)?,
    };
    let mut queued = 0;
    for person in people {
        let account_id = key_string(&person.id);
        let key = ctx.crypto.account_key(&account_id).await?;
        let email = key.open_string(crate::crypto::Field::new("account", &account_id, "email"), &person.email_enc)?;
        let mail = crate::mail::templates::breach_notice(&email, &breach.nature, &breach.consequences, &breach.measures).for_account(&account_id);
        crate::mail::enqueue_tagged(ctx, mail, Some(id)).await?;
        queued += 1;
    }
    log_change(ctx, id, admin.account_id(), &format!("{queued} people notified")).await?;
    log_action(ctx, admin, "breach_notify_people", Some(id), None).await?;
    Ok(queued)
}

async fn load(ctx: &Ctx, id: &str) -> Result<Option<BreachRow>> {
    Ok(ctx.db.client().query("SELECT * FROM ONLY $id").bind(("id", RecordId::new("breach", id.to_string()))).await?.take(0)?)
}

pub async fn breaches(ctx: &Ctx, _: &Admin) -> Result<Vec<Breach>> {
    let rows: Vec<BreachRow> = ctx.db.client().query("SELECT * FROM breach ORDER BY discovered_at DESC").await?.take(0)?;
    let mut out = Vec::new();
    for r in rows {
        let id = key_string(&r.id);
        let count = |status: &'static str| {
            let id = id.clone();
            async move {
                let n: Option<i64> = ctx
                    .db
                    .client()
                    .query("RETURN count(SELECT id FROM outbox WHERE breach = $breach AND status = $status)")
                    .bind(("breach", id))
                    .bind(("status", status.to_string()))
                    .await?
                    .take(0)?;
                Ok::<i64, Error>(n.unwrap_or(0))
            }
        };
        out.push(Breach {
            notices_pending: count("pending").await?,
            notices_sent: count("sent").await?,
            notices_failed: count("failed").await?,
            id,
            discovered_at: r.discovered_at,
            deadline: r.discovered_at + BREACH_DEADLINE_SECS,
            nature: r.nature,
            categories: r.categories,
            approx_affected: r.approx_affected,
            consequences: r.consequences,
            measures: r.measures,
            authority_notified_at: r.authority_notified_at,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::parse_local_time;

    #[test]
    fn local_times_convert_to_utc_across_time_zones() {
        let utc = parse_local_time("2026-11-29T10:00", 0).unwrap();
        assert_eq!(utc, 1_795_946_400);
        assert_eq!(parse_local_time("2026-11-29T11:00", 60).unwrap(), utc, "CET");
        assert_eq!(parse_local_time("2026-11-29T15:30", 330).unwrap(), utc, "India");
        assert_eq!(parse_local_time("2026-11-29T05:00", -300).unwrap(), utc, "New York");
        assert_eq!(parse_local_time("2026-11-30T00:00", 14 * 60).unwrap(), utc, "Kiribati, next day");
        assert_eq!(parse_local_time("2024-02-29T00:00", 0).unwrap(), 1_709_164_800, "leap day");
        for bad in ["", "2026-13-01T00:00", "2026-11-29", "2026-11-29T24:00", "x-y-zT1:2"] {
            assert!(parse_local_time(bad, 0).is_none(), "{bad}");
        }
        assert!(parse_local_time("2026-11-29T10:00", 15 * 60).is_none());
    }
}
