//! `adaptbench search CONFIG`: the prompt-space analysis of arXiv 2502.10760 (DESIGN.md §6) for the exact
//! Bayes predictor of the pretraining source and for the pretrained base: the landscape of every prompt up
//! to L_max, a local search beyond it, reliability of exhaustive search versus N, and the efficiency of
//! optimal, typical and random prompts; beside the exact search, successive halving as a labelled
//! approximation, on D_N and on the reliability draws.

use std::time::Instant;

use adaptbench_model::{freeze, write_bytes_atomically};
use adaptbench_prompt::{
    efficiency, first_index_of_length, local_search, ones, prompt_string, reliability, successive_halving,
    BayesPredictor, Exhaustive, Landscape, NeuralPredictor, Predictor, PredictorKind, PromptKind, Reference,
};
use adaptbench_report::{
    efficiency_csv, efficiency_svg, landscape_csv, landscape_svg, proportion_ci95, reliability_csv, reliability_svg,
    search_report_markdown, wilson_interval, EfficiencyRow, LandscapeRow, ReliabilityRow, SearchReportContext,
};
use adaptbench_sources::{derive_seed, rng};
use serde_json::json;

use crate::cli::ExperimentArgs;
use crate::commands::pretrain::{base_details, obtain_base, output_dir, prepare_compute};
use crate::error::ConfigError;
use crate::experiment::ExperimentConfig;
use crate::manifest::manifest;

