//! Broadcasts: campaigns to a Page's leads, only inside Meta's standard
//! window (with a safety margin), never with a message tag, always with an
//! unsubscribe link. A durable per-recipient queue in the database makes
//! sending crash-safe and safe across instances (see `sender`).

mod eta;
mod preview;
pub use preview::preview_campaign;
mod dashboard;
pub use dashboard::dashboard;
pub mod gate;
mod queue;
pub mod receipts;
pub mod sender;
pub mod stats;
mod tally;
pub use app::template;
mod thread;
pub use thread::conversation;
pub mod unsubscribe;

use app::error::AppError;
use app::types::{CampaignInput, CampaignState, CampaignSummary, PageStatus, ScheduleInput};
use serde::{Deserialize, Serialize};
use surrealdb::types::{RecordId, SurrealValue};

use crate::accounts::Ready;
use crate::context::Ctx;
use crate::crypto::{Field, SecretKey};
use crate::db::ids::{account_record, key_string};
use crate::db::ids::{record, valid_key};
use crate::error::{Error, Result};
use crate::messenger::leads::Dependents;
use crate::messenger::pages::{self, PageRow};

pub const DEFAULT_MARGIN_HOURS: i64 = 23;
pub const DEFAULT_RATE: i64 = 250;
pub use app::campaign_rules::MAX_RATE;

/// What a campaign says, sealed under the account's key as one blob
/// (`content_enc`): a campaign text can name people ("Hi Maria, your
/// order…"), and destroying the key at erasure must make it unreadable.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignContent {
    pub name: String,
    pub text: String,
    pub fallback_first_name: String,
    pub fallback_last_name: String,
    pub quick_replies: Vec<String>,
    pub button_title: Option<String>,
    pub button_url: Option<String>,
}

impl CampaignContent {
    fn from_input(input: &CampaignInput) -> Self {
        CampaignContent {
            name: input.name.trim().to_string(),
            text: input.text.trim().to_string(),
            fallback_first_name: input.fallback_first_name.trim().to_string(),
            fallback_last_name: input.fallback_last_name.trim().to_string(),
            quick_replies: input.quick_replies.iter().map(|q| q.trim().to_string()).collect(),
            button_title: input.button_title.as_ref().map(|t| t.trim().to_string()),
            button_url: input.button_url.as_ref().map(|u| u.trim().to_string()),
        }
    }

    pub fn seal(&self, key: &SecretKey, campaign_key: &str) -> Result<String> {
        let json = serde_json::to_string(self).map_err(|e| Error::json("sealed content could not be written", e))?;
        Ok(key.seal_str(Field::new("campaign", campaign_key, "content"), &json))
    }
}

#[derive(Debug, Clone, SurrealValue)]
pub struct CampaignRow {
    pub id: RecordId,
    pub account: RecordId,
    pub page: RecordId,
    pub content_enc: String,
    pub include_labels: Vec<RecordId>,
    pub exclude_labels: Vec<RecordId>,
    pub margin_hours: i64,
    pub rate_per_sec: i64,
    pub state: String,
    pub pause_reason: Option<String>,
    pub scheduled_at: Option<i64>,
    pub schedule_label: Option<String>,
    pub queue_built: bool,
    pub queue_after: Option<String>,
    pub total: i64,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
}

impl CampaignRow {
    pub fn key(&self) -> String {
        key_string(&self.id)
    }

    pub fn state(&self) -> Result<CampaignState> {
        Ok(self.state.parse()?)
    }

    /// What it says, opened with the account's key.
    pub fn content(&self, key: &SecretKey) -> Result<CampaignContent> {
        let json = key.open_string(Field::new("campaign", &self.key(), "content"), &self.content_enc)?;
        serde_json::from_str(&json).map_err(|e| Error::json("sealed content could not be read", e))
    }

