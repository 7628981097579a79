//! End-to-end runs of the `adaptbench` binary on seconds-long configs: the files it writes, their schema,
//! determinism, the base cache, and bad input rejected with exit code 2 before anything is written.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const TINY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/configs/tiny.toml");

fn adaptbench(args: &[&str], cache: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_adaptbench"))
        .args(args)
        .env("ADAPTBENCH_CACHE", cache)
        .output()
        .expect("the adaptbench binary runs")
}

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

fn pretrain(out: &Path, cache: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["pretrain", TINY, "--out", out.to_str().unwrap(), "--quiet", "--threads", "1"];
    args.extend_from_slice(extra);
    let output = adaptbench(&args, cache);
    assert!(output.status.success(), "pretrain failed:\n{}", text(&output));
    output
}

fn read_rows(path: &Path) -> (Vec<String>, Vec<Vec<f64>>) {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let header = reader.headers().unwrap().iter().map(String::from).collect();
    let rows = reader
        .records()
        .map(|record| record.unwrap().iter().map(|field| field.parse::<f64>().unwrap()).collect())
        .collect();
    (header, rows)
}

#[test]
fn pretrain_writes_the_documented_files_with_finite_sane_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let output = pretrain(&out, &dir.path().join("cache"), &["--no-cache"]);
    for file in ["config.resolved.toml", "manifest.json", "pretrain.csv", "pretrain.json", "checkpoint/model.bpk", "checkpoint/model.toml"] {
        assert!(out.join(file).is_file(), "missing {file}");
    }
    let (header, rows) = read_rows(&out.join("pretrain.csv"));
    assert_eq!(header, ["step", "train_loss_bits", "eval_loss_bits", "bayes_loss_bits", "excess_bits"]);
    // tiny.toml: 40 steps, evaluated every 20 → rows at steps 20 and 40.
    assert_eq!(rows.iter().map(|row| row[0]).collect::<Vec<_>>(), [20.0, 40.0]);
    for row in &rows {
        assert!(row.iter().all(|value| value.is_finite()), "{row:?}");
        // Bayes floor of mix(0.2, 0.7): between the known-θ entropy (≈0.80) and 1 bit.
        assert!(row[3] > 0.75 && row[3] < 1.0, "bayes {row:?}");
        assert!((row[4] - (row[2] - row[3])).abs() < 1e-12, "excess = eval − bayes: {row:?}");
        assert!(row[4] > -0.02, "the model cannot beat the Bayes floor beyond noise: {row:?}");
    }
    let summary = String::from_utf8_lossy(&output.stdout);
    assert!(summary.contains("Bayes floor") && summary.contains("excess"), "{summary}");
    // The resolved config is a complete, loadable config.
    let resolved = fs::read_to_string(out.join("config.resolved.toml")).unwrap();
    assert!(resolved.contains("eval_batch_size = 64") && resolved.contains("positional = \"learned\""), "{resolved}");
}

#[test]
fn the_same_config_and_seed_give_the_same_pretrain_csv() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let (first, second) = (dir.path().join("a"), dir.path().join("b"));
    pretrain(&first, &cache, &["--no-cache"]);
    pretrain(&second, &cache, &["--no-cache"]);
    // Held-out losses printed to 17 digits fingerprint the weights; the weight files themselves differ in
    // burn's per-process random parameter ids, so they are not compared byte for byte.
    assert_eq!(fs::read(first.join("pretrain.csv")).unwrap(), fs::read(second.join("pretrain.csv")).unwrap());
}

#[test]
fn a_second_run_reuses_the_cached_base() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let (first, second) = (dir.path().join("a"), dir.path().join("b"));
    pretrain(&first, &cache, &[]);
    let output = pretrain(&second, &cache, &[]);
    assert!(String::from_utf8_lossy(&output.stdout).contains("Reused the cached base"), "{}", text(&output));
    let manifest: serde_json::Value = serde_json::from_str(&fs::read_to_string(second.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["details"]["cache"]["hit"], true);
    assert_eq!(fs::read(first.join("pretrain.csv")).unwrap(), fs::read(second.join("pretrain.csv")).unwrap());
}

/// Writes tiny.toml with `from` replaced by `to` and runs pretrain on it.
fn run_bad_config(command: &str, from: &str, to: &str) -> (Output, PathBuf, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let original = fs::read_to_string(TINY).unwrap();
    assert!(original.contains(from), "tiny.toml must contain {from:?}");
    let config = dir.path().join("bad.toml");
    fs::write(&config, original.replacen(from, to, 1)).unwrap();
    let out = dir.path().join("out");
    let output = adaptbench(&[command, config.to_str().unwrap(), "--out", out.to_str().unwrap()], &dir.path().join("cache"));
    (output, out, dir)
}

