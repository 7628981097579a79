//! `ReportError`: why a result file could not be read, written or drawn, naming the file (and the line, for
//! CSV input) so that the message alone says where to look.

use std::path::PathBuf;

use thiserror::Error;

/// A failure to read, write or draw a report artefact.
#[derive(Debug, Error)]
pub enum ReportError {
    /// The file system refused a read, a write or a rename.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory concerned.
        path: PathBuf,
        source: std::io::Error,
    },
    /// A CSV file whose header is not the expected schema.
    #[error("{path}, line 1: the header is `{found}`, expected `{expected}`")]
    Header {
        path: PathBuf,
        /// The header found, comma-separated.
        found: String,
        /// The expected header, comma-separated.
        expected: String,
    },
    /// A CSV record that does not parse (a missing field, a number that is not one).
    #[error("{path}, line {line}: {message}")]
    Record {
        path: PathBuf,
        /// 1-based line of the record (0 when the CSV reader could not tell).
        line: u64,
        message: String,
    },
    /// A writer given a temporary file failed (the target keeps its previous content).
    #[error("{path}: {message}")]
    Write { path: PathBuf, message: String },
    /// Encoding rows as CSV in memory failed.
    #[error("encoding CSV: {0}")]
    Encode(#[from] csv::Error),
    /// Nothing to draw or summarise; `what` names the missing input.
    #[error("no data: {what}")]
    NoData { what: &'static str },
    /// A grid figure asked to lay out a key the grid did not sweep, or one whose values cannot be its axis.
    #[error("swept key `{key}`: {message}")]
    SweptKey { key: String, message: String },
    /// The plotting library failed while drawing `path`.
    #[error("drawing {path}: {message}")]
    Plot { path: PathBuf, message: String },
}
