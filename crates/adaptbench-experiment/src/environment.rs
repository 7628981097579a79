//! Where an experiment runs: the backend and its device, and the cache of pretrained bases.

use std::path::PathBuf;

use adaptbench_model::Backend;
use burn::tensor::Device;

use crate::cache::BaseCache;
use crate::error::ConfigError;

/// The compute and storage an experiment uses; nothing in it changes the numbers except the backend.
pub struct Environment {
    pub backend: Backend,
    /// The inference device of `backend` (training runs on its autodiff twin).
    pub device: Device,
    pub cache: BaseCache,
    /// Train bases even when the cache has them (and refresh the entries).
    pub retrain: bool,
}

impl Environment {
    /// `backend`'s device and the cache at `cache_dir` (else `$ADAPTBENCH_CACHE`, else `~/.cache/adaptbench`).
    /// A backend not compiled into this build is a [`ConfigError`] naming `--backend`.
    pub fn new(backend: Backend, cache_dir: Option<PathBuf>, retrain: bool) -> Result<Self, ConfigError> {
        let device = backend.device().map_err(|error| ConfigError::new("--backend", backend, error))?;
        Ok(Self { backend, device, cache: BaseCache::locate(cache_dir), retrain })
    }

    /// The CPU threads the backend's thread pool uses (recorded in manifests: numbers depend on them).
    pub fn threads(&self) -> usize {
        rayon::current_num_threads()
    }
}