#[test]
fn bad_configs_exit_with_code_2_naming_the_key_and_write_nothing() {
    let cases = [
        ("steps = 40", "steps = 40\nstepz = 1", "unknown field `stepz`"),
        ("thetas = [0.2, 0.7]", "thetas = [0.2, 1.7]", "pretrain.source.thetas[1]"),
        ("weights = [0.5, 0.5]", "weights = [0.5, 0.25, 0.25]", "pretrain.source.weights"),
        ("prompt_max_len = 4", "prompt_max_len = 9", "layout.prompt_max_len = 9"),
        ("seq_len = 24", "seq_len = 30", "pretrain.seq_len = 30"),
        ("r = 2", "r = 0", "methods.lora.r = 0"),
        ("r = 2", "r = 2\ndropout = 0.1", "methods.lora.dropout = 0.1"),
        ("alphas = [0.0, 0.5, 1.0]", "alphas = [0.0, 1.5]", "eval.alphas"),
        ("len = 10", "len = 99", "eval.ood[0].len = 99"),
        ("sequences = 8", "sequences = 0", "task.sequences = 0"),
        ("seed = 1", "seed = 1\n[model_update]\nseed = 1", "model_update.seed = 1"),
        // A prompted model reads prompt + len positions: 2 + 24 > model.context = 24.
        ("len = 10", "len = 24", "eval.ood[0].len = 24"),
        ("n_heads = 2", "n_heads = 3", "model.n_heads = 3"),
        // An LSTM refuses the Transformer's keys, and LoRA targets that are not its gate projections.
        ("n_heads = 2", "arch = \"lstm\"\nn_heads = 2", "model.n_heads = 2"),
        ("n_heads = 2\n", "arch = \"lstm\"\n", "methods.lora.targets = \"q\""),
        ("r = 2", "r = 2\ntargets = [\"ih\"]", "methods.lora.targets = \"ih\""),
        ("d_model = 16", "d_model = 0", "model.d_model = 0"),
        ("warmup_steps = 5", "warmup_steps = 50", "pretrain.warmup_steps = 50"),
        ("steps = 6", "steps = 6\nvalidation_fraction = 1.0", "finetune.validation_fraction = 1"),
        ("steps = 6", "steps = 6\ngrad_clip = nan", "finetune.grad_clip = NaN"),
        ("name = \"tiny\"", "name = \"../escape\"", "name = \"../escape\""),
        ("l_max = 2", "l_max = 5", "methods.hard_prompt.l_max = 5"),
        ("length = 2", "length = 2\nspace = \"pixels\"", "unknown variant `pixels`"),
        // tiny.toml's model has one block, block 0.
        ("[methods.reft]\nr = 2", "[methods.reft]\nr = 2\nlayers = [1]", "methods.reft.layers = [1]"),
        ("p = 0.9", "p = 1.0", "task.source.p = 1"),
        ("sequences = 16", "sequences = 1", "eval.sequences = 1"),
        // Every point of a grid is validated before any work, and the error names the point.
        ("sequences = 8", "sequences = 8\n[sweep]\n\"task.sequences\" = [8, 0]", "grid point 0 (task.sequences=8): finetune.validation_fraction = 0"),
        ("[finetune]\n", "[sweep]\n\"task.sequences\" = [8, 0]\n[finetune]\nvalidation_fraction = 0.25\n", "grid point 1 (task.sequences=0): task.sequences = 0"),
        ("[methods.full]", "[methods.full]\nlr = [1e-3, 1e-2]", "finetune.validation_fraction = 0"),
    ];
    for ((from, to, expected), command) in cases.into_iter().flat_map(|case| [(case, "pretrain"), (case, "run")]) {
        let (output, out, dir) = run_bad_config(command, from, to);
        let message = text(&output);
        assert_eq!(output.status.code(), Some(2), "{to}: {message}");
        assert!(message.contains(expected), "{to}: expected {expected:?} in\n{message}");
        assert!(!out.exists(), "{to}: nothing may be written");
        assert!(!dir.path().join("cache").exists(), "{to}: nothing may be cached");
    }
}

