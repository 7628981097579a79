//! Atomic file writes: a sibling temporary file renamed over the target, so an interrupted run never leaves a
//! half-written figure or report behind.

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::ReportError;

/// Writes `bytes` to `path` through a temporary file in the same directory (so the rename stays on one file
/// system and is atomic), creating the parent directory if missing.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    if let Some(parent) = path.parent().filter(|parent| !parent.as_os_str().is_empty()) {
        fs::create_dir_all(parent).map_err(|source| ReportError::Io { path: parent.to_path_buf(), source })?;
    }
    let io_error = |source| ReportError::Io { path: path.to_path_buf(), source };
    let temporary = temporary_sibling(path);
    if let Err(error) = fs::write(&temporary, bytes) {
        let _ = fs::remove_file(&temporary); // best effort: the write error is the one to report
        return Err(io_error(error));
    }
    fs::rename(&temporary, path).map_err(io_error)
}

/// `dir/.name.tmp-<pid>`: hidden, beside the target, unique per process.
fn temporary_sibling(path: &Path) -> PathBuf {
    let name = path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_creates_missing_directories_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("figures").join("a.svg");
        write_atomically(&path, b"old").unwrap();
        write_atomically(&path, b"new").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"new");
        assert_eq!(fs::read_dir(path.parent().unwrap()).unwrap().count(), 1);
    }
}