    pub fn input(&self, key: &SecretKey) -> Result<CampaignInput> {
        let content = self.content(key)?;
        Ok(CampaignInput {
            id: Some(self.key()),
            name: content.name,
            page: key_string(&self.page),
            text: content.text,
            fallback_first_name: content.fallback_first_name,
            fallback_last_name: content.fallback_last_name,
            quick_replies: content.quick_replies,
            button_title: content.button_title,
            button_url: content.button_url,
            include_labels: self.include_labels.iter().map(key_string).collect(),
            exclude_labels: self.exclude_labels.iter().map(key_string).collect(),
            margin_hours: self.margin_hours,
            rate_per_sec: self.rate_per_sec,
        })
    }
}

fn invalid(reason: &str) -> Error {
    AppError::InvalidCampaign { reason: reason.to_string() }.into()
}

/// A checked campaign: the Page it targets and its labels as records.
struct Checked {
    page: PageRow,
    include: Vec<RecordId>,
    exclude: Vec<RecordId>,
}

/// A button's link: an absolute https address with a host and no
/// credentials, as written (the parser would quietly mend some mistakes).
fn is_https_link(link: &str) -> bool {
    let parsed = url::Url::parse(link);
    link.len() <= 1000
        && link.strip_prefix("https://").is_some_and(|rest| !rest.starts_with(['/', '\\']))
        && parsed.is_ok_and(|u| u.scheme() == "https" && u.host_str().is_some_and(|h| !h.is_empty()) && u.username().is_empty() && u.password().is_none())
}

async fn check(ctx: &Ctx, account_id: &str, input: &CampaignInput) -> Result<Checked> {
    if let Some(first) = app::campaign_rules::field_errors(input, is_https_link).into_iter().next() {
        return Err(invalid(&first.reason));
    }
    let page = pages::owned(ctx, account_id, &input.page).await?;
    let labels: Vec<String> = crate::messenger::labels::labels_of(ctx, account_id).await?.into_iter().map(|l| l.id).collect();
    let as_records = |ids: &[String]| -> Result<Vec<RecordId>> {
        ids.iter().map(|id| if labels.contains(id) { Ok(record("label", id)) } else { Err(AppError::LabelNotFound.into()) }).collect()
    };
    Ok(Checked { page, include: as_records(&input.include_labels)?, exclude: as_records(&input.exclude_labels)? })
}

pub async fn owned(ctx: &Ctx, account_id: &str, id: &str) -> Result<CampaignRow> {
    if !valid_key(id) {
        return Err(AppError::CampaignNotFound.into());
    }
    let row: Option<CampaignRow> = ctx.db.client().query("SELECT * FROM ONLY $id").bind(("id", record("campaign", id))).await?.take(0)?;
    match row {
        Some(row) if key_string(&row.account) == account_id => Ok(row),
        _ => Err(AppError::CampaignNotFound.into()),
    }
}

pub async fn load(ctx: &Ctx, id: &RecordId) -> Result<Option<CampaignRow>> {
    Ok(ctx.db.client().query("SELECT * FROM ONLY $id").bind(("id", id.clone())).await?.take(0)?)
}

/// Creates a draft, or edits one.
pub async fn save_campaign(ctx: &Ctx, caller: &Ready, input: CampaignInput) -> Result<String> {
    let (session, key) = (&caller.session, &caller.key);
    let checked = check(ctx, &session.account_id, &input).await?;
    let id = match &input.id {
        Some(id) => {
            let row = owned(ctx, &session.account_id, id).await?;
            if row.state()? != CampaignState::Draft {
                return Err(AppError::CampaignStateConflict.into());
            }
            row.key()
        }
        None => crate::crypto::random_id(),
    };
    ctx.db
        .client()
        .query(
            "UPSERT $id SET account = $account, page = $page, content_enc = $content, \
             include_labels = $include, exclude_labels = $exclude, margin_hours = $margin, rate_per_sec = $rate, \
             state = 'draft', queue_built = false, total = 0, created_at = created_at ?? $now",
        )
        .bind(("id", record("campaign", &id)))
        .bind(("account", account_record(&session.account_id)))
        .bind(("page", checked.page.id.clone()))
        .bind(("content", CampaignContent::from_input(&input).seal(key, &id)?))
        .bind(("include", checked.include))
        .bind(("exclude", checked.exclude))
        .bind(("margin", input.margin_hours))
        .bind(("rate", input.rate_per_sec))
        .bind(("now", ctx.now()))
        .await?
        .check()?;
    Ok(id)
}

