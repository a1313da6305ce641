//! The `surreal` binary: the same thin `main` as SurrealDB's own.
//! `surreal start --user root --pass … --bind 127.0.0.1:8000 memory`
//! or `… rocksdb://path`. Never linked into the app.

// Optimised builds lay out surrealdb-core's expression evaluator's async
// bodies deeper than rustc's default limit of 128 (found by the bench build).
#![recursion_limit = "256"]

use std::process::ExitCode;

fn main() -> ExitCode {
    surrealdb_server::init(surrealdb_server::core::CommunityComposer())
}
