//! Finished cells of a run, one JSON file each under `DIR/cells/`, so that a re-run with the same config
//! skips them (DESIGN.md §8: resume). A cell's file is named by its method and a fingerprint of everything
//! that determines its numbers, so a grid that gains a value reuses every finished cell, two points that need
//! the same cell share it, and shards writing into one directory never write the same file with other
//! contents. Files are written atomically: a reader sees a whole cell or none.
//!
//! The adapted model itself is not kept: whatever is evaluated from it (the α sweep, and its transplant onto
//! the `[model_update]` base) is evaluated when the cell is computed and stored here as rows.

use std::fs;
use std::path::PathBuf;

use adaptbench_report::{write_atomically, MetricRow, ModelUpdateRow, SelectionRow};
use serde::{Deserialize, Serialize};

use crate::error::Result;

/// The `cells/` directory of a run.
pub struct CellStore {
    dir: PathBuf,
}

/// The results of one cell: one method (or the base, `none`) on one adaptation seed.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Cell {
    /// Its `metrics.csv` rows.
    pub rows: Vec<MetricRow>,
    /// Its `model_update.csv` rows; empty without `[model_update]`.
    #[serde(default)]
    pub model_update: Vec<ModelUpdateRow>,
    /// Its `selection.csv` rows: every α on the held-out data.
    #[serde(default)]
    pub selection: Vec<SelectionRow>,
}

#[derive(Serialize, Deserialize)]
struct CellFile {
    fingerprint: String,
    #[serde(flatten)]
    cell: Cell,
}

impl CellStore {
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    /// Cell `name` if it finished under the same `fingerprint`.
    pub fn load(&self, name: &str, fingerprint: &str) -> Option<Cell> {
        let text = fs::read_to_string(self.path(name)).ok()?;
        let file: CellFile = serde_json::from_str(&text).ok()?;
        (file.fingerprint == fingerprint).then_some(file.cell)
    }

    /// Records cell `name` as finished, atomically.
    pub fn save(&self, name: &str, fingerprint: &str, cell: &Cell) -> Result<()> {
        let file = CellFile { fingerprint: fingerprint.to_string(), cell: cell.clone() };
        let json = serde_json::to_string(&file).expect("a cell serialises");
        write_atomically(&self.path(name), json.as_bytes())?;
        Ok(())
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.json"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cell_saved_under_one_fingerprint_is_not_loaded_under_another() {
        let dir = tempfile::tempdir().unwrap();
        let store = CellStore::new(dir.path().join("cells"));
        let row = MetricRow {
            method: adaptbench_report::Method::Full,
            params: "lr=0.001".into(),
            seed: 0,
            alpha: 1.0,
            eval_source: "task".into(),
            role: adaptbench_report::Role::Id,
            loss_bits: 0.5,
            loss_ci95: 0.01,
            excess_bits: 0.02,
            accuracy: 0.9,
            ece: 0.01,
            trainable_params: 10,
            adapt_seconds: 1.5,
            excess_ci95: 0.003,
            bayes_bits: 0.48,
            eval_len: 56,
            eval_sequences: 512,
            steps: 200,
            prompt_tokens: 0,
            point: 0,
            selected: true,
        };
        let update = ModelUpdateRow::from_metric(&row, adaptbench_report::EvalBase::Other);
        let cell = Cell { rows: vec![row], model_update: vec![update], selection: vec![SelectionRow::default()] };
        store.save("full-seed0", "abc", &cell).unwrap();
        assert_eq!(store.load("full-seed0", "abc"), Some(cell));
        assert_eq!(store.load("full-seed0", "abd"), None);
        assert_eq!(store.load("lora-seed0", "abc"), None);
    }

    #[test]
    fn a_selection_row_without_a_validation_split_reads_back_as_nan() {
        // JSON has no NaN: serde_json writes null, which must read back as NaN, not fail the whole cell.
        let dir = tempfile::tempdir().unwrap();
        let store = CellStore::new(dir.path().join("cells"));
        let row = SelectionRow { id_excess_bits: f64::NAN, ood_excess_bits: 0.25, ..Default::default() };
        store.save("none-f", "f", &Cell { selection: vec![row], ..Default::default() }).unwrap();
        let loaded = store.load("none-f", "f").expect("the cell reads back");
        assert!(loaded.selection[0].id_excess_bits.is_nan());
        assert_eq!(loaded.selection[0].ood_excess_bits, 0.25);
    }

    #[test]
    fn a_cell_written_before_model_updates_existed_reads_with_none() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("cells")).unwrap();
        std::fs::write(dir.path().join("cells/none-seed0.json"), r#"{"fingerprint":"f","rows":[]}"#).unwrap();
        assert_eq!(CellStore::new(dir.path().join("cells")).load("none-seed0", "f"), Some(Cell::default()));
    }
}
