//! Config loading and planning never panic: a deterministic generator (`mutation/`) mutates every committed
//! config and feeds each result to grid expansion, validation and the planning steps that need no training
//! (building every source, the base's cache key, every candidate's parameters, the resolved config).
//! Each mutant either validates or returns the typed [`ConfigError`]; none may panic.

mod mutation;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use adaptbench_experiment::{BaseCache, ConfigError, Grid};
use adaptbench_model::Backend;
use rand::rngs::StdRng;
use rand::SeedableRng;

/// Mutants per committed config.
const MUTANTS_PER_CONFIG: usize = 3000;

/// Loads, validates and plans `text` (a grid: every point and candidate); `Ok(true)` when it validated.
fn load_and_plan(text: &str) -> Result<bool, ConfigError> {
    let grid = Grid::parse(text, "mutant")?;
    for point in &grid.points {
        let config = &point.config;
        config.validate_search()?;
        // Planning without training: every source builds, the base has a cache key, every candidate its
        // parameters, and the resolved config reads back as itself.
        config.pretrain.source.build().expect("a validated pretraining source builds");
        config.task.source.build().expect("a validated task source builds");
        for entry in &config.eval.ood {
            entry.source.build().expect("a validated OOD source builds");
        }
        let _ = BaseCache::key(config, Backend::Flex);
        for method in &point.candidates {
            let _ = method.params(config.layout.prompt_max_len);
        }
        let resolved = Grid::parse(&config.to_toml(), "mutant").expect("the resolved config parses");
        assert_eq!(resolved.points.len(), 1, "a resolved point is one config");
    }
    Ok(true)
}

#[test]
fn mutated_configs_validate_or_return_the_typed_error_and_never_panic() {
    let mut rng = StdRng::seed_from_u64(2502_10760);
    let (mut tried, mut valid, mut rejected) = (0usize, 0usize, 0usize);
    let mut panics = Vec::new();
    let configs = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../configs"));
    for (name, original) in mutation::committed_configs(configs) {
        for _ in 0..MUTANTS_PER_CONFIG {
            let Some(text) = mutation::mutant(&original, &mut rng) else { continue };
            tried += 1;
            match catch_unwind(AssertUnwindSafe(|| load_and_plan(&text))) {
                Ok(Ok(_)) => valid += 1,
                Ok(Err(error)) => {
                    assert!(!error.key().is_empty() && !error.to_string().is_empty(), "{error:?}");
                    rejected += 1;
                }
                Err(_) => panics.push(format!("{name}:\n{text}")),
            }
        }
    }
    println!("{tried} mutated configs: {valid} valid, {rejected} rejected with a ConfigError, {} panics", panics.len());
    assert!(panics.is_empty(), "{} of {tried} mutants panicked; the first:\n{}", panics.len(), panics[0]);
    assert!(tried >= 10_000 && valid > 100 && rejected > 1_000, "{tried} tried, {valid} valid, {rejected} rejected");
}
