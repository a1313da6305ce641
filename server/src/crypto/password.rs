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

pub fn hash(password: &str) -> String {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    hasher().hash_password(password.as_bytes(), &salt).expect("hashing in memory cannot fail").to_string()
}

/// Checks a password against a stored PHC string; false for any malformed hash.
pub fn verify(password: &str, phc: &str) -> bool {
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
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash("not a real password, only for timing"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_phc_at_owasp_parameters() {
        let phc = hash("correct horse battery staple");
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify("correct horse battery staple", &phc));
        assert!(!verify("wrong", &phc));
        assert!(!verify("x", "not a phc string"));
        assert!(!needs_rehash(&phc));
    }

    #[test]
    fn weaker_hashes_are_flagged_for_upgrade() {
        let weak = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(4096, 1, 1, None).unwrap())
            .hash_password(b"pw", &SaltString::generate(&mut rand::rngs::OsRng))
            .unwrap()
            .to_string();
        assert!(verify("pw", &weak), "old hashes still verify");
        assert!(needs_rehash(&weak));
        let argon2i = Argon2::new(Algorithm::Argon2i, Version::V0x13, Params::default())
            .hash_password(b"pw", &SaltString::generate(&mut rand::rngs::OsRng))
            .unwrap()
            .to_string();
        assert!(needs_rehash(&argon2i));
    }
}
