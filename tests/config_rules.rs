//! Every rule the validation step enforces, through the CLI: mutated copies of the committed configs (the
//! generator the experiment crate's property test uses) are loaded by the library, and for one rejected
//! mutant per distinct key — one per rule the mutations reach — `adaptbench run` must exit 2, print the
//! library's error (which names the key) and write nothing: no output directory, no cache.

#[path = "../crates/adaptbench-experiment/tests/mutation/mod.rs"]
mod mutation;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::Command;

use adaptbench_experiment::Grid;
use rand::rngs::StdRng;
use rand::SeedableRng;

/// Mutants per committed config: enough to reach every rule the generator can reach (the count of distinct
/// keys stops growing well before this).
const MUTANTS_PER_CONFIG: usize = 1500;

/// `eval.ood[0].len` and `eval.ood[1].len` are one rule.
fn rule_of(key: &str) -> String {
    let mut rule = String::new();
    let mut in_index = false;
    for c in key.chars() {
        match c {
            '[' => in_index = true,
            ']' => in_index = false,
            _ if in_index => {}
            _ => rule.push(c),
        }
    }
    rule
}

#[test]
fn every_rule_reached_by_mutation_exits_2_naming_its_key_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = StdRng::seed_from_u64(2502_10760);
    let mut first_per_rule: BTreeMap<String, (String, String)> = BTreeMap::new();
    let configs = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/configs"));
    for (_, original) in mutation::committed_configs(configs) {
        for _ in 0..MUTANTS_PER_CONFIG {
            let Some(text) = mutation::mutant(&original, &mut rng) else { continue };
            let path = dir.path().join("mutant.toml");
            fs::write(&path, &text).unwrap();
            if let Err(error) = Grid::load(&path) {
                let key = error.key();
                let rule = if key == path.display().to_string() {
                    // The parser's own errors (unknown keys, wrong types) are one rule: the file's shape.
                    "the file's shape".to_string()
                } else if key.starts_with("sweep.\"") {
                    // `sweep."<any key>"`: one rule per kind of rejection.
                    format!("sweep.\"…\": {}", error.to_string().rsplit(": ").next().unwrap_or_default())
                } else {
                    rule_of(&key)
                };
                first_per_rule.entry(rule).or_insert_with(|| (text, error.to_string()));
            }
        }
    }
    assert!(first_per_rule.len() >= 45, "only {} distinct rules reached: {:?}", first_per_rule.len(), first_per_rule.keys());
    for (i, (rule, (text, message))) in first_per_rule.iter().enumerate() {
        let case = dir.path().join(format!("case-{i}"));
        fs::create_dir(&case).unwrap();
        let config = case.join("mutant.toml");
        fs::write(&config, text).unwrap();
        let out = case.join("out");
        let output = Command::new(env!("CARGO_BIN_EXE_adaptbench"))
            .args(["run", config.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"])
            .env("ADAPTBENCH_CACHE", case.join("cache"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        // The parser's messages quote the file's path.
        let message = message.replace(&dir.path().join("mutant.toml").display().to_string(), &config.display().to_string());
        assert_eq!(output.status.code(), Some(2), "{rule}: exit {:?}\n{stderr}\n{text}", output.status.code());
        assert!(stderr.contains(&message), "{rule}: expected {message:?} in\n{stderr}");
        assert!(!out.exists() && !case.join("cache").exists(), "{rule}: nothing may be written\n{text}");
    }
    println!("{} rules, each through the CLI: {:?}", first_per_rule.len(), first_per_rule.keys());
}
