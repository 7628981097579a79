//! `adaptbench run CONFIG`: the whole pipeline of a config or grid (`adaptbench_experiment::run_experiment`),
//! then the report.

use adaptbench_experiment::{run_experiment, RunOptions};

use crate::cli::RunArgs;
use crate::commands::prepare;
use crate::interrupt::interrupt_flag;
use crate::progress::Terminal;

/// Runs the command: prints `report.md` and the wall time, or with `--quiet` one summary line; a shard
/// prints what it ran and how to assemble.
pub fn run(args: RunArgs) -> anyhow::Result<()> {
    let (grid, out, environment) = prepare(&args.experiment)?;
    let terminal = Terminal::new(args.experiment.compute.quiet, interrupt_flag()?);
    let jobs = args.jobs.map_or_else(default_jobs, usize::from);
    let options = RunOptions { jobs, shard: args.shard };
    let outcome = run_experiment(&grid, &args.experiment.config, &out, &environment, &options, &terminal)?;
    let cells = format!("{} cells computed, {} reused", outcome.cells_computed, outcome.cells_reused);
    let Some(assembled) = &outcome.assembled else {
        let shard = args.shard.map_or(String::new(), |shard| format!(" {}/{}", shard.index, shard.count));
        println!(
            "Shard{shard}: {:.0} s, {cells}. Once every shard is done: adaptbench report {}",
            outcome.wall_seconds,
            out.display()
        );
        return Ok(());
    };
    if !args.experiment.compute.quiet {
        println!("{}", assembled.report);
    }
    println!(
        "Whole run: {:.0} s, {cells}, {} rows. Results in {} (report.md).",
        outcome.wall_seconds,
        assembled.tables.rows.len(),
        out.display()
    );
    Ok(())
}

/// One job per core, each cell on one thread: this model's matrices are too small for one cell to keep two
/// cores busy (README, "Speed").
fn default_jobs() -> usize {
    rayon::current_num_threads()
}
