//! Pacing: per Page, each Send API call takes the next slot at 1/rate
//! seconds, never more than the rate in any one second, and a 613 from Meta
//! backs off.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Spaces calls per Page: each send takes the next slot at 1/rate seconds.
#[derive(Default)]
pub struct Throttle {
    pages: Mutex<HashMap<String, PageSlots>>,
}

#[derive(Default)]
struct PageSlots {
    next: Option<Instant>,
    /// When the calls of the last second went out.
    recent: std::collections::VecDeque<Instant>,
    /// The current pause after a refusal (613), and how many refusals came in a row.
    paused_until: Option<Instant>,
    strikes: u32,
}

/// At most this share of the rate goes out in any one second, however late
/// the calls' slots come round: after a stall (a busy runtime) they would
/// otherwise leave together and overfill one of Meta's counting windows.
/// The rest absorbs network jitter at the windows' edges.
const WINDOW_SHARE: f64 = 0.99;

/// The first pause after a 613. A refusal within `OVERLOAD_WINDOW` after the
/// previous pause ended doubles it, up to `MAX_BACK_OFF`.
const FIRST_BACK_OFF: Duration = Duration::from_millis(50);
const MAX_BACK_OFF: Duration = Duration::from_secs(2);
const OVERLOAD_WINDOW: Duration = Duration::from_millis(250);

impl Throttle {
    pub(super) async fn acquire(&self, page: &str, rate: i64) {
        let slot = {
            let mut pages = self.pages.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            let entry = pages.entry(page.to_string()).or_default();
            let slot = entry.next.filter(|t| *t > now).unwrap_or(now);
            entry.next = Some(slot + Duration::from_secs_f64(1.0 / rate.max(1) as f64));
            slot
        };
        tokio::time::sleep_until(slot.into()).await;
        let per_second = ((rate.max(1) as f64 * WINDOW_SHARE).floor() as usize).max(1);
        loop {
            let wait = {
                let mut pages = self.pages.lock().unwrap_or_else(|p| p.into_inner());
                let now = Instant::now();
                let recent = &mut pages.entry(page.to_string()).or_default().recent;
                while recent.front().is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1)) {
                    recent.pop_front();
                }
                if recent.len() < per_second {
                    recent.push_back(now);
                    return;
                }
                recent.front().map_or(Duration::ZERO, |t| Duration::from_secs(1).saturating_sub(now.duration_since(*t)))
            };
            tokio::time::sleep(wait).await;
        }
    }

    /// After a 613: a pause before the next call to this Page, returned. At
    /// our pace a refusal usually means that a few calls landed in one of
    /// Meta's counting windows, so the first pause is short; refusals that
    /// come right after it double it, so that a real overload is not
    /// hammered. A refusal of a call already under way during a pause does
    /// not count again.
    pub fn back_off(&self, page: &str) -> Duration {
        let mut pages = self.pages.lock().unwrap_or_else(|p| p.into_inner());
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

#[cfg(test)]
mod tests {
    use super::*;
    #[tokio::test]
    async fn a_lone_refusal_pauses_briefly_and_refusals_right_after_double_the_pause() {
        let throttle = Throttle::default();
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
        let throttle = std::sync::Arc::new(Throttle::default());
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
        at.sort();
        let per_second = (rate as f64 * WINDOW_SHARE).floor() as usize;
        for (i, t) in at.iter().enumerate() {
            let in_window = at[i..].iter().filter(|u| **u < *t + Duration::from_secs(1)).count();
            assert!(in_window <= per_second, "{in_window} calls within a second from call {i}: {at:?}");
        }
    }
}
