//! Data keys, always wrapped by the master key: one per account, plus the
//! installation's system and blind-index keys (those live in the database).
//!
//! Account keys live outside the database by default, one file each in
//! `DATA_DIR/keys`, so that an old copy of the database holds no key of an
//! erased account: deleting the file is the crypto-shredding. With several
//! instances on one remote database, `--key-store database` keeps them in
//! the `data_key` table instead (then only backups that expire shred).

use std::path::PathBuf;
use std::sync::Arc;

use surrealdb::types::{RecordId, SurrealValue};

use super::{Field, Keyring, SecretKey};
use crate::db::Database;

#[derive(Debug, thiserror::Error)]
pub enum KeyStoreError {
    #[error("database error while reading keys: {0}")]
    Database(#[from] surrealdb::Error),
    #[error("a stored key could not be unwrapped: {0}")]
    Crypto(#[from] super::CryptoError),
    #[error("the data key of this record is missing")]
    Missing,
    #[error("the key store could not be read or written: {0}")]
    Io(std::io::Error),
}

impl From<KeyStoreError> for crate::error::Error {
    fn from(e: KeyStoreError) -> Self {
        crate::error::Error::internal("key store error", e)
    }
}

/// Atomic (temp file, then rename) and readable by the owner only.
fn write_key_file(path: &std::path::Path, wrapped: &str) -> Result<(), KeyStoreError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("tmp");
    let mut file = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&tmp).map_err(KeyStoreError::Io)?;
    file.write_all(wrapped.as_bytes()).and_then(|()| file.sync_all()).map_err(KeyStoreError::Io)?;
    std::fs::rename(&tmp, path).map_err(KeyStoreError::Io)
}

#[derive(Debug, SurrealValue)]
struct WrappedRow {
    wrapped: String,
}

#[derive(Debug, SurrealValue)]
struct RewrapRow {
    id: RecordId,
    wrapped: String,
}

/// Where account data keys are kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DataKeyStore {
    /// One file per account in this folder (the default).
    Files(PathBuf),
    /// The `data_key` table (for several instances on one remote database).
    Database,
}

/// The crypto facade the capability modules use.
#[derive(Clone)]
pub struct Crypto {
    keyring: Arc<Keyring>,
    db: Database,
    store: DataKeyStore,
    system: SecretKey,
    index: SecretKey,
}

impl Crypto {
    /// Loads (or, on a fresh database, creates) the system and index keys.
    pub async fn open(keyring: Arc<Keyring>, db: Database, store: DataKeyStore) -> Result<Self, KeyStoreError> {
        if let DataKeyStore::Files(dir) = &store {
            use std::os::unix::fs::DirBuilderExt;
            std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(KeyStoreError::Io)?;
        }
        let system = system_key(&keyring, &db, "system").await?;
        let index = system_key(&keyring, &db, "index").await?;
        Ok(Crypto { keyring, db, store, system, index })
    }

    /// The key for values that belong to no account (the mail outbox).
    pub fn system_key(&self) -> &SecretKey {
        &self.system
    }

    /// Blind index of an email: equal emails give equal strings.
    pub fn email_index(&self, email: &str) -> String {
        self.index.blind_index("email", &super::normalise_email(email))
    }

    /// A keyed hash for equality lookups on a value that must not be stored in clear.
    pub fn keyed_index(&self, purpose: &str, value: &str) -> String {
        self.index.blind_index(purpose, value)
    }

    /// The MAC that chains consent-ledger entries (keyed, so it cannot be recomputed from the database alone).
    pub fn ledger_mac(&self, message: &str) -> String {
        self.index.blind_index("consent-ledger", message)
    }

    /// Creates and stores a fresh data key for a new account.
    pub async fn create_account_key(&self, account_id: &str) -> Result<SecretKey, KeyStoreError> {
        let key = SecretKey::generate();
        let record = data_key_id(account_id);
        let wrapped = self.keyring.wrap(&key, owner_field(&record));
        if let DataKeyStore::Files(dir) = &self.store {
            write_key_file(&dir.join(format!("{record}.key")), &wrapped)?;
            return Ok(key);
        }
        self.db
            .client()
            .query("CREATE $id SET wrapped = $wrapped, kek_id = $kek, created_at = time::unix()")
            .bind(("id", RecordId::new("data_key", record)))
            .bind(("wrapped", wrapped))
            .bind(("kek", self.keyring.current_id()))
            .await?
            .check()?;
        Ok(key)
    }

    pub async fn account_key(&self, account_id: &str) -> Result<SecretKey, KeyStoreError> {
        let record = data_key_id(account_id);
        if let DataKeyStore::Files(dir) = &self.store {
            let wrapped = match std::fs::read_to_string(dir.join(format!("{record}.key"))) {
                Ok(text) => text,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(KeyStoreError::Missing),
                Err(e) => return Err(KeyStoreError::Io(e)),
            };
            return Ok(self.keyring.unwrap(wrapped.trim(), owner_field(&record))?);
        }
        let row: Option<WrappedRow> =
            self.db.client().query("SELECT wrapped FROM ONLY $id").bind(("id", RecordId::new("data_key", record.clone()))).await?.take(0)?;
        let row = row.ok_or(KeyStoreError::Missing)?;
        Ok(self.keyring.unwrap(&row.wrapped, owner_field(&record))?)
    }

