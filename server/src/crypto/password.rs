//! Password hashing: Argon2id at OWASP parameters or stronger, PHC strings.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

/// OWASP's minimum for Argon2id: 19 MiB, two passes, one lane.
pub const MEMORY_KIB: u32 = 19_456;
pub const ITERATIONS: u32 = 2;
pub const PARALLELISM: u32 = 1;

fn hasher() -> Argon2<'static> {
    let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None).expect("constant parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// How many password computations (Argon2, and zxcvbn's strength check)
/// run at once: all cores but one, so that a burst of sign-ins or
/// registrations (each ~19 MiB and tens of milliseconds of CPU) waits here
/// rather than stalling webhooks, the sender and every other request on the
/// async runtime.
fn slots() -> &'static tokio::sync::Semaphore {
    static SLOTS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    SLOTS.get_or_init(|| tokio::sync::Semaphore::new(slot_count()))
}

fn slot_count() -> usize {
    let cores = std::thread::available_parallelism().map(std::num::NonZeroUsize::get).unwrap_or(1);
    cores.saturating_sub(1).max(1)
}

/// Runs `work` on the blocking pool once a slot is free. The slot goes with
/// the work, not with this future: a request dropped mid-hash (the client
/// went away) must not free a slot while its hash still runs.
pub(crate) async fn off_runtime<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    let asker = std::thread::current().id();
    let slot = slots().acquire().await.expect("the semaphore is never closed");
    let outcome = tokio::task::spawn_blocking(move || {
        let _slot = slot;
        let _running = load::Running::start(asker);
        work()
    })
    .await;
    match outcome {
        Ok(value) => value,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

/// The pool's bound and its use since the process started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolLoad {
    /// How many computations may run at once.
    pub slots: usize,
    /// How many run now.
    pub running: usize,
    /// The most that ever ran at once.
    pub peak_running: usize,
}

pub fn pool_load() -> PoolLoad {
    load::now(slot_count())
}

/// Hashes and checks running now that tasks on `thread` asked for. On a
/// one-thread runtime those are the runtime's own, whatever other runtimes
/// in the process do (the tests run many): if one is running while that
/// runtime answers a request, the hash is not holding the runtime.
pub fn running_for(thread: std::thread::ThreadId) -> usize {
    load::running_for(thread)
}

/// How many hashes and checks tasks on `thread` have had run on the pool
/// since the process started: on a one-thread runtime, every password
/// computation its requests needed, unless one ran on the runtime itself.
pub fn started_for(thread: std::thread::ThreadId) -> usize {
    load::started_for(thread)
}

/// A PHC string for the password, computed off the async runtime.
pub async fn hash(password: &str) -> String {
    let password = zeroize::Zeroizing::new(password.to_string());
    off_runtime(move || hash_here(&password)).await
}

/// Checks a password against a stored PHC string (off the async runtime);
/// false for any malformed hash. With no stored hash (an unknown account) it
/// checks against a dummy one, so that the answer takes as long, and is false.
pub async fn verify(password: &str, phc: Option<&str>) -> bool {
    let password = zeroize::Zeroizing::new(password.to_string());
    let phc = phc.map(str::to_string);
    off_runtime(move || {
        let matches = verify_here(&password, phc.as_deref().unwrap_or_else(|| dummy_hash()));
        matches && phc.is_some()
    })
    .await
}

fn hash_here(password: &str) -> String {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    hasher().hash_password(password.as_bytes(), &salt).expect("hashing in memory cannot fail").to_string()
}

fn verify_here(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

/// True when the stored hash is weaker than, or different from, today's parameters.
pub fn needs_rehash(phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else { return true };
    if parsed.algorithm.as_str() != "argon2id" {
        return true;
    }
    let Ok(params) = Params::try_from(&parsed) else { return true };
    params.m_cost() < MEMORY_KIB || params.t_cost() < ITERATIONS || params.p_cost() != PARALLELISM
}

/// A hash that costs as much to check as a real one, for unknown accounts.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_here("not a real password, only for timing"))
}

