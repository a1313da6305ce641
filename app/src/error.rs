//! The one error type every server function returns.
//!
//! Its `Display` text is what the UI shows, so each message is a plain
//! sentence and never carries personal data or internal details.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum AppError {
    #[error("The database is not available right now. Please try again in a moment.")]
    DatabaseUnavailable,
    #[error("The server could not be reached. Check your connection and try again.")]
    Network,
    #[error("The request was not understood. Please reload the page and try again.")]
    BadRequest,
    #[error("Something went wrong on our side. Please try again later.")]
    Internal,
    #[error("The email or password is incorrect.")]
    InvalidCredentials,
    #[error("Too many attempts. Please try again in {}.", wait_words(*retry_after_secs))]
    TooManyAttempts { retry_after_secs: u64 },
    #[error("Please verify your email address first: use the link we mailed you.")]
    EmailNotVerified,
    #[error("This account is disabled. Contact the administrator of this installation.")]
    AccountDisabled,
    #[error("Please enter a valid email address.")]
    InvalidEmail,
    #[error("The display name can be at most 100 characters.")]
    DisplayNameTooLong,
    #[error("{field} must be a single line of text, without line breaks or other control characters.")]
    NotSingleLine { field: String },
    #[error("Please accept the terms and the privacy policy to create an account.")]
    TermsNotAccepted,
    #[error("This password is too easy to guess.")]
    WeakPassword { feedback: Vec<String> },
    #[error("The password must not contain your email address.")]
    PasswordContainsEmail,
    #[error("The password can be at most 1024 bytes long.")]
    PasswordTooLong,
    #[error("The current password is incorrect.")]
    WrongPassword,
    #[error("Please sign in to continue.")]
    NotSignedIn,
    #[error("Please choose a new password before you continue.")]
    PasswordChangeRequired,
    #[error("You do not have access to this.")]
    Forbidden,
    #[error("This link is invalid, was already used, or has expired.")]
    InvalidOrExpiredLink,
    #[error("That session was not found.")]
    SessionNotFound,
    #[error("Our terms or privacy policy changed: please review and accept them, export your data, or delete your account.")]
    PolicyAcceptanceRequired,
    #[error("A policy needs a title and a text, and must be the terms or the privacy policy.")]
    InvalidPolicy,
    #[error("Please give the reason for this access or action.")]
    ReasonRequired,
    #[error("That account was not found.")]
    AccountNotFound,
    #[error("This would leave the installation without an administrator.")]
    LastAdmin,
    #[error("Please fill in every field; dates as YYYY-MM-DDTHH:MM.")]
    IncompleteForm,
    #[error("The Graph API address must start with https:// (plain http:// only for this machine, such as http://localhost:8081).")]
    InvalidGraphBaseUrl,
    #[error("Retention periods must be between 1 and 3650 days (exports: 1 to 720 hours).")]
    InvalidRetention,
    #[error("That breach was not found.")]
    BreachNotFound,
    #[error("Type DELETE in capitals to confirm.")]
    ConfirmationMismatch,
    #[error("You can export your data once an hour. Please try again in {retry_after_mins} minutes.")]
    ExportTooSoon { retry_after_mins: i64 },
    #[error("The administrator has not set up the Facebook app yet.")]
    MessengerNotConfigured,
    #[error("Facebook could not be reached or did not answer in time. Please try again in a moment.")]
    FacebookUnavailable,
    #[error("Facebook did not accept that Page id and access token.")]
    InvalidPageToken,
    #[error("This Page is connected to another account of this installation; you can connect it once Facebook no longer accepts that account's access to it, or once that account disconnects it.")]
    PageAlreadyConnected,
    #[error("That Page was not found.")]
    PageNotFound,
    #[error("Facebook no longer accepts this Page's access token: reconnect the Page.")]
    PageNeedsReconnection,
    #[error("The Facebook sign-in expired or was started in another session. Please start again.")]
    FacebookLoginExpired,
    #[error("That lead was not found.")]
    LeadNotFound,
    #[error("This person isn't available right now, so Messenger does not accept messages to them.")]
    LeadUnavailable,
    #[error("This conversation is outside Meta's messaging window, so the message cannot be sent.")]
    OutsideWindow,
    #[error("Facebook refused the message as invalid.")]
    MessageRejected,
    #[error("A message needs some text, at most 2000 characters.")]
    InvalidMessage,
    #[error("A label needs a name of 1 to 50 characters, different from your other labels.")]
    InvalidLabel,
    #[error("That label was not found.")]
    LabelNotFound,
    #[error("That campaign was not found.")]
    CampaignNotFound,
    #[error("Please check the campaign: {reason}")]
    InvalidCampaign { reason: String },
    #[error("This campaign cannot do that in its current state.")]
    CampaignStateConflict,
    #[error("Please give a date (YYYY-MM-DD), a time (HH:MM) in the future, and a time zone such as Europe/Paris.")]
    InvalidSchedule,
    #[error("Your browser's time zone could not be read. Please reload the page.")]
    InvalidTimeZone,
    #[error("This unsubscribe link is not valid, or the person's data was already erased.")]
    InvalidUnsubscribeLink,
    #[error("A policy changed while you were reading it. Please read the new version, then accept.")]
    PolicyChangedMeanwhile,
    #[error("The inbox is already open live in several tabs of this browser. Close one, then reload this page.")]
    TooManyLiveConnections,
}

