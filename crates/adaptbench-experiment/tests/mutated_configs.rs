//! Config loading and planning never panic: a deterministic generator mutates every committed config (keys
//! deleted, numbers replaced by zero, negatives, huge values, NaN and infinities, types swapped, lists emptied
//! or grown, sub-tables added) and feeds each result to parsing, validation and the planning steps that need
//! no training (building every source, the base's cache key, the methods' parameters, the resolved config).
//! Each mutant either validates or returns the typed [`ConfigError`]; none may panic.

use std::panic::{catch_unwind, AssertUnwindSafe};

use adaptbench_experiment::{BaseCache, ConfigError, ExperimentConfig};
use adaptbench_model::Backend;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use toml::Value;

/// Mutants per committed config.
const MUTANTS_PER_CONFIG: usize = 3000;

fn committed_configs() -> Vec<(String, Value)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../configs");
    let mut paths: Vec<_> = walk(std::path::Path::new(dir));
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            (path.display().to_string(), toml::from_str(&text).unwrap())
        })
        .collect()
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(walk(&path));
        } else if path.extension().is_some_and(|ext| ext == "toml") {
            found.push(path);
        }
    }
    found
}

/// Replacement values that probe every range check and type.
fn strange_value(rng: &mut StdRng) -> Value {
    match rng.random_range(0..14) {
        0 => Value::Integer(0),
        1 => Value::Integer(-1),
        2 => Value::Integer(1),
        3 => Value::Integer(i64::MAX),
        4 => Value::Integer(rng.random_range(0..100_000)),
        5 => Value::Float(f64::NAN),
        6 => Value::Float(f64::INFINITY),
        7 => Value::Float(-0.5),
        8 => Value::Float(rng.random::<f64>() * 2.0),
        9 => Value::Float(1e300),
        10 => Value::String("w".into()),
        11 => Value::Boolean(true),
        12 => Value::Array(Vec::new()),
        _ => Value::Integer(rng.random_range(1..80)),
    }
}

/// Applies one random mutation somewhere in `value`.
fn mutate(value: &mut Value, rng: &mut StdRng, depth: usize) {
    match value {
        Value::Table(table) if !table.is_empty() => {
            let keys: Vec<String> = table.keys().cloned().collect();
            let key = &keys[rng.random_range(0..keys.len())];
            match rng.random_range(0..10) {
                0 => {
                    table.remove(key);
                }
                1 => {
                    table.insert(format!("{key}_typo"), strange_value(rng));
                }
                2 if depth < 2 => {
                    // A method, OOD entry or model-update table the config did not have.
                    let extra = ["methods", "model_update", "eval"][rng.random_range(0..3)];
                    let mut inner = toml::map::Map::new();
                    inner.insert(["lora", "soft_prompt", "seed", "hard_prompt"][rng.random_range(0..4)].into(), strange_value(rng));
                    table.insert(extra.into(), Value::Table(inner));
                }
                3..=5 => *table.get_mut(key).unwrap() = strange_value(rng),
                _ => mutate(table.get_mut(key).unwrap(), rng, depth + 1),
            }
        }
        Value::Array(items) if !items.is_empty() => match rng.random_range(0..4) {
            0 => items.clear(),
            1 => {
                let copy = items[0].clone();
                items.push(copy);
            }
            _ => {
                let index = rng.random_range(0..items.len());
                mutate(&mut items[index], rng, depth + 1);
            }
        },
        other => *other = strange_value(rng),
    }
}

/// Loads, validates and plans `text`; `Ok(true)` when it validated.
fn load_and_plan(text: &str) -> Result<bool, ConfigError> {
    let config = ExperimentConfig::parse(text, "mutant")
        .map_err(|message| ConfigError::Unreadable { path: "mutant.toml".into(), message })?;
    config.validate()?;
    config.validate_search()?;
    // Planning without training: every source builds, the base has a cache key, every method its
    // parameters, and the resolved config reads back as itself.
    config.pretrain.source.build().expect("a validated pretraining source builds");
    config.task.source.build().expect("a validated task source builds");
    for entry in &config.eval.ood {
        entry.source.build().expect("a validated OOD source builds");
    }
    let _ = BaseCache::key(&config, Backend::Flex);
    for method in config.methods.configured() {
        let _ = method.params(config.layout.prompt_max_len);
    }
    let resolved = ExperimentConfig::parse(&config.to_toml(), "mutant").expect("the resolved config parses");
    resolved.validate().expect("the resolved config validates");
    Ok(true)
}

#[test]
fn mutated_configs_validate_or_return_the_typed_error_and_never_panic() {
    let mut rng = StdRng::seed_from_u64(2502_10760);
    let (mut tried, mut valid, mut rejected) = (0usize, 0usize, 0usize);
    let mut panics = Vec::new();
    for (name, original) in committed_configs() {
        for _ in 0..MUTANTS_PER_CONFIG {
            let mut mutant = original.clone();
            for _ in 0..rng.random_range(1..=3) {
                mutate(&mut mutant, &mut rng, 0);
            }
            let Ok(text) = toml::to_string(&mutant) else { continue }; // not representable as TOML
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
