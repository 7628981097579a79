//! Command-line arguments (clap). Parsed arguments are merged with the TOML config into a validated plan by
//! each command before any work starts.

use std::path::PathBuf;

use adaptbench_model::Backend;
use clap::{Args, Parser, Subcommand};

/// Prompt it or fine-tune it? adaptbench pretrains a small Transformer on a known meta-distribution of
/// binary sequences, adapts it, and measures every result against the exact Bayes-optimal predictor.
#[derive(Debug, Parser)]
#[command(name = "adaptbench", version, propagate_version = true)]
#[command(after_help = "Example:\n  adaptbench pretrain configs/quickstart.toml\n  adaptbench sources")]
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
    Pretrain(PretrainArgs),
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

#[derive(Debug, Args)]
pub struct PretrainArgs {
    /// The experiment config (TOML).
    pub config: PathBuf,
    /// Output directory. Default: results/<name>.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Where pretrained bases are cached. Default: $ADAPTBENCH_CACHE, else ~/.cache/adaptbench.
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
    /// Train even if a cached base exists (the cache entry is then refreshed).
    #[arg(long)]
    pub no_cache: bool,
    #[command(flatten)]
    pub compute: ComputeArgs,
}
