//! The prompt-space analysis of `adaptbench search`, after arXiv 2502.10760 (DESIGN.md §6), for the exact
//! Bayes predictor of the pretraining source and for the pretrained base: the landscape of every prompt up
//! to L_max, a local search beyond it, reliability of exhaustive search versus N, and the efficiency of
//! optimal, typical and random prompts; beside the exact search, successive halving as a labelled
//! approximation, on D_N and on the reliability draws; and, when `[search.task_length]` names task lengths, the
//! optimum and reliability again at each of them.

use std::path::Path;
use std::time::Instant;

use adaptbench_model::freeze;
use adaptbench_prompt::{
    efficiency, first_index_of_length, local_search, ones, prompt_string, reliability, successive_halving,
    BayesPredictor, Exhaustive, Landscape, NeuralPredictor, Predictor, PredictorKind, Reference, SearchConfig,
};
use adaptbench_report::{
    csv_bytes, proportion_ci95, write_atomically, EfficiencyRow, HalvingRow, LandscapeRow, LocalSearchRow,
    ReliabilityRow, TaskLengthRow,
};
use adaptbench_sources::{derive_seed, rng, Source};
use serde_json::json;

use crate::base::{base_details, obtain_base};
use crate::config::ExperimentConfig;
use crate::documents::{write_search_documents, SearchRows};
use crate::environment::Environment;
use crate::error::Result;
use crate::manifest::write_manifest;
use crate::observer::Observer;

/// Runs the prompt-space analysis of `config` into `out`: `landscape.csv`, `reliability.csv`,
/// `efficiency.csv`, `search.md`, the figures, `config.resolved.toml` and `search-manifest.json`; returns the
/// wall time in seconds. The neural predictor is the config's base (cached or trained).
pub fn run_search(
    config: &ExperimentConfig,
    config_path: &Path,
    out: &Path,
    environment: &Environment,
    observer: &dyn Observer,
) -> Result<f64> {
    config.validate_search()?;
    let started = Instant::now();
    let search = &config.search;
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
                let base = obtain_base(config, environment, out, observer)?;
                base_record = Some(base_details(config, &base, environment));
                Box::new(NeuralPredictor::new(freeze(&base.model)))
            }
        });
    }

    let setting = Setting { search, task: task.as_ref(), data: &data, reference: &reference, seed };
    let mut findings = Findings::default();
    for predictor in &predictors {
        findings.add(predictor.as_ref(), &setting, observer)?;
    }

    write_atomically(&out.join("landscape.csv"), &csv_bytes(&findings.landscape)?)?;
    write_atomically(&out.join("reliability.csv"), &csv_bytes(&findings.reliability)?)?;
    write_atomically(&out.join("efficiency.csv"), &csv_bytes(&findings.efficiency)?)?;
    write_atomically(&out.join("local_search.csv"), &csv_bytes(&findings.local)?)?;
    write_atomically(&out.join("halving.csv"), &csv_bytes(&findings.halving)?)?;
    if !search.task_length.task_lens.is_empty() {
        write_atomically(&out.join("task_length.csv"), &csv_bytes(&findings.task_length)?)?;
    }
    let timings = std::mem::take(&mut findings.timings);
    let rows = SearchRows {
        landscape: findings.landscape,
        reliability: findings.reliability,
        efficiency: findings.efficiency,
        local: findings.local,
        halving: findings.halving,
        task_length: findings.task_length,
    };
    write_search_documents(out, config, config_path, &rows)?;
    write_atomically(&out.join("config.resolved.toml"), config.to_toml().as_bytes())?;
    let wall_seconds = started.elapsed().as_secs_f64();
    let details =
        json!({ "base": base_record, "search": { "wall_seconds": wall_seconds, "predictors": timings } });
    write_manifest(&out.join("search-manifest.json"), "search", config_path, config.seed, details)?;
    Ok(wall_seconds)
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
    local: Vec<LocalSearchRow>,
    halving: Vec<HalvingRow>,
    task_length: Vec<TaskLengthRow>,
    timings: serde_json::Map<String, serde_json::Value>,
}

