//! The experiment's errors: [`ConfigError`], bad input found before any work (a caller maps it to exit code
//! 2), and [`ExperimentError`], everything that can go wrong once work has started.

use std::fmt;
use std::path::PathBuf;

use adaptbench_adapt::AdaptError;
use adaptbench_model::ModelError;
use adaptbench_prompt::PromptError;
use adaptbench_report::ReportError;
use adaptbench_sources::SourceError;
use adaptbench_train::TrainError;
use thiserror::Error;

/// Bad input: the key it concerns (a TOML path such as `eval.ood[0].len`, or a command-line option such as
/// `--out`), the rejected value and what is allowed. Its message is `key = value is invalid: allowed`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConfigError {
    /// A value outside what its key allows.
    #[error("{key} = {value} is invalid: {allowed}")]
    Invalid { key: String, value: String, allowed: String },
    /// A file that could not be read or is not TOML of the config's shape (unknown key, wrong type); the
    /// message is the parser's and names the key and the line.
    #[error("{path}: {message}")]
    Unreadable { path: PathBuf, message: String },
    /// An error of one point of a grid (`[sweep]`), with the point's index and its swept values.
    #[error("grid point {point} ({label}): {error}")]
    AtPoint { point: u64, label: String, error: Box<ConfigError> },
}

impl ConfigError {
    /// A [`ConfigError::Invalid`].
    pub fn new(key: impl Into<String>, value: impl fmt::Display, allowed: impl fmt::Display) -> Self {
        Self::Invalid { key: key.into(), value: value.to_string(), allowed: allowed.to_string() }
    }

    /// The key the error names (for an unreadable file, its path).
    pub fn key(&self) -> String {
        match self {
            Self::Invalid { key, .. } => key.clone(),
            Self::Unreadable { path, .. } => path.display().to_string(),
            Self::AtPoint { error, .. } => error.key(),
        }
    }

    /// This error as one of grid point `point`, whose swept values are `label`.
    pub fn at_point(self, point: u64, label: &str) -> Self {
        Self::AtPoint { point, label: label.to_string(), error: Box::new(self) }
    }
}

impl From<SourceError> for ConfigError {
    fn from(error: SourceError) -> Self {
        let message = error.to_string();
        let (key, value, allowed) = match error {
            SourceError::OutOfRange { key, value, range } => (key, value.to_string(), format!("allowed range {range}")),
            SourceError::OrderOutOfRange { key, value, max } => (key, value.to_string(), format!("allowed range 0..={max}")),
            SourceError::Empty { key } => (key, "[]".into(), "at least one entry".into()),
            SourceError::LengthMismatch { weights_key, weights_len, .. } => {
                (weights_key, format!("{weights_len} entries"), message)
            }
            SourceError::WeightsDoNotSumToOne { key, sum, .. } => (key, format!("weights summing to {sum}"), message),
            SourceError::UnsupportedInner { key, kind } => (key, format!("\"{kind}\""), "bern, mix or beta".into()),
        };
        Self::Invalid { key, value, allowed }
    }
}

/// The `InvalidConfig { key, value, allowed }` variant every library crate has (and its `Source` variant, a
/// rejected source table), as a [`ConfigError`]; other variants are not configuration errors and come back as
/// they are.
macro_rules! config_error_from {
    ($error:ident $(, $source:ident)?) => {
        impl TryFrom<$error> for ConfigError {
            type Error = $error;
            fn try_from(error: $error) -> Result<Self, $error> {
                match error {
                    $error::InvalidConfig { key, value, allowed } => Ok(Self::Invalid { key, value, allowed }),
                    $($error::$source(source) => Ok(source.into()),)?
                    #[allow(unreachable_patterns)] // TrainError has no other variant
                    other => Err(other),
                }
            }
        }
    };
}
config_error_from!(ModelError);
config_error_from!(TrainError, Source);
config_error_from!(AdaptError, Source);
config_error_from!(PromptError);

/// A configuration error of a library crate's `validate`, as a [`ConfigError`]: its `InvalidConfig` and
/// source errors become [`ConfigError::Invalid`]; anything else (which validation never returns) keeps its
/// message under `key`.
pub(crate) fn as_config_error<E>(key: &str, error: E) -> ConfigError
where
    E: std::error::Error,
    ConfigError: TryFrom<E, Error = E>,
{
    ConfigError::try_from(error).unwrap_or_else(|other| ConfigError::new(key, "?", other))
}

/// Anything that stops an experiment once it has started.
#[derive(Debug, Error)]
pub enum ExperimentError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The caller's stop flag was raised (Ctrl-C); whatever was finished is saved and a re-run resumes.
    #[error("interrupted")]
    Interrupted,
    /// A cached base that fails its checksums; it has been removed and the next run rebuilds it.
    #[error("the cached base {path} is corrupt ({what}); it has been removed, run the command again to rebuild it")]
    CorruptCache { path: PathBuf, what: String },
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    Train(#[from] TrainError),
    #[error(transparent)]
    Adapt(#[from] AdaptError),
    #[error(transparent)]
    Prompt(#[from] PromptError),
    #[error(transparent)]
    Report(#[from] ReportError),
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error(transparent)]
    Interpolation(#[from] adaptbench_adapt::InterpolationError),
}

impl ExperimentError {
    /// An [`ExperimentError::Io`] for `path`.
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io { path, source }
    }
}

/// The experiment crate's result.
pub type Result<T, E = ExperimentError> = std::result::Result<T, E>;
