//! `points.csv`: the points of a grid (`[sweep]`), one row per (point, swept key), the value as it would be
//! written in the config (TOML inline syntax). A config without `[sweep]` is the single point 0 and has no rows.

use serde::{Deserialize, Serialize};

use crate::tidy::group_by_key;

/// One swept key's value at one grid point.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PointRow {
    pub point: u64,
    /// The dotted config path, e.g. `task.sequences`.
    pub key: String,
    /// TOML inline syntax, e.g. `64` or `{ kind = "bern", p = 0.7 }`.
    pub value: String,
}

/// The swept keys of `rows` in order of first appearance, and each point's `key=value` label joined by `, `
/// (points in order of first appearance).
pub fn point_labels(rows: &[PointRow]) -> (Vec<String>, Vec<(u64, String)>) {
    let keys = group_by_key(rows.iter(), |row| row.key.clone()).into_iter().map(|(key, _)| key).collect();
    let labels = group_by_key(rows.iter(), |row| row.point)
        .into_iter()
        .map(|(point, rows)| {
            (point, rows.iter().map(|row| format!("{}={}", row.key, row.value)).collect::<Vec<_>>().join(", "))
        })
        .collect();
    (keys, labels)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_join_each_points_keys_in_order() {
        let row = |point, key: &str, value: &str| PointRow { point, key: key.into(), value: value.into() };
        let rows = [row(0, "task.sequences", "4"), row(0, "seed", "1"), row(1, "task.sequences", "16"), row(1, "seed", "1")];
        let (keys, labels) = point_labels(&rows);
        assert_eq!(keys, ["task.sequences", "seed"]);
        assert_eq!(labels, [(0, "task.sequences=4, seed=1".to_string()), (1, "task.sequences=16, seed=1".to_string())]);
    }
}
