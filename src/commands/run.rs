//! `adaptbench run CONFIG`: the whole pipeline (`adaptbench_experiment::run_experiment`), then the report.

use adaptbench_experiment::run_experiment;

use crate::cli::ExperimentArgs;
use crate::commands::prepare;
use crate::interrupt::interrupt_flag;
use crate::progress::Terminal;

/// Runs the command: prints `report.md` and the wall time, or with `--quiet` one summary line.
pub fn run(args: ExperimentArgs) -> anyhow::Result<()> {
    let (config, out, environment) = prepare(&args)?;
    let terminal = Terminal::new(args.compute.quiet, interrupt_flag()?);
    let outcome = run_experiment(&config, &args.config, &out, &environment, &terminal)?;
    if !args.compute.quiet {
        println!("{}", outcome.report);
    }
    println!(
        "Whole run: {:.0} s, {} rows. Results in {} (report.md).",
        outcome.wall_seconds,
        outcome.rows.len(),
        out.display()
    );
    Ok(())
}
