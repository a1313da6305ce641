//! The first steps of a new account: a Page connected, a lead answered, a
//! campaign sent. Each is one indexed lookup that stops at the first row.

use app::types::GettingStarted;

use crate::accounts::Ready;
use crate::context::Ctx;
use crate::db::ids::account_record;
use crate::error::Result;

pub async fn getting_started(ctx: &Ctx, caller: &Ready) -> Result<GettingStarted> {
    let mut response = ctx
        .db
        .client()
        .query(
            "RETURN count(SELECT id FROM page WHERE account = $account LIMIT 1) > 0; \
             RETURN count(SELECT id FROM message WHERE account = $account AND direction = 'outbound' LIMIT 1) > 0; \
             RETURN count(SELECT id FROM campaign WHERE account = $account AND started_at IS NOT NONE LIMIT 1) > 0;",
        )
        .bind(("account", account_record(&caller.session.account_id)))
        .await?;
    let page_connected: Option<bool> = response.take(0)?;
    let lead_answered: Option<bool> = response.take(1)?;
    let campaign_sent: Option<bool> = response.take(2)?;
    Ok(GettingStarted {
        page_connected: page_connected.unwrap_or(false),
        lead_answered: lead_answered.unwrap_or(false),
        campaign_sent: campaign_sent.unwrap_or(false),
    })
}
