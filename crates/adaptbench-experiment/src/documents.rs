//! The documents of a run, a grid and a search: `report.md` (or `search.md`) and the figures, drawn from
//! their rows; `adaptbench report DIR` redraws them from the files alone.

use std::path::{Path, PathBuf};

use adaptbench_prompt::{PredictorKind, SearchConfig};
use adaptbench_report::{
    efficiency_svg, grid_report_markdown, interpolation_svg, landscape_svg, learning_curves_svg, method_map_svg,
    method_summaries, model_update_markdown, model_update_svg, pareto_svg, pretrain_svg, read_csv, recommend,
    reliability_svg, report_markdown, search_appendix_markdown, search_report_markdown, task_length_markdown,
    task_length_svg, write_atomically, ChoiceRow, EfficiencyRow, GridReportContext, HalvingRow, LandscapeRow,
    LocalSearchRow, PointRow, PretrainRow, ReliabilityRow, ReportContext, SearchAppendixSettings, SearchReportContext,
    TaskLengthRow,
};

use crate::assemble::{assemble, read_tables, write_documents, PlanFile, Tables, CONFIG_COPY};
use crate::base::{read_summary, PretrainSummary};
use crate::config::ExperimentConfig;
use crate::error::{ConfigError, Result};
use crate::grid::Grid;

/// Redraws the documents of a finished `run` or `search` directory from its files alone (whichever it is:
/// a search directory has `landscape.csv`); returns the paths written. A run directory is assembled anew from
/// `config.toml`, `plan.json` and `cells/`, so this also merges the shards of a grid.
pub fn redraw(dir: &Path) -> Result<Vec<PathBuf>> {
    if dir.join("landscape.csv").is_file() && !dir.join(CONFIG_COPY).is_file() {
        redraw_search(dir)
    } else {
        redraw_run(dir)
    }
}

/// Redraws the documents of the finished run in `dir`; returns the paths written. With its `cells/` (a
/// directory just run, or the shards of a grid) the tables are assembled anew from the cells, so this also
/// merges shards, and a missing cell is named; without them (a committed results directory) the documents
/// are drawn from the CSVs alone. A directory without the files of a run is a [`ConfigError`] naming `DIR`.
pub fn redraw_run(dir: &Path) -> Result<Vec<PathBuf>> {
    for name in [CONFIG_COPY, "plan.json"] {
        if !dir.join(name).is_file() {
            let allowed = format!("a directory written by `adaptbench run` (no {name} in it)");
            return Err(ConfigError::new("DIR", dir.display(), allowed).into());
        }
    }
    let grid = Grid::load(&dir.join(CONFIG_COPY))?;
    let plan = PlanFile::read(dir)?;
    // The report quotes the command and wall time of the run, as its manifest records them.
    let manifest = recorded_manifest(&dir.join("manifest.json"));
    let config_path = manifest.as_ref().and_then(|m| m["config_file"].as_str().map(PathBuf::from));
    let config_path = config_path.unwrap_or_else(|| dir.join(CONFIG_COPY));
    let wall_seconds = manifest.as_ref().and_then(|m| m["details"]["run"]["wall_seconds"].as_f64());
    let mut written: Vec<PathBuf> = if dir.join("cells").is_dir() {
        assemble(dir, &grid, &plan, wall_seconds, &config_path)?;
        ["metrics.csv", "selection.csv", "choices.csv", "points.csv", "report.md"].iter().map(|name| dir.join(name)).collect()
    } else {
        let tables = read_tables(dir, &grid)?;
        write_documents(dir, &grid, &plan, &tables, wall_seconds, &config_path)?;
        vec![dir.join("report.md")]
    };
    let figures = dir.join("figures");
    if let Ok(entries) = std::fs::read_dir(&figures) {
        let mut svgs: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|x| x == "svg")).collect();
        svgs.sort();
        written.extend(svgs);
    }
    Ok(written)
}

/// A manifest's JSON, when it is there and parses (redrawing only quotes from it).
fn recorded_manifest(path: &Path) -> Option<serde_json::Value> {
    std::fs::read_to_string(path).ok().and_then(|text| serde_json::from_str(&text).ok())
}

