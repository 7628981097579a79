//! `adaptbench pretrain CONFIG`: train the base on the meta-distribution (or reuse the cached base) and report
//! it against the exact Bayes floor.

use adaptbench_experiment::{base_details, describe_base, obtain_base, write_manifest, BaseCache, ConfigError};
use adaptbench_report::write_atomically;

use crate::cli::ExperimentArgs;
use crate::commands::prepare;
use crate::interrupt::interrupt_flag;
use crate::progress::Terminal;

/// Runs the command.
pub fn run(args: ExperimentArgs) -> anyhow::Result<()> {
    let (grid, out, environment) = prepare(&args)?;
    // A grid whose points share one base (the usual case: only the task or the methods are swept) pretrains
    // that base, e.g. once before a job array of `run --shard`.
    let key = |config| BaseCache::key(config, environment.backend);
    let first = key(&grid.points[0].config);
    if grid.points.iter().any(|point| key(&point.config) != first) {
        let allowed = "one base: `adaptbench pretrain` trains a single base, and this [sweep] changes [model], [pretrain] or seed (`adaptbench run` trains each)";
        return Err(ConfigError::new("sweep", format!("{} points", grid.points.len()), allowed).into());
    }
    let config = grid.points.into_iter().next().expect("a grid has a point").config;
    let terminal = Terminal::new(args.compute.quiet, interrupt_flag()?);
    let base = obtain_base(&config, &environment, &out, &terminal)?;
    write_atomically(&out.join("config.resolved.toml"), config.to_toml().as_bytes())?;
    let details = base_details(&config, &base, &environment);
    write_manifest(&out.join("manifest.json"), "pretrain", &args.config, config.seed, details)?;
    let summary = describe_base(&config, &base, &environment, &out);
    if args.compute.quiet {
        let (s, provenance) = (&base.summary, if base.cache_hit { "Reused the cached base" } else { "Trained the base" });
        println!("{provenance}: excess {:+.5} ± {:.5} bits/token over the Bayes floor. Results in {}.", s.excess_bits, s.excess_ci95, out.display());
    } else {
        println!("{summary}");
    }
    Ok(())
}
