//! `adaptbench pretrain CONFIG`: train the base model on the meta-distribution (or reuse the cached base)
//! and report it against the exact Bayes floor.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use adaptbench_model::{load_checkpoint, save_checkpoint, write_bytes_atomically, Transformer};
use adaptbench_sources::derive_seed;
use adaptbench_train::{pretrain, PretrainEnd, PretrainRow, ResumePoint, StepReport};
use anyhow::Context;
use burn::tensor::Device;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::cache::{restore, BaseCache};
use crate::cli::{BaseArgs, ComputeArgs, ExperimentArgs};
use crate::error::ConfigError;
use crate::experiment::ExperimentConfig;
use crate::interrupt::{interrupt_flag, interrupted, Interrupted};
use crate::manifest::manifest;
use crate::progress::bar;

/// Columns of `pretrain.csv`, in order.
pub const PRETRAIN_CSV_HEADER: [&str; 5] = ["step", "train_loss_bits", "eval_loss_bits", "bayes_loss_bits", "excess_bits"];

/// The final numbers of a pretraining run, kept as `pretrain.json` (and in the cache beside the weights).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PretrainSummary {
    pub eval_loss_bits: f64,
    pub bayes_loss_bits: f64,
    pub excess_bits: f64,
    pub excess_ci95: f64,
    pub eval_sequences: usize,
    pub steps: usize,
    pub tokens: usize,
    pub train_seconds: f64,
    pub wall_seconds: f64,
    pub train_tokens_per_second: f64,
    pub parameters: usize,
}

/// Files of a pretrained base, relative to the output directory (and to its cache entry).
const BASE_FILES: [&str; 4] = ["checkpoint/model.bpk", "checkpoint/model.toml", "pretrain.csv", "pretrain.json"];

/// Runs the command.
pub fn run(args: ExperimentArgs) -> anyhow::Result<()> {
    // Everything that can be wrong with the input is checked before anything is written.
    let config = ExperimentConfig::load(&args.config)?;
    let device = prepare_compute(&args.compute)?;
    let out = output_dir(args.out.clone(), &config)?;
    let base = obtain_base(&config, &device, &out, &args.base, &args.compute)?;
    write_bytes_atomically(&out.join("config.resolved.toml"), config.to_toml().as_bytes())?;
    let manifest = manifest("pretrain", &args.config, config.seed, base_details(&config, &base, &args.compute));
    write_bytes_atomically(&out.join("manifest.json"), serde_json::to_string_pretty(&manifest)?.as_bytes())?;
    println!("{}", describe(&config, &base.summary, &args.compute, base.cache_hit, &out));
    Ok(())
}

/// A pretrained base, trained here or restored from the cache, with its record.
pub struct Base {
    /// Inference weights.
    pub model: Transformer,
    pub summary: PretrainSummary,
    pub cache_key: String,
    pub cache_hit: bool,
}

/// `--out`, else `results/<name>`; an existing non-directory is bad input.
pub fn output_dir(out: Option<PathBuf>, config: &ExperimentConfig) -> Result<PathBuf, ConfigError> {
    let out = out.unwrap_or_else(|| PathBuf::from("results").join(&config.name));
    if out.exists() && !out.is_dir() {
        return Err(ConfigError::new("--out", out.display(), "must be a directory (or not exist yet)"));
    }
    Ok(out)
}

/// Pretrains the config's base into `out` (checkpoint/, pretrain.csv, pretrain.json), or restores it from the
/// cache. An interrupted pretraining returns the [`Interrupted`] error after saving its state.
pub fn obtain_base(
    config: &ExperimentConfig,
    device: &Device,
    out: &Path,
    options: &BaseArgs,
    compute: &ComputeArgs,
) -> anyhow::Result<Base> {
    let cache = BaseCache::locate(options.cache_dir.clone());
    let key = BaseCache::key(config, compute.backend);
    let cached = if options.no_cache { None } else { cache.lookup(&key) };
    let summary = match &cached {
        Some(entry) => {
            for name in BASE_FILES {
                restore(entry, name, &out.join(name))?;
            }
            read_summary(&out.join("pretrain.json"))?
        }
        None => {
            let resume = ResumePoint::new(out.join("resume"), key.as_str());
            let Some(summary) = train_base(config, device, out, &resume, compute.quiet)? else {
                return Err(Interrupted.into());
            };
            let files: Vec<(PathBuf, &str)> = BASE_FILES.iter().map(|name| (out.join(name), *name)).collect();
            cache.store(&key, &files)?;
            summary
        }
    };
    // Loading proves the weights are intact and match the config.
    let model = load_checkpoint(&out.join("checkpoint"), device, Some(&config.model))?.model;
    Ok(Base { model, summary, cache_key: key, cache_hit: cached.is_some() })
}

/// The manifest's record of the base: backend, threads, pretraining seeds, cache, final numbers.
pub fn base_details(config: &ExperimentConfig, base: &Base, compute: &ComputeArgs) -> serde_json::Value {
    json!({
        "backend": compute.backend.to_string(),
        "threads": rayon::current_num_threads(),
        "seeds": {
            "init": derive_seed(config.seed, "pretrain/init"),
            "data": derive_seed(config.seed, "pretrain/data"),
            "eval": derive_seed(config.seed, "pretrain/eval"),
        },
        "cache": { "key": base.cache_key, "hit": base.cache_hit },
        "pretrain": base.summary,
    })
}

