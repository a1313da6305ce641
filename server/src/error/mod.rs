//! The server's one error type. A failure is either the user's (an
//! `AppError`: a sentence they can act on, with its HTTP status) or the
//! operator's (logged with what failed, without personal data, and shown to
//! the user as a generic sentence). Errors a caller decides on become an
//! `AppError` where they arise; everything else converts with `?`.

mod startup;

pub use startup::StartupError;

use app::error::AppError;

pub type BoxedSource = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    User(AppError),
    #[error("database error: {0}")]
    Database(#[from] surrealdb::Error),
    /// Facebook could not be reached, or refused the call.
    #[error("Facebook: {0}")]
    Facebook(BoxedSource),
    /// `what` names the part that failed, for the operator's log.
    #[error("{what}: {source}")]
    Internal { what: &'static str, source: BoxedSource },
}

/// Most functions fail with `Error`; a few return a narrower source error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn internal(what: &'static str, source: impl Into<BoxedSource>) -> Self {
        Error::Internal { what, source: source.into() }
    }

    /// A JSON value that could not be read or written. serde_json's message
    /// can quote the value itself (a PSID, an address), so only the kind of
    /// error and its position are kept.
    pub fn json(what: &'static str, e: serde_json::Error) -> Self {
        Error::internal(what, format!("{:?} error at line {}, column {}", e.classify(), e.line(), e.column()))
    }

    /// The sentence for the user. Internal failures are logged here, once,
    /// with the operation's name.
    pub fn into_app_error(self, operation: &str) -> AppError {
        match self {
            Error::User(e) => e,
            Error::Facebook(e) => {
                tracing::warn!(operation, error = %e, "Graph API call failed");
                AppError::FacebookUnavailable
            }
            other @ (Error::Database(_) | Error::Internal { .. }) => {
                tracing::error!(operation, error = %other, "operation failed");
                AppError::Internal
            }
        }
    }
}

impl From<AppError> for Error {
    fn from(e: AppError) -> Self {
        Error::User(e)
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::internal("file error", e)
    }
}

impl From<app::types::UnknownName> for Error {
    fn from(e: app::types::UnknownName) -> Self {
        Error::internal("a stored name is unknown", e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_users_error_reaches_them_as_it_is() {
        let error = Error::from(AppError::NotSignedIn).into_app_error("test");
        assert_eq!(error, AppError::NotSignedIn);
    }

    #[test]
    fn an_internal_failure_reaches_the_user_as_a_generic_sentence() {
        let error = Error::internal("database error", "the disk is full".to_string()).into_app_error("test");
        assert_eq!(error, AppError::Internal);
    }

    #[test]
    fn a_json_failure_keeps_its_position_but_not_the_value_it_quotes() {
        let e = serde_json::from_str::<i64>("\"ada@example.org\"").unwrap_err();
        assert!(e.to_string().contains("ada@example.org"), "serde_json quotes the value");
        let logged = Error::json("a stored request", e).to_string();
        assert!(!logged.contains("ada@example.org"), "{logged}");
        assert!(logged.contains("line 1"), "{logged}");
    }

    #[test]
    fn a_facebook_failure_tells_the_user_facebook_is_unavailable() {
        let error = Error::Facebook("timed out".into()).into_app_error("test");
        assert_eq!(error, AppError::FacebookUnavailable);
    }
}