/// The counts behind `pool_load` and `running_for`.
mod load {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Mutex, MutexGuard, PoisonError};
    use std::thread::ThreadId;

    static RUNNING: AtomicUsize = AtomicUsize::new(0);
    static PEAK: AtomicUsize = AtomicUsize::new(0);
    /// Running computations by the thread that asked: a few entries at most.
    static RUNNING_FOR: Mutex<Vec<(ThreadId, usize)>> = Mutex::new(Vec::new());
    /// Computations ever started, by the thread that asked: one entry per runtime thread that hashed.
    static STARTED_FOR: Mutex<Vec<(ThreadId, usize)>> = Mutex::new(Vec::new());

    fn running_for_each() -> MutexGuard<'static, Vec<(ThreadId, usize)>> {
        // Each change is one whole step on the list: a panic leaves it consistent.
        RUNNING_FOR.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn started_for_each() -> MutexGuard<'static, Vec<(ThreadId, usize)>> {
        STARTED_FOR.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn count_in(each: &mut Vec<(ThreadId, usize)>, thread: ThreadId) {
        match each.iter_mut().find(|(t, _)| *t == thread) {
            Some((_, n)) => *n += 1,
            None => each.push((thread, 1)),
        }
    }

    pub(super) fn now(slots: usize) -> super::PoolLoad {
        super::PoolLoad { slots, running: RUNNING.load(Ordering::SeqCst), peak_running: PEAK.load(Ordering::SeqCst) }
    }

    pub(super) fn running_for(thread: ThreadId) -> usize {
        running_for_each().iter().find(|(t, _)| *t == thread).map_or(0, |(_, n)| *n)
    }

    pub(super) fn started_for(thread: ThreadId) -> usize {
        started_for_each().iter().find(|(t, _)| *t == thread).map_or(0, |(_, n)| *n)
    }

    /// One computation running, counted in all and for the thread that asked for it.
    pub(super) struct Running(ThreadId);

    impl Running {
        pub(super) fn start(asker: ThreadId) -> Self {
            let running = RUNNING.fetch_add(1, Ordering::SeqCst) + 1;
            PEAK.fetch_max(running, Ordering::SeqCst);
            count_in(&mut running_for_each(), asker);
            count_in(&mut started_for_each(), asker);
            Running(asker)
        }
    }

    impl Drop for Running {
        fn drop(&mut self) {
            RUNNING.fetch_sub(1, Ordering::SeqCst);
            let mut each = running_for_each();
            if let Some(at) = each.iter().position(|(t, _)| *t == self.0) {
                each[at].1 -= 1;
                if each[at].1 == 0 {
                    each.swap_remove(at);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_phc_at_owasp_parameters() {
        let phc = hash("correct horse battery staple").await;
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify("correct horse battery staple", Some(&phc)).await);
        assert!(!verify("wrong", Some(&phc)).await);
        assert!(!verify("x", Some("not a phc string")).await);
        assert!(!verify("not a real password, only for timing", None).await, "the dummy hash never matches as an account");
        assert!(!needs_rehash(&phc));
    }

    /// On a one-thread runtime, a task that counts can only run while a
    /// password is hashed or checked if the work happens elsewhere: so a
    /// burst of sign-ups or sign-ins never stalls webhooks and requests.
    #[tokio::test(flavor = "current_thread")]
    async fn hashing_and_checking_leave_the_async_runtime_free() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let ticks = std::sync::Arc::new(AtomicUsize::new(0));
        let counter = tokio::spawn({
            let ticks = ticks.clone();
            async move {
                loop {
                    ticks.fetch_add(1, Ordering::Relaxed);
                    tokio::task::yield_now().await;
                }
            }
        });
        let phc = hash("correct horse battery staple").await;
        let while_hashing = ticks.swap(0, Ordering::Relaxed);
        assert!(verify("correct horse battery staple", Some(&phc)).await);
        let while_checking = ticks.load(Ordering::Relaxed);
        counter.abort();
        assert!(while_hashing > 0, "the runtime ran nothing else while a password was hashed");
        assert!(while_checking > 0, "the runtime ran nothing else while a password was checked");
    }

    /// A request dropped mid-hash (its client went away) keeps the slot
    /// until the hash ends: otherwise every dropped request let one more
    /// Argon2 run start, past the bound.
    #[tokio::test]
    async fn a_dropped_hash_keeps_its_slot_until_it_finishes() {
        let slots = pool_load().slots;
        for _ in 0..slots + 3 {
            // Long enough to start a hash (when a slot is free), far shorter than one.
            let _ = tokio::time::timeout(std::time::Duration::from_millis(2), hash("correct horse battery staple")).await;
        }
        // Let the started hashes end, then read the peak.
        let _ = hash("correct horse battery staple").await;
        let load = pool_load();
        assert!(load.peak_running >= 1, "nothing ever ran: {load:?}");
        assert!(load.peak_running <= load.slots, "more hashes ran at once than the pool allows: {load:?}");
    }

    #[tokio::test]
    async fn weaker_hashes_are_flagged_for_upgrade() {
        let weak = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(4096, 1, 1, None).unwrap())
            .hash_password(b"pw", &SaltString::generate(&mut rand::rngs::OsRng))
            .unwrap()
            .to_string();
        assert!(verify("pw", Some(&weak)).await, "old hashes still verify");
        assert!(needs_rehash(&weak));
        let argon2i = Argon2::new(Algorithm::Argon2i, Version::V0x13, Params::default())
            .hash_password(b"pw", &SaltString::generate(&mut rand::rngs::OsRng))
            .unwrap()
            .to_string();
        assert!(needs_rehash(&argon2i));
    }
}
