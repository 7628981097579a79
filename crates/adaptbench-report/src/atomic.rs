//! The one atomic file writer of the project: a uniquely named temporary file in the target's directory,
//! renamed over the target (tempfile's `persist`), so that an interrupted run never leaves a half-written
//! result, checkpoint or cache entry behind, and concurrent writers (threads or processes) never share a
//! temporary file.

use std::fmt;
use std::fs;
use std::path::Path;

use crate::error::ReportError;

/// Writes `bytes` to `path` atomically, creating the parent directory if missing.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    write_atomically_with(path, |temporary| fs::write(temporary, bytes))
}

/// Writes `path` atomically with `write`, which fills the temporary path it is given (for writers that
/// take a path, such as burn's record files). If `write` fails, `path` keeps its previous content.
pub fn write_atomically_with<E: fmt::Display>(
    path: &Path,
    write: impl FnOnce(&Path) -> Result<(), E>,
) -> Result<(), ReportError> {
    let parent = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let io_error = |source| ReportError::Io { path: path.to_path_buf(), source };
    fs::create_dir_all(parent).map_err(io_error)?;
    let name = path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
    let temporary =
        tempfile::Builder::new().prefix(&format!(".{name}.")).suffix(".tmp").tempfile_in(parent).map_err(io_error)?;
    write(temporary.path()).map_err(|error| ReportError::Write { path: path.to_path_buf(), message: error.to_string() })?;
    temporary.persist(path).map_err(|error| io_error(error.error))?;
    Ok(())
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

    #[test]
    fn a_failed_write_leaves_the_previous_file_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("result.csv");
        write_atomically(&path, b"old").unwrap();
        let failed = write_atomically_with(&path, |temporary| {
            fs::write(temporary, b"half")?;
            Err(std::io::Error::other("interrupted"))
        });
        assert!(matches!(failed, Err(ReportError::Write { .. })));
        assert_eq!(fs::read(&path).unwrap(), b"old");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1, "no temporary file is left behind");
    }

    #[test]
    fn concurrent_writers_of_one_file_leave_one_whole_version() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cell.json");
        std::thread::scope(|scope| {
            for writer in 0..8u8 {
                let path = &path;
                scope.spawn(move || {
                    for _ in 0..50 {
                        write_atomically(path, &vec![writer; 4096]).unwrap();
                    }
                });
            }
        });
        let bytes = fs::read(&path).unwrap();
        assert_eq!(bytes.len(), 4096);
        assert!(bytes.iter().all(|&b| b == bytes[0]), "one writer's bytes, never a mix");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
