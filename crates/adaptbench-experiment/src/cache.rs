//! The cache of pretrained bases. A base is determined by the model and pretraining tables, the seed and the
//! backend, so its files are stored under a hash of exactly those and reused by any later run that asks for
//! the same base. Every entry carries the SHA-256 of each of its files, checked on every lookup, so a
//! truncated or altered entry is detected, reported by path and rebuilt instead of loaded.

use std::fs;
use std::path::{Path, PathBuf};

use adaptbench_model::Backend;
use adaptbench_report::write_atomically;
use sha2::{Digest, Sha256};

use crate::config::ExperimentConfig;
use crate::error::{ExperimentError, Result};
use crate::fingerprint::fingerprint;

/// Bump when the cached files or the training procedure change meaning, so old entries are not reused.
const CACHE_FORMAT: &str = "adaptbench-base-v3";

/// Written last into an entry: one `sha256  name` line per file. An entry without it is incomplete.
const CHECKSUMS: &str = "SHA256SUMS";

/// A directory of cached bases, `ROOT/bases/<key>/`.
pub struct BaseCache {
    root: PathBuf,
}

/// What a lookup found.
#[derive(Debug, PartialEq)]
pub enum Lookup {
    /// A complete entry whose files match their checksums.
    Hit(PathBuf),
    /// No complete entry.
    Miss,
    /// An entry whose checksums do not match (`what` says which file and how).
    Corrupt { entry: PathBuf, what: String },
}

impl BaseCache {
    /// `explicit`, else `$ADAPTBENCH_CACHE`, else `~/.cache/adaptbench`, else `.cache/adaptbench`.
    pub fn locate(explicit: Option<PathBuf>) -> Self {
        let root = explicit
            .or_else(|| std::env::var_os("ADAPTBENCH_CACHE").map(PathBuf::from))
            .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache/adaptbench")))
            .unwrap_or_else(|| PathBuf::from(".cache/adaptbench"));
        Self { root }
    }

    /// SHA-256 over the cache format, the `[model]` and `[pretrain]` tables as resolved TOML, the seed and the
    /// backend; the first 16 hex digits. The run name, the layout and output paths do not enter it.
    pub fn key(config: &ExperimentConfig, backend: Backend) -> String {
        fingerprint(&[
            CACHE_FORMAT.to_string(),
            toml::to_string(&config.model).expect("model config serialises"),
            toml::to_string(&config.pretrain).expect("pretrain config serialises"),
            config.seed.to_string(),
            backend.to_string(),
        ])
    }

    /// The entry for `key`, checked against its checksums.
    pub fn lookup(&self, key: &str) -> Lookup {
        let entry = self.entry(key);
        let Ok(sums) = fs::read_to_string(entry.join(CHECKSUMS)) else { return Lookup::Miss };
        for line in sums.lines() {
            let Some((expected, name)) = line.split_once("  ") else {
                return Lookup::Corrupt { entry, what: format!("{CHECKSUMS} has a malformed line {line:?}") };
            };
            match fs::read(entry.join(name)) {
                Ok(bytes) if sha256_hex(&bytes) == expected => {}
                Ok(_) => return Lookup::Corrupt { entry, what: format!("{name} does not match its checksum") },
                Err(error) => return Lookup::Corrupt { entry, what: format!("{name}: {error}") },
            }
        }
        Lookup::Hit(entry)
    }

    /// Waits for, then holds, the exclusive lock of entry `key` (released when the file is dropped): the
    /// process holding it looks the entry up and trains and stores it if missing, so of several processes
    /// asking for the same uncached base one trains it and the others, once they get the lock, find it.
    pub fn lock(&self, key: &str) -> Result<fs::File> {
        let locks = self.root.join("locks");
        fs::create_dir_all(&locks).map_err(ExperimentError::io(&locks))?;
        let path = locks.join(format!("{key}.lock"));
        let file = fs::OpenOptions::new().create(true).truncate(false).write(true).open(&path).map_err(ExperimentError::io(&path))?;
        file.lock().map_err(ExperimentError::io(&path))?;
        Ok(file)
    }

