//! Tidy rows: writing and reading CSV files with csv's serde support (one record per row, the header taken
//! from the row type), with read errors that name the file, the line and the column; and grouping rows by
//! their keys.

use std::path::Path;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::ReportError;

/// The CSV header of row type `T`: its field names in declaration order, as csv's serde support writes them.
pub fn header<T: Serialize + Default>() -> Vec<String> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.serialize(T::default()).expect("a default row serialises");
    let bytes = writer.into_inner().expect("writing to memory cannot fail");
    let mut reader = csv::Reader::from_reader(bytes.as_slice());
    reader.headers().expect("the header just written reads back").iter().map(str::to_string).collect()
}

/// `rows` as CSV bytes: the header of `T` ([`header`]), then one record per row. Floats are written in their
/// shortest round-trip form (csv uses `ryu`), so a written file re-reads bit for bit.
pub fn csv_bytes<T: Serialize + Default>(rows: &[T]) -> Result<Vec<u8>, ReportError> {
    let mut writer = csv::WriterBuilder::new().has_headers(false).from_writer(Vec::new());
    writer.write_record(header::<T>())?;
    for row in rows {
        writer.serialize(row)?;
    }
    writer.into_inner().map_err(|error| ReportError::Encode(error.into_error().into()))
}

/// `rows` as CSV bytes like [`csv_bytes`], with the columns `extra_header` appended to every record, their
/// values given by `extra` (as many as `extra_header` names): a grid's swept keys in `metrics.csv`.
pub fn csv_bytes_with_columns<T: Serialize + Default>(
    rows: &[T],
    extra_header: &[String],
    extra: impl Fn(&T) -> Vec<String>,
) -> Result<Vec<u8>, ReportError> {
    let mut writer = csv::WriterBuilder::new().has_headers(false).from_writer(Vec::new());
    writer.write_record(header::<T>().iter().chain(extra_header))?;
    for row in rows {
        // Serialise the row alone to get its fields as csv writes them, then append the extra ones.
        let mut fields = csv::WriterBuilder::new().has_headers(false).from_writer(Vec::new());
        fields.serialize(row)?;
        let bytes = fields.into_inner().map_err(|error| ReportError::Encode(error.into_error().into()))?;
        let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(bytes.as_slice());
        let record = reader.records().next().expect("one record was written")?;
        writer.write_record(record.iter().map(str::to_string).chain(extra(row)))?;
    }
    writer.into_inner().map_err(|error| ReportError::Encode(error.into_error().into()))
}

/// Reads every record of the CSV file at `path` as a `T`, after checking that its header starts with the
/// header of `T` (same names, same order), so that a file of another schema version is rejected rather than
/// misread. Columns after those of `T` (a grid's swept keys) are allowed and ignored.
pub fn read_csv<T: DeserializeOwned + Serialize + Default>(path: &Path) -> Result<Vec<T>, ReportError> {
    let header = header::<T>();
    let mut reader = csv::Reader::from_path(path).map_err(|error| record_error(path, &header, error))?;
    let found = reader.headers().map_err(|error| record_error(path, &header, error))?;
    if found.len() < header.len() || found.iter().zip(&header).any(|(found, expected)| found != expected) {
        return Err(ReportError::Header {
            path: path.to_path_buf(),
            found: found.iter().collect::<Vec<_>>().join(","),
            expected: header.join(","),
        });
    }
    reader.deserialize().map(|record| record.map_err(|error| record_error(path, &header, error))).collect()
}

/// The distinct values of `values`, ascending.
pub(crate) fn sorted_distinct(values: impl Iterator<Item = usize>) -> Vec<usize> {
    let mut distinct: Vec<usize> = values.collect();
    distinct.sort_unstable();
    distinct.dedup();
    distinct
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
fn record_error(path: &Path, header: &[String], error: csv::Error) -> ReportError {
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

/// Deserialises an `f64` that may be missing: JSON writes NaN as `null` (the cell files), CSV as `NaN`; both
/// read back as NaN. For the fields that are NaN by design (no validation split, no OOD source).
pub fn nan_when_null<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
    Ok(<Option<f64> as serde::Deserialize>::deserialize(deserializer)?.unwrap_or(f64::NAN))
}