#[test]
fn search_rules_are_checked_before_a_search_writes_anything() {
    // The neural predictor reads l_max + task_len = 3 + 22 = 25 positions; pretraining covered 24.
    for (from, to, expected) in [
        ("task_len = 12", "task_len = 22", "search.l_max = 3"),
        ("max_len = 6", "max_len = 13", "search.local.max_len = 13"),
        ("draws = 5", "draws = 0", "search.reliability.draws = 0"),
        ("task_lens = [4, 12]", "task_lens = [4, 22]", "search.task_length.task_lens = 22"),
        ("task_lens = [4, 12]", "task_lens = [12, 4]", "search.task_length.task_lens = [12, 4]"),
    ] {
        let (output, out, dir) = run_bad_config("search", from, to);
        let message = text(&output);
        assert_eq!(output.status.code(), Some(2), "{to}: {message}");
        assert!(message.contains(expected), "{to}: expected {expected:?} in\n{message}");
        assert!(!out.exists() && !dir.path().join("cache").exists(), "{to}: nothing may be written");
    }
}

#[test]
fn an_out_path_that_is_a_file_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("file");
    fs::write(&out, "not a directory").unwrap();
    let output = adaptbench(&["run", TINY, "--out", out.to_str().unwrap()], &dir.path().join("cache"));
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(text(&output).contains("--out = "), "{}", text(&output));
    assert_eq!(fs::read_to_string(&out).unwrap(), "not a directory");
}

#[test]
fn a_corrupt_cached_base_is_reported_discarded_and_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let first = dir.path().join("a");
    pretrain(&first, &cache, &[]);
    let entries: Vec<_> = fs::read_dir(cache.join("bases")).unwrap().flatten().map(|e| e.path()).collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
    let weights = entries[0].join("checkpoint/model.bpk");
    let bytes = fs::read(&weights).unwrap();
    fs::write(&weights, &bytes[..bytes.len() / 2]).unwrap(); // truncated, as by a full disk
    let second = dir.path().join("b");
    let out = second.to_str().unwrap();
    let output = adaptbench(&["pretrain", TINY, "--out", out, "--threads", "1"], &cache);
    let message = text(&output);
    assert!(output.status.success(), "{message}");
    assert!(message.contains("corrupt") && message.contains(&entries[0].display().to_string()), "{message}");
    assert!(message.contains("checkpoint/model.bpk"), "the message names the file: {message}");
    assert_eq!(fs::read(first.join("pretrain.csv")).unwrap(), fs::read(second.join("pretrain.csv")).unwrap());
    // The rebuilt entry is whole again and reused.
    let third = pretrain(&dir.path().join("c"), &cache, &[]);
    assert!(String::from_utf8_lossy(&third.stdout).contains("Reused the cached base"), "{}", text(&third));
}

#[test]
fn a_pretraining_killed_with_sigkill_resumes_to_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("long.toml");
    // 1,500 steps, state saved every 20: long enough to be killed mid-way on any machine.
    let long = fs::read_to_string(TINY).unwrap().replacen("steps = 40", "steps = 1500", 1);
    fs::write(&config, long).unwrap();
    let config = config.to_str().unwrap();
    let (killed, whole) = (dir.path().join("killed"), dir.path().join("whole"));
    let state = killed.join("resume/state.json");
    let mut child = Command::new(env!("CARGO_BIN_EXE_adaptbench"))
        .args(["pretrain", config, "--out", killed.to_str().unwrap(), "--quiet", "--threads", "1", "--no-cache"])
        .env("ADAPTBENCH_CACHE", dir.path().join("cache-killed"))
        .spawn()
        .unwrap();
    // Kill once two evaluations' rows are saved, so the resumed run re-reads rows written before the kill.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let saved_step = || {
        let text = fs::read_to_string(&state).ok()?;
        serde_json::from_str::<serde_json::Value>(&text).ok()?["step"].as_u64()
    };
    while saved_step().is_none_or(|step| step < 40) {
        assert!(std::time::Instant::now() < deadline, "no resume state after 120 s");
        assert!(child.try_wait().unwrap().is_none(), "the run finished before it could be killed");
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    child.kill().unwrap(); // SIGKILL: no handler runs, nothing is flushed
    child.wait().unwrap();
    assert!(!killed.join("pretrain.csv").exists(), "killed before the end");

    let resumed = adaptbench(&["pretrain", config, "--out", killed.to_str().unwrap(), "--threads", "1", "--no-cache"], &dir.path().join("cache-killed"));
    assert!(resumed.status.success(), "{}", text(&resumed));
    assert!(text(&resumed).contains("Resumed from step"), "{}", text(&resumed));
    let uninterrupted = adaptbench(&["pretrain", config, "--out", whole.to_str().unwrap(), "--quiet", "--threads", "1", "--no-cache"], &dir.path().join("cache-whole"));
    assert!(uninterrupted.status.success(), "{}", text(&uninterrupted));
    assert_eq!(fs::read(killed.join("pretrain.csv")).unwrap(), fs::read(whole.join("pretrain.csv")).unwrap());
    assert!(!killed.join("resume").exists(), "the resume state is removed once the run finished");
}

