//! `adaptbench report DIR`: redraw the documents of a finished run or search from its files alone.

use adaptbench_experiment::redraw;

use crate::cli::ReportArgs;

/// Runs the command.
pub fn run(args: ReportArgs) -> anyhow::Result<()> {
    let written = redraw(&args.dir)?;
    let names: Vec<String> = written.iter().map(|path| path.display().to_string()).collect();
    println!("Wrote {}.", names.join(", "));
    Ok(())
}
