//! One file per subcommand: each merges its arguments with the config into the library's inputs, calls the
//! library and prints the outcome.

pub mod pretrain;
pub mod recommend;
pub mod report;
pub mod run;
pub mod search;
pub mod sources;

use std::path::PathBuf;

use adaptbench_experiment::{ConfigError, Environment, Grid};

use crate::cli::ExperimentArgs;

/// The validated grid (a plain config is a grid of one point), the output directory and the environment of an
/// experiment command: everything that can be wrong with the input is found here, before anything is written.
pub fn prepare(args: &ExperimentArgs) -> anyhow::Result<(Grid, PathBuf, Environment)> {
    let grid = Grid::load(&args.config)?;
    let name = &grid.points[0].config.name;
    let out = args.out.clone().unwrap_or_else(|| PathBuf::from("results").join(name));
    if out.exists() && !out.is_dir() {
        return Err(ConfigError::new("--out", out.display(), "must be a directory (or not exist yet)").into());
    }
    if let Some(threads) = args.compute.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads as usize)
            .build_global()
            .map_err(|error| anyhow::anyhow!("setting the CPU thread count: {error}"))?;
    }
    let environment = Environment::new(args.compute.backend, args.base.cache_dir.clone(), args.base.no_cache)?;
    Ok((grid, out, environment))
}