#[test]
fn quiet_prints_one_line_on_success() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let output = run_tiny(&out, &dir.path().join("cache"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(stdout.starts_with("Whole run: ") && stdout.contains("report.md"), "{stdout}");
    assert!(output.stderr.is_empty(), "{}", String::from_utf8_lossy(&output.stderr));
}

#[test]
fn an_unavailable_backend_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let output = adaptbench(&["pretrain", TINY, "--out", out.to_str().unwrap(), "--backend", "tpu"], dir.path());
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(!out.exists());
}

#[test]
fn sources_lists_every_kind_with_an_example() {
    let dir = tempfile::tempdir().unwrap();
    let output = adaptbench(&["sources"], dir.path());
    assert!(output.status.success());
    let listing = String::from_utf8_lossy(&output.stdout);
    for kind in ["bern", "mix", "beta", "switching", "markov"] {
        assert!(listing.contains(&format!("kind = \"{kind}\"")), "{kind} missing from\n{listing}");
    }
}

#[test]
fn every_subcommand_has_help_with_an_example() {
    let dir = tempfile::tempdir().unwrap();
    let commands = [vec!["--help"], vec!["pretrain", "--help"], vec!["run", "--help"], vec!["report", "--help"], vec!["search", "--help"], vec!["sources", "--help"]];
    for command in commands {
        let output = adaptbench(&command, dir.path());
        assert!(output.status.success());
        assert!(String::from_utf8_lossy(&output.stdout).contains("Example"), "{command:?}");
    }
}

/// `run` on tiny.toml (2 seeds, 5 weight and 2 prompt methods, α ∈ {0, 0.5, 1}, ID + 2 OOD sources) into `out`.
fn run_tiny(out: &Path, cache: &Path) -> Output {
    let output = adaptbench(&["run", TINY, "--out", out.to_str().unwrap(), "--quiet", "--threads", "1"], cache);
    assert!(output.status.success(), "run failed:\n{}", text(&output));
    output
}

fn metrics(path: &Path) -> Vec<csv::StringRecord> {
    csv::Reader::from_path(path).unwrap().records().map(Result::unwrap).collect()
}