/// Writes `DIR/report.md`, `DIR/figures/interpolation.svg` and, for a trained base, `DIR/figures/pretrain.svg`
/// (from `base_dir/pretrain.csv`), and with a `[model_update]` table the model-update section and
/// `DIR/figures/model_update.svg`; returns the report's text. `wall_seconds` is the run's wall time when it
/// has just finished (`None` when redrawn).
pub fn write_run_documents(
    dir: &Path,
    base_dir: &Path,
    config: &ExperimentConfig,
    summary: &PretrainSummary,
    tables: &Tables,
    wall_seconds: Option<f64>,
    config_path: &Path,
) -> Result<String> {
    let Tables { rows, choices, model_update, .. } = tables;
    let context = ReportContext {
        run_name: config.name.clone(),
        task: config.task.source.to_string(),
        task_sequences: config.task.sequences,
        task_len: config.layout.task_len,
        pretrain_source: config.pretrain.source.to_string(),
        untrained: summary.steps == 0,
        base_model: config.model.describe(),
        base_excess_bits: summary.excess_bits,
        base_excess_ci95: summary.excess_ci95,
        seeds: config.eval.seeds.clone(),
        wall_seconds,
        command: format!("cargo run --release -- run {}", config_path.display()),
    };
    let mut report = report_markdown(&context, rows, choices, config.selection.ood_weight);
    if let Some(update) = &config.model_update {
        model_update_svg(model_update, config.seed, update.seed, &dir.join("figures/model_update.svg"))?;
        report = format!(
            "{report}\n{}\n![Excess loss on the base each adaptation was found on and on the other base](figures/model_update.svg)\n",
            model_update_markdown(model_update, config.seed, update.seed)
        );
    }
    write_atomically(&dir.join("report.md"), report.as_bytes())?;
    interpolation_svg(rows, &dir.join("figures/interpolation.svg"))?;
    // An untrained base has no learning curve to draw.
    if summary.steps > 0 {
        let points: Vec<PretrainRow> = read_csv(&base_dir.join("pretrain.csv"))?;
        pretrain_svg(&points, &dir.join("figures/pretrain.svg"))?;
    }
    Ok(report)
}

/// Writes `DIR/report.md` of a grid and its figures: the learning curves (against `task.sequences` when
/// it is swept), the method map (over the first two swept keys) and the Pareto fronts; returns the report.
pub fn write_grid_documents(
    dir: &Path,
    grid: &Grid,
    plan: &PlanFile,
    choices: &[ChoiceRow],
    points: &[PointRow],
    wall_seconds: Option<f64>,
    config_path: &Path,
) -> Result<String> {
    let summaries = method_summaries(choices);
    let recommendations = recommend(&summaries);
    let figures_dir = dir.join("figures");
    let mut figures = Vec::new();
    // The data-size axis when it is swept, else the first swept key if it is numeric.
    let x_key = grid.keys.iter().find(|k| k.as_str() == "task.sequences").or(grid.keys.first());
    if let Some(x_key) = x_key {
        if learning_curves_svg(&summaries, points, x_key, &figures_dir.join("learning_curves.svg")).is_ok() {
            figures.push(("learning_curves.svg".to_string(), format!("ID and OOD excess against {x_key}, each method at its held-out choice")));
        }
        if let Some(y_key) = grid.keys.iter().find(|k| *k != x_key) {
            method_map_svg(&recommendations, points, x_key, y_key, &figures_dir.join("method_map.svg"))?;
            figures.push(("method_map.svg".to_string(), format!("The method to use over {x_key} × {y_key}")));
        }
    }
    pareto_svg(&summaries, points, &figures_dir.join("pareto.svg"))?;
    figures.push(("pareto.svg".to_string(), "ID against OOD excess at each point, with cost".to_string()));
    let first = &grid.points[0].config;
    let mut bases: Vec<(String, f64, f64)> = Vec::new();
    for base in &plan.bases {
        let summary = read_summary(&dir.join(&base.dir).join("pretrain.json"))?;
        let config = &grid.points[*base.points.first().unwrap_or(&0) as usize].config;
        bases.push((config.pretrain.source.to_string(), summary.excess_bits, summary.excess_ci95));
    }
    let context = GridReportContext {
        run_name: first.name.clone(),
        bases,
        seeds: first.eval.seeds.clone(),
        wall_seconds,
        command: format!("cargo run --release -- run {}", config_path.display()),
        ood_weight: first.selection.ood_weight,
        figures,
    };
    let report = grid_report_markdown(&context, choices, points);
    write_atomically(&dir.join("report.md"), report.as_bytes())?;
    Ok(report)
}

/// The rows of a search directory's CSVs.
pub struct SearchRows {
    pub landscape: Vec<LandscapeRow>,
    pub reliability: Vec<ReliabilityRow>,
    pub efficiency: Vec<EfficiencyRow>,
    pub local: Vec<LocalSearchRow>,
    pub halving: Vec<HalvingRow>,
    /// Empty when `[search.task_length]` is off (no `task_length.csv`).
    pub task_length: Vec<TaskLengthRow>,
}

/// The CSV files of a search directory, in the order `adaptbench search` writes them.
const SEARCH_FILES: [&str; 5] = ["landscape.csv", "reliability.csv", "efficiency.csv", "local_search.csv", "halving.csv"];

