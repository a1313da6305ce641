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

/// How many Argon2 computations run at once: all cores but one, so that a
/// burst of sign-ins or registrations (each ~19 MiB and tens of
/// milliseconds of CPU) waits here rather than stalling webhooks, the
/// sender and every other request on the async runtime.
fn slots() -> &'static tokio::sync::Semaphore {
    static SLOTS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    SLOTS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map(std::num::NonZeroUsize::get).unwrap_or(1);
        tokio::sync::Semaphore::new(cores.saturating_sub(1).max(1))
    })
}

/// Runs `work` on the blocking pool once a slot is free.
async fn off_runtime<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    let _slot = slots().acquire().await.expect("the semaphore is never closed");
    match tokio::task::spawn_blocking(work).await {
        Ok(value) => value,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
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
