//! The audience count, and the message as a lead of that audience will see
//! it: their own names, the Page's name, the automated-message disclosure
//! when the Page asks for it, and the unsubscribe footer.

use app::types::{AudiencePreview, CampaignInput};

use super::{audience_conditions, check, template};
use crate::accounts::Ready;
use crate::context::Ctx;
use crate::error::Result;
use crate::messenger::leads::{LeadRecord, LIST_FIELDS};

pub async fn preview_campaign(ctx: &Ctx, caller: &Ready, input: CampaignInput) -> Result<AudiencePreview> {
    let (session, key) = (&caller.session, &caller.key);
    let checked = check(ctx, &session.account_id, &input).await?;
    let conditions = audience_conditions(&checked.include, &checked.exclude);
    let query = format!(
        "RETURN count(SELECT id FROM lead WHERE {conditions} AND subscribed = true AND unavailable = false AND last_interaction_at > $window_start); \
         RETURN count(SELECT id FROM lead WHERE {conditions} AND subscribed = true AND unavailable = false AND (last_interaction_at IS NONE OR last_interaction_at <= $window_start)); \
         RETURN count(SELECT id FROM lead WHERE {conditions} AND (subscribed = false OR unavailable = true)); \
         SELECT {LIST_FIELDS} FROM lead WHERE {conditions} AND subscribed = true AND unavailable = false LIMIT 1;"
    );
    let mut response = ctx
        .db
        .client()
        .query(query)
        .bind(("page", checked.page.id.clone()))
        .bind(("include", checked.include))
        .bind(("exclude", checked.exclude))
        .bind(("window_start", ctx.now() - input.margin_hours * 3600))
        .await?;
    let reachable: Option<i64> = response.take(0)?;
    let outside: Option<i64> = response.take(1)?;
    let excluded: Option<i64> = response.take(2)?;
    let sample: Vec<LeadRecord> = response.take(3)?;
    // A lead of the audience, as they will see it; an example name while it is empty.
    let (first, last) = match sample.first() {
        Some(lead) => (lead.first_name(key)?, lead.last_name(key)?),
        None => (Some("Ana".to_string()), Some("Lopez".to_string())),
    };
    let page_name = checked.page.name(key)?;
    let mut preview = template::render(&input.text, first.as_deref(), last.as_deref(), &input.fallback_first_name, &input.fallback_last_name, &page_name);
    if checked.page.bot_disclosure {
        preview = format!("{} {preview}", crate::messenger::keywords::BOT_DISCLOSURE);
    }
    preview.push_str(&template::unsubscribe_footer(&ctx.link("/u/…")));
    Ok(AudiencePreview { reachable_now: reachable.unwrap_or(0), outside_window: outside.unwrap_or(0), excluded: excluded.unwrap_or(0), preview })
}
