//! The embedded RocksDB engine, opened with our own settings.
//!
//! The SDK's `connect("rocksdb://…")` builds its datastore with an empty
//! configuration and reads no environment variables, so the engine would
//! size its caches from the machine's memory. Building the datastore here
//! is the only way the memory budget reaches it; the SDK calls the wrapper
//! unstable, so it stays inside this one function.

use std::path::Path;
use std::sync::Arc;

use surrealdb::engine::local::Db;
use surrealdb::Surreal;
use surrealdb_cnf::ConfigMap;
use surrealdb_engine_local::Datastore;

use crate::config::EngineOptions;

/// The engine's settings for a memory budget: a quarter for the two write
/// buffers (memtables), the rest for the block cache. RocksDB charges the
/// memtables to that cache as well, so together they stay near the budget.
pub fn engine_config(options: &EngineOptions) -> ConfigMap {
    let budget = options.memory_bytes;
    let write_buffer = budget / 8;
    let block_cache = budget - 2 * write_buffer;
    ConfigMap::empty()
        .with_key_value("rocksdb_block_cache_size", block_cache.to_string())
        .with_key_value("rocksdb_write_buffer_size", write_buffer.to_string())
        .with_key_value("rocksdb_max_write_buffer_number", "2")
        .with_key_value("rocksdb_min_write_buffer_number_to_merge", "1")
        // Every commit reaches the disk before it is acknowledged (RocksDB's
        // default too, but it is our promise, so it is said here).
        .with_key_value("datastore_sync", "every")
}

/// Opens (or creates) a RocksDB folder. Blocking while the engine replays its
/// log after a crash, so the caller runs it on its own task.
pub async fn open_rocksdb(path: &Path, options: &EngineOptions) -> Result<(Surreal<Db>, Arc<Datastore>), String> {
    let (notify, notifications) = surrealdb::channel::bounded(surrealdb_cnf::NOTIFICATIONS_CHANNEL_SIZE);
    // As the SDK's own `connect` does: maintenance tasks start only after the
    // version key is settled.
    let datastore = Datastore::builder()
        .with_config(engine_config(options))
        .with_notify(notify)
        .without_maintenance_tasks()
        .build_with_path(&format!("rocksdb://{}", path.display()))
        .await
        .map_err(|e| e.to_string())?;
    datastore.check_version().await.map_err(|e| e.to_string())?;
    datastore.bootstrap().await.map_err(|e| e.to_string())?;
    datastore.start_maintenance_tasks();
    let client = Surreal::<Db>::unstable_from_datastore(Arc::clone(&datastore), Some(notifications)).await.map_err(|e| e.to_string())?;
    Ok((client, datastore))
}
