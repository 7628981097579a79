//! Reading tidy CSV files (one record per row, a fixed header) into row structs, with errors that name the
//! file, the line and the column.

use std::path::Path;

use serde::de::DeserializeOwned;

use crate::error::ReportError;

/// Reads every record of the CSV file at `path` as a `T`, after checking that its header is exactly `header`
/// (same names, same order), so that a file from another schema version is rejected rather than misread.
pub(crate) fn read_tidy_csv<T: DeserializeOwned>(path: &Path, header: &[&str]) -> Result<Vec<T>, ReportError> {
    let mut reader = csv::Reader::from_path(path).map_err(|error| record_error(path, header, error))?;
    let found = reader.headers().map_err(|error| record_error(path, header, error))?;
    if found.iter().ne(header.iter().copied()) {
        return Err(ReportError::Header {
            path: path.to_path_buf(),
            found: found.iter().collect::<Vec<_>>().join(","),
            expected: header.join(","),
        });
    }
    reader.deserialize().map(|record| record.map_err(|error| record_error(path, header, error))).collect()
}

/// Turns a CSV error into [`ReportError`], naming the line and, for a field that does not parse, its column.
fn record_error(path: &Path, header: &[&str], error: csv::Error) -> ReportError {
    let line = error.position().map_or(0, csv::Position::line);
    match error.kind() {
        // `io::Error::from` keeps the operating system's message ("No such file or directory").
        csv::ErrorKind::Io(_) => ReportError::Io { path: path.to_path_buf(), source: error.into() },
        csv::ErrorKind::Deserialize { err, .. } => {
            let column = err.field().and_then(|index| header.get(index as usize)).copied().unwrap_or("?");
            ReportError::Record {
                path: path.to_path_buf(),
                line,
                message: format!("column `{column}`: {}", err.kind()),
            }
        }
        _ => ReportError::Record { path: path.to_path_buf(), line, message: error.to_string() },
    }
}
