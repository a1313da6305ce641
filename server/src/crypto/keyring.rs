//! Master keys (KEKs): where they come from, and wrapping data keys with them.
//!
//! A key file holds one base64 key per line; the first is current (it wraps),
//! the others only unwrap. That lets `server keys rotate` re-wrap every data
//! key while old and new keys are both readable.

use std::fs;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::RwLock;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use zeroize::Zeroizing;

use super::{CryptoError, Field, SecretKey, KEY_LEN};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// `--master-key-file`: the operator's file, ideally on another volume.
    File(PathBuf),
    /// `CHATFBTOP_MASTER_KEY`: base64 keys separated by commas, current first.
    Environment,
    /// Neither given: generated into the data folder on first start.
    Generated(PathBuf),
}

#[derive(Debug, thiserror::Error)]
pub enum KeyringError {
    #[error("the master key file {path} could not be read or written ({reason})")]
    File { path: PathBuf, reason: String },
    #[error("the master key is invalid: each key must be 32 bytes in base64")]
    Invalid,
}

pub struct Keyring {
    keys: RwLock<Vec<SecretKey>>,
    source: KeySource,
}

impl Keyring {
    /// Loads the master keys: from the file, else the environment value, else
    /// the data folder (generating one there on first start).
    pub fn load(file: Option<&Path>, env_value: Option<&str>, data_dir: &Path) -> Result<Self, KeyringError> {
        let (keys, source) = match (file, env_value) {
            (Some(path), _) => (read_key_file(path)?, KeySource::File(path.to_path_buf())),
            (None, Some(value)) => (parse_keys(value.split(','))?, KeySource::Environment),
            (None, None) => {
                let path = data_dir.join("master.key");
                if !path.exists() {
                    write_key_file(&path, &[SecretKey::generate_master()])?;
                    tracing::warn!(
                        path = %path.display(),
                        "generated a master key inside the data folder; move it to another volume and pass --master-key-file, \
                         so that a copy of the data folder alone cannot be decrypted"
                    );
                }
                (read_key_file(&path)?, KeySource::Generated(path))
            }
        };
        Ok(Keyring { keys: RwLock::new(keys), source })
    }

    /// A keyring from keys in memory (tests).
    pub fn from_keys(keys: Vec<SecretKey>) -> Self {
        Keyring { keys: RwLock::new(keys), source: KeySource::Environment }
    }

    pub fn source(&self) -> &KeySource {
        &self.source
    }

    pub fn current_id(&self) -> String {
        self.keys.read().expect("keyring lock")[0].id_hex()
    }

    /// Wraps a data key under the current master key, bound to its owner.
    pub fn wrap(&self, key: &SecretKey, owner: Field<'_>) -> String {
        let keys = self.keys.read().expect("keyring lock");
        keys[0].seal(owner, &key.to_wrapped_plaintext())
    }

    /// Unwraps with whichever master key the blob names; re-reads the key
    /// file once if that key is unknown (a rotation may have added it).
    pub fn unwrap(&self, blob: &str, owner: Field<'_>) -> Result<SecretKey, CryptoError> {
        match self.unwrap_loaded(blob, owner) {
            Err(CryptoError::UnknownKey(id)) => {
                if self.reload().is_ok() {
                    self.unwrap_loaded(blob, owner)
                } else {
                    Err(CryptoError::UnknownKey(id))
                }
            }
            other => other,
        }
    }

    fn unwrap_loaded(&self, blob: &str, owner: Field<'_>) -> Result<SecretKey, CryptoError> {
        let wanted = super::blob_key_id(blob)?;
        let keys = self.keys.read().expect("keyring lock");
        let kek = keys.iter().find(|k| k.id_hex() == wanted).ok_or(CryptoError::UnknownKey(wanted))?;
        let raw = kek.open(owner, blob)?;
        SecretKey::from_wrapped_plaintext(&raw)
    }

    fn reload(&self) -> Result<(), KeyringError> {
        let path = match &self.source {
            KeySource::File(p) | KeySource::Generated(p) => p,
            KeySource::Environment => return Ok(()),
        };
        let keys = read_key_file(path)?;
        *self.keys.write().expect("keyring lock") = keys;
        Ok(())
    }

    /// Rotation, step one: a new current key, with the old ones kept for reading.
    pub fn begin_rotation(&self) -> Result<(), KeyringError> {
        let path = self.file_path()?;
        let mut keys = self.keys.write().expect("keyring lock");
        let mut next = vec![SecretKey::generate_master()];
        next.extend(keys.iter().cloned());
        write_key_file(&path, &next)?;
        *keys = next;
        Ok(())
    }

    /// Rotation, last step: once nothing is wrapped by the old keys, drop them.
    pub fn finish_rotation(&self) -> Result<(), KeyringError> {
        let path = self.file_path()?;
        let mut keys = self.keys.write().expect("keyring lock");
        keys.truncate(1);
        write_key_file(&path, &keys)
    }

    fn file_path(&self) -> Result<PathBuf, KeyringError> {
        match &self.source {
            KeySource::File(p) | KeySource::Generated(p) => Ok(p.clone()),
            KeySource::Environment => Err(KeyringError::File {
                path: PathBuf::from("CHATFBTOP_MASTER_KEY"),
                reason: "a key given through the environment cannot be rotated in place; use --master-key-file".into(),
            }),
        }
    }
}

