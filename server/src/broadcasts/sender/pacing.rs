//! Pacing: per Page, calls are spaced at 1/rate seconds (a little under
//! the rate), and a 613 from Meta backs off.
//!
//! Several instances may send for one Page. Each Page's sending time is
//! therefore handed out in slices from the database (`page_pace`): an
//! instance claims the next free slice, one round trip per slice rather than
//! per message, and places its calls inside its own slices only. The next
//! slice is claimed once the current one is half used, so a slow database
//! round trip delays no call. A call that wakes too late for its slot (a
//! busy runtime) takes a new slot rather than going out late, so calls never
//! bunch: in any one second every instance together makes at most the rate's calls.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::db::Database;

/// Spaces calls per Page, in slices of sending time shared through the database.
pub struct Throttle {
    slots: Arc<Slots>,
}

/// The throttle's state, shared with the claims made ahead in the background.
struct Slots {
    pages: Mutex<HashMap<String, PageSlots>>,
    /// Where each Page's sending time is handed out; `None` only in unit tests
    /// of this file, where one throttle owns all time.
    slices: Option<Database>,
    /// One slice claim at a time per instance: calls waiting for a slice share it.
    claiming: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct PageSlots {
    next: Option<Instant>,
    /// The slice of sending time this instance holds: calls go out before its end.
    slice_end: Option<Instant>,
    /// The slice claimed ahead (start, end), taken when the current one is used up.
    ahead: Option<(Instant, Instant)>,
    /// A claim ahead is under way.
    claiming_ahead: bool,
    /// The current pause after a refusal (613), and how many refusals came in a row.
    paused_until: Option<Instant>,
    strikes: u32,
}

/// Calls are spaced for this share of the rate, so that network jitter at
/// the edges of Meta's counting windows never tips one over.
const WINDOW_SHARE: f64 = 0.99;

/// How late a call may leave after its slot. Later than that it takes a new
/// slot: with the share above, any one second then holds at most the rate.
const LATE_TOLERANCE: Duration = Duration::from_millis(5);

/// The sending time one claim takes: a round trip per 75 calls at 300/s.
const SLICE_MS: i64 = 250;

/// The first pause after a 613. A refusal within `OVERLOAD_WINDOW` after the
/// previous pause ended doubles it, up to `MAX_BACK_OFF`.
const FIRST_BACK_OFF: Duration = Duration::from_millis(50);
const MAX_BACK_OFF: Duration = Duration::from_secs(2);
const OVERLOAD_WINDOW: Duration = Duration::from_millis(250);

/// Takes the Page's next slice: from the end of the last one handed out (or
/// `$now_ms`, if later), `len_ms` long. Returns its end, in Unix milliseconds.
pub(crate) const CLAIM_SLICE: &str = "UPSERT $id SET until_ms = math::max([until_ms ?? 0, $now_ms]) + $len_ms RETURN VALUE until_ms";

fn spacing(rate: i64) -> Duration {
    Duration::from_secs_f64(1.0 / (rate.max(1) as f64 * WINDOW_SHARE))
}

fn slice_len(spacing: Duration) -> Duration {
    Duration::from_millis(SLICE_MS.max(spacing.as_millis() as i64 + 1) as u64)
}

fn unix_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// What a call finds when it looks for its slot.
enum Next {
    /// Its slot, and whether it should claim the next slice ahead.
    Slot { at: Instant, claim_ahead: bool },
    /// No slice of this instance holds it: claim one and look again.
    Claim,
}

impl Throttle {
    /// The throttle of a sending instance: slices come from the database.
    pub fn shared(db: Database) -> Self {
        Throttle { slots: Arc::new(Slots { pages: Mutex::default(), slices: Some(db), claiming: tokio::sync::Mutex::default() }) }
    }

    fn pages(&self) -> std::sync::MutexGuard<'_, HashMap<String, PageSlots>> {
        self.slots.pages()
    }

    /// Waits for this instance's next slot to call `page`.
    pub(super) async fn acquire(&self, page: &str, rate: i64) {
        let spacing = spacing(rate);
        loop {
            match self.slots.next_slot(page, spacing) {
                Next::Claim => self.slots.claim_slice(page, spacing, Claim::Current).await,
                Next::Slot { at, claim_ahead } => {
                    if claim_ahead {
                        let (slots, page) = (self.slots.clone(), page.to_string());
                        tokio::spawn(async move { slots.claim_slice(&page, spacing, Claim::Ahead).await });
                    }
                    tokio::time::sleep_until(at.into()).await;
                    if Instant::now() <= at + LATE_TOLERANCE {
                        return;
                    }
                }
            }
        }
    }