#[test]
fn run_writes_metrics_report_and_figures_with_the_schema_and_finite_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    run_tiny(&out, &dir.path().join("cache"));
    for file in ["metrics.csv", "report.md", "figures/interpolation.svg", "figures/pretrain.svg", "manifest.json", "config.resolved.toml"] {
        assert!(out.join(file).is_file(), "missing {file}");
    }
    let header: Vec<String> = csv::Reader::from_path(out.join("metrics.csv")).unwrap().headers().unwrap().iter().map(String::from).collect();
    let mandated = "method,params,seed,alpha,eval_source,role,loss_bits,loss_ci95,excess_bits,accuracy,ece,trainable_params,adapt_seconds";
    assert_eq!(header[..13].join(","), mandated);
    let rows = metrics(&out.join("metrics.csv"));
    // 2 seeds × (base at α = 0 + 5 weight methods and reft × 3 α + 2 prompt methods × α ∈ {0, 1}) × 3 sources
    // (task, pretraining, short-coin).
    assert_eq!(rows.len(), 2 * (1 + 6 * 3 + 2 * 2) * 3);
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    for row in &rows {
        for (i, field) in row.iter().enumerate().skip(2) {
            if !matches!(header[i].as_str(), "eval_source" | "role" | "selected") {
                let value: f64 = field.parse().unwrap_or_else(|_| panic!("{}: {field:?}", header[i]));
                assert!(value.is_finite(), "{} = {value} in {row:?}", header[i]);
            }
        }
        let role = &row[column("role")];
        assert_eq!(role, if &row[column("eval_source")] == "task" { "id" } else { "ood" });
        let excess: f64 = row[column("excess_bits")].parse().unwrap();
        let loss: f64 = row[column("loss_bits")].parse().unwrap();
        let bayes: f64 = row[column("bayes_bits")].parse().unwrap();
        assert!((loss - bayes - excess).abs() < 1e-9, "{row:?}");
        let accuracy: f64 = row[column("accuracy")].parse().unwrap();
        assert!((0.0..=1.0).contains(&accuracy));
        let expected_len = if &row[column("eval_source")] == "short-coin" { "10" } else { "20" };
        assert_eq!(&row[column("eval_len")], expected_len);
    }
    // Hand count for tiny.toml (d 16, 1 layer, MLP 64, context 24): 48 + 384 + 3,280 + 32 + 34 = 3,778 for
    // `full`; head 16·2 + 2 = 34; LoRA r = 2 on q, v: 2 × (16·2 + 2·16) = 128; ReFT r = 2 after the one block:
    // R̃ 2·16 + W 16·2 + b 2 = 66; a soft prompt of 2 vectors 2·16 = 32; a hard prompt trains nothing.
    let counts = [("full", "3778"), ("head", "34"), ("embed", "48"), ("lp_ft", "3778"), ("lora", "128"), ("reft", "66"), ("none", "0")];
    for (method, expected) in counts.into_iter().chain([("soft_prompt", "32"), ("hard_prompt", "0")]) {
        assert!(rows.iter().filter(|r| &r[0] == method).all(|r| &r[column("trainable_params")] == expected), "{method}");
    }
    assert!(rows.iter().filter(|r| &r[0] == "soft_prompt").all(|r| &r[column("prompt_tokens")] == "2"));
    assert!(rows.iter().filter(|r| &r[0] == "hard_prompt").all(|r| r[column("prompt_tokens")].parse::<usize>().unwrap() <= 2));
    // α = 0 rows of every method are the base's numbers.
    let base: Vec<_> = rows.iter().filter(|r| &r[0] == "none").map(|r| r[column("loss_bits")].to_string()).collect();
    let full_at_zero: Vec<_> =
        rows.iter().filter(|r| &r[0] == "full" && r[column("alpha")].parse::<f64>().unwrap() == 0.0).map(|r| r[column("loss_bits")].to_string()).collect();
    assert_eq!(base, full_at_zero);
    let report = fs::read_to_string(out.join("report.md")).unwrap();
    for needle in ["| configuration |", "full (lr=0.001)", "lora (r=2", "## Recommendation", "figures/interpolation.svg"] {
        assert!(report.contains(needle), "{needle} missing from report.md");
    }
    assert!(!report.contains("NaN"));
    assert!(!out.join("model_update.csv").exists() && !report.contains("## Model update"), "no [model_update] table");
    assert!(!out.join("figures/model_update.svg").exists());
}

#[test]
fn an_untrained_base_is_adapted_and_the_report_says_so_plainly() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("untrained.toml");
    let original = fs::read_to_string(TINY).unwrap();
    fs::write(&config, original.replacen("steps = 40", "steps = 0", 1)).unwrap();
    let out = dir.path().join("run");
    let output = adaptbench(&["run", config.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"], &dir.path().join("cache"));
    assert!(output.status.success(), "{}", text(&output));
    let summary: serde_json::Value = serde_json::from_str(&fs::read_to_string(out.join("pretrain.json")).unwrap()).unwrap();
    assert_eq!((summary["steps"].as_u64(), summary["tokens"].as_u64()), (Some(0), Some(0)));
    assert_eq!(summary["train_tokens_per_second"].as_f64(), Some(0.0));
    // A random network is far from the floor of mix(0.2, 0.7) (a trained one is within 0.02 bits/token).
    assert!(summary["excess_bits"].as_f64().unwrap() > 0.02, "{summary}");
    let (_, rows) = read_rows(&out.join("pretrain.csv"));
    assert!(rows.is_empty(), "no step, no learning curve");
    assert!(!out.join("figures/pretrain.svg").exists());
    let report = fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains("- Base: **untrained**, the freshly initialised network (`pretrain.steps = 0`)"), "{report}");
    assert!(!report.contains("figures/pretrain.svg") && !report.contains("NaN"), "{report}");
    let methods: std::collections::BTreeSet<String> = metrics(&out.join("metrics.csv")).iter().map(|row| row[0].to_string()).collect();
    assert_eq!(methods.len(), 9, "the base and every method of tiny.toml: {methods:?}");
}