/// The audience conditions shared by the count and the queue builder.
pub fn audience_conditions(include: &[RecordId], exclude: &[RecordId]) -> String {
    let mut conditions = vec!["page = $page"];
    if !include.is_empty() {
        conditions.push("labels CONTAINSANY $include");
    }
    if !exclude.is_empty() {
        conditions.push("labels CONTAINSNONE $exclude");
    }
    conditions.join(" AND ")
}

/// How many campaigns the campaigns page lists, newest first.
pub const LISTED_CAMPAIGNS: i64 = 200;

/// The account's newest `limit` campaigns.
pub async fn campaigns(ctx: &Ctx, caller: &Ready, limit: i64) -> Result<Vec<CampaignSummary>> {
    let (session, key) = (&caller.session, &caller.key);
    let rows: Vec<CampaignRow> = ctx
        .db
        .client()
        .query("SELECT * FROM campaign WHERE account = $account ORDER BY created_at DESC LIMIT $limit")
        .bind(("account", account_record(&session.account_id)))
        .bind(("limit", limit))
        .await?
        .take(0)?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        out.push(stats::summary(ctx, &row, key).await?);
    }
    Ok(out)
}

/// A state change the owner asks for: the states it may start from, the
/// state it ends in, and the one statement that makes it.
#[derive(Clone, Copy, Debug)]
enum Transition {
    SendNow,
    Pause,
    Resume,
    Cancel,
}

impl Transition {
    fn from(self) -> &'static [CampaignState] {
        use CampaignState::*;
        match self {
            Transition::SendNow => &[Draft, Scheduled],
            Transition::Pause => &[Sending, Scheduled],
            Transition::Resume => &[Paused],
            Transition::Cancel => &[Draft, Scheduled, Sending, Paused],
        }
    }

    fn to(self) -> CampaignState {
        match self {
            Transition::SendNow | Transition::Resume => CampaignState::Sending,
            Transition::Pause => CampaignState::Paused,
            Transition::Cancel => CampaignState::Cancelled,
        }
    }

    fn statement(self) -> &'static str {
        match self {
            Transition::SendNow => "UPDATE $id SET state = $to, started_at = $now, scheduled_at = NONE WHERE state IN $from RETURN id",
            Transition::Pause => "UPDATE $id SET state = $to, pause_reason = 'Paused by you.' WHERE state IN $from RETURN id",
            // A campaign paused while scheduled, resumed before its time, waits for its time again.
            Transition::Resume => {
                "UPDATE $id SET state = IF started_at IS NONE AND scheduled_at > $now THEN 'scheduled' ELSE $to END, pause_reason = NONE, \
                 started_at = IF started_at IS NONE AND scheduled_at > $now THEN NONE ELSE started_at ?? $now END WHERE state IN $from RETURN id"
            }
            Transition::Cancel => "UPDATE $id SET state = $to, finished_at = $now WHERE state IN $from RETURN id",
        }
    }
}

/// Makes the change, or says the campaign is no longer in a state it can start from.
async fn transition(ctx: &Ctx, id: &RecordId, change: Transition) -> Result<()> {
    let changed: Vec<serde_json::Value> = ctx
        .db
        .client()
        .query(change.statement())
        .bind(("id", id.clone()))
        .bind(("to", change.to().as_str().to_string()))
        .bind(("from", change.from().iter().map(|s| s.as_str().to_string()).collect::<Vec<_>>()))
        .bind(("now", ctx.now()))
        .await?
        .take(0)?;
    if changed.is_empty() {
        return Err(AppError::CampaignStateConflict.into());
    }
    Ok(())
}

