//! `adaptbench recommend DIR`: the choices of a finished run made again from its held-out scores under
//! another λ or constraints, and the recommendation that follows, without recomputing anything.

use std::path::Path;

use adaptbench_report::{
    choose, method_summaries, point_labels, read_csv, recommend, recommend_markdown, replace_recommendation,
    write_atomically, Constraints, MetricRow, PointRow, SelectionRow,
};

use crate::assemble::CONFIG_COPY;
use crate::error::{ConfigError, ExperimentError, Result};
use crate::grid::Grid;

/// What `adaptbench recommend` may change; `None` keeps the run's own setting (no constraint).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct RecommendOptions {
    pub ood_weight: Option<f64>,
    pub max_trainable: Option<u64>,
    pub max_prompt_tokens: Option<u64>,
}

/// Chooses again on `DIR/selection.csv` (scored on `DIR/metrics.csv`) and returns the recommendation section,
/// also written into `DIR/report.md` in place of the one there.
pub fn recommend_in(dir: &Path, options: &RecommendOptions) -> Result<String> {
    for name in [CONFIG_COPY, "selection.csv", "metrics.csv", "points.csv"] {
        if !dir.join(name).is_file() {
            let allowed = format!("a finished run of `adaptbench run` (no {name} in it; a sharded grid is assembled by `adaptbench report DIR`)");
            return Err(ConfigError::new("DIR", dir.display(), allowed).into());
        }
    }
    let grid = Grid::load(&dir.join(CONFIG_COPY))?;
    let ood_weight = options.ood_weight.unwrap_or(grid.points[0].config.selection.ood_weight);
    if !(ood_weight >= 0.0 && ood_weight.is_finite()) {
        return Err(ConfigError::new("--ood-weight", ood_weight, "allowed range [0, ∞)").into());
    }
    let selection: Vec<SelectionRow> = read_csv(&dir.join("selection.csv"))?;
    let metrics: Vec<MetricRow> = read_csv(&dir.join("metrics.csv"))?;
    let points: Vec<PointRow> = read_csv(&dir.join("points.csv"))?;
    let constraints = Constraints { max_trainable: options.max_trainable, max_prompt_tokens: options.max_prompt_tokens };
    let choices = choose(&selection, &metrics, ood_weight, &constraints);
    let (_, labels) = point_labels(&points);
    let section = recommend_markdown(&recommend(&method_summaries(&choices)), &labels, ood_weight, &constraints);
    let path = dir.join("report.md");
    let report = std::fs::read_to_string(&path).map_err(ExperimentError::io(&path))?;
    write_atomically(&path, replace_recommendation(&report, &section).as_bytes())?;
    Ok(section)
}
