//! The documents of a run: `report.md` and the figures, drawn from its rows; `adaptbench report DIR` redraws
//! them from the files alone (`metrics.csv`, `pretrain.csv`, `pretrain.json`, `config.resolved.toml`, and
//! `model_update.csv` when the run had a `[model_update]` table).

use std::path::{Path, PathBuf};

use adaptbench_prompt::SearchConfig;
use adaptbench_report::{
    efficiency_svg, interpolation_svg, landscape_svg, model_update_markdown, model_update_svg, pretrain_svg, read_csv,
    reliability_svg, report_markdown, search_appendix_markdown, search_report_markdown, write_atomically,
    EfficiencyRow, HalvingRow, LandscapeRow, LocalSearchRow, MetricRow, ModelUpdateRow, PretrainRow, ReliabilityRow,
    ReportContext, SearchAppendixSettings, SearchReportContext,
};

use crate::base::{read_summary, PretrainSummary};
use crate::config::ExperimentConfig;
use crate::error::{ConfigError, Result};

/// Redraws the documents of a finished `run` or `search` directory from its files alone (whichever it is:
/// a search directory has `landscape.csv`); returns the paths written.
pub fn redraw(dir: &Path) -> Result<Vec<PathBuf>> {
    if dir.join("landscape.csv").is_file() && !dir.join("metrics.csv").is_file() {
        redraw_search(dir)
    } else {
        redraw_run(dir)
    }
}

/// Redraws `report.md` and the figures of the finished run in `dir` from its files alone; returns the paths
/// written. A directory without the files of a run is a [`ConfigError`] naming `DIR`.
pub fn redraw_run(dir: &Path) -> Result<Vec<PathBuf>> {
    for name in ["metrics.csv", "pretrain.csv", "pretrain.json", "config.resolved.toml"] {
        if !dir.join(name).is_file() {
            let allowed = format!("a directory written by `adaptbench run` (no {name} in it)");
            return Err(ConfigError::new("DIR", dir.display(), allowed).into());
        }
    }
    let config = ExperimentConfig::load(&dir.join("config.resolved.toml"))?;
    let summary = read_summary(&dir.join("pretrain.json"))?;
    let rows: Vec<MetricRow> = read_csv(&dir.join("metrics.csv"))?;
    let model_update: Vec<ModelUpdateRow> = match config.model_update {
        Some(_) => read_csv(&dir.join("model_update.csv"))?,
        None => Vec::new(),
    };
    write_run_documents(dir, &config, &summary, &rows, &model_update, None, &dir.join("config.resolved.toml"))?;
    let mut written = vec![dir.join("report.md"), dir.join("figures/interpolation.svg"), dir.join("figures/pretrain.svg")];
    if config.model_update.is_some() {
        written.push(dir.join("figures/model_update.svg"));
    }
    Ok(written)
}

/// Writes `DIR/report.md`, `DIR/figures/interpolation.svg` and `DIR/figures/pretrain.svg`, and with a
/// `[model_update]` table the model-update section and `DIR/figures/model_update.svg`; returns the report's
/// text. `wall_seconds` is the run's wall time when it has just finished (`None` when redrawn).
pub fn write_run_documents(
    dir: &Path,
    config: &ExperimentConfig,
    summary: &PretrainSummary,
    rows: &[MetricRow],
    model_update: &[ModelUpdateRow],
    wall_seconds: Option<f64>,
    config_path: &Path,
) -> Result<String> {
    let context = ReportContext {
        run_name: config.name.clone(),
        task: config.task.source.to_string(),
        task_sequences: config.task.sequences,
        task_len: config.layout.task_len,
        pretrain_source: config.pretrain.source.to_string(),
        base_excess_bits: summary.excess_bits,
        base_excess_ci95: summary.excess_ci95,
        seeds: config.eval.seeds.clone(),
        wall_seconds,
        command: format!("cargo run --release -- run {}", config_path.display()),
    };
    let mut report = report_markdown(&context, rows);
    if let Some(update) = &config.model_update {
        model_update_svg(model_update, config.seed, update.seed, &dir.join("figures/model_update.svg"))?;
        report = format!(
            "{report}\n{}\n![Excess loss on the base each adaptation was found on and on the other base](figures/model_update.svg)\n",
            model_update_markdown(model_update, config.seed, update.seed)
        );
    }
    write_atomically(&dir.join("report.md"), report.as_bytes())?;
    interpolation_svg(rows, &dir.join("figures/interpolation.svg"))?;
    let points: Vec<PretrainRow> = read_csv(&dir.join("pretrain.csv"))?;
    pretrain_svg(&points, &dir.join("figures/pretrain.svg"))?;
    Ok(report)
}

/// The rows of a search directory's CSVs.
pub struct SearchRows {
    pub landscape: Vec<LandscapeRow>,
    pub reliability: Vec<ReliabilityRow>,
    pub efficiency: Vec<EfficiencyRow>,
    pub local: Vec<LocalSearchRow>,
    pub halving: Vec<HalvingRow>,
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
    let search = &config.search;
    let context = SearchReportContext {
        run_name: config.name.clone(),
        config_path: config_path.display().to_string(),
        predictors: search.predictors.iter().map(|kind| kind.to_string()).collect(),
        task: config.task.source.build()?.name(),
        pretrain_source: config.pretrain.source.to_string(),
        task_len: search.task_len,
        max_prompt_len: search.l_max,
        task_sequences: config.task.sequences,
        tolerance_bits: search.tolerance_bits,
        reference: format!(
            "exact count sums for the Bayes predictor; {} fresh task sequences for the neural one",
            search.reference_sequences
        ),
        command: format!("adaptbench search {}", config_path.display()),
    };
    let mut report = search_report_markdown(&context, &rows.landscape, &rows.reliability, &rows.efficiency);
    report.push_str(&search_appendix_markdown(&appendix_settings(search), &rows.local, &rows.halving, &rows.reliability));
    write_atomically(&dir.join("search.md"), report.as_bytes())?;
    Ok(())
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
    let rows = SearchRows {
        landscape: read_csv(&dir.join("landscape.csv"))?,
        reliability: read_csv(&dir.join("reliability.csv"))?,
        efficiency: read_csv(&dir.join("efficiency.csv"))?,
        local: read_csv(&dir.join("local_search.csv"))?,
        halving: read_csv(&dir.join("halving.csv"))?,
    };
    // The report quotes the config the search was run with, as its manifest records it.
    let manifest_path = dir.join("search-manifest.json");
    let config_path = std::fs::read_to_string(&manifest_path)
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .and_then(|manifest| manifest["config_file"].as_str().map(PathBuf::from))
        .unwrap_or_else(|| dir.join("config.resolved.toml"));
    write_search_documents(dir, &config, &config_path, &rows)?;
    let figures = ["landscape", "reliability", "efficiency"].map(|name| dir.join(format!("figures/{name}.svg")));
    Ok([dir.join("search.md")].into_iter().chain(figures).collect())
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