/// Starts sending now (from draft or scheduled).
pub async fn send_campaign_now(ctx: &Ctx, caller: &Ready, id: &str) -> Result<()> {
    let session = &caller.session;
    let row = owned(ctx, &session.account_id, id).await?;
    ensure_page_active(ctx, &row).await?;
    transition(ctx, &row.id, Transition::SendNow).await?;
    sender::wake();
    Ok(())
}

async fn ensure_page_active(ctx: &Ctx, row: &CampaignRow) -> Result<()> {
    let page = pages::load(ctx, &key_string(&row.page)).await?.ok_or(AppError::PageNotFound)?;
    match page.status()? {
        PageStatus::Active => Ok(()),
        PageStatus::NeedsReconnection | PageStatus::Disconnected => Err(AppError::PageNeedsReconnection.into()),
    }
}

/// Schedules a draft for a local date and time in a named zone; returns the instant.
pub async fn schedule_campaign(ctx: &Ctx, caller: &Ready, id: &str, input: ScheduleInput) -> Result<i64> {
    let session = &caller.session;
    let row = owned(ctx, &session.account_id, id).await?;
    let at = parse_schedule(&input).ok_or(AppError::InvalidSchedule)?;
    if at <= ctx.now() {
        return Err(AppError::InvalidSchedule.into());
    }
    let label = format!("{} {} ({})", input.date.trim(), input.time.trim(), input.time_zone.trim());
    ctx.db
        .client()
        .query("UPDATE $id SET state = 'scheduled', scheduled_at = $at, schedule_label = $label WHERE state IN ['draft', 'scheduled']")
        .bind(("id", row.id.clone()))
        .bind(("at", at))
        .bind(("label", label))
        .await?
        .check()?;
    let now_row = load(ctx, &row.id).await?.ok_or(AppError::CampaignNotFound)?;
    if now_row.state()? != CampaignState::Scheduled {
        return Err(AppError::CampaignStateConflict.into());
    }
    Ok(at)
}

/// A local date and time in an IANA zone, as Unix seconds (a time that a
/// daylight-saving change skips resolves to the later side).
pub fn parse_schedule(input: &ScheduleInput) -> Option<i64> {
    let date: jiff::civil::Date = input.date.trim().parse().ok()?;
    let time: jiff::civil::Time = input.time.trim().parse().ok()?;
    let zone = jiff::tz::TimeZone::get(input.time_zone.trim()).ok()?;
    let zoned = date.to_datetime(time).to_zoned(zone).ok()?;
    Some(zoned.timestamp().as_second())
}

pub async fn pause_campaign(ctx: &Ctx, caller: &Ready, id: &str) -> Result<()> {
    let session = &caller.session;
    let row = owned(ctx, &session.account_id, id).await?;
    transition(ctx, &row.id, Transition::Pause).await
}

pub async fn resume_campaign(ctx: &Ctx, caller: &Ready, id: &str) -> Result<()> {
    let session = &caller.session;
    let row = owned(ctx, &session.account_id, id).await?;
    ensure_page_active(ctx, &row).await?;
    transition(ctx, &row.id, Transition::Resume).await?;
    sender::wake();
    Ok(())
}

/// Cancels at any point: nothing more is sent; what was queued is skipped.
pub async fn cancel_campaign(ctx: &Ctx, caller: &Ready, id: &str) -> Result<()> {
    let session = &caller.session;
    let row = owned(ctx, &session.account_id, id).await?;
    transition(ctx, &row.id, Transition::Cancel).await?;
    ctx.db.client().query(SKIP_PENDING_RECIPIENTS).bind(("campaign", row.id.clone())).await?.check()?;
    Ok(())
}

/// Statements with a WHERE on an indexed field (checked by `index_use`).
pub(crate) const SKIP_PENDING_RECIPIENTS: &str =
    "UPDATE campaign_recipient SET state = 'skipped', reason = 'campaign cancelled' WHERE campaign = $campaign AND state = 'pending'";