impl AppError {
    /// The HTTP status the server answers with.
    pub fn status(&self) -> u16 {
        match self {
            AppError::NotSignedIn | AppError::InvalidCredentials | AppError::WrongPassword => 401,
            AppError::Forbidden | AppError::PasswordChangeRequired | AppError::PolicyAcceptanceRequired => 403,
            AppError::AccountDisabled | AppError::EmailNotVerified => 403,
            AppError::SessionNotFound | AppError::AccountNotFound | AppError::BreachNotFound => 404,
            AppError::PageNotFound | AppError::LeadNotFound | AppError::LabelNotFound => 404,
            AppError::CampaignNotFound | AppError::InvalidUnsubscribeLink => 404,
            AppError::CampaignStateConflict => 409,
            AppError::PageAlreadyConnected | AppError::PolicyChangedMeanwhile => 409,
            AppError::FacebookUnavailable => 502,
            AppError::TooManyAttempts { .. } | AppError::ExportTooSoon { .. } | AppError::TooManyLiveConnections => 429,
            AppError::DatabaseUnavailable => 503,
            AppError::Internal | AppError::Network => 500,
            _ => 400,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Request(_) => AppError::Network,
            ServerFnErrorErr::Args(_) | ServerFnErrorErr::MissingArg(_) | ServerFnErrorErr::UnsupportedRequestMethod(_) => AppError::BadRequest,
            _ => AppError::Internal,
        }
    }
}

/// A wait in words: seconds under two minutes, then minutes.
fn wait_words(secs: u64) -> String {
    if secs < 120 {
        format!("{secs} seconds")
    } else {
        format!("{} minutes", secs.div_ceil(60))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transport_failures_map_to_readable_sentences() {
        let network = AppError::from_server_fn_error(ServerFnErrorErr::Request("refused".into()));
        assert_eq!(network, AppError::Network);
        let text = network.to_string();
        assert!(text.ends_with('.'), "{text}");
        assert!(!text.contains("refused"), "internal detail leaked: {text}");

        let args = AppError::from_server_fn_error(ServerFnErrorErr::Args("bad json".into()));
        assert_eq!(args, AppError::BadRequest);
    }

    #[test]
    fn errors_survive_the_wire_encoding() {
        for err in [AppError::DatabaseUnavailable, AppError::Internal, AppError::BadRequest] {
            let bytes = err.ser();
            assert_eq!(AppError::de(bytes), err);
        }
    }

    #[test]
    fn a_page_held_by_another_account_says_when_it_can_be_taken_over() {
        let text = AppError::PageAlreadyConnected.to_string();
        assert!(text.contains("once Facebook no longer accepts that account's access") && text.contains("disconnects it"), "{text}");
        assert!(text.ends_with('.') && !text.contains(". "), "one sentence: {text}");
    }

    #[test]
    fn a_wait_reads_in_seconds_then_minutes() {
        assert_eq!(AppError::TooManyAttempts { retry_after_secs: 4 }.to_string(), "Too many attempts. Please try again in 4 seconds.");
        assert_eq!(AppError::TooManyAttempts { retry_after_secs: 3600 }.to_string(), "Too many attempts. Please try again in 60 minutes.");
        assert_eq!(AppError::TooManyAttempts { retry_after_secs: 121 }.to_string(), "Too many attempts. Please try again in 3 minutes.");
    }
}
