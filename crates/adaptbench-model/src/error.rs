//! Errors of the model crate: bad configurations and unreadable or mismatched checkpoints.

use std::path::PathBuf;

/// What went wrong building, saving or loading a model.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A configuration value outside its allowed range; `key` is the TOML path.
    #[error("{key} = {value} is invalid: {allowed}")]
    InvalidConfig { key: String, value: String, allowed: String },
    /// A checkpoint whose configuration differs from the one the caller expects.
    #[error("checkpoint {path} was trained with a different model configuration:\n  checkpoint: {found}\n  expected:   {expected}")]
    ConfigMismatch { path: PathBuf, found: String, expected: String },
    /// The backend named on the command line is not compiled into this binary.
    #[error("backend `{0}` is not available in this build: {1}")]
    BackendUnavailable(String, String),
    #[error("cannot read or write {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("cannot parse {path}: {message}")]
    Parse { path: PathBuf, message: String },
    /// An atomic write failed (the target keeps its previous content).
    #[error(transparent)]
    Write(#[from] adaptbench_report::ReportError),
    #[error("cannot save or load the weights in {path}: {message}")]
    Record { path: PathBuf, message: String },
}
