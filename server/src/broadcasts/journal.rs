//! The send journal: an append-only file per campaign, outside the database,
//! that records which recipients were claimed and which messages Meta
//! accepted (from its 200 or its echo).
//!
//! Why: the embedded engine (SurrealKV 3.3.5) can lose commits it had
//! acknowledged when the process is killed (its WAL repair stops at a torn
//! record). The queue's states alone could then send a message twice. Each
//! line is written before the database write it guards, and synced to disk
//! before the outcome is written; at start, `replay` restores from the
//! journal whatever the database forgot, before anything is sent.
//!
//! A line holds only our own random record keys and Meta's message id:
//! `C <lead>` (claimed) or `A <lead> <mid> <ms>` (accepted). A file is
//! removed an hour after its campaign ends, and at once when the campaign
//! is erased.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use surrealdb::types::{RecordId, SurrealValue};

use super::sender::recipient_id;
use crate::context::Ctx;
use crate::messenger::{valid_key, MessengerError, Result};
use crate::sessions::key_string;

const SUFFIX: &str = "journal";
const REPLAY_BATCH: usize = 1_000;
/// A finished campaign's journal is kept this long: the database may yet
/// forget the last seconds before the campaign ended.
const KEEP_AFTER_END_SECS: i64 = 3_600;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    Claimed { lead: String },
    Accepted { lead: String, mid: Option<String>, at_ms: i64 },
}

pub struct Journal {
    dir: PathBuf,
    files: Mutex<HashMap<String, Arc<File>>>,
}

impl Journal {
    pub fn open(dir: PathBuf) -> io::Result<Self> {
        fs::create_dir_all(&dir)?;
        Ok(Journal { dir, files: Mutex::new(HashMap::new()) })
    }

