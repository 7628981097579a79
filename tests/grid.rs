//! End-to-end runs of a grid (`[sweep]` × method candidates) on the tiny config: parallel cells give the
//! numbers of serial ones bit for bit, concurrent shards merged give the unsharded run, concurrent processes
//! share one base, and `recommend` re-chooses from a finished directory.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const TINY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/configs/tiny.toml");

fn command(args: &[&str], cache: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_adaptbench"));
    command.args(args).env("ADAPTBENCH_CACHE", cache);
    command
}

fn succeed(output: Output) -> Output {
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "failed:\n{text}");
    output
}

/// tiny.toml with a validation split, two learning rates for `full` and a 2 × 2 sweep over N and the task.
fn grid_config(dir: &Path) -> PathBuf {
    let text = fs::read_to_string(TINY)
        .unwrap()
        .replacen("[finetune]\n", "[finetune]\nvalidation_fraction = 0.25\n", 1)
        .replacen("[methods.full]\n", "[methods.full]\nlr = [1e-3, 1e-2]\n", 1)
        + "\n[sweep]\n\"task.sequences\" = [8, 12]\n\"task.source\" = [{ kind = \"bern\", p = 0.9 }, { kind = \"mix\", thetas = [0.1, 0.9], weights = [0.5, 0.5] }]\n";
    let path = dir.join("grid.toml");
    fs::write(&path, text).unwrap();
    path
}

/// A CSV without its timing columns (`adapt_seconds`, the only numbers that differ between runs).
fn without_timing(path: &Path) -> Vec<Vec<String>> {
    let mut reader = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    reader
        .records()
        .map(|record| {
            let record = record.unwrap();
            header.iter().zip(record.iter()).filter(|(h, _)| *h != "adapt_seconds").map(|(_, f)| f.to_string()).collect()
        })
        .collect()
}

const TABLES: [&str; 4] = ["metrics.csv", "selection.csv", "choices.csv", "points.csv"];

