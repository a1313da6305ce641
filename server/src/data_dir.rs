//! The data folder: created if missing, checked for writing, and locked so
//! that two processes never share one embedded database.

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use crate::error::StartupError;

/// Holds the lock for as long as it lives.
pub struct DataDir {
    path: PathBuf,
    lock: File,
}

impl DataDir {
    pub fn prepare(path: &Path) -> Result<Self, StartupError> {
        let not_writable = |source| StartupError::DataDirNotWritable { path: path.to_path_buf(), source };
        fs::create_dir_all(path).map_err(not_writable)?;
        let path = fs::canonicalize(path).map_err(not_writable)?;
        let probe = path.join(".write-probe");
        fs::write(&probe, b"ok").and_then(|()| fs::remove_file(&probe)).map_err(not_writable)?;
        let lock = File::options().create(true).truncate(false).write(true).open(path.join("server.lock")).map_err(not_writable)?;
        match lock.try_lock() {
            Ok(()) => Ok(DataDir { path, lock }),
            Err(fs::TryLockError::WouldBlock) => Err(StartupError::DataDirLocked { path }),
            Err(fs::TryLockError::Error(e)) => Err(StartupError::DataDirNotWritable { path, source: e }),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// This instance's name in leases and claims. Kept in the folder (one
    /// live process per folder, by the lock), so that after a restart the
    /// instance recognises the work it was doing when it stopped.
    pub fn instance_id(&self) -> Result<String, StartupError> {
        let file = self.path.join("instance-id");
        match fs::read_to_string(&file) {
            Ok(id) if !id.trim().is_empty() => Ok(id.trim().to_string()),
            _ => {
                let id = format!("{:016x}", rand::random::<u64>());
                fs::write(&file, &id).map_err(|source| StartupError::DataDirNotWritable { path: self.path.clone(), source })?;
                Ok(id)
            }
        }
    }
}

impl Drop for DataDir {
    /// Unlock explicitly: a child process forked meanwhile may still share
    /// the file description, and closing our descriptor alone would leave
    /// the lock held until that child execs.
    fn drop(&mut self) {
        let _ = self.lock.unlock();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_the_folder_andlocks_it_against_a_second_process() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("nested/data");
        let first = DataDir::prepare(&dir).expect("created");
        let err = DataDir::prepare(&dir).err().expect("second holder refused");
        assert!(matches!(err, StartupError::DataDirLocked { .. }), "{err}");
        drop(first);
        DataDir::prepare(&dir).expect("lock released on drop");
    }

    #[test]
    fn the_instance_id_is_kept_across_restarts_and_differs_between_folders() {
        let root = tempfile::tempdir().unwrap();
        let first = DataDir::prepare(&root.path().join("a")).unwrap().instance_id().unwrap();
        let again = DataDir::prepare(&root.path().join("a")).unwrap().instance_id().unwrap();
        let other = DataDir::prepare(&root.path().join("b")).unwrap().instance_id().unwrap();
        assert_eq!(first, again);
        assert_ne!(first, other);
    }

    #[test]
    fn a_folder_that_cannot_be_created_is_a_clear_error() {
        let root = tempfile::tempdir().unwrap();
        let file = root.path().join("a-file");
        fs::write(&file, b"x").unwrap();
        let err = DataDir::prepare(&file.join("data")).err().expect("cannot create under a file");
        assert!(err.to_string().contains("cannot be written"), "{err}");
    }
}
