//! A lead's conversation with the campaigns they received, each shown as
//! they read it: their names filled in and the unsubscribe footer, whose
//! link is elided (it is the lead's to click, not the business's).

use std::collections::HashMap;

use app::types::{Conversation, Direction, MessageKind, MessageStatus, MessageView};
use surrealdb::types::{RecordId, SurrealValue};

use super::{load, template};
use crate::accounts::Ready;
use crate::context::Ctx;
use crate::db::ids::key_string;
use crate::error::Result;
use crate::messenger::{inbox, leads};

#[derive(Debug, SurrealValue)]
struct Delivery {
    id: RecordId,
    campaign: RecordId,
    sent_at: Option<i64>,
    delivered: bool,
    read: bool,
}

pub async fn conversation(ctx: &Ctx, caller: &Ready, lead: &str) -> Result<Conversation> {
    let row = leads::owned(ctx, &caller.session.account_id, lead).await?;
    let mut conversation = inbox::conversation(ctx, caller, &row).await?;
    let key = &caller.key;
    let deliveries: Vec<Delivery> = ctx
        .db
        .client()
        .query("SELECT id, campaign, sent_at, delivered, read FROM campaign_recipient WHERE lead = $lead AND state = 'sent'")
        .bind(("lead", row.id.clone()))
        .await?
        .take(0)?;
    // With the history cut at its newest messages, older campaigns are cut too.
    let shown_from = match conversation.messages.first() {
        Some(first) if conversation.messages.len() as i64 >= inbox::HISTORY => first.at,
        _ => i64::MIN,
    };
    let (first, last) = (row.first_name(key)?, row.last_name(key)?);
    // By campaign key: a record id is not a hash key clippy accepts.
    let mut texts: HashMap<String, Option<String>> = HashMap::new();
    for delivery in deliveries {
        let Some(at) = delivery.sent_at.filter(|at| *at >= shown_from) else { continue };
        let campaign_key = key_string(&delivery.campaign);
        if !texts.contains_key(&campaign_key) {
            let text = match load(ctx, &delivery.campaign).await? {
                Some(campaign) => {
                    let c = campaign.content(key)?;
                    let mut text = template::render(
                        &c.text,
                        first.as_deref(),
                        last.as_deref(),
                        &c.fallback_first_name,
                        &c.fallback_last_name,
                        &conversation.lead.page_name,
                    );
                    text.push_str(&template::unsubscribe_footer(&ctx.link("/u/…")));
                    Some(text)
                }
                None => None,
            };
            texts.insert(campaign_key.clone(), text);
        }
        let Some(Some(text)) = texts.get(&campaign_key) else { continue };
        conversation.messages.push(MessageView {
            id: key_string(&delivery.id),
            direction: Direction::Outbound,
            kind: MessageKind::Campaign,
            text: text.clone(),
            at,
            status: match (delivery.read, delivery.delivered) {
                (true, _) => MessageStatus::Read,
                (false, true) => MessageStatus::Delivered,
                (false, false) => MessageStatus::Sent,
            },
        });
    }
    // Stable: messages of one second keep their stored order.
    conversation.messages.sort_by_key(|m| m.at);
    Ok(conversation)
}