fn run(config: &Path, out: &Path, cache: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["run", config.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet", "--threads", "2"];
    args.extend_from_slice(extra);
    succeed(command(&args, cache).output().unwrap())
}

#[test]
fn a_grid_writes_every_point_with_choices_and_two_jobs_equal_one_bit_for_bit() {
    let dir = tempfile::tempdir().unwrap();
    let (config, cache) = (grid_config(dir.path()), dir.path().join("cache"));
    let (serial, parallel) = (dir.path().join("serial"), dir.path().join("parallel"));
    run(&config, &serial, &cache, &["--jobs", "1"]);
    run(&config, &parallel, &cache, &["--jobs", "2"]);
    for table in TABLES {
        assert_eq!(without_timing(&serial.join(table)), without_timing(&parallel.join(table)), "{table}");
    }
    // 4 points × 2 seeds × (base + 2 full candidates + 4 weight + 2 prompt methods + reft) cells, one choice each
    // per (point, seed, method): 9 methods with the base.
    let choices = without_timing(&serial.join("choices.csv"));
    assert_eq!(choices.len(), 4 * 2 * 9);
    assert_eq!(without_timing(&serial.join("points.csv")).len(), 4 * 2);
    let metrics = fs::read_to_string(serial.join("metrics.csv")).unwrap();
    assert!(metrics.lines().next().unwrap().ends_with(",point,selected,task.sequences,task.source"));
    // Exactly one of full's two learning rates is selected per (point, seed).
    let full_selected = metrics.lines().filter(|l| l.starts_with("full,") && l.contains(",task,id,") && l.contains(",1.0,task,"));
    assert_eq!(full_selected.filter(|l| l.contains(",true,")).count(), 4 * 2);
    let report = fs::read_to_string(serial.join("report.md")).unwrap();
    assert!(report.contains("## Recommendation: chosen on held-out data") && report.contains("| 3: task.sequences=12"), "{report}");
    for figure in ["learning_curves", "method_map", "pareto"] {
        assert!(serial.join(format!("figures/{figure}.svg")).is_file(), "{figure}");
    }

    // `recommend` re-chooses without recomputing: with λ = 0 and no trainable parameters allowed, only the
    // base and the hard prompt remain.
    let output = succeed(command(&["recommend", serial.to_str().unwrap(), "--ood-weight", "0", "--max-trainable", "0"], &cache).output().unwrap());
    let section = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(section.contains("λ = 0") && section.contains("at most 0 trainable parameters"), "{section}");
    for line in section.lines().filter(|l| l.starts_with("| 0:") || l.starts_with("| 1:")) {
        assert!(line.contains("**none**") || line.contains("**hard_prompt**"), "{line}");
    }
    assert!(fs::read_to_string(serial.join("report.md")).unwrap().contains("at most 0 trainable parameters"));
    let bad = command(&["recommend", serial.to_str().unwrap(), "--ood-weight=-1"], &cache).output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--ood-weight = -1"));
}

#[test]
fn three_concurrent_shards_merged_equal_the_unsharded_run_and_share_one_base() {
    let dir = tempfile::tempdir().unwrap();
    let config = grid_config(dir.path());
    let whole = dir.path().join("whole");
    run(&config, &whole, &dir.path().join("cache-whole"), &["--jobs", "1"]);

    // Three processes at once, with an empty cache: one trains the base, the others wait and reuse it.
    let (sharded, cache) = (dir.path().join("sharded"), dir.path().join("cache-shared"));
    let children: Vec<_> = (0..3)
        .map(|i| {
            let shard = format!("{i}/3");
            let args = ["run", config.to_str().unwrap(), "--out", sharded.to_str().unwrap(), "--quiet", "--threads", "1", "--shard", &shard];
            command(&args, &cache).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().unwrap()
        })
        .collect();
    for child in children {
        let output = succeed(child.wait_with_output().unwrap());
        assert!(String::from_utf8_lossy(&output.stdout).contains("Once every shard is done"));
    }
    assert!(!sharded.join("metrics.csv").exists(), "a shard does not assemble");
    let entries: Vec<_> = fs::read_dir(cache.join("bases")).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(entries.len(), 1, "one cache entry: {entries:?}");
    succeed(command(&["report", sharded.to_str().unwrap()], &cache).output().unwrap());
    for table in TABLES {
        assert_eq!(without_timing(&whole.join(table)), without_timing(&sharded.join(table)), "{table}");
    }
    assert_eq!(fs::read(whole.join("pretrain.csv")).unwrap(), fs::read(sharded.join("pretrain.csv")).unwrap());
}

#[test]
fn a_missing_shard_is_named_when_assembling() {
    let dir = tempfile::tempdir().unwrap();
    let (config, cache, out) = (grid_config(dir.path()), dir.path().join("cache"), dir.path().join("out"));
    run(&config, &out, &cache, &["--shard", "0/2"]);
    let output = command(&["report", out.to_str().unwrap()], &cache).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(message.contains("cells are missing") && message.contains("--shard i/n"), "{message}");
}

/// The rows of `choices.csv` reduced to what was chosen: (point, method, seed, params, α).
fn chosen(path: &Path) -> Vec<Vec<String>> {
    without_timing(path).into_iter().map(|row| row[..5].to_vec()).collect()
}

#[test]
fn other_evaluation_sequences_change_the_reported_numbers_but_no_choice() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let config = grid_config(dir.path());
    let perturbed = dir.path().join("perturbed.toml");
    let text = fs::read_to_string(&config).unwrap();
    fs::write(&perturbed, text.replacen("sequences = 16\nbatch_size = 16", "sequences = 40\nbatch_size = 16", 1)).unwrap();
    assert_ne!(fs::read_to_string(&perturbed).unwrap(), text, "the evaluation draw must change");
    let (reference, other) = (dir.path().join("reference"), dir.path().join("other"));
    run(&config, &reference, &cache, &[]);
    run(&perturbed, &other, &cache, &[]);
    assert_ne!(without_timing(&reference.join("metrics.csv")), without_timing(&other.join("metrics.csv")));
    // Selection reads the validation split and the held-out OOD draw only: the same numbers, the same choices.
    assert_eq!(without_timing(&reference.join("selection.csv")), without_timing(&other.join("selection.csv")));
    assert_eq!(chosen(&reference.join("choices.csv")), chosen(&other.join("choices.csv")));
}
