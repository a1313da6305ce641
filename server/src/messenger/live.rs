//! The live inbox's feed. A schema event writes an `inbox_signal` with every
//! message and status change; the row is gone at once, but the table's
//! change feed keeps it for an hour. Each instance follows that feed and
//! tells the browsers connected to it which conversation changed, so a
//! browser sees a message that another instance on the same database
//! received. Only ids travel: the browser asks for the conversation itself.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use surrealdb::types::{RecordId, SurrealValue};

use super::Result;
use crate::context::inbox_feed::{InboxFeed, Signal};
use crate::context::Ctx;
use crate::db::ids::key_string;

const POLL_EVERY: Duration = Duration::from_millis(400);
/// Feed entries read per query.
const PAGE: usize = 500;
/// A transaction can commit after one with a later versionstamp was read:
/// what was read in the last seconds is read again, and only what is new
/// is passed on.
const LATE_COMMIT_WINDOW: Duration = Duration::from_secs(5);
/// More conversations of one account changed in one pass than this: its
/// browsers get one "reload everything" instead (a campaign sending).
const MANY: usize = 16;

/// Where the follower is in the feed: the versionstamps read recently, with
/// when they were read, so that a late commit is still passed on once.
#[derive(Debug, Default)]
pub struct Cursor {
    recent: BTreeMap<i64, Instant>,
}

impl Cursor {
    /// The versionstamp to read from (inclusive): the newest one read
    /// before the window, so that what commits late inside the window is
    /// still read; the oldest one if all are recent; 0 at first.
    pub fn since(&self, now: Instant) -> i64 {
        let aged = self.recent.iter().rev().find(|(_, seen)| now.duration_since(**seen) >= LATE_COMMIT_WINDOW).map(|(vs, _)| *vs);
        aged.or_else(|| self.recent.keys().next().copied()).unwrap_or(0)
    }

    /// Notes a versionstamp read at `seen`; true the first time.
    pub fn take(&mut self, versionstamp: i64, seen: Instant) -> bool {
        match self.recent.entry(versionstamp) {
            std::collections::btree_map::Entry::Vacant(e) => {
                e.insert(seen);
                true
            }
            std::collections::btree_map::Entry::Occupied(_) => false,
        }
    }

    /// Forgets what the next read will not return again.
    pub fn prune(&mut self, now: Instant) {
        let since = self.since(now);
        self.recent = self.recent.split_off(&since);
    }
}

#[derive(Debug, SurrealValue)]
struct ChangeSet {
    versionstamp: i64,
    changes: Vec<Change>,
}

#[derive(Debug, SurrealValue)]
struct Change {
    update: Option<SignalRow>,
}

#[derive(Debug, SurrealValue)]
struct SignalRow {
    account: RecordId,
    lead: RecordId,
}

/// One page of the feed from `since`. SurrealQL takes no parameter after
/// `SINCE`; the number is ours, never input.
async fn read_feed(ctx: &Ctx, since: i64) -> Result<Vec<ChangeSet>> {
    let sql = format!("SHOW CHANGES FOR TABLE inbox_signal SINCE {since} LIMIT {PAGE}");
    Ok(ctx.db.client().query(sql).await?.take(0)?)
}

/// Reads what is new in the feed and passes it on, each conversation once
/// per pass. At the first pass (`publish` false) the history is only
/// skipped, and counts as read long ago.
pub async fn follow_once(ctx: &Ctx, feed: &InboxFeed, cursor: &mut Cursor, publish: bool) -> Result<usize> {
    let now = Instant::now();
    let seen = if publish { now } else { now.checked_sub(LATE_COMMIT_WINDOW).unwrap_or(now) };
    let mut since = cursor.since(now);
    let mut changed: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    loop {
        let page = read_feed(ctx, since).await?;
        let full = page.len() == PAGE;
        for set in page {
            since = since.max(set.versionstamp);
            if !cursor.take(set.versionstamp, seen) {
                continue;
            }
            for row in set.changes.into_iter().filter_map(|c| c.update) {
                changed.entry(key_string(&row.account)).or_default().insert(key_string(&row.lead));
            }
        }
        if !full {
            break;
        }
    }
    cursor.prune(now);
    let passed = changed.values().map(BTreeSet::len).sum();
    if publish {
        for signal in signals(changed) {
            feed.publish(signal);
        }
    }
    Ok(passed)
}

