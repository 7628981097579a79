//! `adaptbench search CONFIG`: the prompt-space analysis of arXiv 2502.10760 (`adaptbench_experiment::run_search`).

use adaptbench_experiment::run_search;

use crate::cli::ExperimentArgs;
use crate::commands::prepare;
use crate::interrupt::interrupt_flag;
use crate::progress::Terminal;

/// Runs the command.
pub fn run(args: ExperimentArgs) -> anyhow::Result<()> {
    let (grid, out, environment) = prepare(&args)?;
    let config = grid.single_point("search")?.config;
    let terminal = Terminal::new(args.compute.quiet, interrupt_flag()?);
    let wall_seconds = run_search(&config, &args.config, &out, &environment, &terminal)?;
    println!("Search: {wall_seconds:.0} s. Results in {} (search.md).", out.display());
    Ok(())
}
