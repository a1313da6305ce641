//! What makes a password acceptable: at most 1024 bytes, not containing the
//! email, and a zxcvbn score of at least 3.

use app::error::AppError;

pub const MAX_BYTES: usize = 1024;
pub const MIN_SCORE: u8 = 3;

/// Checks the password on the password pool, beside Argon2: zxcvbn takes
/// milliseconds of CPU, and a burst of sign-ups must not queue that work
/// on the async runtime ahead of webhooks and the health check.
pub async fn check(password: &str, email: &str, display_name: Option<&str>) -> Result<(), AppError> {
    let password = zeroize::Zeroizing::new(password.to_string());
    let (email, display_name) = (email.to_string(), display_name.map(str::to_string));
    crate::crypto::password::off_runtime(move || check_here(&password, &email, display_name.as_deref())).await
}

fn check_here(password: &str, email: &str, display_name: Option<&str>) -> Result<(), AppError> {
    if password.len() > MAX_BYTES {
        return Err(AppError::PasswordTooLong);
    }
    let email = crate::crypto::normalise_email(email);
    let lowered = password.to_lowercase();
    if !email.is_empty() && lowered.contains(&email) {
        return Err(AppError::PasswordContainsEmail);
    }
    let local_part = email.split('@').next().unwrap_or("");
    let mut inputs = vec![email.as_str(), local_part];
    if let Some(name) = display_name {
        inputs.push(name);
    }
    let estimate = zxcvbn::zxcvbn(password, &inputs);
    if (estimate.score() as u8) < MIN_SCORE {
        let mut feedback = Vec::new();
        if let Some(f) = estimate.feedback() {
            if let Some(warning) = f.warning() {
                feedback.push(warning.to_string());
            }
            feedback.extend(f.suggestions().iter().map(|s| s.to_string()));
        }
        if feedback.is_empty() {
            feedback.push("Add more words or characters that are hard to guess.".to_string());
        }
        return Err(AppError::WeakPassword { feedback });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weak_passwords_are_refused_with_feedback() {
        match check_here("password1", "ada@example.org", None) {
            Err(AppError::WeakPassword { feedback }) => assert!(!feedback.is_empty()),
            other => panic!("expected WeakPassword, got {other:?}"),
        }
    }

    #[test]
    fn strong_passwords_pass() {
        assert_eq!(check_here("velvet tractor orbit 7 lagoon", "ada@example.org", None), Ok(()));
    }

    #[test]
    fn the_email_may_not_be_in_the_password() {
        assert_eq!(check_here("xx Ada@Example.org yy zz 91!", "ada@example.org", None), Err(AppError::PasswordContainsEmail));
    }

    #[test]
    fn over_1024_bytes_is_refused() {
        let long = "é".repeat(513); // 1026 bytes
        assert_eq!(check_here(&long, "ada@example.org", None), Err(AppError::PasswordTooLong));
        let at_limit = "velvet tractor orbit 7 lagoon ".repeat(40)[..1024].to_string();
        assert_eq!(check_here(&at_limit, "ada@example.org", None), Ok(()));
    }
}
