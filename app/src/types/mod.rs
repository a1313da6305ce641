//! Types shared by the server functions and the WASM client.
//!
//! One file per area, as in `pages/`; everything is re-exported here, so
//! callers name `crate::types::X`.

mod account;
mod admin;
mod broadcasts;
mod messenger;
mod privacy;

pub use account::*;
pub use admin::*;
pub use broadcasts::*;
pub use messenger::*;
pub use privacy::*;

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DatabaseState {
    Ok,
    Unavailable,
}

/// What the home page shows about the running installation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerStatus {
    pub version: String,
    pub database: DatabaseState,
    pub schema_version: u32,
    /// Facebook is simulated by the built-in stand-in (`--demo`).
    pub demo: bool,
}

/// A stored name that is none of a type's values: the database holds
/// something this build never writes.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} {value:?} in the database")]
pub struct UnknownName {
    pub kind: &'static str,
    pub value: String,
}

/// Names for enums stored as strings: one table, read both ways, so a name
/// cannot be written that does not read back.
macro_rules! stored_names {
    ($type:ident, $kind:literal, { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $type {
            pub fn as_str(self) -> &'static str {
                match self {
                    $($type::$variant => $name),+
                }
            }
        }

        impl std::str::FromStr for $type {
            type Err = $crate::types::UnknownName;

            fn from_str(value: &str) -> Result<Self, $crate::types::UnknownName> {
                [$($type::$variant),+]
                    .into_iter()
                    .find(|v| v.as_str() == value)
                    .ok_or_else(|| $crate::types::UnknownName { kind: $kind, value: value.to_string() })
            }
        }
    };
}

pub(crate) use stored_names;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_stored_name_reads_back_as_its_value_and_an_unknown_name_is_an_error() {
        for role in [Role::User, Role::Admin] {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        let states =
            [CampaignState::Draft, CampaignState::Scheduled, CampaignState::Sending, CampaignState::Paused, CampaignState::Completed, CampaignState::Cancelled];
        for state in states {
            assert_eq!(state.as_str().parse::<CampaignState>(), Ok(state));
        }
        let kinds = [
            MessageKind::Text,
            MessageKind::QuickReply,
            MessageKind::Attachment,
            MessageKind::Postback,
            MessageKind::Optin,
            MessageKind::Echo,
            MessageKind::Automated,
        ];
        for kind in kinds {
            assert_eq!(kind.as_str().parse::<MessageKind>(), Ok(kind));
        }
        let statuses = [
            MessageStatus::Received,
            MessageStatus::Sending,
            MessageStatus::Queued,
            MessageStatus::Sent,
            MessageStatus::Delivered,
            MessageStatus::Read,
            MessageStatus::Failed,
        ];
        for status in statuses {
            assert_eq!(status.as_str().parse::<MessageStatus>(), Ok(status));
        }
        assert_eq!("completed".parse::<DeletionState>(), Ok(DeletionState::Completed));
        for state in [ExportState::Queued, ExportState::Running, ExportState::Ready, ExportState::Failed, ExportState::Expired] {
            assert_eq!(state.as_str().parse::<ExportState>(), Ok(state));
        }
        for status in [PageStatus::Active, PageStatus::NeedsReconnection, PageStatus::Disconnected] {
            assert_eq!(status.as_str().parse::<PageStatus>(), Ok(status));
        }
        for direction in [Direction::Inbound, Direction::Outbound] {
            assert_eq!(direction.as_str().parse::<Direction>(), Ok(direction));
        }
        for status in [AccountStatus::Active, AccountStatus::Disabled, AccountStatus::Unverified] {
            assert_eq!(status.as_str().parse::<AccountStatus>(), Ok(status));
        }
        assert!("paused".parse::<PageStatus>().is_err(), "an unknown Page status is an error, not Active");
        assert_eq!("admin".parse::<Role>(), Ok(Role::Admin));
        assert_eq!("sending".parse::<CampaignState>(), Ok(CampaignState::Sending));
        assert_eq!("Admin".parse::<Role>(), Err(UnknownName { kind: "role", value: "Admin".into() }));
        assert!("drafted".parse::<CampaignState>().is_err(), "no fallback to a default state");
    }
}