    /// Moving onto a shared database (`server db copy` with `--key-store
    /// database`): the data keys kept as files in `dir` go into the
    /// `data_key` table, so that every instance finds them. Each is unwrapped
    /// first, so a key under another master key is an error, never a silent
    /// loss. Keys already in the table stay. Returns how many were added.
    pub async fn import_key_files(&self, dir: &std::path::Path) -> Result<usize, KeyStoreError> {
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(KeyStoreError::Io(e)),
        };
        let mut added = 0;
        for entry in entries {
            let path = entry.map_err(KeyStoreError::Io)?.path();
            let Some(record) = path.file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_suffix(".key")).map(str::to_string) else {
                continue;
            };
            let wrapped = std::fs::read_to_string(&path).map_err(KeyStoreError::Io)?.trim().to_string();
            self.keyring.unwrap(&wrapped, owner_field(&record))?;
            let id = RecordId::new("data_key", record);
            let present: Option<bool> = self.db.client().query("RETURN record::exists($id)").bind(("id", id.clone())).await?.take(0)?;
            if present == Some(true) {
                continue;
            }
            self.db
                .client()
                .query("CREATE $id SET wrapped = $wrapped, kek_id = $kek, created_at = time::unix()")
                .bind(("id", id))
                .bind(("wrapped", wrapped))
                .bind(("kek", self.keyring.current_id()))
                .await?
                .check()?;
            added += 1;
        }
        Ok(added)
    }

    /// Crypto-shredding: without its data key, an account's values are noise.
    pub async fn destroy_account_key(&self, account_id: &str) -> Result<(), KeyStoreError> {
        if let DataKeyStore::Files(dir) = &self.store {
            match std::fs::remove_file(dir.join(format!("{}.key", data_key_id(account_id)))) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(KeyStoreError::Io(e)),
            }
        }
        self.db.client().query("DELETE $id").bind(("id", RecordId::new("data_key", data_key_id(account_id)))).await?.check()?;
        Ok(())
    }

    pub fn keyring(&self) -> &Keyring {
        &self.keyring
    }

    pub fn data_key_store(&self) -> &DataKeyStore {
        &self.store
    }
}

fn data_key_id(account_id: &str) -> String {
    format!("account-{account_id}")
}

fn owner_field(record: &str) -> Field<'_> {
    Field::new("data_key", record, "wrapped")
}

async fn system_key(keyring: &Keyring, db: &Database, name: &str) -> Result<SecretKey, KeyStoreError> {
    let id = RecordId::new("system_key", name);
    let owner = Field::new("system_key", name, "wrapped");
    let existing: Option<WrappedRow> = db.client().query("SELECT wrapped FROM ONLY $id").bind(("id", id.clone())).await?.take(0)?;
    if let Some(row) = existing {
        return Ok(keyring.unwrap(&row.wrapped, owner)?);
    }
    let key = SecretKey::generate();
    let created = db
        .client()
        .query("CREATE $id SET wrapped = $wrapped, kek_id = $kek, created_at = time::unix()")
        .bind(("id", id.clone()))
        .bind(("wrapped", keyring.wrap(&key, owner)))
        .bind(("kek", keyring.current_id()))
        .await?
        .check();
    if created.is_ok() {
        return Ok(key);
    }
    // Another instance created it first: use theirs.
    let row: Option<WrappedRow> = db.client().query("SELECT wrapped FROM ONLY $id").bind(("id", id)).await?.take(0)?;
    Ok(keyring.unwrap(&row.ok_or(KeyStoreError::Missing)?.wrapped, owner)?)
}

/// `server keys rotate`: a new master key, every stored key re-wrapped under
/// it, then the old master key dropped. Reads keep working throughout because
/// the key file lists both keys until the end. Returns how many keys moved.
pub async fn rotate_master_key(keyring: &Keyring, db: &Database, store: &DataKeyStore) -> Result<usize, RotateError> {
    keyring.begin_rotation()?;
    let mut moved = 0;
    for table in ["system_key", "data_key"] {
        let rows: Vec<RewrapRow> = db
            .client()
            .query("SELECT id, wrapped FROM type::table($table) WHERE kek_id != $kek")
            .bind(("table", table.to_string()))
            .bind(("kek", keyring.current_id()))
            .await
            .map_err(KeyStoreError::from)?
            .take(0)
            .map_err(KeyStoreError::from)?;
        for row in rows {
            let key_name = record_key_string(&row.id);
            let owner = Field::new(table, &key_name, "wrapped");
            let key = keyring.unwrap(&row.wrapped, owner).map_err(KeyStoreError::from)?;
            db.client()
                .query("UPDATE $id SET wrapped = $wrapped, kek_id = $kek")
                .bind(("id", row.id.clone()))
                .bind(("wrapped", keyring.wrap(&key, owner)))
                .bind(("kek", keyring.current_id()))
                .await
                .map_err(KeyStoreError::from)?
                .check()
                .map_err(KeyStoreError::from)?;
            moved += 1;
        }
    }
    if let DataKeyStore::Files(dir) = store {
        for entry in std::fs::read_dir(dir).map_err(KeyStoreError::Io)? {
            let path = entry.map_err(KeyStoreError::Io)?.path();
            let Some(record) = path.file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_suffix(".key")).map(str::to_string) else {
                continue;
            };
            let wrapped = std::fs::read_to_string(&path).map_err(KeyStoreError::Io)?;
            let key = keyring.unwrap(wrapped.trim(), owner_field(&record)).map_err(KeyStoreError::from)?;
            write_key_file(&path, &keyring.wrap(&key, owner_field(&record)))?;
            moved += 1;
        }
    }
    keyring.finish_rotation()?;
    Ok(moved)
}

fn record_key_string(id: &RecordId) -> String {
    match &id.key {
        surrealdb::types::RecordIdKey::String(s) => s.clone(),
        other => format!("{other:?}"),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RotateError {
    #[error(transparent)]
    Keys(#[from] KeyStoreError),
    #[error(transparent)]
    Keyring(#[from] super::keyring::KeyringError),
}