    /// After a 613: a pause before the next call to this Page, returned. At
    /// our pace a refusal usually means that a few calls landed in one of
    /// Meta's counting windows, so the first pause is short; refusals that
    /// come right after it double it, so that a real overload is not
    /// hammered. A refusal of a call already under way during a pause does
    /// not count again.
    pub fn back_off(&self, page: &str) -> Duration {
        let mut pages = self.pages();
        let now = Instant::now();
        let entry = pages.entry(page.to_string()).or_default();
        match entry.paused_until {
            Some(until) if now < until => return until - now,
            Some(until) if now.duration_since(until) < OVERLOAD_WINDOW => entry.strikes += 1,
            _ => entry.strikes = 1,
        }
        let pause = FIRST_BACK_OFF.saturating_mul(1 << (entry.strikes - 1).min(10)).min(MAX_BACK_OFF);
        let until = now + pause;
        entry.paused_until = Some(until);
        entry.next = Some(entry.next.map_or(until, |next| next.max(until)));
        pause
    }
}

/// Which slice a claim is for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Claim {
    /// The slice to send in now: a call waits for it.
    Current,
    /// The one after, claimed while the current one is still being used.
    Ahead,
}

impl Slots {
    fn pages(&self) -> std::sync::MutexGuard<'_, HashMap<String, PageSlots>> {
        // Each change under the lock is a few field writes: a panic leaves it whole.
        self.pages.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes the next slot inside this instance's slices, moving on to the
    /// slice claimed ahead when the current one is used up.
    fn next_slot(&self, page: &str, spacing: Duration) -> Next {
        let mut pages = self.pages();
        let now = Instant::now();
        let entry = pages.entry(page.to_string()).or_default();
        loop {
            let at = entry.next.filter(|t| *t > now).unwrap_or(now);
            if self.slices.is_none() {
                entry.next = Some(at + spacing);
                return Next::Slot { at, claim_ahead: false };
            }
            match entry.slice_end {
                Some(end) if at + spacing <= end => {
                    entry.next = Some(at + spacing);
                    let half_used = end.saturating_duration_since(at) < slice_len(spacing) / 2;
                    let claim_ahead = half_used && entry.ahead.is_none() && !entry.claiming_ahead;
                    entry.claiming_ahead |= claim_ahead;
                    return Next::Slot { at, claim_ahead };
                }
                _ => match entry.ahead.take() {
                    Some((start, end)) => {
                        entry.slice_end = Some(end);
                        // Nothing of this instance goes out before its slice starts.
                        entry.next = Some(entry.next.map_or(start, |next| next.max(start)));
                    }
                    None => return Next::Claim,
                },
            }
        }
    }