pub(crate) const ERASE_LEAD_DELIVERIES: &str = "DELETE campaign_recipient WHERE lead = $id";
/// A lead's echoes share their recipients' keys; run before `ERASE_LEAD_DELIVERIES`.
pub(crate) const ERASE_LEAD_ECHOES: &str = "DELETE (SELECT VALUE type::record('campaign_echo', record::id(id)) FROM campaign_recipient WHERE lead = $id)";
pub(crate) const ERASE_CAMPAIGN_QUEUE: &str = "DELETE campaign_recipient WHERE campaign = $id";
pub(crate) const ERASE_CAMPAIGN_ECHOES: &str = "DELETE campaign_echo WHERE campaign = $id";

/// What of a lead's or a Page's data is the campaigns': erased with them
/// (`messenger::leads` runs these, in one guarded deletion per lead).
pub const DEPENDENTS: Dependents =
    Dependents { of_lead: &[tally::FOLD_LEAD_DELIVERIES, ERASE_LEAD_ECHOES, ERASE_LEAD_DELIVERIES], of_page: erase_page_campaigns_boxed };

fn erase_page_campaigns_boxed<'a>(ctx: &'a Ctx, page: &'a RecordId) -> futures::future::BoxFuture<'a, Result<()>> {
    Box::pin(erase_page_campaigns(ctx, page))
}

/// With a Page erased: its campaigns and their queues. Most of a queue goes
/// in batches; the campaign then goes guarded (`queue` explains why) with
/// what is left of its queue, so a crash never leaves rows of a campaign
/// that is gone.
async fn erase_page_campaigns(ctx: &Ctx, page: &RecordId) -> Result<()> {
    let campaigns: Vec<RecordId> = ctx.db.client().query("SELECT VALUE id FROM campaign WHERE page = $page").bind(("page", page.clone())).await?.take(0)?;
    for campaign in campaigns {
        loop {
            let ids: Vec<RecordId> =
                ctx.db.client().query("SELECT VALUE id FROM campaign_recipient WHERE campaign = $c LIMIT 1000").bind(("c", campaign.clone())).await?.take(0)?;
            if ids.is_empty() {
                break;
            }
            ctx.db.client().query("DELETE $ids").bind(("ids", ids)).await?.check()?;
        }
        pages::delete_guarded(ctx.db.client(), page, &campaign, ERASE_CAMPAIGN_QUEUE).await?;
        ctx.db.client().query(ERASE_CAMPAIGN_ECHOES).bind(("id", campaign.clone())).await?.check()?;
        ctx.db.client().query(tally::ERASE_CAMPAIGN_TALLY).bind(("id", campaign.clone())).await?.check()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_resolve_in_their_time_zone() {
        let paris = ScheduleInput { date: "2026-12-24".into(), time: "09:30".into(), time_zone: "Europe/Paris".into() };
        assert_eq!(parse_schedule(&paris), Some(1_798_101_000)); // 08:30 UTC
        let ny = ScheduleInput { time_zone: "America/New_York".into(), ..paris.clone() };
        assert_eq!(parse_schedule(&ny), Some(1_798_101_000 + 6 * 3600));
        assert_eq!(parse_schedule(&ScheduleInput { time_zone: "Mars/Olympus".into(), ..paris.clone() }), None);
        assert_eq!(parse_schedule(&ScheduleInput { date: "2026-02-30".into(), ..paris.clone() }), None);
        assert_eq!(parse_schedule(&ScheduleInput { time: "25:00".into(), ..paris }), None);
    }

    #[test]
    fn a_button_links_only_to_an_https_address_with_a_host() {
        assert!(is_https_link("https://shop.example.org/spring?ref=news"));
        for bad in ["http://shop.example.org", "https://", "https:///path", "https://user:pw@shop.example.org", "javascript:alert(1)", "shop.example.org"] {
            assert!(!is_https_link(bad), "{bad}");
        }
        assert!(!is_https_link(&format!("https://shop.example.org/{}", "a".repeat(1000))));
    }
}
