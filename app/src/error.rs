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
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Request(_) => AppError::Network,
            ServerFnErrorErr::Args(_)
            | ServerFnErrorErr::MissingArg(_)
            | ServerFnErrorErr::UnsupportedRequestMethod(_) => AppError::BadRequest,
            _ => AppError::Internal,
        }
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
}
