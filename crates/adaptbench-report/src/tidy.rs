//! Tidy rows: writing and reading CSV files (one record per row, a fixed header), with read errors that name
//! the file, the line and the column, and grouping rows by their keys.

use std::path::Path;

use serde::de::DeserializeOwned;

use crate::error::ReportError;

/// `records` as CSV bytes under `header`. Rows build their records with floats in Rust's `Display` form, the
/// shortest string that parses back to the same `f64`, so a written file re-reads exactly.
pub(crate) fn write_tidy_csv<const N: usize>(
    header: &[&str; N],
    records: impl IntoIterator<Item = [String; N]>,
) -> Result<Vec<u8>, ReportError> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(header)?;
    for record in records {
        writer.write_record(record)?;
    }
    writer.into_inner().map_err(|error| ReportError::Encode(error.into_error().into()))
}

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

/// Splits `items` into groups of equal `key`, groups and their members in order of first appearance.
pub(crate) fn group_by_key<T, K: PartialEq>(
    items: impl IntoIterator<Item = T>,
    key: impl Fn(&T) -> K,
) -> Vec<(K, Vec<T>)> {
    let mut groups: Vec<(K, Vec<T>)> = Vec::new();
    for item in items {
        let k = key(&item);
        match groups.iter_mut().find(|(existing, _)| *existing == k) {
            Some((_, members)) => members.push(item),
            None => groups.push((k, vec![item])),
        }
    }
    groups
}

/// Turns a CSV error into [`ReportError`], naming the line and, for a field that does not parse, its column.
fn record_error(path: &Path, header: &[&str], error: csv::Error) -> ReportError {
    let line = error.position().map_or(0, csv::Position::line);
    match error.kind() {
        // `io::Error::from` keeps the operating system's message ("No such file or directory").
        csv::ErrorKind::Io(_) => ReportError::Io { path: path.to_path_buf(), source: error.into() },
        csv::ErrorKind::Deserialize { err, .. } => {
            // serde's own errors (an unknown enum variant) come without a field index; their message quotes
            // the bad value instead.
            let message = match err.field().and_then(|index| header.get(index as usize)) {
                Some(column) => format!("column `{column}`: {}", err.kind()),
                None => err.kind().to_string(),
            };
            ReportError::Record { path: path.to_path_buf(), line, message }
        }
        _ => ReportError::Record { path: path.to_path_buf(), line, message: error.to_string() },
    }
}
