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
    SearchConfig,
};
use adaptbench_report::{
    efficiency_csv, efficiency_svg, landscape_csv, landscape_svg, proportion_ci95, reliability_csv, reliability_svg,
    search_report_markdown, wilson_interval, EfficiencyRow, LandscapeRow, ReliabilityRow, SearchReportContext,
};
use adaptbench_sources::{derive_seed, rng, Source};
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

    let setting = Setting { search, task: task.as_ref(), data: &data, reference: &reference, seed };
    let mut findings = Findings::default();
    for predictor in &predictors {
        findings.add(predictor.as_ref(), &setting)?;
    }

    write_bytes_atomically(&out.join("landscape.csv"), &landscape_csv(&findings.landscape)?)?;
    write_bytes_atomically(&out.join("reliability.csv"), &reliability_csv(&findings.reliability)?)?;
    write_bytes_atomically(&out.join("efficiency.csv"), &efficiency_csv(&findings.efficiency)?)?;
    let figures = out.join("figures");
    std::fs::create_dir_all(&figures)?;
    landscape_svg(&findings.landscape, &figures.join("landscape.svg"))?;
    reliability_svg(&findings.reliability, &figures.join("reliability.svg"))?;
    efficiency_svg(&findings.efficiency, &figures.join("efficiency.svg"))?;

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
    let mut report = search_report_markdown(&context, &findings.landscape, &findings.reliability, &findings.efficiency);
    report.push_str(&findings.appendix(search));
    write_bytes_atomically(&out.join("search.md"), report.as_bytes())?;
    write_bytes_atomically(&out.join("config.resolved.toml"), config.to_toml().as_bytes())?;
    let wall_seconds = started.elapsed().as_secs_f64();
    let details =
        json!({ "base": base_record, "search": { "wall_seconds": wall_seconds, "predictors": findings.timings } });
    let manifest = manifest("search", &args.config, config.seed, details);
    write_bytes_atomically(&out.join("search-manifest.json"), serde_json::to_string_pretty(&manifest)?.as_bytes())?;
    println!("Search: {wall_seconds:.0} s. Results in {} (search.md).", out.display());
    Ok(())
}

/// What every predictor's analysis shares: the settings, the task, D_N and the reference losses.
struct Setting<'a> {
    search: &'a SearchConfig,
    task: &'a dyn Source,
    data: &'a [Vec<u8>],
    reference: &'a Reference<'a>,
    seed: u64,
}

/// Everything `search` writes, gathered predictor by predictor: the rows of the three CSVs, the table rows of
/// the search.md sections that only this command has data for, and the timings of the manifest.
#[derive(Default)]
struct Findings {
    landscape: Vec<LandscapeRow>,
    reliability: Vec<ReliabilityRow>,
    efficiency: Vec<EfficiencyRow>,
    local_lines: Vec<String>,
    halving_lines: Vec<String>,
    halving_reliability_lines: Vec<String>,
    timings: serde_json::Map<String, serde_json::Value>,
}

impl Findings {
    /// Runs every analysis for `predictor`: exhaustive search and landscape, local search, successive halving,
    /// reliability and efficiency.
    fn add(&mut self, predictor: &dyn Predictor, setting: &Setting) -> anyhow::Result<()> {
        let name = predictor.name().to_string();
        let clock = Instant::now();
        let exhaustive = Exhaustive::run(predictor, setting.search.l_max, setting.data)?;
        let exhaustive_seconds = clock.elapsed().as_secs_f64();
        let landscape = Landscape::from_exhaustive(predictor, setting.reference, &exhaustive)?;
        let landscape_seconds = clock.elapsed().as_secs_f64();
        let (optimum, found) = (landscape.optimum(), landscape.empirical_best());
        println!(
            "{name}: optimal prompt {} (KL {:.3e} bits/token); exhaustive search on N = {} found {} (rank {}, KL {:.3e}) in {landscape_seconds:.1} s",
            shown(&optimum.prompt),
            optimum.kl_bits,
            setting.data.len(),
            shown(&found.prompt),
            found.rank,
            found.kl_bits,
        );
        let local =
            local_search(predictor, std::slice::from_ref(&found.prompt), setting.data, &setting.search.local.plan())?;
        let local_reference = setting.reference.losses(predictor, std::slice::from_ref(&local.prompt))?[0];
        self.local_lines.push(format!(
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
        let halving =
            successive_halving(predictor, setting.search.l_max, setting.data, &setting.search.halving.plan())?;
        let halving_seconds = clock.elapsed().as_secs_f64();
        let picked = &landscape.entries[halving.index];
        let exhaustive_pairs = exhaustive.prompts.len() * setting.data.len();
        self.halving_lines.push(format!(
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
        let points = reliability(
            predictor,
            &landscape,
            setting.task,
            setting.search.task_len,
            &setting.search.reliability_plan(),
            setting.seed,
        )?;
        let reliability_seconds = clock.elapsed().as_secs_f64();
        self.reliability.extend(points.iter().map(|point| ReliabilityRow {
            predictor: name.clone(),
            n: point.n,
            l_max: point.l_max,
            draws: point.draws,
            proportion_correct: point.proportion(),
            ci95: proportion_ci95(point.correct, point.draws),
        }));
        let longest = points.iter().map(|point| point.l_max).max().unwrap_or(0);
        self.halving_reliability_lines.extend(points.iter().filter(|point| point.l_max == longest).map(|point| {
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
        self.efficiency.extend(
            efficiency(&landscape, setting.task, setting.search.baseline_prompts, setting.seed).into_iter().map(
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
            ),
        );
        self.landscape.extend(landscape.entries.iter().map(|entry| LandscapeRow {
            predictor: name.clone(),
            prompt: prompt_string(&entry.prompt),
            length: entry.prompt.len(),
            ones: ones(&entry.prompt),
            loss_bits: entry.loss_bits,
            kl_bits: entry.kl_bits,
            rank: entry.rank,
            empirical_loss_bits: entry.empirical_loss_bits,
        }));
        self.timings.insert(
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
        Ok(())
    }

    /// The search.md sections on the local search and on successive halving.
    fn appendix(&self, search: &SearchConfig) -> String {
        let mut sections = String::new();
        sections.push_str(&format!(
            "\n## Local search beyond L_max\n\nBeam {} over bit flips, insertions and deletions, prompts up to {} tokens, \
             at most {} rounds, started from the exhaustive search's choice on D_N; KL is the reference loss minus the \
             task's Bayes floor.\n\n| predictor | exhaustive | its loss on D_N | its KL | local | its loss on D_N | its KL | prompts scored |\n\
             | --- | --- | ---: | ---: | --- | ---: | ---: | ---: |\n{}\n",
            search.local.beam,
            search.local.max_len,
            search.local.rounds,
            self.local_lines.join("\n"),
        ));
        let halving = &search.halving;
        sections.push_str(&format!(
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
            self.halving_lines.join("\n"),
            self.halving_reliability_lines.join("\n"),
        ));
        sections
    }
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
