//! The patched SurrealDB transaction cache (`vendor/surrealdb-datastore`):
//! an entry is found again by the lookup that stored it, for every kind of
//! entry the engine keeps there. In 3.3.5 five kinds were never found, and a
//! DELETE re-read every table's field definitions for each record.

use std::sync::Arc;

use surrealdb_datastore::cache::tx::{Entry, Lookup, TransactionCache};
use surrealdb_datastore::catalog::{DatabaseId, NamespaceId};

const NS: NamespaceId = NamespaceId(1);
const DB: DatabaseId = DatabaseId(2);

#[test]
fn the_transaction_cache_finds_each_kind_of_entry_it_was_given() {
    type Make = fn() -> Lookup<'static>;
    let kinds: [(&str, Make); 7] = [
        ("Sqs", || Lookup::Sqs(NS, DB)),
        ("Tbs", || Lookup::Tbs(NS, DB)),
        ("DbReferenceTargets", || Lookup::DbReferenceTargets(NS, DB)),
        ("Tb", || Lookup::Tb(NS, DB, "lead")),
        ("TbByName", || Lookup::TbByName("ns", "db", "lead")),
        ("Fds", || Lookup::Fds(NS, DB, "lead")),
        ("Ixs", || Lookup::Ixs(NS, DB, "lead")),
    ];
    let missed: Vec<&str> = kinds
        .into_iter()
        .filter(|(name, lookup)| {
            let cache = TransactionCache::new(512);
            cache.insert(lookup(), Entry::Any(Arc::new(*name)));
            cache.get(&lookup()).is_none()
        })
        .map(|(name, _)| name)
        .collect();
    assert!(missed.is_empty(), "stored, then not found: {missed:?}");
}
