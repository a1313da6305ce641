//! The inbox's list: every conversation of the account, the most recently
//! active first, with the start of its last message and how many of the
//! lead's messages this user has not opened yet.

use app::error::AppError;
use app::messaging::reply_rule;
use app::types::{ConversationList, ConversationSummary, Direction, UNREAD_CAP};
use surrealdb::types::{RecordId, SurrealValue};

use super::leads::{LeadRecord, LIST_FIELDS};
use super::{open, pages, Result};
use crate::accounts::Ready;
use crate::context::Ctx;
use crate::db::ids::{account_record, key_string, record, valid_key};

/// Conversations per page of the list.
pub const PAGE: i64 = 50;
/// Characters of the last message shown in the list.
pub const PREVIEW_CHARS: usize = 80;

#[derive(Debug, SurrealValue)]
struct Row {
    lead: LeadRecord,
    last_message_key: String,
    last_id: Option<RecordId>,
    last_body_enc: Option<String>,
    last_direction: Option<String>,
    last_at: Option<i64>,
}

#[derive(Debug, SurrealValue)]
struct ReadMark {
    lead: RecordId,
    read_key: String,
}

/// One user's read position in one conversation.
fn read_mark(account_id: &str, lead_id: &str) -> RecordId {
    record("conversation_read", &format!("{account_id}-{lead_id}"))
}

/// The start of a text, cut at a character boundary.
pub fn preview(text: &str) -> String {
    let mut chars = text.chars();
    let head: String = chars.by_ref().take(PREVIEW_CHARS).collect();
    if chars.next().is_some() {
        format!("{}…", head.trim_end())
    } else {
        head
    }
}

pub async fn conversations(ctx: &Ctx, caller: &Ready, after: Option<String>) -> Result<ConversationList> {
    let (account_id, key) = (&caller.session.account_id, &caller.key);
    if after.as_deref().is_some_and(|a| !valid_key(a)) {
        return Err(AppError::BadRequest.into());
    }
    let rows: Vec<Row> = ctx
        .db
        .client()
        .query(format!(
            "SELECT {{ {} }} AS lead, last_message_key, last_message.id AS last_id, last_message.body_enc AS last_body_enc, \
             last_message.direction AS last_direction, last_message.at AS last_at FROM lead \
             WHERE account = $account AND last_message_key != NONE AND ($after = NONE OR last_message_key < $after) \
             ORDER BY last_message_key DESC LIMIT $limit",
            LIST_FIELDS.split(", ").map(|f| format!("{f}: {f}")).collect::<Vec<_>>().join(", ")
        ))
        .bind(("account", account_record(account_id)))
        .bind(("after", after))
        .bind(("limit", PAGE))
        .await?
        .take(0)?;
    let leads: Vec<RecordId> = rows.iter().map(|r| r.lead.id.clone()).collect();
    let marks: Vec<ReadMark> = ctx
        .db
        .client()
        .query("SELECT lead, read_key FROM conversation_read WHERE account = $account AND lead IN $leads")
        .bind(("account", account_record(account_id)))
        .bind(("leads", leads))
        .await?
        .take(0)?;
    let page_names = pages::names(ctx, account_id, key).await?;
    let next = (rows.len() as i64 == PAGE).then(|| rows.last().map(|r| r.last_message_key.clone())).flatten();
    let mut conversations = Vec::with_capacity(rows.len());
    for row in rows {
        let read = marks.iter().find(|m| m.lead == row.lead.id).map(|m| m.read_key.as_str());
        let unread = match read {
            Some(read) if read >= row.last_message_key.as_str() => 0,
            _ => unread_after(ctx, &row.lead.id, read).await?,
        };
        let preview_text = match (&row.last_id, &row.last_body_enc) {
            (Some(id), Some(body)) => Some(preview(&open(key, "message", &key_string(id), "body", body)?)),
            _ => None,
        };
        let last_from_lead = row.last_direction.as_deref().map(str::parse::<Direction>).transpose()? == Some(Direction::Inbound);
        conversations.push(ConversationSummary {
            lead: row.lead.key(),
            name: row.lead.name(key)?,
            page_name: page_names.get(&key_string(&row.lead.page)).cloned().unwrap_or_default(),
            preview: preview_text,
            last_from_lead,
            last_at: row.last_at.unwrap_or(row.lead.created_at),
            unread,
            reply: reply_rule(row.lead.last_interaction_at, ctx.now()),
        });
    }
    Ok(ConversationList { conversations, next })
}

/// The lead's messages after the user's read position, up to the cap.
async fn unread_after(ctx: &Ctx, lead: &RecordId, read: Option<&str>) -> Result<u32> {
    let count: Option<i64> = ctx
        .db
        .client()
        .query("RETURN count(SELECT id FROM message WHERE lead = $lead AND key > $read AND direction = 'inbound' LIMIT $cap)")
        .bind(("lead", lead.clone()))
        .bind(("read", read.unwrap_or("").to_string()))
        .bind(("cap", i64::from(UNREAD_CAP)))
        .await?
        .take(0)?;
    Ok(u32::try_from(count.unwrap_or(0)).unwrap_or(UNREAD_CAP))
}

/// The user has seen the conversation up to `message_key`.
pub async fn mark_read(ctx: &Ctx, account_id: &str, lead: &RecordId, message_key: &str) -> Result<()> {
    // Two tabs may open the same conversation at once: again after a conflict.
    crate::db::retry_on_conflict("mark a conversation read", || async {
        ctx.db
            .client()
            .query("UPSERT $id SET account = $account, lead = $lead, read_key = $key WHERE read_key IS NONE OR read_key < $key")
            .bind(("id", read_mark(account_id, &key_string(lead))))
            .bind(("account", account_record(account_id)))
            .bind(("lead", lead.clone()))
            .bind(("key", message_key.to_string()))
            .await?
            .check()
            .map(drop)
    })
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_preview_keeps_short_texts_whole_and_cuts_long_ones_at_a_character() {
        assert_eq!(preview("Hello"), "Hello");
        let long = "é".repeat(PREVIEW_CHARS + 1);
        let cut = preview(&long);
        assert_eq!(cut.chars().count(), PREVIEW_CHARS + 1, "80 characters and the ellipsis");
        assert!(cut.ends_with('…'));
        assert_eq!(preview(&"a".repeat(PREVIEW_CHARS)), "a".repeat(PREVIEW_CHARS), "exactly 80 is not cut");
    }
}