/// One signal per changed conversation, or one per account for many.
fn signals(changed: BTreeMap<String, BTreeSet<String>>) -> Vec<Signal> {
    changed
        .into_iter()
        .flat_map(|(account_id, leads)| {
            if leads.len() > MANY {
                vec![Signal { account_id, lead_id: None }]
            } else {
                leads.into_iter().map(|lead| Signal { account_id: account_id.clone(), lead_id: Some(lead) }).collect()
            }
        })
        .collect()
}

/// The background loop: follows the feed while the instance runs.
pub async fn run(ctx: Ctx, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut cursor = Cursor::default();
    let mut caught_up = false;
    loop {
        match follow_once(&ctx, &ctx.inbox_feed, &mut cursor, caught_up).await {
            Ok(_) => caught_up = true,
            Err(e) => tracing::warn!(error = %e, "live inbox: the change feed could not be read"),
        }
        tokio::select! {
            _ = tokio::time::sleep(POLL_EVERY) => {}
            _ = stop.changed() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_versionstamp_is_passed_on_once_however_often_it_is_read_again() {
        let mut cursor = Cursor::default();
        let t0 = Instant::now();
        assert!(cursor.take(10, t0));
        assert!(cursor.take(20, t0));
        assert!(!cursor.take(10, t0));
        assert!(!cursor.take(20, t0));
        assert_eq!(cursor.since(t0), 10, "all recent: read again from the oldest");
    }

    #[test]
    fn a_late_commit_inside_the_window_is_passed_on_once() {
        let mut cursor = Cursor::default();
        let t0 = Instant::now();
        cursor.take(10, t0);
        cursor.take(30, t0);
        let t1 = t0 + Duration::from_secs(1);
        cursor.prune(t1);
        assert_eq!(cursor.since(t1), 10);
        assert!(cursor.take(20, t1), "committed after 30 was read, with an earlier versionstamp");
        assert!(!cursor.take(20, t1));
    }

    #[test]
    fn reading_starts_at_the_newest_versionstamp_read_before_the_window() {
        // 10 read at t0 and 20 just before the window ends; 15 commits late.
        let mut cursor = Cursor::default();
        let t0 = Instant::now();
        cursor.take(10, t0);
        cursor.take(20, t0 + LATE_COMMIT_WINDOW - Duration::from_millis(100));
        let t1 = t0 + LATE_COMMIT_WINDOW + Duration::from_millis(100);
        cursor.prune(t1);
        assert_eq!(cursor.since(t1), 10, "not from 20: 15 would be skipped");
        assert!(cursor.take(15, t1), "0.2 s late after 20, it is passed on");
        assert!(!cursor.take(20, t1) && !cursor.take(10, t1), "nothing twice");
    }

    #[test]
    fn once_everything_aged_reading_starts_at_the_newest_and_older_ones_are_forgotten() {
        let mut cursor = Cursor::default();
        let t0 = Instant::now();
        cursor.take(10, t0);
        cursor.take(30, t0);
        let later = t0 + LATE_COMMIT_WINDOW + Duration::from_millis(1);
        cursor.prune(later);
        assert_eq!(cursor.since(later), 30);
        assert_eq!(cursor.recent.len(), 1, "only the anchor is kept");
        assert!(!cursor.take(30, later), "the newest is read again and known");
        assert!(cursor.take(31, later));
    }

    #[test]
    fn many_conversations_of_one_account_in_one_pass_become_one_reload() {
        let many: BTreeSet<String> = (0..=MANY).map(|i| i.to_string()).collect();
        let few: BTreeSet<String> = ["x".to_string()].into();
        let signals = signals([("busy".to_string(), many), ("quiet".to_string(), few)].into());
        assert_eq!(signals, [Signal { account_id: "busy".into(), lead_id: None }, Signal { account_id: "quiet".into(), lead_id: Some("x".into()) }]);
    }
}
