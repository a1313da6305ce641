//! `server db copy`: a whole installation's database to another address,
//! through SurrealDB's own export and import, then checked row for row.
//! It converts an old SurrealKV folder and moves an installation to a
//! SurrealDB server; the target must be empty.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use surrealdb::types::Value;

use super::{Credentials, Database};
use crate::config::{DbAddress, EngineOptions};
use crate::error::StartupError;

/// Rows compared per round trip while verifying.
const VERIFY_PAGE: i64 = 1000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyReport {
    pub tables: usize,
    pub rows: u64,
}

pub struct Endpoints<'a> {
    pub from: &'a DbAddress,
    pub to: &'a DbAddress,
    pub namespace: &'a str,
    pub database: &'a str,
}

fn refuse(reason: impl Into<String>) -> StartupError {
    StartupError::Command(format!("the copy was refused: {}", reason.into()))
}

fn failed(step: &str, e: impl std::fmt::Display) -> StartupError {
    StartupError::Command(format!("the copy failed while {step} ({e})"))
}

/// Copies and verifies; returns the open target, for checks that need the
/// installation's keys (the consent ledger).
pub async fn copy(ends: Endpoints<'_>, credentials: impl Fn() -> Option<Credentials>, options: &EngineOptions) -> Result<(Database, CopyReport), StartupError> {
    if ends.from == ends.to {
        return Err(refuse("the source and the target are the same database"));
    }
    if matches!(ends.to, DbAddress::SurrealKv(_)) {
        return Err(refuse("SurrealKV is only read, never written; copy to rocksdb://PATH instead"));
    }
    if matches!(ends.from, DbAddress::Memory) {
        return Err(refuse("mem:// is empty at every start, so there is nothing to copy from"));
    }
    let source = Database::connect(ends.from, ends.namespace, ends.database, credentials(), options).await?;
    let target = match Database::connect(ends.to, ends.namespace, ends.database, credentials(), options).await {
        Ok(target) => target,
        Err(e) => {
            source.close().await;
            return Err(e);
        }
    };
    // Both are closed however it ends, so their folders are free again at once.
    let result = transfer(&source, &target, &ends).await;
    source.close().await;
    match result {
        Ok(report) => Ok((target, report)),
        Err(e) => {
            target.close().await;
            Err(e)
        }
    }
}

async fn transfer(source: &Database, target: &Database, ends: &Endpoints<'_>) -> Result<CopyReport, StartupError> {
    let version = source.health().await.map_err(|e| failed("reading the source's schema version", e))?;
    if version == 0 {
        return Err(refuse(format!("{} holds no Chat FB Top database", ends.from.describe())));
    }
    if version > super::SCHEMA_VERSION {
        return Err(StartupError::SchemaTooNew { found: version, supported: super::SCHEMA_VERSION });
    }
    if !table_names(target).await.map_err(|e| failed("reading the target", e))?.is_empty() {
        return Err(refuse(format!("{} is not empty", ends.to.describe())));
    }
    let dump = DumpFile::create(ends.to)?;
    source.client().export_to(dump.path.clone()).await.map_err(|e| failed("exporting the source", e))?;
    target.client().import_from(dump.path.clone()).await.map_err(|e| failed("importing into the target", e))?;
    drop(dump);
    verify(source, target).await
}

/// The same tables with the same definitions, and the same rows in the same order.
pub async fn verify(source: &Database, target: &Database) -> Result<CopyReport, StartupError> {
    let tables = table_names(source).await.map_err(|e| failed("listing the source's tables", e))?;
    let copied = table_names(target).await.map_err(|e| failed("listing the target's tables", e))?;
    if tables != copied {
        return Err(failed("verifying", format!("the target has tables {copied:?}, the source {tables:?}")));
    }
    let mut rows = 0u64;
    for table in &tables {
        let (a, b) = (table_info(source, table).await, table_info(target, table).await);
        if a.map_err(|e| failed("verifying", e))? != b.map_err(|e| failed("verifying", e))? {
            return Err(failed("verifying", format!("table {table} has other fields or indexes in the target")));
        }
        rows += compare_rows(source, target, table).await?;
    }
    Ok(CopyReport { tables: tables.len(), rows })
}

async fn compare_rows(source: &Database, target: &Database, table: &str) -> Result<u64, StartupError> {
    let mut start = 0i64;
    loop {
        let a = page(source, table, start).await.map_err(|e| failed("reading the source", e))?;
        let b = page(target, table, start).await.map_err(|e| failed("reading the target", e))?;
        if a != b {
            return Err(failed("verifying", format!("table {table} differs from row {start} on")));
        }
        let n = a.len() as i64;
        start += n;
        if n < VERIFY_PAGE {
            return Ok(start as u64);
        }
    }
}

/// Rows in key order: both engines scan a table in record-id order.
async fn page(db: &Database, table: &str, start: i64) -> Result<Vec<Value>, surrealdb::Error> {
    db.client()
        .query("SELECT * FROM type::table($table) LIMIT $limit START $start")
        .bind(("table", table.to_string()))
        .bind(("limit", VERIFY_PAGE))
        .bind(("start", start))
        .await?
        .take(0)
}

async fn table_names(db: &Database) -> Result<Vec<String>, surrealdb::Error> {
    let mut tables: Vec<String> = db.client().query("RETURN (INFO FOR DB).tables.keys()").await?.take(0)?;
    tables.sort();
    Ok(tables)
}

async fn table_info(db: &Database, table: &str) -> Result<Value, surrealdb::Error> {
    let info: Option<Value> = db.client().query("INFO FOR TABLE $table").bind(("table", table.to_string())).await?.take(0)?;
    Ok(info.unwrap_or(Value::None))
}

/// The export between the two steps: beside an embedded target (same disk,
/// same protection), else in the temporary folder; readable by the owner
/// only, and removed however the copy ends.
struct DumpFile {
    path: PathBuf,
}

impl DumpFile {
    fn create(to: &DbAddress) -> Result<Self, StartupError> {
        let folder = match to {
            DbAddress::RocksDb(path) => path.parent().map(Path::to_path_buf).unwrap_or_else(std::env::temp_dir),
            _ => std::env::temp_dir(),
        };
        let path = folder.join(format!(".chatfbtop-copy-{}.surql", hex::encode(rand::random::<[u8; 8]>())));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&path).map_err(|source| StartupError::DataDirNotWritable { path: folder, source })?;
        file.flush().ok();
        Ok(DumpFile { path })
    }
}

impl Drop for DumpFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}
