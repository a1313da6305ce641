//! Attempt limits, per IP and per address: after 5 failed sign-ins or
//! password re-checks, or 5 registrations or mail requests, each new one
//! doubles the wait (2 s, 4 s, … up to 15 minutes). Kept in memory: with
//! several instances each limits on its own (see the README).

use std::collections::HashMap;
use std::sync::Mutex;

pub const FREE_FAILURES: u32 = 5;
const MAX_DELAY_SECS: i64 = 15 * 60;
/// Failures older than this are forgotten.
const FORGET_AFTER_SECS: i64 = 24 * 3600;
const MAX_ENTRIES: usize = 100_000;

/// Requests limited however they turn out, per IP or per address.
pub const REQUESTS_PER_ADDRESS_PER_HOUR: u32 = 5;
const QUOTA_WINDOW_SECS: i64 = 3600;

#[derive(Default)]
pub struct AttemptLimits {
    entries: Mutex<HashMap<String, Entry>>,
    /// (start of the hour, requests in it), per key.
    quotas: Mutex<HashMap<String, (i64, u32)>>,
}

#[derive(Clone, Copy)]
struct Entry {
    failures: u32,
    last_failure: i64,
    blocked_until: i64,
}

impl AttemptLimits {
    /// Err(seconds to wait) while the key is blocked.
    pub fn check(&self, key: &str, now: i64) -> Result<(), u64> {
        let entries = self.entries.lock().expect("attempt limits lock");
        match entries.get(key) {
            Some(e) if e.blocked_until > now => Err((e.blocked_until - now) as u64),
            _ => Ok(()),
        }
    }

    pub fn record_failure(&self, key: &str, now: i64) {
        let mut entries = self.entries.lock().expect("attempt limits lock");
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, e| now - e.last_failure < FORGET_AFTER_SECS && e.blocked_until > now - 60);
        }
        let entry = entries.entry(key.to_string()).or_insert(Entry { failures: 0, last_failure: now, blocked_until: 0 });
        if now - entry.last_failure >= FORGET_AFTER_SECS {
            entry.failures = 0;
        }
        entry.failures += 1;
        entry.last_failure = now;
        if entry.failures >= FREE_FAILURES {
            let doublings = (entry.failures - FREE_FAILURES + 1).min(20);
            entry.blocked_until = now + (1_i64 << doublings).min(MAX_DELAY_SECS);
        }
    }

    /// For requests limited however they turn out (registrations, mails
    /// asked for): at most `limit` per key in an hour that starts at the
    /// first. Err(seconds until that hour ends) beyond it; otherwise counts this one.
    pub fn take(&self, key: &str, limit: u32, now: i64) -> Result<(), u64> {
        let mut quotas = self.quotas.lock().expect("attempt limits lock");
        if quotas.len() >= MAX_ENTRIES {
            quotas.retain(|_, (start, _)| now - *start < QUOTA_WINDOW_SECS);
        }
        let (start, count) = quotas.entry(key.to_string()).or_insert((now, 0));
        if now - *start >= QUOTA_WINDOW_SECS {
            (*start, *count) = (now, 0);
        }
        if *count >= limit {
            return Err((*start + QUOTA_WINDOW_SECS - now).max(1) as u64);
        }
        *count += 1;
        Ok(())
    }

    pub fn reset(&self, key: &str) {
        self.entries.lock().expect("attempt limits lock").remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_failures_are_free_then_delays_grow() {
        let t = AttemptLimits::default();
        for _ in 0..FREE_FAILURES - 1 {
            t.record_failure("ip:1", 1000);
            assert_eq!(t.check("ip:1", 1000), Ok(()));
        }
        t.record_failure("ip:1", 1000);
        assert_eq!(t.check("ip:1", 1000), Err(2));
        assert_eq!(t.check("ip:1", 1002), Ok(()));
        t.record_failure("ip:1", 1002);
        assert_eq!(t.check("ip:1", 1002), Err(4));
        for _ in 0..30 {
            t.record_failure("ip:1", 2000);
        }
        assert_eq!(t.check("ip:1", 2000), Err(900), "capped at 15 minutes");
        assert_eq!(t.check("ip:2", 2000), Ok(()), "keys are independent");
        t.reset("ip:1");
        assert_eq!(t.check("ip:1", 2000), Ok(()));
    }

    #[test]
    fn a_quota_allows_its_limit_per_hour_then_says_when_the_hour_ends() {
        let t = AttemptLimits::default();
        for _ in 0..3 {
            assert_eq!(t.take("register-ip:1", 3, 1000), Ok(()));
        }
        assert_eq!(t.take("register-ip:1", 3, 1000), Err(3600));
        assert_eq!(t.take("register-ip:1", 3, 4000), Err(600), "the hour began with the first request");
        assert_eq!(t.take("register-ip:2", 3, 4000), Ok(()), "keys are independent");
        assert_eq!(t.take("register-ip:1", 3, 4600), Ok(()), "a new hour");
    }
}