#[test]
fn an_lstm_base_is_pretrained_adapted_by_every_method_and_named_in_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("lstm.toml");
    let original = fs::read_to_string(TINY).unwrap();
    let lstm = original.replacen("n_heads = 2\n", "arch = \"lstm\"\n", 1).replacen("r = 2", "r = 2\ntargets = [\"ih\", \"hh\"]", 1);
    fs::write(&config, lstm).unwrap();
    let out = dir.path().join("run");
    let output = adaptbench(&["run", config.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"], &dir.path().join("cache"));
    assert!(output.status.success(), "{}", text(&output));
    let report = fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains("- Base: a 1-layer LSTM of width 16."), "{report}");
    // 1 layer of width 16: embeddings 48 + W_ih, W_hh 2·16·64 + b 64 + final norm 32 + head 34 = 2 226; LoRA r = 2
    // on ih and hh: 2 · 2·(16 + 64) = 320.
    let rows = metrics(&out.join("metrics.csv"));
    let params = |method: &str| rows.iter().find(|row| &row[0] == method).map(|row| row[11].to_string()).unwrap();
    assert_eq!((params("full"), params("lora")), ("2226".to_string(), "320".to_string()));
    let methods: std::collections::BTreeSet<String> = rows.iter().map(|row| row[0].to_string()).collect();
    assert_eq!(methods.len(), 9, "the base and every method of tiny.toml: {methods:?}");
}

