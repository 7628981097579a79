//! The `adaptbench` command line.

mod allocator;
mod cli;
mod commands;
mod interrupt;
mod progress;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};
use adaptbench_experiment::{ConfigError, ExperimentError};

fn main() -> ExitCode {
    allocator::keep_freed_memory();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Pretrain(args) => commands::pretrain::run(args),
        Command::Run(args) => commands::run::run(args),
        Command::Search(args) => commands::search::run(args),
        Command::Report(args) => commands::report::run(args),
        Command::Recommend(args) => commands::recommend::run(args),
        Command::Sources => commands::sources::run(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) if matches!(error.downcast_ref(), Some(ExperimentError::Interrupted)) => {
            eprintln!("Interrupted; what was finished is saved. Run the same command again to resume.");
            ExitCode::from(130)
        }
        Err(error) => {
            eprintln!("error: {error}");
            for cause in error.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            // Bad input is exit code 2, like clap's own usage errors; failures while working are 1.
            let bad_input = error.downcast_ref::<ConfigError>().is_some()
                || matches!(error.downcast_ref(), Some(ExperimentError::Config(_)));
            if bad_input {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}