impl Findings {
    /// Runs every analysis for `predictor`: exhaustive search and landscape, local search, successive halving,
    /// reliability and efficiency.
    fn add(&mut self, predictor: &dyn Predictor, setting: &Setting, observer: &dyn Observer) -> Result<()> {
        let (kind, name) = (predictor.kind(), predictor.name().to_string());
        let clock = Instant::now();
        let exhaustive = Exhaustive::run(predictor, setting.search.l_max, setting.data)?;
        let exhaustive_seconds = clock.elapsed().as_secs_f64();
        let landscape = Landscape::from_exhaustive(predictor, setting.reference, &exhaustive)?;
        let landscape_seconds = clock.elapsed().as_secs_f64();
        let (optimum, found) = (landscape.optimum(), landscape.empirical_best());
        observer.note(&format!(
            "{name}: optimal prompt {} (KL {:.3e} bits/token); exhaustive search on N = {} found {} (rank {}, KL {:.3e}) in {landscape_seconds:.1} s",
            shown(&optimum.prompt),
            optimum.kl_bits,
            setting.data.len(),
            shown(&found.prompt),
            found.rank,
            found.kl_bits,
        ));
        let local =
            local_search(predictor, std::slice::from_ref(&found.prompt), setting.data, &setting.search.local.plan())?;
        let local_reference = setting.reference.losses(predictor, std::slice::from_ref(&local.prompt))?[0];
        self.local.push(LocalSearchRow {
            predictor: kind,
            start_prompt: prompt_string(&found.prompt),
            start_loss_bits: found.empirical_loss_bits,
            start_kl_bits: found.kl_bits,
            prompt: prompt_string(&local.prompt),
            loss_bits: local.empirical_loss_bits,
            kl_bits: local_reference.bits - landscape.floor_bits,
            prompts_scored: local.evaluated,
        });
        let clock = Instant::now();
        let halving =
            successive_halving(predictor, setting.search.l_max, setting.data, &setting.search.halving.plan())?;
        let halving_seconds = clock.elapsed().as_secs_f64();
        let picked = &landscape.entries[halving.index];
        let exhaustive_pairs = exhaustive.prompts.len() * setting.data.len();
        self.halving.push(HalvingRow {
            predictor: kind,
            exhaustive_prompt: prompt_string(&found.prompt),
            exhaustive_rank: found.rank,
            exhaustive_kl_bits: found.kl_bits,
            exhaustive_pairs,
            exhaustive_seconds,
            halving_prompt: prompt_string(&picked.prompt),
            halving_rank: picked.rank,
            halving_kl_bits: picked.kl_bits,
            halving_pairs: halving.evaluations,
            halving_seconds,
        });
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
        let clock = Instant::now();
        self.task_length.extend(task_length_rows(predictor, setting)?);
        let task_length_seconds = clock.elapsed().as_secs_f64();
        self.reliability.extend(points.iter().map(|point| ReliabilityRow {
            predictor: kind,
            n: point.n,
            l_max: point.l_max,
            draws: point.draws,
            proportion_correct: point.proportion(),
            ci95: proportion_ci95(point.correct, point.draws),
            halving_proportion_correct: point.halving_correct as f64 / point.draws as f64,
            halving_ci95: proportion_ci95(point.halving_correct, point.draws),
            halving_pair_share: point.halving_evaluations as f64
                / (first_index_of_length(point.l_max + 1) * point.n) as f64,
        }));
        self.efficiency.extend(
            efficiency(&landscape, setting.task, setting.search.baseline_prompts, setting.seed).into_iter().map(
                |point| EfficiencyRow {
                    predictor: kind,
                    kind: point.kind,
                    length: point.length,
                    loss_bits: point.loss_bits,
                    ci95: point.ci95,
                },
            ),
        );
        self.landscape.extend(landscape.entries.iter().map(|entry| LandscapeRow {
            predictor: kind,
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
                "task_length_seconds": task_length_seconds,
            }),
        );
        Ok(())
    }
}

/// The search again at each T of `[search.task_length]` (none when it is off): reference losses of every
/// prompt up to the longest reliability L_max over fresh sequences of T tokens (the seeds derive from T, so a
/// T's numbers do not depend on the other lengths listed), the reference-optimal prompt of each L_max, and
/// reliability on draws of T tokens.
fn task_length_rows(predictor: &dyn Predictor, setting: &Setting) -> Result<Vec<TaskLengthRow>> {
    let search = setting.search;
    let plan = search.task_length_plan();
    let longest = plan.l_maxes.iter().copied().max().unwrap_or(search.l_max);
    let mut rows = Vec::new();
    for &t in &search.task_length.task_lens {
        let seed = derive_seed(setting.seed, &format!("task length {t}"));
        let reference = Reference::new(setting.task, t, search.reference_sequences, seed);
        // The landscape's empirical column needs some D_N; these N sequences of T tokens serve only that.
        let mut draws = rng(derive_seed(seed, "data"));
        let data: Vec<Vec<u8>> = (0..setting.data.len()).map(|_| setting.task.sample(&mut draws, t).tokens).collect();
        let landscape = Landscape::measure(predictor, &reference, longest, &data)?;
        for point in reliability(predictor, &landscape, setting.task, t, &plan, seed)? {
            let candidates = &landscape.entries[..first_index_of_length(point.l_max + 1)];
            // Canonical order puts shorter prompts first, so the first minimum is the shortest optimum.
            let optimum = candidates.iter().fold(&candidates[0], |best, entry| if entry.loss_bits < best.loss_bits { entry } else { best });
            rows.push(TaskLengthRow {
                predictor: predictor.kind(),
                task_len: t,
                l_max: point.l_max,
                optimal_prompt: prompt_string(&optimum.prompt),
                optimal_length: optimum.prompt.len(),
                optimal_kl_bits: optimum.kl_bits,
                n: point.n,
                draws: point.draws,
                proportion_correct: point.proportion(),
                ci95: proportion_ci95(point.correct, point.draws),
            });
        }
    }
    Ok(rows)
}

/// The empty prompt as ε in the terminal and the report.
fn shown(prompt: &[u8]) -> String {
    if prompt.is_empty() {
        "ε".to_string()
    } else {
        prompt_string(prompt)
    }
}
