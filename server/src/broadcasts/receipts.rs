//! What webhook deliveries say about campaign messages: echoes (the proof
//! that Meta accepted a send, `sender::confirm_echoes`), delivery and read
//! receipts. Ingest finds them and returns them in its report; they are
//! applied here on the same transaction as the rest of the batch
//! (`messenger::deliveries` takes `apply` as its `ApplyReceipts`).

use futures::future::BoxFuture;

use crate::context::Ctx;
use crate::error::Result;
use crate::messenger::ingest::CampaignReceipts;

pub fn apply(tx: &Ctx, receipts: Vec<CampaignReceipts>) -> BoxFuture<'_, Result<()>> {
    Box::pin(apply_all(tx, receipts))
}

async fn apply_all(tx: &Ctx, receipts: Vec<CampaignReceipts>) -> Result<()> {
    for CampaignReceipts { account, echoes, delivered_mids, reads } in receipts {
        if !echoes.is_empty() {
            super::sender::confirm_echoes(tx, &account, echoes).await?;
        }
        if !delivered_mids.is_empty() {
            tx.db
                .client()
                // Found by a SELECT on the `mid` index, then updated by id: an UPDATE … WHERE walks the whole table.
                .query(
                    "FOR $mid IN $mids { \
                       UPDATE (SELECT VALUE id FROM campaign_recipient WHERE mid = $mid) SET delivered = true WHERE account = $account AND delivered = false; \
                     }",
                )
                .bind(("account", account.clone()))
                .bind(("mids", delivered_mids))
                .await?
                .check()?;
        }
        if !reads.is_empty() {
            tx.db
                .client()
                .query(
                    "FOR $m IN $marks { \
                       LET $lead = (SELECT VALUE id FROM lead WHERE ident = $m.ident LIMIT 1)[0]; \
                       IF $lead != NONE { \
                         UPDATE (SELECT VALUE id FROM campaign_recipient WHERE lead = $lead) SET read = true, delivered = true WHERE state = 'sent' AND sent_at_ms <= $m.watermark AND read = false; \
                       }; \
                     }",
                )
                .bind(("marks", reads))
                .await?
                .check()?;
        }
    }
    Ok(())
}