#[test]
fn a_model_update_scores_every_adaptation_on_a_second_base_pretrained_with_seed_b() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let config = dir.path().join("update.toml");
    fs::write(&config, fs::read_to_string(TINY).unwrap() + "\n[model_update]\nseed = 2\n").unwrap();
    let out = dir.path().join("run");
    let output = adaptbench(&["run", config.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet", "--threads", "1"], &cache);
    assert!(output.status.success(), "run failed:\n{}", text(&output));

    let header = csv::Reader::from_path(out.join("model_update.csv")).unwrap().headers().unwrap().iter().collect::<Vec<_>>().join(",");
    assert_eq!(header, "method,params,seed,eval_source,role,base,loss_bits,excess_bits,excess_ci95");
    let updates = metrics(&out.join("model_update.csv"));
    // 2 seeds × (the base + 8 methods) × 3 sources × 2 bases.
    assert_eq!(updates.len(), 2 * 9 * 3 * 2);
    // On the base it was found on, an adaptation's row is its metrics.csv row at α = 1 (α = 0 for the base
    // itself), to the bit.
    let rows = metrics(&out.join("metrics.csv"));
    for update in updates.iter().filter(|u| &u[5] == "found_on") {
        let alpha = if &update[0] == "none" { 0.0 } else { 1.0 };
        let at = |r: &csv::StringRecord| r[3].parse::<f64>().unwrap() == alpha;
        let row = rows.iter().find(|r| r[0] == update[0] && r[2] == update[2] && at(r) && r[4] == update[3]).unwrap();
        assert_eq!((&row[6], &row[8]), (&update[6], &update[7]), "{update:?}");
    }
    // Every cell has its pair on the other base, and the other base is another model: the base's own rows differ.
    let other = |u: &csv::StringRecord| updates.iter().find(|o| &o[5] == "other" && (0..5).all(|i| o[i] == u[i])).unwrap().clone();
    for update in updates.iter().filter(|u| &u[5] == "found_on") {
        let paired = other(update);
        assert!(paired[6].parse::<f64>().unwrap().is_finite(), "{paired:?}");
        if &update[0] == "none" {
            assert_ne!(paired[6], update[6], "base B scored like base A: {update:?}");
        }
    }
    // Base B is the config's base with seed 2 and nothing else changed: `pretrain` with seed = 2 finds it cached.
    let seed_b = dir.path().join("seed2.toml");
    fs::write(&seed_b, fs::read_to_string(TINY).unwrap().replacen("seed = 1", "seed = 2", 1)).unwrap();
    let pretrained = adaptbench(&["pretrain", seed_b.to_str().unwrap(), "--out", dir.path().join("b").to_str().unwrap(), "--quiet"], &cache);
    assert!(String::from_utf8_lossy(&pretrained.stdout).contains("Reused the cached base"), "{}", text(&pretrained));
    assert_eq!(fs::read(out.join("base-seed2/pretrain.csv")).unwrap(), fs::read(dir.path().join("b/pretrain.csv")).unwrap());
    assert_ne!(fs::read(out.join("base-seed2/pretrain.csv")).unwrap(), fs::read(out.join("pretrain.csv")).unwrap());
    let manifest: serde_json::Value = serde_json::from_str(&fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["details"]["model_update"]["seeds"]["init"], adaptbench_sources::derive_seed(2, "pretrain/init"));
    assert_ne!(manifest["details"]["model_update"]["cache"]["key"], manifest["details"]["cache"]["key"]);

    assert!(out.join("figures/model_update.svg").is_file());
    let report = fs::read_to_string(out.join("report.md")).unwrap();
    for needle in ["## Model update", "pretrained with seed 1) and moved unchanged onto the base pretrained with seed 2", "| hard_prompt", "| lora (r=2", "| reft (r=2", "figures/model_update.svg"] {
        assert!(report.contains(needle), "{needle} missing from report.md:\n{report}");
    }
    // `report` redraws the section and the figure from model_update.csv alone.
    fs::remove_file(out.join("report.md")).unwrap();
    fs::remove_file(out.join("figures/model_update.svg")).unwrap();
    let output = adaptbench(&["report", out.to_str().unwrap()], &cache);
    assert!(output.status.success(), "{}", text(&output));
    assert!(fs::read_to_string(out.join("report.md")).unwrap().contains("## Model update"));
    assert!(out.join("figures/model_update.svg").is_file());

    // Without α = 1 in the grid, the adapted models are still scored on both bases.
    let no_end = dir.path().join("no-end.toml");
    fs::write(&no_end, fs::read_to_string(&config).unwrap().replacen("alphas = [0.0, 0.5, 1.0]", "alphas = [0.0, 0.5]", 1)).unwrap();
    let out = dir.path().join("no-end");
    let output = adaptbench(&["run", no_end.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet", "--threads", "1"], &cache);
    assert!(output.status.success(), "run failed:\n{}", text(&output));
    assert_eq!(metrics(&out.join("model_update.csv")).len(), 2 * 9 * 3 * 2);
}

#[test]
fn a_rerun_skips_finished_cells_and_the_same_seed_gives_the_same_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let (first, second) = (dir.path().join("first"), dir.path().join("second"));
    run_tiny(&first, &cache);
    run_tiny(&second, &cache);
    // Every column but the wall-time one is reproduced exactly by a fresh run.
    let strip = |rows: Vec<csv::StringRecord>| -> Vec<Vec<String>> {
        rows.iter().map(|r| r.iter().enumerate().filter(|(i, _)| *i != 12).map(|(_, f)| f.to_string()).collect()).collect()
    };
    assert_eq!(strip(metrics(&first.join("metrics.csv"))), strip(metrics(&second.join("metrics.csv"))));
    // A finished cell is read back, not recomputed: a marker planted in it reaches metrics.csv.
    let cell = fs::read_dir(second.join("cells"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .find(|path| path.file_name().unwrap().to_string_lossy().starts_with("lora-"))
        .expect("a lora cell");
    let mut saved: serde_json::Value = serde_json::from_str(&fs::read_to_string(&cell).unwrap()).unwrap();
    saved["rows"][0]["loss_bits"] = 123.0.into();
    fs::write(&cell, saved.to_string()).unwrap();
    run_tiny(&second, &cache);
    let rows = metrics(&second.join("metrics.csv"));
    assert!(rows.iter().any(|r| &r[0] == "lora" && r[6].parse::<f64>().unwrap() == 123.0), "the planted cell was recomputed");
    // `report` redraws the report from the files alone.
    fs::remove_file(second.join("report.md")).unwrap();
    let output = adaptbench(&["report", second.to_str().unwrap()], &cache);
    assert!(output.status.success(), "{}", text(&output));
    assert!(second.join("report.md").is_file());
    // As committed (no cells, no checkpoint): the report and figures are redrawn from the CSVs, to the byte.
    fs::remove_dir_all(first.join("cells")).unwrap();
    fs::remove_dir_all(first.join("checkpoint")).unwrap();
    let documents = ["report.md", "figures/interpolation.svg", "figures/pretrain.svg"];
    let before: Vec<Vec<u8>> = documents.iter().map(|name| fs::read(first.join(name)).unwrap()).collect();
    for name in documents {
        fs::remove_file(first.join(name)).unwrap();
    }
    let output = adaptbench(&["report", first.to_str().unwrap()], &cache);
    assert!(output.status.success(), "{}", text(&output));
    for (name, before) in documents.iter().zip(before) {
        assert_eq!(fs::read(first.join(name)).unwrap(), before, "{name}");
    }
}

#[test]
fn search_writes_the_landscape_reliability_and_efficiency_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("search");
    let output = adaptbench(&["search", TINY, "--out", out.to_str().unwrap(), "--quiet", "--threads", "1"], dir.path());
    assert!(output.status.success(), "search failed:\n{}", text(&output));
    for file in ["landscape.csv", "reliability.csv", "efficiency.csv", "search.md", "figures/landscape.svg", "figures/reliability.svg", "figures/efficiency.svg"] {
        assert!(out.join(file).is_file(), "missing {file}");
    }
    let header = |file: &str| csv::Reader::from_path(out.join(file)).unwrap().headers().unwrap().iter().collect::<Vec<_>>().join(",");
    assert_eq!(header("landscape.csv"), "predictor,prompt,length,ones,loss_bits,kl_bits,rank,empirical_loss_bits");
    assert_eq!(
        header("reliability.csv"),
        "predictor,n,l_max,draws,proportion_correct,ci95,halving_proportion_correct,halving_ci95,halving_pair_share"
    );
    assert_eq!(
        header("local_search.csv"),
        "predictor,start_prompt,start_loss_bits,start_kl_bits,prompt,loss_bits,kl_bits,prompts_scored"
    );
    assert_eq!(metrics(&out.join("local_search.csv")).len(), 2);
    assert_eq!(metrics(&out.join("halving.csv")).len(), 2);
    assert_eq!(header("efficiency.csv"), "predictor,kind,length,loss_bits,ci95");
    // Two predictors × 2^(3+1) − 1 prompts; each predictor has exactly one rank-1 block starting at 1.
    let landscape = metrics(&out.join("landscape.csv"));
    assert_eq!(landscape.len(), 2 * 15);
    for predictor in ["bayes", "neural"] {
        let rows: Vec<_> = landscape.iter().filter(|r| &r[0] == predictor).collect();
        assert_eq!(rows.len(), 15);
        assert!(rows.iter().any(|r| &r[6] == "1"), "{predictor} has no rank 1");
        // The Bayes predictor's KL is a true divergence: never negative.
        if predictor == "bayes" {
            assert!(rows.iter().all(|r| r[5].parse::<f64>().unwrap() >= -1e-12));
        }
    }
    // 2 predictors × 2 N × 2 L_max; 2 predictors × 3 kinds × 4 lengths.
    assert_eq!(metrics(&out.join("reliability.csv")).len(), 8);
    assert_eq!(metrics(&out.join("efficiency.csv")).len(), 24);
    // The search again at T = 4 and 12: 2 predictors × 2 T × 2 L_max × 1 N, each T with its own optimum.
    assert_eq!(
        header("task_length.csv"),
        "predictor,task_len,l_max,optimal_prompt,optimal_length,optimal_kl_bits,n,draws,proportion_correct,ci95"
    );
    let by_length = metrics(&out.join("task_length.csv"));
    assert_eq!(by_length.len(), 8);
    assert!(by_length.iter().all(|r| r[3].len().to_string() == r[4] && r[4].parse::<usize>().unwrap() <= r[2].parse().unwrap()));
    // Successive halving beside the exhaustive search: 15 prompts on 4 of the N = 8 sequences, then the best 8 on
    // the other 4: 15·4 + 8·4 = 92 pairs instead of 120.
    let manifest: serde_json::Value = serde_json::from_str(&fs::read_to_string(out.join("search-manifest.json")).unwrap()).unwrap();
    for predictor in ["bayes", "neural"] {
        let timings = &manifest["details"]["search"]["predictors"][predictor];
        assert_eq!((timings["halving_evaluations"].as_u64(), timings["exhaustive_evaluations"].as_u64()), (Some(92), Some(120)));
    }
    let report = fs::read_to_string(out.join("search.md")).unwrap();
    assert!(report.contains("## Successive halving (an approximation)") && report.contains("| neural | 3 | 4 |"), "{report}");
    assert!(report.contains("## Task length") && report.contains("figures/task_length.svg"), "{report}");
    // `report` redraws search.md and the figures from the CSVs alone, to the byte.
    let figures = ["reliability", "task_length"].map(|name| out.join(format!("figures/{name}.svg")));
    let drawn = figures.clone().map(|path| fs::read(path).unwrap());
    fs::remove_file(out.join("search.md")).unwrap();
    figures.iter().for_each(|path| fs::remove_file(path).unwrap());
    let output = adaptbench(&["report", out.to_str().unwrap()], dir.path());
    assert!(output.status.success(), "{}", text(&output));
    assert_eq!(fs::read_to_string(out.join("search.md")).unwrap(), report);
    assert_eq!(figures.map(|path| fs::read(path).unwrap()), drawn);
}
