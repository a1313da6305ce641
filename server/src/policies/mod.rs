//! What the installation promises and what each account agreed to: the
//! versioned policies, the hash-chained consent ledger, and the retention
//! periods. Below `accounts`, which records consent at registration and
//! holds users at the policy gate; `privacy` and `admin` use it too.

pub mod documents;
pub mod ledger;
pub mod retention;

pub use documents::{are_current, current, current_version, current_versions, ensure_initial_policies, DOCUMENTS};
