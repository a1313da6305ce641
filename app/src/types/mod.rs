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
            /// Every variant, in the table's order.
            pub const ALL: &'static [$type] = &[$($type::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($type::$variant => $name),+
                }
            }
        }

        impl std::str::FromStr for $type {
            type Err = $crate::types::UnknownName;

            fn from_str(value: &str) -> Result<Self, $crate::types::UnknownName> {
                $type::ALL
                    .iter()
                    .copied()
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
        macro_rules! round_trip {
            ($($type:ident),+) => {$(
                for value in $type::ALL {
                    assert_eq!(value.as_str().parse::<$type>(), Ok(*value));
                }
            )+};
        }
        round_trip!(Role, CampaignState, MessageKind, MessageStatus, DeletionState, ExportState, PageStatus, Direction, AccountStatus);
        assert_eq!("completed".parse::<DeletionState>(), Ok(DeletionState::Completed));
        assert!("paused".parse::<PageStatus>().is_err(), "an unknown Page status is an error, not Active");
        assert_eq!("admin".parse::<Role>(), Ok(Role::Admin));
        assert_eq!("sending".parse::<CampaignState>(), Ok(CampaignState::Sending));
        assert_eq!("Admin".parse::<Role>(), Err(UnknownName { kind: "role", value: "Admin".into() }));
        assert!("drafted".parse::<CampaignState>().is_err(), "no fallback to a default state");
    }
}
