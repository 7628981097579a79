//! The pretrained base: trained on the meta-distribution (resumably), or restored from the cache, with its
//! record (`pretrain.csv`, `pretrain.json`, `checkpoint/`) in the output directory.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use adaptbench_model::{load_checkpoint, save_checkpoint, Network};
use adaptbench_report::{csv_bytes, write_atomically};
use adaptbench_sources::derive_seed;
use adaptbench_train::{pretrain, PretrainEnd, ResumePoint, StepReport};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::cache::{BaseCache, Lookup};
use crate::config::ExperimentConfig;
use crate::environment::Environment;
use crate::error::{ExperimentError, Result};
use crate::observer::Observer;

/// The final numbers of a pretraining run, kept as `pretrain.json` (and in the cache beside the weights).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
pub const BASE_FILES: [&str; 4] = ["checkpoint/model.bpk", "checkpoint/model.toml", "pretrain.csv", "pretrain.json"];

/// A pretrained base, trained here or restored from the cache, with its record.
pub struct Base {
    /// Inference weights.
    pub model: Network,
    pub summary: PretrainSummary,
    pub cache_key: String,
    pub cache_hit: bool,
}

/// Pretrains the config's base into `out` (checkpoint/, pretrain.csv, pretrain.json), or restores it from the
/// cache. A cache entry that fails its checksums is reported through `observer`, discarded and retrained. An
/// interrupted pretraining saves its state under `out/resume/` and returns [`ExperimentError::Interrupted`].
pub fn obtain_base(
    config: &ExperimentConfig,
    environment: &Environment,
    out: &Path,
    observer: &dyn Observer,
) -> Result<Base> {
    let cache = &environment.cache;
    let key = BaseCache::key(config, environment.backend);
    // Held until the entry is complete: another process (a shard) asking for the same base waits here.
    let _lock = cache.lock(&key)?;
    let cached = if environment.retrain {
        None
    } else {
        match cache.lookup(&key) {
            Lookup::Hit(entry) => Some(entry),
            Lookup::Miss => None,
            Lookup::Corrupt { entry, what } => {
                observer.note(&format!(
                    "The cached base {} is corrupt ({what}); it was discarded and the base is trained again.",
                    entry.display()
                ));
                cache.discard(&key)?;
                None
            }
        }
    };
    let summary = match &cached {
        Some(entry) => {
            for name in BASE_FILES {
                BaseCache::restore(entry, name, &out.join(name))?;
            }
            read_summary(&out.join("pretrain.json"))?
        }
        None => {
            let resume = ResumePoint::new(out.join("resume"), key.as_str());
            let summary = train_base(config, environment, out, &resume, observer)?;
            let files: Vec<(PathBuf, &str)> = BASE_FILES.iter().map(|name| (out.join(name), *name)).collect();
            cache.store(&key, &files)?;
            summary
        }
    };
    // Loading proves the weights are intact and match the config.
    let model = load_checkpoint(&out.join("checkpoint"), &environment.device, Some(&config.model))?.model;
    Ok(Base { model, summary, cache_key: key, cache_hit: cached.is_some() })
}

/// The manifest's record of the base: backend, threads, pretraining seeds, cache, final numbers.
pub fn base_details(config: &ExperimentConfig, base: &Base, environment: &Environment) -> serde_json::Value {
    json!({
        "backend": environment.backend.to_string(),
        "threads": environment.threads(),
        "seeds": {
            "init": derive_seed(config.seed, "pretrain/init"),
            "data": derive_seed(config.seed, "pretrain/data"),
            "eval": derive_seed(config.seed, "pretrain/eval"),
        },
        "cache": { "key": base.cache_key, "hit": base.cache_hit },
        "pretrain": base.summary,
    })
}