    /// Claims the Page's next slice for this instance, unless another call
    /// of this instance did while this one waited.
    async fn claim_slice(&self, page: &str, spacing: Duration, claim: Claim) {
        let Some(db) = &self.slices else { return };
        let _claiming = self.claiming.lock().await;
        let next_slot = {
            let mut pages = self.pages();
            let entry = pages.entry(page.to_string()).or_default();
            let slot = entry.next.filter(|t| *t > Instant::now()).unwrap_or_else(Instant::now);
            let needed = entry.ahead.is_none() && (claim == Claim::Ahead || entry.slice_end.is_none_or(|end| slot + spacing > end));
            if !needed && claim == Claim::Ahead {
                entry.claiming_ahead = false;
            }
            needed.then_some(slot)
        };
        let Some(next_slot) = next_slot else { return };
        let len_ms = slice_len(spacing).as_millis() as i64;
        let claimed = crate::db::retry_on_conflict("page pace slice", || async {
            // The same moment on both clocks: the slice is in Unix time, slots are Instants.
            let (now, now_ms) = (Instant::now(), unix_ms());
            // Not before this instance's next slot (later than now during a back-off).
            let not_before_ms = now_ms + next_slot.saturating_duration_since(now).as_millis() as i64;
            let mut response = db
                .client()
                .query(CLAIM_SLICE)
                .bind(("id", crate::db::ids::record("page_pace", page)))
                .bind(("now_ms", not_before_ms))
                .bind(("len_ms", len_ms))
                .await?
                .check()?;
            let until: Vec<i64> = response.take(0)?;
            Ok((now, now_ms, until.first().copied().unwrap_or(not_before_ms + len_ms)))
        })
        .await;
        let failed = {
            let mut pages = self.pages();
            let entry = pages.entry(page.to_string()).or_default();
            if claim == Claim::Ahead {
                entry.claiming_ahead = false;
            }
            match claimed {
                Ok((now, now_ms, until_ms)) => {
                    let start = now + Duration::from_millis((until_ms - len_ms - now_ms).max(0) as u64);
                    let end = now + Duration::from_millis((until_ms - now_ms).max(0) as u64);
                    match claim {
                        Claim::Ahead => entry.ahead = Some((start, end)),
                        Claim::Current => {
                            entry.slice_end = Some(end);
                            // Nothing of this instance goes out before its slice starts.
                            entry.next = Some(entry.next.map_or(start, |next| next.max(start)));
                        }
                    }
                    None
                }
                Err(e) => Some(e),
            }
        };
        if let Some(e) = failed {
            tracing::warn!(error = %e, "a sending slice could not be claimed; trying again");
            if claim == Claim::Current {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{DbAddress, EngineOptions};

    impl Throttle {
        /// One throttle that owns all time: for the tests of spacing and back-off alone.
        fn local() -> Self {
            Throttle { slots: Arc::new(Slots { pages: Mutex::default(), slices: None, claiming: tokio::sync::Mutex::default() }) }
        }
    }

    /// No more than `most` of the times fall within any one second.
    fn assert_at_most_per_second(at: &mut [Duration], most: usize) {
        at.sort();
        for (i, t) in at.iter().enumerate() {
            let in_window = at[i..].iter().filter(|u| **u < *t + Duration::from_secs(1)).count();
            assert!(in_window <= most, "{in_window} calls within a second from call {i}: {at:?}");
        }
    }

    #[tokio::test]
    async fn a_lone_refusal_pauses_briefly_and_refusals_right_after_double_the_pause() {
        let throttle = Throttle::local();
        assert_eq!(throttle.back_off("page"), FIRST_BACK_OFF);
        assert!(throttle.back_off("page") <= FIRST_BACK_OFF, "a call under way during the pause does not count again");
        let started = Instant::now();
        throttle.acquire("page", 300).await;
        assert!(started.elapsed() >= FIRST_BACK_OFF - Duration::from_millis(5), "the next call waits out the pause");
        assert_eq!(throttle.back_off("page"), FIRST_BACK_OFF * 2, "refused right after the pause: overload");
        tokio::time::sleep(FIRST_BACK_OFF * 2).await;
        assert_eq!(throttle.back_off("page"), FIRST_BACK_OFF * 4);
        assert_eq!(throttle.back_off("other page"), FIRST_BACK_OFF, "per Page");
        tokio::time::sleep(FIRST_BACK_OFF * 4 + OVERLOAD_WINDOW + Duration::from_millis(20)).await;
        assert_eq!(throttle.back_off("page"), FIRST_BACK_OFF, "after a calm spell, short again");
    }

    #[tokio::test]
    async fn late_slots_never_put_more_than_the_rate_into_one_second() {
        let throttle = std::sync::Arc::new(Throttle::local());
        let rate = 10;
        let started = Instant::now();
        // 12 calls at 10/s take their slots (over 1.1 s), then the runtime stalls past all of them.
        let calls: Vec<_> = (0..12)
            .map(|_| {
                let throttle = throttle.clone();
                tokio::spawn(async move {
                    throttle.acquire("page", rate).await;
                    started.elapsed()
                })
            })
            .collect();
        tokio::task::yield_now().await;
        std::thread::sleep(Duration::from_millis(1_300));
        let mut at = Vec::new();
        for call in calls {
            at.push(call.await.unwrap());
        }
        assert_at_most_per_second(&mut at, (rate as f64 * WINDOW_SHARE).ceil() as usize);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_instances_on_one_database_together_stay_within_the_pages_rate() {
        let db = Database::open(&DbAddress::Memory, "test", "test", None, &EngineOptions::default()).await.expect("mem:// opens");
        let rate = 40;
        let started = Instant::now();
        let mut calls = Vec::new();
        for _ in 0..2 {
            let throttle = std::sync::Arc::new(Throttle::shared(db.clone()));
            for _ in 0..60 {
                let throttle = throttle.clone();
                calls.push(tokio::spawn(async move {
                    throttle.acquire("page", rate).await;
                    started.elapsed()
                }));
            }
        }
        let mut at = Vec::new();
        for call in calls {
            at.push(call.await.unwrap());
        }
        assert_at_most_per_second(&mut at, rate as usize);
        let took = at.iter().max().copied().unwrap_or_default();
        assert!(took < Duration::from_secs_f64(120.0 / (rate as f64 * WINDOW_SHARE) + 1.0), "slices are not wasted: 120 calls took {took:?}");
    }

    #[tokio::test]
    async fn the_next_slice_is_claimed_ahead_once_half_the_current_one_is_used_and_taken_without_a_round_trip() {
        let db = Database::open(&DbAddress::Memory, "test", "test", None, &EngineOptions::default()).await.expect("mem:// opens");
        let throttle = Throttle::shared(db);
        let spacing = spacing(40);
        assert!(matches!(throttle.slots.next_slot("page", spacing), Next::Claim), "a new instance holds no slice");
        throttle.slots.claim_slice("page", spacing, Claim::Current).await;
        // A 250 ms slice holds nine calls 25 ms apart; half of it is left after the fifth.
        let (mut slots, mut ahead) = (Vec::new(), Vec::new());
        for i in 0..9 {
            let Next::Slot { at, claim_ahead } = throttle.slots.next_slot("page", spacing) else { panic!("call {i} fits the slice held") };
            slots.push(at);
            if claim_ahead {
                ahead.push(i);
            }
        }
        assert_eq!(ahead, vec![5], "one claim ahead, once half the slice is used");
        assert!(matches!(throttle.slots.next_slot("page", spacing), Next::Claim), "used up, and the claim ahead has not returned yet");
        throttle.slots.claim_slice("page", spacing, Claim::Ahead).await;
        let Next::Slot { at, .. } = throttle.slots.next_slot("page", spacing) else { panic!("the slice claimed ahead is taken") };
        assert!(at > slots[8] && at <= slots[8] + spacing * 2 + Duration::from_millis(10), "it follows the last slice without a gap: {:?}", at - slots[8]);
    }
}