/// Runs the command.
pub fn run(args: ExperimentArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let config = ExperimentConfig::load(&args.config)?;
    let search = &config.search;
    if search.predictors.contains(&PredictorKind::Neural) {
        check_fits_context(&config)?;
    }
    let device = prepare_compute(&args.compute)?;
    let out = output_dir(args.out.clone(), &config)?;
    let task = config.task.source.build()?;
    let task_len = search.task_len;
    let seed = derive_seed(config.seed, "search");
    let mut draws = rng(derive_seed(seed, "data"));
    let data: Vec<Vec<u8>> = (0..config.task.sequences).map(|_| task.sample(&mut draws, task_len).tokens).collect();
    let reference = Reference::new(task.as_ref(), task_len, search.reference_sequences, seed);

    let mut base_record = None;
    let mut predictors: Vec<Box<dyn Predictor>> = Vec::new();
    for kind in &search.predictors {
        predictors.push(match kind {
            PredictorKind::Bayes => Box::new(BayesPredictor::new(config.pretrain.source.build()?)),
            PredictorKind::Neural => {
                let base = obtain_base(&config, &device, &out, &args.base, &args.compute)?;
                base_record = Some(base_details(&config, &base, &args.compute));
                Box::new(NeuralPredictor::new(freeze(&base.model)))
            }
        });
    }

    let (mut landscape_rows, mut reliability_rows, mut efficiency_rows) = (Vec::new(), Vec::new(), Vec::new());
    let (mut local_lines, mut halving_lines, mut halving_reliability_lines) = (Vec::new(), Vec::new(), Vec::new());
    let mut timings = serde_json::Map::new();
    for predictor in &predictors {
        let name = predictor.name().to_string();
        let clock = Instant::now();
        let exhaustive = Exhaustive::run(predictor.as_ref(), search.l_max, &data)?;
        let exhaustive_seconds = clock.elapsed().as_secs_f64();
        let landscape = Landscape::from_exhaustive(predictor.as_ref(), &reference, &exhaustive)?;
        let landscape_seconds = clock.elapsed().as_secs_f64();
        let (optimum, found) = (landscape.optimum(), landscape.empirical_best());
        println!(
            "{name}: optimal prompt {} (KL {:.3e} bits/token); exhaustive search on N = {} found {} (rank {}, KL {:.3e}) in {landscape_seconds:.1} s",
            shown(&optimum.prompt),
            optimum.kl_bits,
            data.len(),
            shown(&found.prompt),
            found.rank,
            found.kl_bits,
        );
        let local = local_search(predictor.as_ref(), std::slice::from_ref(&found.prompt), &data, &search.local.plan())?;
        let local_reference = reference.losses(predictor.as_ref(), std::slice::from_ref(&local.prompt))?[0];
        local_lines.push(format!(
            "| {name} | {} | {:.5} | {:.3e} | {} | {:.5} | {:.3e} | {} |",
            shown(&found.prompt),
            found.empirical_loss_bits,
            found.kl_bits,
            shown(&local.prompt),
            local.empirical_loss_bits,
            local_reference.bits - landscape.floor_bits,
            local.evaluated,
        ));
        let clock = Instant::now();
        let halving = successive_halving(predictor.as_ref(), search.l_max, &data, &search.halving.plan())?;
        let halving_seconds = clock.elapsed().as_secs_f64();
        let picked = &landscape.entries[halving.index];
        let exhaustive_pairs = exhaustive.prompts.len() * data.len();
        halving_lines.push(format!(
            "| {name} | {} (rank {}, KL {:.3e}) | {exhaustive_pairs} | {exhaustive_seconds:.3} | {} (rank {}, KL {:.3e}) | {} | {halving_seconds:.3} |",
            shown(&found.prompt),
            found.rank,
            found.kl_bits,
            shown(&picked.prompt),
            picked.rank,
            picked.kl_bits,
            halving.evaluations,
        ));
        let clock = Instant::now();
        let points =
            reliability(predictor.as_ref(), &landscape, task.as_ref(), task_len, &search.reliability_plan(), seed)?;
        let reliability_seconds = clock.elapsed().as_secs_f64();
        reliability_rows.extend(points.iter().map(|point| ReliabilityRow {
            predictor: name.clone(),
            n: point.n,
            l_max: point.l_max,
            draws: point.draws,
            proportion_correct: point.proportion(),
            ci95: proportion_ci95(point.correct, point.draws),
        }));
        let longest = points.iter().map(|point| point.l_max).max().unwrap_or(0);
        halving_reliability_lines.extend(points.iter().filter(|point| point.l_max == longest).map(|point| {
            let share = |correct| {
                let (low, high) = wilson_interval(correct, point.draws);
                format!("{:.2} [{low:.2}, {high:.2}]", correct as f64 / point.draws as f64)
            };
            format!(
                "| {name} | {} | {} | {} | {} | {:.2} |",
                point.l_max,
                point.n,
                share(point.correct),
                share(point.halving_correct),
                point.halving_evaluations as f64 / (first_index_of_length(point.l_max + 1) * point.n) as f64,
            )
        }));
        efficiency_rows.extend(efficiency(&landscape, task.as_ref(), search.baseline_prompts, seed).into_iter().map(
            |point| EfficiencyRow {
                predictor: name.clone(),
                kind: match point.kind {
                    PromptKind::Optimal => adaptbench_report::PromptKind::Optimal,
                    PromptKind::Typical => adaptbench_report::PromptKind::Typical,
                    PromptKind::Random => adaptbench_report::PromptKind::Random,
                },
                length: point.length,
                loss_bits: point.loss_bits,
                ci95: point.ci95,
            },
        ));
        landscape_rows.extend(landscape.entries.iter().map(|entry| LandscapeRow {
            predictor: name.clone(),
            prompt: prompt_string(&entry.prompt),
            length: entry.prompt.len(),
            ones: ones(&entry.prompt),
            loss_bits: entry.loss_bits,
            kl_bits: entry.kl_bits,
            rank: entry.rank,
            empirical_loss_bits: entry.empirical_loss_bits,
        }));
        timings.insert(
            name,
            json!({
                "exhaustive_seconds": exhaustive_seconds,
                "landscape_seconds": landscape_seconds,
                "halving_seconds": halving_seconds,
                "halving_evaluations": halving.evaluations,
                "exhaustive_evaluations": exhaustive_pairs,
                "reliability_seconds": reliability_seconds,
            }),
        );
    }

    write_bytes_atomically(&out.join("landscape.csv"), &landscape_csv(&landscape_rows)?)?;
    write_bytes_atomically(&out.join("reliability.csv"), &reliability_csv(&reliability_rows)?)?;
    write_bytes_atomically(&out.join("efficiency.csv"), &efficiency_csv(&efficiency_rows)?)?;
    let figures = out.join("figures");
    std::fs::create_dir_all(&figures)?;
    landscape_svg(&landscape_rows, &figures.join("landscape.svg"))?;
    reliability_svg(&reliability_rows, &figures.join("reliability.svg"))?;
    efficiency_svg(&efficiency_rows, &figures.join("efficiency.svg"))?;

    let context = SearchReportContext {
        run_name: config.name.clone(),
        config_path: args.config.display().to_string(),
        predictors: predictors.iter().map(|p| p.name().to_string()).collect(),
        task: task.name(),
        pretrain_source: config.pretrain.source.to_string(),
        task_len,
        max_prompt_len: search.l_max,
        task_sequences: data.len(),
        tolerance_bits: search.tolerance_bits,
        reference: format!(
            "exact count sums for the Bayes predictor; {} fresh task sequences for the neural one",
            search.reference_sequences
        ),
        command: format!("adaptbench search {}", args.config.display()),
    };
    let mut report = search_report_markdown(&context, &landscape_rows, &reliability_rows, &efficiency_rows);
    report.push_str(&format!(
        "\n## Local search beyond L_max\n\nBeam {} over bit flips, insertions and deletions, prompts up to {} tokens, \
         at most {} rounds, started from the exhaustive search's choice on D_N; KL is the reference loss minus the \
         task's Bayes floor.\n\n| predictor | exhaustive | its loss on D_N | its KL | local | its loss on D_N | its KL | prompts scored |\n\
         | --- | --- | ---: | ---: | --- | ---: | ---: | ---: |\n{}\n",
        search.local.beam,
        search.local.max_len,
        search.local.rounds,
        local_lines.join("\n"),
    ));
    let halving = &search.halving;
    report.push_str(&format!(
        "\n## Successive halving (an approximation)\n\nBeside the exact search: every prompt of length ≤ {} is scored \
         on the first {} sequences of D_N, the best 1/{} are kept and scored on {}× as many, until all N are used \
         (`[search.halving]`). It scores far fewer (prompt, sequence) pairs but can cut a prompt that starts badly \
         and would have won. Rank and KL are by reference loss.\n\n\
         | predictor | exhaustive on D_N | pairs | seconds | halving on D_N | pairs | seconds |\n\
         | --- | --- | ---: | ---: | --- | ---: | ---: |\n{}\n\n\
         Reliability on the same draws of D_N as `reliability.csv` (share of draws whose pick is reference-optimal, \
         Wilson 95% interval), and the pairs halving scores as a fraction of the exhaustive search's:\n\n\
         | predictor | L_max | N | exhaustive | halving | pairs, halving / exhaustive |\n\
         | --- | ---: | ---: | ---: | ---: | ---: |\n{}\n",
        search.l_max,
        halving.min_sequences,
        halving.eta,
        halving.eta,
        halving_lines.join("\n"),
        halving_reliability_lines.join("\n"),
    ));
    write_bytes_atomically(&out.join("search.md"), report.as_bytes())?;
    write_bytes_atomically(&out.join("config.resolved.toml"), config.to_toml().as_bytes())?;
    let wall_seconds = started.elapsed().as_secs_f64();
    let details = json!({ "base": base_record, "search": { "wall_seconds": wall_seconds, "predictors": timings } });
    let manifest = manifest("search", &args.config, config.seed, details);
    write_bytes_atomically(&out.join("search-manifest.json"), serde_json::to_string_pretty(&manifest)?.as_bytes())?;
    println!("Search: {wall_seconds:.0} s. Results in {} (search.md).", out.display());
    Ok(())
}

/// The empty prompt as ε in the terminal and the report.
fn shown(prompt: &[u8]) -> String {
    if prompt.is_empty() {
        "ε".to_string()
    } else {
        prompt_string(prompt)
    }
}

/// BOS + prompt + T − 1 inputs must fit the base's context, for the exhaustive and the local search.
fn check_fits_context(config: &ExperimentConfig) -> Result<(), ConfigError> {
    let search = &config.search;
    let context = config.model.context;
    for (key, len) in [("search.l_max", search.l_max), ("search.local.max_len", search.local.max_len)] {
        if len + search.task_len > context {
            return Err(ConfigError::new(
                key,
                len,
                format!(
                    "allowed range 0..={}: prompt + search.task_len = {} must fit model.context = {context}",
                    context.saturating_sub(search.task_len),
                    search.task_len
                ),
            ));
        }
    }
    Ok(())
}
