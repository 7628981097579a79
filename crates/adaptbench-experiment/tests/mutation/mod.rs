//! The deterministic generator of mutated configs shared by the experiment crate's property test (loading
//! and planning never panic) and the CLI's rule test (every rejection exits 2 and names its key): keys
//! deleted, numbers replaced by zero, negatives, huge values, NaN and infinities, types swapped, lists emptied
//! or grown, sub-tables added.

use std::path::{Path, PathBuf};

use rand::rngs::StdRng;
use rand::Rng;
use toml::Value;

/// `original` with one to three random mutations, as TOML text (`None` when the mutant is not representable
/// as TOML, e.g. a table inside an array of scalars).
pub fn mutant(original: &Value, rng: &mut StdRng) -> Option<String> {
    let mut mutant = original.clone();
    for _ in 0..rng.random_range(1..=3) {
        mutate_once(&mut mutant, rng, 0);
    }
    toml::to_string(&mutant).ok()
}

/// Every `.toml` under `dir` (the committed `configs/`), by path, parsed.
pub fn committed_configs(dir: &Path) -> Vec<(String, Value)> {
    let mut paths: Vec<_> = walk(dir);
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            (path.display().to_string(), toml::from_str(&text).unwrap())
        })
        .collect()
}

fn walk(dir: &Path) -> Vec<PathBuf> {
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
fn mutate_once(value: &mut Value, rng: &mut StdRng, depth: usize) {
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
                _ => mutate_once(table.get_mut(key).unwrap(), rng, depth + 1),
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
                mutate_once(&mut items[index], rng, depth + 1);
            }
        },
        other => *other = strange_value(rng),
    }
}
