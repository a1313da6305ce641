//! Which engine wrote a database folder. RocksDB creates a missing database
//! without complaint, so opening an old SurrealKV folder as RocksDB would
//! show an empty installation; the folder is checked before anything opens it.

use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FolderEngine {
    /// Missing or empty: a new database.
    Empty,
    RocksDb,
    SurrealKv,
    /// Files that neither engine wrote.
    Unknown,
}

pub fn detect(path: &Path) -> FolderEngine {
    let Ok(entries) = std::fs::read_dir(path) else { return FolderEngine::Empty };
    let names: Vec<String> = entries.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    if names.is_empty() {
        FolderEngine::Empty
    } else if names.iter().any(|n| n == "CURRENT") {
        FolderEngine::RocksDb
    } else if names.iter().any(|n| matches!(n.as_str(), "wal" | "sstables" | "manifest" | "vlog")) {
        FolderEngine::SurrealKv
    } else {
        FolderEngine::Unknown
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_engines_folder_is_recognised_by_its_own_files() {
        let root = tempfile::tempdir().unwrap();
        assert_eq!(detect(&root.path().join("missing")), FolderEngine::Empty);
        assert_eq!(detect(root.path()), FolderEngine::Empty);

        let rocks = root.path().join("rocks");
        std::fs::create_dir(&rocks).unwrap();
        for file in ["CURRENT", "IDENTITY", "LOCK", "MANIFEST-000005", "000004.log"] {
            std::fs::write(rocks.join(file), b"").unwrap();
        }
        assert_eq!(detect(&rocks), FolderEngine::RocksDb);

        let skv = root.path().join("skv");
        for dir in ["wal", "sstables", "manifest"] {
            std::fs::create_dir_all(skv.join(dir)).unwrap();
        }
        std::fs::write(skv.join("LOCK"), b"123").unwrap();
        assert_eq!(detect(&skv), FolderEngine::SurrealKv);

        let other = root.path().join("other");
        std::fs::create_dir(&other).unwrap();
        std::fs::write(other.join("notes.txt"), b"x").unwrap();
        assert_eq!(detect(&other), FolderEngine::Unknown);
    }
}
