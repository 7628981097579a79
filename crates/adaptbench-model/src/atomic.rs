//! Atomic file writes: write a sibling temporary file, then rename it over the target, so that an
//! interrupted run never leaves a half-written result or checkpoint behind.

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::ModelError;

/// Writes `path` atomically with `write`, which receives the temporary path to fill.
pub fn write_atomically<E: std::fmt::Display>(
    path: &Path,
    write: impl FnOnce(&Path) -> Result<(), E>,
) -> Result<(), ModelError> {
    let io_error = |source| ModelError::Io { path: path.to_path_buf(), source };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent).map_err(io_error)?;
    }
    let temporary = temporary_sibling(path);
    if let Err(error) = write(&temporary) {
        let _ = fs::remove_file(&temporary);
        return Err(ModelError::Record { path: path.to_path_buf(), message: error.to_string() });
    }
    fs::rename(&temporary, path).map_err(io_error)
}

/// Writes `bytes` to `path` atomically.
pub fn write_bytes_atomically(path: &Path, bytes: &[u8]) -> Result<(), ModelError> {
    write_atomically(path, |temporary| fs::write(temporary, bytes))
}

/// `dir/.name.tmp-<pid>`: hidden, in the same directory (so the rename stays on one file system), and unique
/// per process.
fn temporary_sibling(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_leaves_the_previous_file_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("result.csv");
        write_bytes_atomically(&path, b"old").unwrap();
        let failed = write_atomically(&path, |temporary| {
            fs::write(temporary, b"half")?;
            Err(std::io::Error::other("interrupted"))
        });
        assert!(failed.is_err());
        assert_eq!(fs::read(&path).unwrap(), b"old");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1, "no temporary file is left behind");
    }
}
