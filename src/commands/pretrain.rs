//! `adaptbench pretrain CONFIG`: train the base on the meta-distribution (or reuse the cached base) and report
//! it against the exact Bayes floor.

use adaptbench_experiment::{base_details, describe_base, obtain_base, write_manifest};
use adaptbench_report::write_atomically;

use crate::cli::ExperimentArgs;
use crate::commands::prepare;
use crate::interrupt::interrupt_flag;
use crate::progress::Terminal;

/// Runs the command.
pub fn run(args: ExperimentArgs) -> anyhow::Result<()> {
    let (config, out, environment) = prepare(&args)?;
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
