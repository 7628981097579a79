//! `adaptbench recommend DIR`: the method to use at each point of a finished run, re-chosen from its
//! held-out scores under the λ and constraints given; nothing is trained or evaluated.

use adaptbench_experiment::{recommend_in, RecommendOptions};

use crate::cli::RecommendArgs;

/// Runs the command: prints the recommendation and writes it into `DIR/report.md`.
pub fn run(args: RecommendArgs) -> anyhow::Result<()> {
    let options = RecommendOptions {
        ood_weight: args.ood_weight,
        max_trainable: args.max_trainable,
        max_prompt_tokens: args.max_prompt_tokens,
    };
    let section = recommend_in(&args.dir, &options)?;
    println!("{section}");
    Ok(())
}
