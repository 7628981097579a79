//! Command-line arguments (clap). Parsed arguments are merged with the TOML config into a validated plan by
//! each command before any work starts.

use std::path::PathBuf;

use adaptbench_experiment::Shard;
use adaptbench_model::Backend;
use clap::{Args, Parser, Subcommand};

/// Prompt it or fine-tune it? adaptbench pretrains a small Transformer or LSTM on a known meta-distribution of
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
    ///
    /// A `[sweep]` table (dotted keys → lists) makes the config a grid of points, and a list inside a
    /// `[methods.X]` table a set of candidates chosen per point and seed on held-out data; the run then also
    /// writes DIR/selection.csv, DIR/choices.csv and DIR/points.csv, and the grid's figures.
    #[command(after_help = "Example:\n  adaptbench run configs/quickstart.toml\n  adaptbench run configs/choose.toml --jobs 2\n  adaptbench run configs/choose.toml --shard 3/16 --quiet   # then: adaptbench report results/choose")]
    Run(RunArgs),
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
    ///
    /// For a run, the rows, choices and documents are assembled anew from DIR/cells/: this is also how the
    /// shards of a grid (`run --shard i/n`) are merged.
    #[command(after_help = "Example:\n  adaptbench report results/quickstart\n  adaptbench report results/paper-inside")]
    Report(ReportArgs),
    /// The method to use at each point of a finished run: hyper-parameters and α re-chosen on its held-out
    /// scores (DIR/selection.csv) under the objective ID + λ·OOD and the constraints given, with ID and OOD
    /// excess (95% CIs), the runner-up and whether they are tied. Prints it and writes it into DIR/report.md;
    /// nothing is trained or evaluated.
    #[command(after_help = "Example:\n  adaptbench recommend results/choose\n  adaptbench recommend results/choose --ood-weight 0 --max-trainable 5000 --max-prompt-tokens 4")]
    Recommend(RecommendArgs),
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

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub experiment: ExperimentArgs,
    /// Cells computed at once, each on its own share of the threads (default: one per thread, so one thread
    /// per cell). The numbers do not depend on it.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub jobs: Option<u16>,
    /// Run only shard I of N of the grid's cells (0 ≤ I < N), into the same DIR as the other shards; assemble
    /// with `adaptbench report DIR` once all are done.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<Shard>,
}

#[derive(Debug, Args)]
pub struct RecommendArgs {
    /// A results directory written by `adaptbench run`.
    pub dir: PathBuf,
    /// λ of the objective ID + λ·OOD excess (default: the config's selection.ood_weight).
    #[arg(long)]
    pub ood_weight: Option<f64>,
    /// Only candidates with at most this many trainable parameters.
    #[arg(long)]
    pub max_trainable: Option<u64>,
    /// Only candidates whose prompt has at most this many tokens.
    #[arg(long)]
    pub max_prompt_tokens: Option<u64>,
}
