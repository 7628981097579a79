//! Command-line arguments (clap). Parsed arguments are merged with the TOML config into a validated plan by
//! each command before any work starts.

use std::path::PathBuf;

use adaptbench_model::Backend;
use clap::{Args, Parser, Subcommand};

/// Prompt it or fine-tune it? adaptbench pretrains a small Transformer on a known meta-distribution of
/// binary sequences, adapts it, and measures every result against the exact Bayes-optimal predictor.
#[derive(Debug, Parser)]
#[command(name = "adaptbench", version, propagate_version = true)]
#[command(after_help = "Example:\n  adaptbench run configs/quickstart.toml\n  adaptbench pretrain configs/quickstart.toml\n  adaptbench sources")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Pretrain the base model on the config's meta-distribution and measure it against the Bayes floor.
    ///
    /// Writes DIR/config.resolved.toml, DIR/manifest.json, DIR/pretrain.csv
    /// (step,train_loss_bits,eval_loss_bits,bayes_loss_bits,excess_bits) and DIR/checkpoint/.
    /// A base pretrained before with the same model, pretraining settings, seed and backend is reused from
    /// the cache instead of trained again.
    #[command(after_help = "Example:\n  adaptbench pretrain configs/quickstart.toml --out results/quickstart --threads 2")]
    Pretrain(ExperimentArgs),
    /// The whole pipeline: pretrain (or reuse the cached base), adapt with every configured method on the
    /// same task data, sweep the WiSE-FT interpolation α, evaluate ID and OOD against the exact Bayes floor.
    ///
    /// Writes DIR/metrics.csv (one row per method × hyper-parameters × seed × α × evaluation source),
    /// DIR/report.md (headline table and recommendation), DIR/figures/interpolation.svg and pretrain.svg,
    /// beside the files of `pretrain`. Finished cells are kept in DIR/cells/ and skipped by a re-run.
    /// With a `[model_update]` table (seed = B), a second base is pretrained with seed B (DIR/base-seedB/) and
    /// every adaptation is also scored moved onto it: DIR/model_update.csv and a section of report.md.
    #[command(after_help = "Example:\n  adaptbench run configs/quickstart.toml\n  adaptbench run configs/robustness.toml --out results/robustness --quiet")]
    Run(ExperimentArgs),
    /// Prompt-space analysis (arXiv 2502.10760) for the exact Bayes predictor of the pretraining source and
    /// for the pretrained base (reused from the cache, or trained): every prompt up to search.l_max scored on
    /// D_N and against its reference loss, a local search beyond L_max, reliability of exhaustive search
    /// versus N, efficiency of optimal versus typical and random prompts; successive halving (an
    /// approximation, `[search.halving]`) beside the exact search, on D_N and on the reliability draws.
    ///
    /// Writes DIR/landscape.csv (predictor,prompt,length,ones,loss_bits,kl_bits,rank,empirical_loss_bits),
    /// DIR/reliability.csv (predictor,n,l_max,draws,proportion_correct,ci95), DIR/efficiency.csv
    /// (predictor,kind,length,loss_bits,ci95), DIR/search.md and DIR/figures/{landscape,reliability,efficiency}.svg.
    #[command(after_help = "Example:\n  adaptbench search configs/paper/inside.toml\n  adaptbench search configs/paper/outside.toml --out results/outside --threads 2")]
    Search(ExperimentArgs),
    /// Redraw the documents of a finished run (report.md, figures) or search (search.md, figures) from its CSVs alone.
    #[command(after_help = "Example:\n  adaptbench report results/quickstart\n  adaptbench report results/paper-inside")]
    Report(ReportArgs),
    /// List the source kinds a config can name, with their parameters and an example table.
    #[command(after_help = "Example:\n  adaptbench sources\n\nUse a source in a config as, e.g.:\n  [pretrain]\n  source = { kind = \"mix\", thetas = [0.2, 0.7], weights = [0.5, 0.5] }")]
    Sources,
}

/// Options shared by every command that trains or evaluates.
#[derive(Debug, Args)]
pub struct ComputeArgs {
    /// Compute backend: flex (CPU, the embedded default) or wgpu (GPU; needs `--features wgpu`).
    #[arg(long, default_value = "flex")]
    pub backend: Backend,
    /// Worker threads for the CPU backend (default: one per core).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,
    /// No progress bars (for CI and logs).
    #[arg(long)]
    pub quiet: bool,
}

/// Where the pretrained base comes from.
#[derive(Debug, Args)]
pub struct BaseArgs {
    /// Where pretrained bases are cached. Default: $ADAPTBENCH_CACHE, else ~/.cache/adaptbench.
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
    /// Train even if a cached base exists (the cache entry is then refreshed).
    #[arg(long)]
    pub no_cache: bool,
}

#[derive(Debug, Args)]
pub struct ExperimentArgs {
    /// The experiment config (TOML).
    pub config: PathBuf,
    /// Output directory. Default: results/<name>.
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub base: BaseArgs,
    #[command(flatten)]
    pub compute: ComputeArgs,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A results directory written by `adaptbench run` or `adaptbench search`.
    pub dir: PathBuf,
}