/// Trains the base (resuming from `resume` if an earlier run of the same base was interrupted) and writes its
/// checkpoint, `pretrain.csv` and `pretrain.json` under `out`.
fn train_base(
    config: &ExperimentConfig,
    environment: &Environment,
    out: &Path,
    resume: &ResumePoint,
    observer: &dyn Observer,
) -> Result<PretrainSummary> {
    let source = config.pretrain.source.build()?;
    observer.pretrain_started(config.pretrain.steps);
    let mut on_step = |report: &StepReport| {
        observer.pretrain_step(report);
        if observer.stop_requested() { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
    };
    let device = &environment.device;
    let end = pretrain(&config.model, &config.pretrain, source.as_ref(), config.seed, device, Some(resume), &mut on_step);
    observer.pretrain_finished();
    let outcome = match end? {
        PretrainEnd::Finished(outcome) => outcome,
        PretrainEnd::Interrupted { step } => {
            observer.note(&format!(
                "Interrupted after step {step} of {}; the state is saved in {}. Run the same command again to resume.",
                config.pretrain.steps,
                resume.dir().display()
            ));
            return Err(ExperimentError::Interrupted);
        }
    };
    if outcome.resumed_from > 0 {
        observer.note(&format!("Resumed from step {} of an interrupted run.", outcome.resumed_from));
    }

    save_checkpoint(&out.join("checkpoint"), &outcome.model, &config.model)?;
    write_atomically(&out.join("pretrain.csv"), &csv_bytes(&outcome.rows)?)?;
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
        // An untrained base (steps = 0) ran no step: 0, not the NaN of 0/0 (which JSON cannot hold).
        train_tokens_per_second: if tokens == 0 { 0.0 } else { tokens as f64 / outcome.train_seconds },
        parameters: config.model.total_params(),
    };
    let json = serde_json::to_string_pretty(&summary).expect("a summary serialises");
    write_atomically(&out.join("pretrain.json"), json.as_bytes())?;
    resume.clear()?;
    Ok(summary)
}

/// Reads `pretrain.json`.
pub fn read_summary(path: &Path) -> Result<PretrainSummary> {
    let text = std::fs::read_to_string(path).map_err(ExperimentError::io(path))?;
    serde_json::from_str(&text).map_err(|error| ExperimentError::Parse { path: path.to_path_buf(), message: error.to_string() })
}

/// The one-paragraph summary of a base, as `adaptbench pretrain` prints it.
pub fn describe_base(config: &ExperimentConfig, base: &Base, environment: &Environment, out: &Path) -> String {
    let (m, s) = (&config.model, &base.summary);
    let scores = format!(
        "On {} held-out sequences it scores {:.4} bits/token against the exact Bayes floor of {:.4}: excess {:+.5} ± \
         {:.5} bits/token (95% CI). Results in {}.",
        s.eval_sequences,
        s.eval_loss_bits,
        s.bayes_loss_bits,
        s.excess_bits,
        s.excess_ci95,
        out.display()
    );
    if s.steps == 0 {
        return format!(
            "An untrained base (pretrain.steps = 0): the freshly initialised {}-layer, d_model {} {} ({} \
             parameters, initialised from seed {}), never trained on {}. {scores}",
            m.n_layers,
            m.d_model,
            m.arch.label(),
            s.parameters,
            config.seed,
            config.pretrain.source
        );
    }
    let provenance = if base.cache_hit {
        format!("Reused the cached base (trained earlier in {:.0} s).", s.wall_seconds)
    } else {
        format!(
            "Trained in {:.0} s wall ({:.0} s of optimisation, {:.1}k tokens/s) on {} with {} threads.",
            s.wall_seconds,
            s.train_seconds,
            s.train_tokens_per_second / 1e3,
            environment.backend,
            environment.threads()
        )
    };
    format!(
        "Pretrained a {}-layer, d_model {} {} ({} parameters) on {} for {} steps × {} sequences × {} tokens \
         ({:.2}M tokens, seed {}). {provenance} {scores}",
        m.n_layers,
        m.d_model,
        m.arch.label(),
        s.parameters,
        config.pretrain.source,
        s.steps,
        config.pretrain.batch_size,
        config.pretrain.seq_len,
        s.tokens as f64 / 1e6,
        config.seed,
    )
}