    fn path(&self, campaign: &str) -> io::Result<PathBuf> {
        if !valid_key(campaign) {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "not a campaign key"));
        }
        Ok(self.dir.join(format!("{campaign}.{SUFFIX}")))
    }

    /// The campaign's file; with `create` false, none unless it exists already
    /// (a late echo must not bring back the file of a finished campaign).
    fn file(&self, campaign: &str, create: bool) -> io::Result<Option<Arc<File>>> {
        let mut files = self.files.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(file) = files.get(campaign) {
            return Ok(Some(file.clone()));
        }
        let path = self.path(campaign)?;
        let file = match OpenOptions::new().append(true).create(create).open(&path) {
            Ok(file) => Arc::new(file),
            Err(e) if e.kind() == io::ErrorKind::NotFound && !create => return Ok(None),
            Err(e) => return Err(e),
        };
        files.insert(campaign.to_string(), file.clone());
        Ok(Some(file))
    }

    /// One `write` per call, so a kill leaves at most a torn last line.
    fn append(&self, campaign: &str, create: bool, text: &str) -> io::Result<()> {
        match self.file(campaign, create)? {
            Some(file) => (&*file).write_all(text.as_bytes()),
            None => Ok(()),
        }
    }

    /// Before the claim is sent: these recipients may be on their way.
    pub fn claimed<'a>(&self, campaign: &str, leads: impl IntoIterator<Item = &'a str>) -> io::Result<()> {
        let text: String = leads.into_iter().filter(|l| valid_key(l)).map(|l| format!("C {l}\n")).collect();
        self.append(campaign, true, &text)
    }

    /// Meta accepted the message (its 200, or its echo).
    pub fn accepted(&self, campaign: &str, lead: &str, mid: Option<&str>, at_ms: i64, from_echo: bool) -> io::Result<()> {
        if !valid_key(lead) {
            return Ok(());
        }
        let mid = mid.filter(|m| !m.is_empty() && !m.contains(char::is_whitespace)).unwrap_or("-");
        self.append(campaign, !from_echo, &format!("A {lead} {mid} {at_ms}\n"))
    }

    /// Makes what was appended durable; called before the database write it guards.
    pub async fn sync(&self, campaign: &str) -> io::Result<()> {
        let Some(file) = self.file(campaign, false)? else { return Ok(()) };
        tokio::task::spawn_blocking(move || file.sync_data()).await.map_err(io::Error::other)?
    }

    /// The campaigns that have a journal.
    pub fn campaigns(&self) -> io::Result<Vec<String>> {
        let mut keys = Vec::new();
        for entry in fs::read_dir(&self.dir)? {
            let name = entry?.file_name();
            if let Some(key) = name.to_str().and_then(|n| n.strip_suffix(&format!(".{SUFFIX}"))) {
                if valid_key(key) {
                    keys.push(key.to_string());
                }
            }
        }
        keys.sort();
        Ok(keys)
    }

    /// The campaign's entries, streamed; a line without its newline (torn by
    /// a crash) or one that does not parse is skipped.
    pub fn entries(&self, campaign: &str) -> io::Result<impl Iterator<Item = Entry>> {
        let mut reader = BufReader::new(File::open(self.path(campaign)?)?);
        let mut line = Vec::new();
        Ok(std::iter::from_fn(move || loop {
            line.clear();
            match reader.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => return None,
                Ok(_) if line.last() != Some(&b'\n') => return None,
                Ok(_) => {
                    if let Some(entry) = std::str::from_utf8(&line[..line.len() - 1]).ok().and_then(parse) {
                        return Some(entry);
                    }
                }
            }
        }))
    }

    /// Removes the campaign's journal.
    pub fn forget(&self, campaign: &str) -> io::Result<()> {
        self.files.lock().unwrap_or_else(|p| p.into_inner()).remove(campaign);
        match fs::remove_file(self.path(campaign)?) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

#[derive(Debug, SurrealValue)]
struct AcceptedRow {
    id: RecordId,
    lead: RecordId,
    mid: Option<String>,
    at_ms: i64,
    sent_at: i64,
}

#[derive(Debug, SurrealValue)]
struct CampaignOwner {
    id: RecordId,
    account: RecordId,
    state: String,
    finished_at: Option<i64>,
}

/// The campaign a journal belongs to, if it still exists.
async fn campaign_of(ctx: &Ctx, key: &str) -> Result<Option<CampaignOwner>> {
    Ok(ctx
        .db
        .client()
        .query("SELECT id, account, state, finished_at FROM ONLY $id")
        .bind(("id", RecordId::new("campaign", key.to_string())))
        .await?
        .take(0)?)
}

/// Restores from every journal what the database forgot: recipients Meta
/// accepted are marked sent (their queue rows recreated if lost); claims of
/// a campaign still sending that the database shows as pending again become
/// expired claims, so that they wait for their echo before any resend. Run
/// before the sender's first pass.
pub async fn replay(ctx: &Ctx) -> Result<()> {
    for campaign in ctx.journal.campaigns().map_err(MessengerError::Journal)? {
        let Some(row) = campaign_of(ctx, &campaign).await? else { continue };
        let mut restored = 0;
        let mut batch = Vec::with_capacity(REPLAY_BATCH);
        let mut accepted = ctx.journal.entries(&campaign).map_err(MessengerError::Journal)?.filter_map(|e| match e {
            Entry::Accepted { lead, mid, at_ms } => {
                let id = recipient_id(&campaign, &lead);
                Some(AcceptedRow { id, lead: RecordId::new("lead", lead), mid, at_ms, sent_at: at_ms.div_euclid(1000) })
            }
            Entry::Claimed { .. } => None,
        });
        loop {
            batch.extend(accepted.by_ref().take(REPLAY_BATCH));
            if batch.is_empty() {
                break;
            }
            restored += restore_sent(ctx, &row, std::mem::take(&mut batch)).await?;
        }
        let mut reclaimed = 0;
        if row.state == "sending" {
            let mut claimed = ctx.journal.entries(&campaign).map_err(MessengerError::Journal)?.filter_map(|e| match e {
                Entry::Claimed { lead } => Some(recipient_id(&campaign, &lead)),
                Entry::Accepted { .. } => None,
            });
            let mut ids = Vec::with_capacity(REPLAY_BATCH);
            loop {
                ids.extend(claimed.by_ref().take(REPLAY_BATCH));
                if ids.is_empty() {
                    break;
                }
                reclaimed += restore_claims(ctx, std::mem::take(&mut ids)).await?;
            }
        }
        if restored + reclaimed > 0 {
            tracing::warn!(campaign = %campaign, restored, reclaimed, "the send journal restored what the database had lost");
        }
    }
    Ok(())
}

#[derive(Debug, SurrealValue)]
struct Found {
    id: RecordId,
    state: String,
}

/// A queue row recreated as sent.
#[derive(Debug, SurrealValue)]
struct SentEntry {
    id: RecordId,
    account: RecordId,
    campaign: RecordId,
    lead: RecordId,
    state: String,
    mid: Option<String>,
    sent_at: i64,
    sent_at_ms: i64,
    attempts: i64,
    next_attempt_at: i64,
    delivered: bool,
    read: bool,
}

/// Marks sent the accepted recipients the database shows as unsent, and
/// recreates as sent those whose queue row it lost altogether (so that
/// building the queue again does not add them as pending). A lead erased
/// since is left erased.
async fn restore_sent(ctx: &Ctx, campaign: &CampaignOwner, rows: Vec<AcceptedRow>) -> Result<usize> {
    let ids: Vec<RecordId> = rows.iter().map(|r| r.id.clone()).collect();
    let leads: Vec<RecordId> = rows.iter().map(|r| r.lead.clone()).collect();
    let mut response =
        ctx.db.client().query("SELECT id, state FROM $ids; SELECT VALUE id FROM $leads").bind(("ids", ids)).bind(("leads", leads)).await?;
    let found: Vec<Found> = response.take(0)?;
    let leads: Vec<RecordId> = response.take(1)?;
    let states: std::collections::HashMap<String, String> = found.into_iter().map(|f| (key_string(&f.id), f.state)).collect();
    let leads: std::collections::HashSet<String> = leads.iter().map(key_string).collect();
    let mut unsent = Vec::new();
    let mut lost = Vec::new();
    for row in rows {
        match states.get(&key_string(&row.id)).map(String::as_str) {
            Some("pending" | "in_flight") => unsent.push(row),
            None if leads.contains(&key_string(&row.lead)) => lost.push(SentEntry {
                id: row.id,
                account: campaign.account.clone(),
                campaign: campaign.id.clone(),
                lead: row.lead,
                state: "sent".into(),
                mid: row.mid,
                sent_at: row.sent_at,
                sent_at_ms: row.at_ms,
                attempts: 1,
                next_attempt_at: 0,
                delivered: false,
                read: false,
            }),
            _ => {}
        }
    }
    let count = unsent.len() + lost.len();
    if count == 0 {
        return Ok(0);
    }
    ctx.db
        .client()
        .query(
            "FOR $r IN $unsent { UPDATE $r.id SET state = 'sent', reason = NONE, mid = $r.mid ?? mid, sent_at = $r.sent_at, \
             sent_at_ms = $r.at_ms, lease_owner = NONE, lease_until = NONE WHERE state IN ['pending', 'in_flight'] }; \
             INSERT IGNORE INTO campaign_recipient $lost;",
        )
        .bind(("unsent", unsent))
        .bind(("lost", lost))
        .await?
        .check()?;
    Ok(count)
}

/// Claims the database forgot become claims whose lease has just expired.
async fn restore_claims(ctx: &Ctx, ids: Vec<RecordId>) -> Result<usize> {
    let restored: Vec<RecordId> = ctx
        .db
        .client()
        .query("UPDATE (SELECT VALUE id FROM $ids WHERE state = 'pending') SET state = 'in_flight', lease_owner = 'journal', lease_until = $now WHERE state = 'pending' RETURN VALUE id")
        .bind(("ids", ids))
        .bind(("now", ctx.now()))
        .await?
        .take(0)?;
    Ok(restored.len())
}

/// Removes the journals of campaigns erased, or ended more than an hour ago.
pub async fn clean(ctx: &Ctx) -> Result<()> {
    for campaign in ctx.journal.campaigns().map_err(MessengerError::Journal)? {
        let row = campaign_of(ctx, &campaign).await?;
        let old = |row: &CampaignOwner| {
            matches!(row.state.as_str(), "completed" | "cancelled")
                && row.finished_at.is_some_and(|t| t < ctx.now() - KEEP_AFTER_END_SECS)
        };
        if row.as_ref().is_none_or(old) {
            ctx.journal.forget(&campaign).map_err(MessengerError::Journal)?;
        }
    }
    Ok(())
}

fn parse(line: &str) -> Option<Entry> {
    let mut parts = line.split(' ');
    let entry = match (parts.next()?, parts.next()?) {
        ("C", lead) if valid_key(lead) => Entry::Claimed { lead: lead.to_string() },
        ("A", lead) if valid_key(lead) => {
            let mid = parts.next()?;
            let at_ms = parts.next()?.parse().ok()?;
            Entry::Accepted { lead: lead.to_string(), mid: (mid != "-").then(|| mid.to_string()), at_ms }
        }
        _ => return None,
    };
    parts.next().is_none().then_some(entry)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn entries_come_back_in_order_and_a_torn_last_line_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(dir.path().join("j")).unwrap();
        let campaign = "c".repeat(30);
        journal.claimed(&campaign, ["lead1", "lead2", "bad/key"]).unwrap();
        journal.accepted(&campaign, "lead1", Some("m_1"), 1_700_000_000_000, false).unwrap();
        journal.accepted(&campaign, "lead2", None, 5, false).unwrap();
        journal.sync(&campaign).await.unwrap();
        let path = journal.dir().join(format!("{campaign}.journal"));
        let mut torn = OpenOptions::new().append(true).open(&path).unwrap();
        torn.write_all(b"A lead3 m_3 17").unwrap();

        let entries: Vec<Entry> = journal.entries(&campaign).unwrap().collect();
        assert_eq!(
            entries,
            vec![
                Entry::Claimed { lead: "lead1".into() },
                Entry::Claimed { lead: "lead2".into() },
                Entry::Accepted { lead: "lead1".into(), mid: Some("m_1".into()), at_ms: 1_700_000_000_000 },
                Entry::Accepted { lead: "lead2".into(), mid: None, at_ms: 5 },
            ]
        );
        assert_eq!(journal.campaigns().unwrap(), vec![campaign.clone()]);
        assert!(parse("A lead3 m_3").is_none(), "a line cut before its time is skipped");
        assert!(parse("C ../etc").is_none(), "keys are our own alphanumeric keys");
    }

    #[test]
    fn an_echo_never_creates_the_journal_of_a_finished_campaign() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(dir.path().to_path_buf()).unwrap();
        let campaign = "d".repeat(30);
        journal.accepted(&campaign, "lead1", Some("m"), 1, true).unwrap();
        assert!(journal.campaigns().unwrap().is_empty());
        journal.claimed(&campaign, ["lead1"]).unwrap();
        journal.forget(&campaign).unwrap();
        assert!(journal.campaigns().unwrap().is_empty());
        assert!(journal.path("../x").is_err(), "no path outside the folder");
    }
}
