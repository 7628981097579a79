//! Assembling a finished run from its files: `plan.json` lists every cell of the grid (and where each
//! point's base was recorded), `cells/` holds them, `config.toml` is the grid. From these alone — whether
//! one process ran every cell or many shards did — come `metrics.csv` (with `point`, `selected` and one
//! column per swept key), `selection.csv`, `choices.csv` (hyper-parameters and α chosen on held-out data),
//! `points.csv`, `model_update.csv`, `report.md` and the figures. Nothing is trained or evaluated here.

use std::path::Path;

use adaptbench_report::{
    choose, csv_bytes, csv_bytes_with_columns, mark_selected, read_csv, write_atomically, ChoiceRow, Constraints, MetricRow,
    ModelUpdateRow, PointRow, SelectionRow,
};
use serde::{Deserialize, Serialize};

use crate::base::read_summary;
use crate::cells::CellStore;
use crate::documents::{write_grid_documents, write_run_documents};
use crate::error::{ConfigError, ExperimentError, Result};
use crate::grid::{inline, Grid};

/// The copy of the config (the grid) in a results directory.
pub const CONFIG_COPY: &str = "config.toml";

/// The list of a grid's cells, written by every process that runs part of it (the same bytes for the same
/// grid and backend).
const PLAN_FILE: &str = "plan.json";

/// `plan.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanFile {
    pub backend: String,
    pub bases: Vec<PlanBase>,
    /// Every cell once, in grid order.
    pub cells: Vec<PlanCell>,
}

/// Where one base's record (`pretrain.csv`, `pretrain.json`, `checkpoint/`) lives, and the points it serves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanBase {
    /// Relative to the results directory (empty: the directory itself).
    pub dir: String,
    pub key: String,
    pub points: Vec<u64>,
}

/// One cell: its file under `cells/`, its fingerprint and the points whose results it is part of.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanCell {
    pub name: String,
    pub fingerprint: String,
    pub points: Vec<u64>,
}

impl PlanFile {
    pub fn write(&self, dir: &Path) -> Result<()> {
        let json = serde_json::to_string_pretty(self).expect("a plan serialises");
        write_atomically(&dir.join(PLAN_FILE), json.as_bytes())?;
        Ok(())
    }

    pub fn read(dir: &Path) -> Result<Self> {
        let path = dir.join(PLAN_FILE);
        let text = std::fs::read_to_string(&path).map_err(ExperimentError::io(&path))?;
        serde_json::from_str(&text).map_err(|error| ExperimentError::Parse { path, message: error.to_string() })
    }

    /// The directory of point `point`'s base, relative to the results directory.
    pub fn base_dir(&self, point: u64) -> &str {
        self.bases.iter().find(|base| base.points.contains(&point)).map_or("", |base| base.dir.as_str())
    }
}

/// The tables of a run: assembled from its cells, or read back from its CSVs.
pub struct Tables {
    /// `metrics.csv`, in cell order (points in order, within a point seed by seed, the base first).
    pub rows: Vec<MetricRow>,
    pub selection: Vec<SelectionRow>,
    /// The held-out choice of every (point, seed, method) under the config's λ, without constraints.
    pub choices: Vec<ChoiceRow>,
    pub points: Vec<PointRow>,
    pub model_update: Vec<ModelUpdateRow>,
}

/// The tables of a finished run, and its report.
pub struct Assembled {
    pub tables: Tables,
    /// The text of `report.md`.
    pub report: String,
}

/// Reads every cell of `plan` from `dir/cells/` and writes the run's tables and documents. A cell that is
/// missing (a shard not run yet) is a [`ConfigError`] naming how many are missing and the first of them.
pub fn assemble(dir: &Path, grid: &Grid, plan: &PlanFile, wall_seconds: Option<f64>, config_path: &Path) -> Result<Assembled> {
    let tables = tables_from_cells(dir, grid, plan)?;
    write_tables(dir, grid, &tables)?;
    let report = write_documents(dir, grid, plan, &tables, wall_seconds, config_path)?;
    Ok(Assembled { tables, report })
}

