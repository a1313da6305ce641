//! The privacy centre's flows (what we hold, acceptance of new policies,
//! export, self-service erasure), and the machinery they use: export and
//! erasure driven by the data inventory, and the retention purge.

mod center;
pub mod erasure;
pub mod export;
mod purge;
mod sealed_file;
pub mod withhold;
mod zip_stream;

pub use center::*;
pub use purge::*;

/// Table and field names come from the constant inventory, never from input;
/// this check keeps it that way before they are placed into a query.
pub(crate) fn identifier(name: &str) -> &str {
    assert!(!name.is_empty() && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'), "inventory names must be plain identifiers: {name}");
    name
}

/// One page of an account's rows of a category owned by `field`: those
/// after `$after` (a `record_key`; "" before the first), in key order. It
/// seeks the `(account, record_key)` index (schema step 9, checked by
/// `index_use`), so every page costs the same however deep it is.
pub(crate) fn keyset_page(table: &str, field: &str, projection: &str) -> String {
    format!("SELECT {projection} FROM {} WHERE {} = $account AND record_key > $after ORDER BY record_key LIMIT $limit", identifier(table), identifier(field))
}