impl SecretKey {
    fn generate_master() -> Self {
        let key = SecretKey::generate();
        SecretKey::from_master_bytes(key.bytes)
    }
}

fn parse_keys<'a>(values: impl Iterator<Item = &'a str>) -> Result<Vec<SecretKey>, KeyringError> {
    let mut keys = Vec::new();
    for value in values.map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let raw = Zeroizing::new(B64.decode(value).map_err(|_| KeyringError::Invalid)?);
        if raw.len() != KEY_LEN {
            return Err(KeyringError::Invalid);
        }
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        bytes.copy_from_slice(&raw);
        keys.push(SecretKey::from_master_bytes(bytes));
    }
    if keys.is_empty() {
        return Err(KeyringError::Invalid);
    }
    Ok(keys)
}

fn read_key_file(path: &Path) -> Result<Vec<SecretKey>, KeyringError> {
    let text = Zeroizing::new(fs::read_to_string(path).map_err(|e| KeyringError::File { path: path.to_path_buf(), reason: e.to_string() })?);
    parse_keys(text.lines())
}

/// Writes atomically (temp file, then rename), readable by the owner only.
fn write_key_file(path: &Path, keys: &[SecretKey]) -> Result<(), KeyringError> {
    let fail = |e: std::io::Error| KeyringError::File { path: path.to_path_buf(), reason: e.to_string() };
    let mut text = Zeroizing::new(String::from("# Chat FB Top master keys: the first one is current. Keep this file secret.\n"));
    for key in keys {
        text.push_str(&B64.encode(key.bytes.as_ref()));
        text.push('\n');
    }
    let tmp = path.with_extension("tmp");
    let mut file = fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&tmp).map_err(fail)?;
    file.write_all(text.as_bytes()).and_then(|()| file.sync_all()).map_err(fail)?;
    fs::rename(&tmp, path).map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn owner() -> Field<'static> {
        Field::new("data_key", "account-1", "wrapped")
    }

    #[test]
    fn first_start_generates_a_private_master_key_and_reuses_it() {
        let dir = tempfile::tempdir().unwrap();
        let ring = Keyring::load(None, None, dir.path()).unwrap();
        let path = dir.path().join("master.key");
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(ring.source(), &KeySource::Generated(path.clone()));
        let dek = SecretKey::generate();
        let wrapped = ring.wrap(&dek, owner());
        let again = Keyring::load(None, None, dir.path()).unwrap();
        assert_eq!(again.unwrap(&wrapped, owner()).unwrap().bytes, dek.bytes);
    }

    #[test]
    fn environment_and_file_keys_are_validated() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(Keyring::load(None, Some("short"), dir.path()), Err(KeyringError::Invalid)));
        let good = B64.encode([7u8; 32]);
        let ring = Keyring::load(None, Some(&good), dir.path()).unwrap();
        assert_eq!(ring.source(), &KeySource::Environment);
        assert!(!dir.path().join("master.key").exists(), "nothing generated when a key is given");
        let missing = dir.path().join("nope.key");
        assert!(matches!(Keyring::load(Some(&missing), None, dir.path()), Err(KeyringError::File { .. })));
    }

    #[test]
    fn wrapped_keys_are_bound_to_their_owner_and_master_key() {
        let ring = Keyring::from_keys(vec![SecretKey::generate_master()]);
        let dek = SecretKey::generate();
        let wrapped = ring.wrap(&dek, owner());
        assert!(ring.unwrap(&wrapped, Field::new("data_key", "account-2", "wrapped")).is_err());
        let other = Keyring::from_keys(vec![SecretKey::generate_master()]);
        assert!(matches!(other.unwrap(&wrapped, owner()), Err(CryptoError::UnknownKey(_))));
    }

    #[test]
    fn rotation_keeps_old_wraps_readable_until_finished() {
        let dir = tempfile::tempdir().unwrap();
        let ring = Keyring::load(None, None, dir.path()).unwrap();
        let old_id = ring.current_id();
        let dek = SecretKey::generate();
        let old_wrap = ring.wrap(&dek, owner());

        ring.begin_rotation().unwrap();
        assert_ne!(ring.current_id(), old_id);
        let new_wrap = ring.wrap(&dek, owner());
        assert_eq!(ring.unwrap(&old_wrap, owner()).unwrap().bytes, dek.bytes, "old wraps still open");
        // Another process that loaded before the rotation reloads on an unknown id.
        let other_process = Keyring::load(Some(&dir.path().join("master.key")), None, dir.path()).unwrap();
        assert_eq!(other_process.unwrap(&new_wrap, owner()).unwrap().bytes, dek.bytes);

        ring.finish_rotation().unwrap();
        let reloaded = Keyring::load(None, None, dir.path()).unwrap();
        assert_eq!(reloaded.unwrap(&new_wrap, owner()).unwrap().bytes, dek.bytes);
        assert!(reloaded.unwrap(&old_wrap, owner()).is_err(), "old key gone after rotation");
    }
}
