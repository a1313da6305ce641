//! `server db copy`: a whole installation's database to another address,
//! through SurrealDB's own export and import, then checked row for row.
//! It converts an old SurrealKV folder and moves an installation to a
//! SurrealDB server; the target must be empty.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use surrealdb::types::Value;

use super::{Credentials, Database};
use crate::config::{DbAddress, EngineOptions, Secrets};
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

/// The engine's message may repeat either address or the password, in any
/// form: `secrets` withholds them all.
fn failed(secrets: &Secrets, step: &str, e: impl std::fmt::Display) -> StartupError {
    StartupError::Command(secrets.redact(&format!("the copy failed while {step} ({e})")))
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
    let secrets = super::secrets_of(ends.from, credentials().as_ref()).and(ends.to.secrets());
    let source = Database::connect(ends.from, ends.namespace, ends.database, credentials(), options).await?;
    let target = match Database::connect(ends.to, ends.namespace, ends.database, credentials(), options).await {
        Ok(target) => target,
        Err(e) => {
            source.close().await;
            return Err(e);
        }
    };
    // Both are closed however it ends, so their folders are free again at once.
    let result = transfer(&source, &target, &ends, &secrets).await;
    source.close().await;
    match result {
        Ok(report) => Ok((target, report)),
        Err(e) => {
            target.close().await;
            Err(e)
        }
    }
}

async fn transfer(source: &Database, target: &Database, ends: &Endpoints<'_>, secrets: &Secrets) -> Result<CopyReport, StartupError> {
    let fail_at = |step: &'static str| move |e: surrealdb::Error| failed(secrets, step, e);
    let version = source.health().await.map_err(fail_at("reading the source's schema version"))?;
    if version == 0 {
        return Err(refuse(format!("{} holds no Chat FB Top database", ends.from.describe())));
    }
    if version > super::SCHEMA_VERSION {
        return Err(StartupError::SchemaTooNew { found: version, supported: super::SCHEMA_VERSION });
    }
    if !table_names(target).await.map_err(fail_at("reading the target"))?.is_empty() {
        return Err(refuse(format!("{} is not empty", ends.to.describe())));
    }
    let dump = DumpFile::create(ends.to)?;
    source.client().export_to(dump.path.clone()).await.map_err(fail_at("exporting the source"))?;
    target.client().import_from(dump.path.clone()).await.map_err(fail_at("importing into the target"))?;
    drop(dump);
    verify_withholding(source, target, secrets).await
}

/// The same tables with the same definitions, and the same rows in the same order.
pub async fn verify(source: &Database, target: &Database) -> Result<CopyReport, StartupError> {
    verify_withholding(source, target, &Secrets::default()).await
}

async fn verify_withholding(source: &Database, target: &Database, secrets: &Secrets) -> Result<CopyReport, StartupError> {
    let fail_at = |step: &'static str| move |e: surrealdb::Error| failed(secrets, step, e);
    let tables = table_names(source).await.map_err(fail_at("listing the source's tables"))?;
    let copied = table_names(target).await.map_err(fail_at("listing the target's tables"))?;
    if tables != copied {
        return Err(failed(secrets, "verifying", format!("the target has tables {copied:?}, the source {tables:?}")));
    }
    let mut rows = 0u64;
    for table in &tables {
        let (a, b) = (table_info(source, table).await, table_info(target, table).await);
        if a.map_err(fail_at("verifying"))? != b.map_err(fail_at("verifying"))? {
            return Err(failed(secrets, "verifying", format!("table {table} has other fields or indexes in the target")));
        }
        rows += compare_rows(source, target, table, secrets).await?;
    }
    Ok(CopyReport { tables: tables.len(), rows })
}

async fn compare_rows(source: &Database, target: &Database, table: &str, secrets: &Secrets) -> Result<u64, StartupError> {
    let mut start = 0i64;
    loop {
        let a = page(source, table, start).await.map_err(|e| failed(secrets, "reading the source", e))?;
        let b = page(target, table, start).await.map_err(|e| failed(secrets, "reading the target", e))?;
        if a != b {
            return Err(failed(secrets, "verifying", format!("table {table} differs from row {start} on")));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_error_withholds_both_addresses_credentials_and_the_password_in_every_form() {
        let from = DbAddress::parse("ws://reader:from%2Fpass@old.example:8000").unwrap();
        let to = DbAddress::parse("wss://writer:to%40pass@new.example:443/rpc").unwrap();
        let credentials = Credentials { username: "root".into(), password: "db-password-7".into() };
        let secrets = crate::db::secrets_of(&from, Some(&credentials)).and(to.secrets());
        let engine_said = "ws://reader:from%2Fpass@old.example:8000 -> wss://writer:to@pass@new.example:443/rpc \
                           (decoded from/pass, TO%40PASS) auth db-password-7";
        let text = failed(&secrets, "importing into the target", engine_said).to_string();
        for secret in ["from%2Fpass", "from/pass", "to%40pass", "to@pass", "TO%40PASS", "db-password-7"] {
            assert!(!text.contains(secret), "{secret} in: {text}");
        }
        assert!(text.contains("old.example:8000") && text.contains("new.example:443"), "the hosts stay: {text}");
    }
}