/// Writes `DIR/search.md` and `DIR/figures/{landscape,reliability,efficiency}.svg` from `rows`.
/// `config_path` is the config the search was run with, quoted in the report.
pub fn write_search_documents(dir: &Path, config: &ExperimentConfig, config_path: &Path, rows: &SearchRows) -> Result<()> {
    let figures = dir.join("figures");
    landscape_svg(&rows.landscape, &figures.join("landscape.svg"))?;
    reliability_svg(&rows.reliability, &figures.join("reliability.svg"))?;
    efficiency_svg(&rows.efficiency, &figures.join("efficiency.svg"))?;
    if !rows.task_length.is_empty() {
        task_length_svg(&rows.task_length, &figures.join("task_length.svg"))?;
    }
    let search = &config.search;
    let context = SearchReportContext {
        run_name: config.name.clone(),
        config_path: config_path.display().to_string(),
        predictors: search
            .predictors
            .iter()
            .map(|kind| match kind {
                PredictorKind::Bayes => kind.to_string(),
                // Which network "neural" is, so that searches of a Transformer and an LSTM read apart.
                PredictorKind::Neural => format!("{kind} ({})", config.model.describe()),
            })
            .collect(),
        task: config.task.source.build()?.name(),
        pretrain_source: config.pretrain.source.to_string(),
        untrained: config.pretrain.steps == 0,
        task_len: search.task_len,
        max_prompt_len: search.l_max,
        task_sequences: config.task.sequences,
        tolerance_bits: search.tolerance_bits,
        reference: reference_text(config, search.reference_sequences)?,
        command: format!("adaptbench search {}", config_path.display()),
    };
    let mut report = search_report_markdown(&context, &rows.landscape, &rows.reliability, &rows.efficiency);
    if !rows.task_length.is_empty() {
        report.push('\n');
        report.push_str(&task_length_markdown(&rows.task_length));
        report.push('\n');
    }
    report.push_str(&search_appendix_markdown(&appendix_settings(search), &rows.local, &rows.halving, &rows.reliability));
    write_atomically(&dir.join("search.md"), report.as_bytes())?;
    Ok(())
}

/// How the reference losses were computed: exact count sums for the Bayes predictor only when the pretraining
/// source and the task are both exchangeable (the closed form needs counts to be sufficient); otherwise every
/// predictor's reference is the mean over the fresh sample.
fn reference_text(config: &ExperimentConfig, sequences: usize) -> Result<String> {
    let exchangeable = config.pretrain.source.build()?.as_exchangeable().is_some()
        && config.task.source.build()?.as_exchangeable().is_some();
    Ok(if exchangeable {
        format!("exact count sums for the Bayes predictor; {sequences} fresh task sequences for the neural one")
    } else {
        format!(
            "{sequences} fresh task sequences for every predictor (the pretraining source or the task is not \
             exchangeable, so the Bayes predictor has no count-sum closed form here)"
        )
    })
}

/// Redraws `search.md` and the figures of the finished search in `dir` from its CSVs and
/// `config.resolved.toml` alone; returns the paths written.
pub fn redraw_search(dir: &Path) -> Result<Vec<PathBuf>> {
    for name in SEARCH_FILES.iter().chain(&["config.resolved.toml"]) {
        if !dir.join(name).is_file() {
            let allowed = format!("a directory written by `adaptbench search` (no {name} in it)");
            return Err(ConfigError::new("DIR", dir.display(), allowed).into());
        }
    }
    let config = ExperimentConfig::load(&dir.join("config.resolved.toml"))?;
    let task_lengths = !config.search.task_length.task_lens.is_empty();
    if task_lengths && !dir.join("task_length.csv").is_file() {
        let allowed = "a search directory with task_length.csv, as search.task_length.task_lens is set";
        return Err(ConfigError::new("DIR", dir.display(), allowed).into());
    }
    let rows = SearchRows {
        landscape: read_csv(&dir.join("landscape.csv"))?,
        reliability: read_csv(&dir.join("reliability.csv"))?,
        efficiency: read_csv(&dir.join("efficiency.csv"))?,
        local: read_csv(&dir.join("local_search.csv"))?,
        halving: read_csv(&dir.join("halving.csv"))?,
        task_length: if task_lengths { read_csv(&dir.join("task_length.csv"))? } else { Vec::new() },
    };
    // The report quotes the config the search was run with, as its manifest records it.
    let manifest_path = dir.join("search-manifest.json");
    let config_path = recorded_manifest(&manifest_path)
        .and_then(|manifest| manifest["config_file"].as_str().map(PathBuf::from))
        .unwrap_or_else(|| dir.join("config.resolved.toml"));
    write_search_documents(dir, &config, &config_path, &rows)?;
    let mut written = vec![dir.join("search.md")];
    written.extend(["landscape", "reliability", "efficiency"].map(|name| dir.join(format!("figures/{name}.svg"))));
    if !rows.task_length.is_empty() {
        written.push(dir.join("figures/task_length.svg"));
    }
    Ok(written)
}

/// What the appendix sections of search.md say about the run's `[search]` settings.
fn appendix_settings(search: &SearchConfig) -> SearchAppendixSettings {
    SearchAppendixSettings {
        l_max: search.l_max,
        beam: search.local.beam,
        max_len: search.local.max_len,
        rounds: search.local.rounds,
        eta: search.halving.eta,
        min_sequences: search.halving.min_sequences,
    }
}
