//! The consent ledger: append-only, and chained per account. Each entry
//! carries the previous entry's hash, and the account records the head and
//! the count, so an edited, removed or re-ordered entry is detected. The
//! hash is an HMAC under the installation's index key: someone with only
//! the database cannot forge a consistent chain.

use surrealdb::types::{RecordId, SurrealValue};

use crate::context::Ctx;
use crate::crypto::random_id;
use crate::db::ids::{account_record, key_string};
use crate::error::{Error, Result};

pub const GENESIS: &str = "genesis";
const APPEND_RETRIES: usize = 5;

fn entry_hash(ctx: &Ctx, prev: &str, account_id: &str, seq: i64, document: &str, version: i64, accepted_at: i64) -> String {
    let message = format!("{prev}|{account_id}|{seq}|{document}|{version}|{accepted_at}");
    ctx.crypto.ledger_mac(&message)
}

#[derive(Debug, SurrealValue)]
struct Head {
    consent_count: i64,
    consent_head: String,
}

/// Appends "accepted `document` version N now" to the account's chain. The
/// head and the entry are written in one transaction: a crash between the
/// two would leave a chain that looks tampered with.
pub async fn append(ctx: &Ctx, account_id: &str, document: &str, version: i64) -> Result<()> {
    for _ in 0..APPEND_RETRIES {
        let tx = ctx.with_db(ctx.db.begin().await?);
        let appended = append_once(&tx, account_id, document, version).await;
        let Ctx { db, .. } = tx;
        match appended {
            Ok(Attempt::Appended) => match db.commit().await {
                Ok(()) => return Ok(()),
                // Another append committed first: read the new head and try again.
                Err(e) => tracing::debug!(error = %e, "consent append conflicted; trying again"),
            },
            Ok(Attempt::HeadMoved) => db.cancel().await,
            Ok(Attempt::NoAccount) => {
                db.cancel().await;
                return Ok(());
            }
            Err(e) => {
                db.cancel().await;
                return Err(e);
            }
        }
    }
    Err(Error::internal("consent ledger", "the ledger of an account kept changing while appending"))
}

enum Attempt {
    Appended,
    HeadMoved,
    NoAccount,
}

/// One try on `tx`.
async fn append_once(tx: &Ctx, account_id: &str, document: &str, version: i64) -> Result<Attempt> {
    let head: Option<Head> =
        tx.db.client().query("SELECT consent_count, consent_head FROM ONLY $account").bind(("account", account_record(account_id))).await?.take(0)?;
    let Some(head) = head else { return Ok(Attempt::NoAccount) };
    let seq = head.consent_count + 1;
    let now = tx.now();
    let hash = entry_hash(tx, &head.consent_head, account_id, seq, document, version, now);
    // Check-and-set on the count, so two appends never share a sequence number.
    let moved: Vec<RecordId> = tx
        .db
        .client()
        .query("UPDATE $account SET consent_count = $seq, consent_head = $hash WHERE consent_count = $prev RETURN VALUE id")
        .bind(("account", account_record(account_id)))
        .bind(("seq", seq))
        .bind(("hash", hash.clone()))
        .bind(("prev", head.consent_count))
        .await?
        .take(0)?;
    if moved.is_empty() {
        return Ok(Attempt::HeadMoved);
    }
    tx.db
        .client()
        .query(
            "CREATE $id SET account = $account, document = $document, version = $version, accepted_at = $now, \
             seq = $seq, prev_hash = $prev_hash, hash = $hash",
        )
        .bind(("id", RecordId::new("consent", random_id())))
        .bind(("account", account_record(account_id)))
        .bind(("document", document.to_string()))
        .bind(("version", version))
        .bind(("now", now))
        .bind(("seq", seq))
        .bind(("prev_hash", head.consent_head))
        .bind(("hash", hash))
        .await?
        .check()?;
    Ok(Attempt::Appended)
}

#[derive(Debug, SurrealValue)]
struct Entry {
    document: String,
    version: i64,
    accepted_at: i64,
    seq: i64,
    prev_hash: String,
    hash: String,
}

#[derive(Debug, SurrealValue)]
struct AccountHead {
    id: RecordId,
    consent_count: i64,
    consent_head: String,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Verification {
    pub accounts: usize,
    pub entries: usize,
    /// One line per problem, naming the account id and sequence number.
    pub problems: Vec<String>,
}

/// `server consent verify`: walks every account's chain.
pub async fn verify(ctx: &Ctx) -> Result<Verification> {
    let heads: Vec<AccountHead> = ctx.db.client().query("SELECT id, consent_count, consent_head FROM account").await?.take(0)?;
    let mut report = Verification { accounts: heads.len(), ..Default::default() };
    for head in heads {
        let account_id = key_string(&head.id);
        let entries: Vec<Entry> = ctx
            .db
            .client()
            .query("SELECT document, version, accepted_at, seq, prev_hash, hash FROM consent WHERE account = $account ORDER BY seq")
            .bind(("account", head.id.clone()))
            .await?
            .take(0)?;
        report.entries += entries.len();
        let mut prev = GENESIS.to_string();
        for (i, entry) in entries.iter().enumerate() {
            let expected_seq = i as i64 + 1;
            let recomputed = entry_hash(ctx, &prev, &account_id, entry.seq, &entry.document, entry.version, entry.accepted_at);
            if entry.seq != expected_seq {
                report.problems.push(format!("account {account_id}: entry {expected_seq} is missing"));
                break;
            }
            if entry.prev_hash != prev || entry.hash != recomputed {
                report.problems.push(format!("account {account_id}: entry {} was altered", entry.seq));
                break;
            }
            prev = entry.hash.clone();
        }
        let untouched = report.problems.iter().all(|p| !p.starts_with(&format!("account {account_id}:")));
        if untouched && (entries.len() as i64 != head.consent_count || prev != head.consent_head) {
            report.problems.push(format!("account {account_id}: the last entries were removed"));
        }
    }
    Ok(report)
}
