//! A one-time conversion at start, for data written before schema step 14:
//! label names and campaign texts were stored plain; they are sealed under
//! their account's key, and the plain fields emptied. Marked done in
//! `data_upgrade:sealed_texts`, so later starts do not scan again.

use surrealdb::types::{RecordId, SurrealValue};

use crate::broadcasts::CampaignContent;
use crate::context::Ctx;
use crate::crypto::Field;
use crate::db::ids::key_string;
use crate::messenger::Result;

const MARK: &str = "sealed_texts";
const BATCH: i64 = 200;

#[derive(Debug, SurrealValue)]
struct PlainLabel {
    id: RecordId,
    account: RecordId,
    name: String,
}

#[derive(Debug, SurrealValue)]
struct PlainCampaign {
    id: RecordId,
    account: RecordId,
    name: Option<String>,
    text: Option<String>,
    fallback_first_name: Option<String>,
    fallback_last_name: Option<String>,
    quick_replies: Option<Vec<String>>,
    button_title: Option<String>,
    button_url: Option<String>,
}

pub async fn upgrade(ctx: &Ctx) -> Result<()> {
    if crate::db::data_upgrade::is_done(ctx.db.client(), MARK).await? {
        return Ok(());
    }
    let mut sealed = 0;
    loop {
        let labels: Vec<PlainLabel> =
            ctx.db.client().query("SELECT id, account, name FROM label WHERE name IS NOT NONE LIMIT $batch").bind(("batch", BATCH)).await?.take(0)?;
        if labels.is_empty() {
            break;
        }
        for label in labels {
            let key = ctx.crypto.account_key(&key_string(&label.account)).await?;
            let sealed_name = key.seal_str(Field::new("label", &key_string(&label.id), "name"), &label.name);
            ctx.db.client().query("UPDATE $id SET name_enc = $name, name = NONE").bind(("id", label.id)).bind(("name", sealed_name)).await?.check()?;
            sealed += 1;
        }
    }
    loop {
        let campaigns: Vec<PlainCampaign> = ctx
            .db
            .client()
            .query(
                "SELECT id, account, name, text, fallback_first_name, fallback_last_name, quick_replies, button_title, button_url \
                 FROM campaign WHERE content_enc IS NONE LIMIT $batch",
            )
            .bind(("batch", BATCH))
            .await?
            .take(0)?;
        if campaigns.is_empty() {
            break;
        }
        for campaign in campaigns {
            let key = ctx.crypto.account_key(&key_string(&campaign.account)).await?;
            let content = CampaignContent {
                name: campaign.name.unwrap_or_default(),
                text: campaign.text.unwrap_or_default(),
                fallback_first_name: campaign.fallback_first_name.unwrap_or_default(),
                fallback_last_name: campaign.fallback_last_name.unwrap_or_default(),
                quick_replies: campaign.quick_replies.unwrap_or_default(),
                button_title: campaign.button_title,
                button_url: campaign.button_url,
            };
            ctx.db
                .client()
                .query(
                    "UPDATE $id SET content_enc = $content, name = NONE, text = NONE, fallback_first_name = NONE, fallback_last_name = NONE, \
                     quick_replies = NONE, button_title = NONE, button_url = NONE",
                )
                .bind(("content", content.seal(&key, &key_string(&campaign.id))?))
                .bind(("id", campaign.id))
                .await?
                .check()?;
            sealed += 1;
        }
    }
    crate::db::data_upgrade::mark_done(ctx.db.client(), MARK, ctx.now()).await?;
    tracing::info!(sealed, "label names and campaign texts sealed");
    Ok(())
}
