//! `adaptbench report DIR`: redraw `report.md` and the figures of a finished run from its files alone
//! (`metrics.csv`, `pretrain.csv`, `pretrain.json`, `config.resolved.toml`, and `model_update.csv` when the run
//! had a `[model_update]` table); `run` ends with the same step.

use std::path::Path;

use adaptbench_model::write_bytes_atomically;
use adaptbench_report::{
    interpolation_svg, model_update_markdown, model_update_svg, pretrain_svg, read_metrics_csv, read_model_update_csv, read_pretrain_csv,
    report_markdown, MetricRow, ModelUpdateRow, ReportContext,
};
use anyhow::Context;

use crate::cli::ReportArgs;
use crate::commands::pretrain::{read_summary, PretrainSummary};
use crate::error::ConfigError;
use crate::experiment::ExperimentConfig;

/// Runs the command.
pub fn run(args: ReportArgs) -> anyhow::Result<()> {
    let dir = &args.dir;
    for name in ["metrics.csv", "pretrain.csv", "pretrain.json", "config.resolved.toml"] {
        if !dir.join(name).is_file() {
            return Err(ConfigError::new("DIR", dir.display(), format!("a directory written by `adaptbench run` (no {name} in it)")).into());
        }
    }
    let config = ExperimentConfig::load(&dir.join("config.resolved.toml"))?;
    let summary = read_summary(&dir.join("pretrain.json"))?;
    let rows = read_metrics_csv(&dir.join("metrics.csv"))?;
    let model_update = match config.model_update {
        Some(_) => read_model_update_csv(&dir.join("model_update.csv"))?,
        None => Vec::new(),
    };
    write_report(dir, &config, &summary, &rows, &model_update, None, &dir.join("config.resolved.toml"))?;
    println!("Wrote {}, {} and {}.", dir.join("report.md").display(), dir.join("figures/interpolation.svg").display(), dir.join("figures/pretrain.svg").display());
    Ok(())
}

/// Writes `DIR/report.md`, `DIR/figures/interpolation.svg` and `DIR/figures/pretrain.svg`, and with a
/// `[model_update]` table the model-update section and `DIR/figures/model_update.svg`; returns the report's text.
pub fn write_report(
    dir: &Path,
    config: &ExperimentConfig,
    summary: &PretrainSummary,
    rows: &[MetricRow],
    model_update: &[ModelUpdateRow],
    wall_seconds: Option<f64>,
    config_path: &Path,
) -> anyhow::Result<String> {
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
        let figure = dir.join("figures/model_update.svg");
        model_update_svg(model_update, config.seed, update.seed, &figure).context("drawing figures/model_update.svg")?;
        report = format!(
            "{report}\n{}\n![Excess loss on the base each adaptation was found on and on the other base](figures/model_update.svg)\n",
            model_update_markdown(model_update, config.seed, update.seed)
        );
    }
    write_bytes_atomically(&dir.join("report.md"), report.as_bytes())?;
    interpolation_svg(rows, &dir.join("figures/interpolation.svg")).context("drawing figures/interpolation.svg")?;
    let points = read_pretrain_csv(&dir.join("pretrain.csv"))?;
    pretrain_svg(&points, &dir.join("figures/pretrain.svg")).context("drawing figures/pretrain.svg")?;
    Ok(report)
}