fn tables_from_cells(dir: &Path, grid: &Grid, plan: &PlanFile) -> Result<Tables> {
    let store = CellStore::new(dir.join("cells"));
    let (mut rows, mut selection, mut model_update) = (Vec::new(), Vec::new(), Vec::new());
    let mut missing = Vec::new();
    let mut loaded = Vec::new();
    for cell in &plan.cells {
        match store.load(&cell.name, &cell.fingerprint) {
            Some(found) => loaded.push((cell, found)),
            None => missing.push(cell.name.as_str()),
        }
    }
    if let Some(first) = missing.first() {
        return Err(ConfigError::new(
            "DIR",
            dir.display(),
            format!(
                "a finished run: {} of {} cells are missing (e.g. cells/{first}.json); run the missing shards \
                 (`adaptbench run CONFIG --out DIR --shard i/n`) or the whole grid again",
                missing.len(),
                plan.cells.len()
            ),
        )
        .into());
    }
    // Point by point, so that each point's rows are contiguous.
    for point in &grid.points {
        for (_, found) in loaded.iter().filter(|(cell, _)| cell.points.contains(&point.index)) {
            rows.extend(found.rows.iter().map(|row| MetricRow { point: point.index, ..row.clone() }));
            selection.extend(found.selection.iter().map(|row| SelectionRow { point: point.index, ..row.clone() }));
            model_update.extend(found.model_update.iter().cloned());
        }
    }
    let mut choices = Vec::new();
    for point in &grid.points {
        let of_point = |p: u64| p == point.index;
        let point_selection: Vec<SelectionRow> = selection.iter().filter(|r| of_point(r.point)).cloned().collect();
        let point_rows: Vec<MetricRow> = rows.iter().filter(|r| of_point(r.point)).cloned().collect();
        let ood_weight = point.config.selection.ood_weight;
        choices.extend(choose(&point_selection, &point_rows, ood_weight, &Constraints::default()));
    }
    mark_selected(&mut rows, &choices);
    Ok(Tables { rows, selection, choices, points: grid.point_rows(), model_update })
}

fn write_tables(dir: &Path, grid: &Grid, tables: &Tables) -> Result<()> {
    let value_of = |row: &MetricRow| -> Vec<String> {
        grid.points[row.point as usize].values.iter().map(inline).collect()
    };
    write_atomically(&dir.join("metrics.csv"), &csv_bytes_with_columns(&tables.rows, &grid.keys, value_of)?)?;
    write_atomically(&dir.join("selection.csv"), &csv_bytes(&tables.selection)?)?;
    write_atomically(&dir.join("choices.csv"), &csv_bytes(&tables.choices)?)?;
    write_atomically(&dir.join("points.csv"), &csv_bytes(&tables.points)?)?;
    if grid.points[0].config.model_update.is_some() {
        write_atomically(&dir.join("model_update.csv"), &csv_bytes(&tables.model_update)?)?;
    }
    Ok(())
}

/// Reads the tables a finished run wrote (`metrics.csv`, `selection.csv`, `choices.csv`, `points.csv` and
/// with a `[model_update]` table `model_update.csv`): what a results directory keeps once its cells are
/// gone (they are not committed).
pub fn read_tables(dir: &Path, grid: &Grid) -> Result<Tables> {
    let model_update = match grid.points[0].config.model_update {
        Some(_) => read_csv(&dir.join("model_update.csv"))?,
        None => Vec::new(),
    };
    Ok(Tables {
        rows: read_csv(&dir.join("metrics.csv"))?,
        selection: read_csv(&dir.join("selection.csv"))?,
        choices: read_csv(&dir.join("choices.csv"))?,
        points: read_csv(&dir.join("points.csv"))?,
        model_update,
    })
}

/// Writes `report.md` and the figures of a run (one point) or a grid from its tables; returns the report.
pub fn write_documents(
    dir: &Path,
    grid: &Grid,
    plan: &PlanFile,
    tables: &Tables,
    wall_seconds: Option<f64>,
    config_path: &Path,
) -> Result<String> {
    if grid.keys.is_empty() {
        let base_dir = dir.join(plan.base_dir(0));
        let summary = read_summary(&base_dir.join("pretrain.json"))?;
        let config = &grid.points[0].config;
        write_run_documents(dir, &base_dir, config, &summary, tables, wall_seconds, config_path)
    } else {
        write_grid_documents(dir, grid, plan, &tables.choices, &tables.points, wall_seconds, config_path)
    }
}