/// Sets the CPU thread count and returns the inference device of the chosen backend.
pub fn prepare_compute(compute: &ComputeArgs) -> anyhow::Result<Device> {
    if let Some(threads) = compute.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads as usize)
            .build_global()
            .context("setting the CPU thread count")?;
    }
    compute
        .backend
        .device()
        .map_err(|error| ConfigError::from_message(error).into())
}

/// Trains the base (resuming from `resume` if an earlier run of the same base was interrupted) and writes its
/// checkpoint, `pretrain.csv` and `pretrain.json` under `out`. Returns `None` if interrupted by Ctrl-C, after
/// saving the state to resume from.
fn train_base(
    config: &ExperimentConfig,
    device: &Device,
    out: &Path,
    resume: &ResumePoint,
    quiet: bool,
) -> anyhow::Result<Option<PretrainSummary>> {
    let source = config.pretrain.source.build()?;
    let flag = interrupt_flag()?;
    let progress = bar(config.pretrain.steps as u64, "pretrain", quiet);
    let mut on_step = |report: &StepReport| {
        progress.set_position(report.step as u64);
        let eval = report
            .last_eval
            .map(|e| format!(" | held-out excess {:+.4} bits", e.excess_bits))
            .unwrap_or_default();
        progress.set_message(format!("loss {:.4} bits/token{eval}", report.train_loss_bits));
        if interrupted(flag) { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
    };
    let end = pretrain(&config.model, &config.pretrain, source.as_ref(), config.seed, device, Some(resume), &mut on_step)?;
    progress.finish_and_clear();
    let outcome = match end {
        PretrainEnd::Finished(outcome) => outcome,
        PretrainEnd::Interrupted { step } => {
            eprintln!(
                "Interrupted after step {step} of {}; the state is saved in {}. Run the same command again to resume.",
                config.pretrain.steps,
                resume.dir().display()
            );
            return Ok(None);
        }
    };
    if outcome.resumed_from > 0 && !quiet {
        eprintln!("Resumed from step {} of an interrupted run.", outcome.resumed_from);
    }

    save_checkpoint(&out.join("checkpoint"), &outcome.model, &config.model)?;
    write_bytes_atomically(&out.join("pretrain.csv"), &pretrain_csv(&outcome.rows)?)?;
    let tokens = config.pretrain.steps * config.pretrain.batch_size * config.pretrain.seq_len;
    let eval = outcome.final_eval;
    let summary = PretrainSummary {
        eval_loss_bits: eval.loss_bits,
        bayes_loss_bits: eval.bayes_bits,
        excess_bits: eval.excess_bits,
        excess_ci95: eval.excess_ci95,
        eval_sequences: eval.sequences,
        steps: config.pretrain.steps,
        tokens,
        train_seconds: outcome.train_seconds,
        wall_seconds: outcome.wall_seconds,
        train_tokens_per_second: tokens as f64 / outcome.train_seconds,
        parameters: config.model.total_params(),
    };
    write_bytes_atomically(&out.join("pretrain.json"), serde_json::to_string_pretty(&summary)?.as_bytes())?;
    resume.clear()?;
    Ok(Some(summary))
}

/// `pretrain.csv` as bytes, floats printed with full precision so two runs compare exactly.
fn pretrain_csv(rows: &[PretrainRow]) -> anyhow::Result<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(PRETRAIN_CSV_HEADER)?;
    for row in rows {
        writer.write_record([
            row.step.to_string(),
            row.train_loss_bits.to_string(),
            row.eval_loss_bits.to_string(),
            row.bayes_loss_bits.to_string(),
            row.excess_bits.to_string(),
        ])?;
    }
    Ok(writer.into_inner()?)
}

pub fn read_summary(path: &Path) -> anyhow::Result<PretrainSummary> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

/// The one-paragraph summary printed at the end.
fn describe(config: &ExperimentConfig, s: &PretrainSummary, compute: &ComputeArgs, cache_hit: bool, out: &Path) -> String {
    let m = &config.model;
    let provenance = if cache_hit {
        format!("Reused the cached base (trained earlier in {:.0} s).", s.wall_seconds)
    } else {
        format!(
            "Trained in {:.0} s wall ({:.0} s of optimisation, {:.1}k tokens/s) on {} with {} threads.",
            s.wall_seconds,
            s.train_seconds,
            s.train_tokens_per_second / 1e3,
            compute.backend,
            rayon::current_num_threads()
        )
    };
    format!(
        "Pretrained a {}-layer, d_model {} Transformer ({} parameters) on {} for {} steps × {} sequences × {} tokens \
         ({:.2}M tokens, seed {}). {provenance} On {} held-out sequences it scores {:.4} bits/token against the exact \
         Bayes floor of {:.4}: excess {:+.5} ± {:.5} bits/token (95% CI). Results in {}.",
        m.n_layers,
        m.d_model,
        s.parameters,
        config.pretrain.source,
        s.steps,
        config.pretrain.batch_size,
        config.pretrain.seq_len,
        s.tokens as f64 / 1e6,
        config.seed,
        s.eval_sequences,
        s.eval_loss_bits,
        s.bayes_loss_bits,
        s.excess_bits,
        s.excess_ci95,
        out.display()
    )
}
