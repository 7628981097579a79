//! The cache of pretrained bases. A base is determined by the model and pretraining tables, the seed and the
//! backend, so its files are stored under a hash of exactly those and reused by any later run that asks for
//! the same base (issue: "a pretrained base cached by config hash + seed and reused").

use std::fs;
use std::path::{Path, PathBuf};

use adaptbench_model::Backend;
use anyhow::Context;

use crate::experiment::ExperimentConfig;
use crate::fingerprint::fingerprint;

/// Bump when the cached files or the training procedure change meaning, so old entries are not reused.
const CACHE_FORMAT: &str = "adaptbench-base-v1";

/// A directory of cached bases, `ROOT/bases/<key>/`.
pub struct BaseCache {
    root: PathBuf,
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

    /// The entry for `key` if it is complete.
    pub fn lookup(&self, key: &str) -> Option<PathBuf> {
        let entry = self.entry(key);
        entry.join(COMPLETE_MARKER).is_file().then_some(entry)
    }

    /// Stores `files` (source path, name inside the entry) as the entry for `key`. The entry is assembled in
    /// a temporary directory and renamed into place, so readers never see half an entry.
    pub fn store(&self, key: &str, files: &[(PathBuf, &str)]) -> anyhow::Result<PathBuf> {
        let entry = self.entry(key);
        let staging = self.root.join("bases").join(format!(".{key}.tmp-{}", std::process::id()));
        let _ = fs::remove_dir_all(&staging);
        for (source, name) in files {
            let target = staging.join(name);
            fs::create_dir_all(target.parent().expect("entry files live in a directory"))
                .with_context(|| format!("creating {}", staging.display()))?;
            fs::copy(source, &target).with_context(|| format!("caching {}", source.display()))?;
        }
        fs::write(staging.join(COMPLETE_MARKER), key).context("marking the cache entry complete")?;
        let _ = fs::remove_dir_all(&entry);
        fs::rename(&staging, &entry).with_context(|| format!("publishing cache entry {}", entry.display()))?;
        Ok(entry)
    }

    fn entry(&self, key: &str) -> PathBuf {
        self.root.join("bases").join(key)
    }
}

const COMPLETE_MARKER: &str = "COMPLETE";

/// Copies `name` from a cache entry to `target`, atomically.
pub fn restore(entry: &Path, name: &str, target: &Path) -> anyhow::Result<()> {
    let bytes = fs::read(entry.join(name)).with_context(|| format!("reading cached {name}"))?;
    adaptbench_model::write_bytes_atomically(target, &bytes)?;
    Ok(())
}