    /// Removes the entry for `key` (a corrupt one, before it is rebuilt).
    pub fn discard(&self, key: &str) -> Result<()> {
        let entry = self.entry(key);
        match fs::remove_dir_all(&entry) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(ExperimentError::Io { path: entry, source: error }),
            _ => Ok(()),
        }
    }

    /// Stores `files` (source path, name inside the entry) as the entry for `key`, with their checksums. The
    /// entry is assembled in a temporary directory and renamed into place, so readers never see half an entry.
    pub fn store(&self, key: &str, files: &[(PathBuf, &str)]) -> Result<PathBuf> {
        let entry = self.entry(key);
        let bases = self.root.join("bases");
        fs::create_dir_all(&bases).map_err(ExperimentError::io(&bases))?;
        let staging = tempfile::Builder::new()
            .prefix(&format!(".{key}.tmp-"))
            .tempdir_in(&bases)
            .map_err(ExperimentError::io(&bases))?;
        let mut sums = String::new();
        for (source, name) in files {
            let bytes = fs::read(source).map_err(ExperimentError::io(source))?;
            let target = staging.path().join(name);
            let parent = target.parent().expect("entry files live in a directory");
            fs::create_dir_all(parent).map_err(ExperimentError::io(parent))?;
            fs::write(&target, &bytes).map_err(ExperimentError::io(&target))?;
            sums.push_str(&format!("{}  {name}\n", sha256_hex(&bytes)));
        }
        let sums_path = staging.path().join(CHECKSUMS);
        fs::write(&sums_path, sums).map_err(ExperimentError::io(&sums_path))?;
        let _ = fs::remove_dir_all(&entry);
        let staged = staging.keep();
        fs::rename(&staged, &entry).map_err(ExperimentError::io(&entry))?;
        Ok(entry)
    }

    /// Copies `name` from a cache entry to `target`, atomically.
    pub fn restore(entry: &Path, name: &str, target: &Path) -> Result<()> {
        let source = entry.join(name);
        let bytes = fs::read(&source).map_err(ExperimentError::io(&source))?;
        write_atomically(target, &bytes)?;
        Ok(())
    }

    fn entry(&self, key: &str) -> PathBuf {
        self.root.join("bases").join(key)
    }
}

/// SHA-256 of `bytes` as 64 lowercase hex digits.
fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(dir: &Path) -> (BaseCache, PathBuf) {
        let cache = BaseCache::locate(Some(dir.join("cache")));
        let source = dir.join("model.bpk");
        fs::write(&source, b"weights").unwrap();
        let entry = cache.store("k", &[(source, "checkpoint/model.bpk")]).unwrap();
        (cache, entry)
    }

    #[test]
    fn a_stored_entry_is_found_with_its_files() {
        let dir = tempfile::tempdir().unwrap();
        let (cache, entry) = stored(dir.path());
        assert_eq!(cache.lookup("k"), Lookup::Hit(entry.clone()));
        assert_eq!(fs::read(entry.join("checkpoint/model.bpk")).unwrap(), b"weights");
        assert_eq!(cache.lookup("other"), Lookup::Miss);
    }

    #[test]
    fn a_truncated_file_is_reported_as_corrupt_by_name_and_discarded() {
        let dir = tempfile::tempdir().unwrap();
        let (cache, entry) = stored(dir.path());
        fs::write(entry.join("checkpoint/model.bpk"), b"weig").unwrap();
        let Lookup::Corrupt { entry: found, what } = cache.lookup("k") else { panic!("not detected") };
        assert_eq!(found, entry);
        assert!(what.contains("checkpoint/model.bpk"), "{what}");
        cache.discard("k").unwrap();
        assert_eq!(cache.lookup("k"), Lookup::Miss);
    }

    #[test]
    fn an_entry_without_checksums_is_incomplete() {
        let dir = tempfile::tempdir().unwrap();
        let (cache, entry) = stored(dir.path());
        fs::remove_file(entry.join(CHECKSUMS)).unwrap();
        assert_eq!(cache.lookup("k"), Lookup::Miss);
    }

    #[test]
    fn sha256_of_abc_is_the_fips_test_vector() {
        assert_eq!(sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
