//! The whole pipeline of `adaptbench run`. Pretrain (or reuse the cached base); then for every
//! adaptation seed draw the task data D_N and the evaluation suite once, adapt with every configured method,
//! sweep the WiSE-FT α grid, and evaluate each (method, α) on the task (ID) and every OOD source; with
//! `[model_update]`, also pretrain a second base and evaluate every adaptation moved onto it; finally write
//! `metrics.csv`, `model_update.csv`, `report.md` and the figures.

use std::path::Path;
use std::time::Instant;

use adaptbench_adapt::{interpolate, transplant, Adapted, MethodConfig, Suite, SuiteResult, TaskData};
use adaptbench_model::Transformer;
use adaptbench_report::{csv_bytes, write_atomically, EvalBase, Method, MetricRow, ModelUpdateRow};
use adaptbench_sources::{derive_seed, Source};
use burn::tensor::Device;
use serde_json::json;

use crate::base::{base_details, obtain_base, Base};
use crate::cells::{Cell, CellStore};
use crate::config::ExperimentConfig;
use crate::documents::write_run_documents;
use crate::environment::Environment;
use crate::error::{ExperimentError, Result};
use crate::fingerprint::fingerprint;
use crate::manifest::write_manifest;
use crate::observer::Observer;

/// Bump when a cell's numbers change meaning, so cells of older versions are recomputed.
const CELL_FORMAT: &str = "adaptbench-cell-v2";

/// What a finished run produced: its rows and the documents written from them.
pub struct RunOutcome {
    pub base: Base,
    /// Every `metrics.csv` row, in cell order.
    pub rows: Vec<MetricRow>,
    /// Every `model_update.csv` row (empty without `[model_update]`).
    pub model_update: Vec<ModelUpdateRow>,
    /// The text of `report.md`.
    pub report: String,
    pub wall_seconds: f64,
}

/// Runs the whole pipeline of `config` into `out`: the base (cached or trained), then every cell (reusing
/// the finished ones in `out/cells/`), then `metrics.csv`, `model_update.csv`, `report.md`, the figures,
/// `config.resolved.toml` and `manifest.json`. `config_path` is recorded in the manifest and the report.
/// A stop request ends it at the next finished cell with [`ExperimentError::Interrupted`].
pub fn run_experiment(
    config: &ExperimentConfig,
    config_path: &Path,
    out: &Path,
    environment: &Environment,
    observer: &dyn Observer,
) -> Result<RunOutcome> {
    let started = Instant::now();
    let base = obtain_base(config, environment, out, observer)?;
    let other_base = match &config.model_update {
        Some(update) => {
            let other_config = update.other_base_config(config);
            observer.note(&format!("Model update: the second base is pretrained with seed {}.", update.seed));
            let dir = out.join(update.base_dir_name());
            Some((obtain_base(&other_config, environment, &dir, observer)?, other_config))
        }
        None => None,
    };
    write_atomically(&out.join("config.resolved.toml"), config.to_toml().as_bytes())?;

    let plan = Plan::new(config, &base, other_base.as_ref().map(|(base, _)| base))?;
    let cells = CellStore::new(out.join("cells"));
    observer.cells_started(config.eval.seeds.len() * (1 + plan.methods.len()));
    let (mut rows, mut model_update) = (Vec::new(), Vec::new());
    for &seed in &config.eval.seeds {
        for cell in plan.run_seed(seed, &cells, &environment.device, observer)? {
            rows.extend(cell.rows);
            model_update.extend(cell.model_update);
        }
    }
    observer.cells_finished();

    write_atomically(&out.join("metrics.csv"), &csv_bytes(&rows)?)?;
    if config.model_update.is_some() {
        write_atomically(&out.join("model_update.csv"), &csv_bytes(&model_update)?)?;
    }
    let wall_seconds = started.elapsed().as_secs_f64();
    let report = write_run_documents(out, config, &base.summary, &rows, &model_update, Some(wall_seconds), config_path)?;
    let mut details = base_details(config, &base, environment);
    if let Some((other, other_config)) = &other_base {
        details["model_update"] = base_details(other_config, other, environment);
    }
    details["run"] = json!({
        "wall_seconds": wall_seconds,
        "methods": plan.methods.iter().map(|m| json!({ "method": m.name(), "params": plan.params(m) })).collect::<Vec<_>>(),
        "seeds": config.eval.seeds.iter().map(|&s| json!({
            "seed": s,
            "task_data": derive_seed(plan.seed_base(s), "task/data"),
            "eval": plan.seed_base(s),
        })).collect::<Vec<_>>(),
        "rows": rows.len(),
    });
    write_manifest(&out.join("manifest.json"), "run", config_path, config.seed, details)?;
    Ok(RunOutcome { base, rows, model_update, report, wall_seconds })
}

/// What every seed of the run shares: the bases, the sources, the methods and the fingerprint of the settings.
struct Plan<'a> {
    config: &'a ExperimentConfig,
    base: &'a Transformer,
    /// The `[model_update]` base every adaptation is also moved onto.
    other_base: Option<&'a Transformer>,
    task: Box<dyn Source>,
    /// (name, source, sequence length) of every OOD entry.
    ood: Vec<(String, Box<dyn Source>, usize)>,
    methods: Vec<MethodConfig>,
    /// Everything but the method and seed that a cell's numbers depend on.
    settings: String,
}

impl<'a> Plan<'a> {
    fn new(config: &'a ExperimentConfig, base: &'a Base, other_base: Option<&'a Base>) -> Result<Self> {
        let task_len = config.layout.task_len;
        let mut ood = Vec::new();
        if config.eval.include_pretraining {
            ood.push(("pretraining".to_string(), config.pretrain.source.build()?, task_len));
        }
        for entry in &config.eval.ood {
            ood.push((entry.name.clone(), entry.source.build()?, entry.len.unwrap_or(task_len)));
        }
        // The seed list is not part of a cell's identity: adding a seed keeps the finished ones.
        let eval = adaptbench_adapt::EvalConfig { seeds: Vec::new(), ..config.eval.clone() };
        let mut settings = vec![
            CELL_FORMAT.to_string(),
            base.cache_key.clone(),
            config.seed.to_string(),
            toml::to_string(&config.task).expect("a table serialises"),
            task_len.to_string(),
            toml::to_string(&config.finetune).expect("a table serialises"),
            toml::to_string(&eval).expect("a table serialises"),
        ];
        // Only when present, so that the cells of a run without `[model_update]` keep their fingerprints.
        settings.extend(other_base.map(|other| format!("model_update:{}", other.cache_key)));
        Ok(Self {
            config,
            base: &base.model,
            other_base: other_base.map(|other| &other.model),
            task: config.task.source.build()?,
            ood,
            methods: config.methods.configured(),
            settings: fingerprint(&settings),
        })
    }

    /// A method's `params` column.
    fn params(&self, method: &MethodConfig) -> String {
        method.params(self.config.layout.prompt_max_len)
    }

    /// Every adaptation seed's random draws derive from the config's seed and this label.
    fn seed_base(&self, seed: u64) -> u64 {
        derive_seed(self.config.seed, &format!("adapt/seed-{seed}"))
    }

    /// Every cell of `seed`: the base (`none`) first, then each method; finished cells are read back, the
    /// others computed and saved.
    fn run_seed(
        &self,
        seed: u64,
        cells: &CellStore,
        device: &Device,
        observer: &dyn Observer,
    ) -> Result<Vec<Cell>> {
        let seed_base = self.seed_base(seed);
        let cell_fingerprint =
            |method: &str, params: &str| fingerprint(&[&self.settings, method, params, &seed.to_string()]);
        let eval = &self.config.eval;
        // Drawn only if some cell of this seed still has to run.
        let mut prepared: Option<(TaskData, Suite, Vec<MetricRow>)> = None;
        let mut prepare = || {
            let data = TaskData::draw(
                self.task.as_ref(),
                derive_seed(seed_base, "task/data"),
                self.config.task.sequences,
                self.config.layout.task_len,
                self.config.finetune.validation_fraction,
            );
            let suite =
                Suite::draw(self.task.as_ref(), self.config.layout.task_len, &self.ood, eval.sequences, seed_base);
            let base_rows = rows(&Cost::base(seed), 0.0, &suite.evaluate(self.base, eval.batch_size, device));
            (data, suite, base_rows)
        };

        let mut all = Vec::new();
        let none_fingerprint = cell_fingerprint(Method::None.as_str(), "");
        let cell = format!("none-seed{seed}");
        observer.cell_started(&format!("seed {seed}: base"));
        let none = match cells.load(&cell, &none_fingerprint) {
            Some(none) => none,
            None => {
                let (_, suite, base_rows) = prepared.get_or_insert_with(&mut prepare);
                let model_update = self.model_update(&Cost::base(seed), base_rows.clone(), self.base, suite, device)?;
                let none = Cell { rows: base_rows.clone(), model_update };
                cells.save(&cell, &none_fingerprint, &none)?;
                none
            }
        };
        all.push(none);
        observer.cell_finished();

        for method in &self.methods {
            if observer.stop_requested() {
                return Err(ExperimentError::Interrupted);
            }
            let (name, params) = (method.name(), self.params(method));
            let cell = format!("{name}-seed{seed}");
            let fingerprint = cell_fingerprint(name, &params);
            observer.cell_started(&format!("seed {seed}: {name}"));
            if let Some(finished) = cells.load(&cell, &fingerprint) {
                all.push(finished);
                observer.cell_finished();
                continue;
            }
            let (data, suite, base_rows) = prepared.get_or_insert_with(&mut prepare);
            let prompt_max_len = self.config.layout.prompt_max_len;
            let adapted = method.adapt(
                self.base,
                data,
                &self.config.finetune,
                derive_seed(seed_base, name),
                prompt_max_len,
                device,
            )?;
            let cost = Cost::of(method, params.clone(), seed, &adapted);
            let mut cell_rows = Vec::new();
            for &alpha in &eval.alphas {
                if alpha == 0.0 {
                    // θ(0) is the base bit for bit (a tested invariant): its scores are the base's.
                    cell_rows.extend(base_rows.iter().map(|row| cost.relabel(row)));
                } else if method.is_prompt() {
                    // A prompt has no weight path to the base: only α = 1, the prompted base, is defined.
                    if alpha == 1.0 {
                        cell_rows.extend(rows(&cost, alpha, &suite.evaluate(&adapted.model, eval.batch_size, device)));
                    }
                } else {
                    let model = interpolate(self.base, &adapted.model, alpha)?;
                    cell_rows.extend(rows(&cost, alpha, &suite.evaluate(&model, eval.batch_size, device)));
                }
            }
            let own_rows = cell_rows.iter().filter(|row| row.alpha == 1.0).cloned().collect();
            let model_update = self.model_update(&cost, own_rows, &adapted.model, suite, device)?;
            let finished = Cell { rows: cell_rows, model_update };
            cells.save(&cell, &fingerprint, &finished)?;
            all.push(finished);
            observer.cell_finished();
        }
        Ok(all)
    }

    /// The `model_update.csv` rows of `adapted`, a model found on the base: its suite rows on that base
    /// (`own_rows`, or evaluated here when the α grid left them out), then those of its transplant onto the
    /// other base, on the same suite. Empty without `[model_update]`.
    fn model_update(
        &self,
        cost: &Cost,
        own_rows: Vec<MetricRow>,
        adapted: &Transformer,
        suite: &Suite,
        device: &Device,
    ) -> Result<Vec<ModelUpdateRow>> {
        let Some(other) = self.other_base else { return Ok(Vec::new()) };
        let batch = self.config.eval.batch_size;
        let own_rows =
            if own_rows.is_empty() { rows(cost, 1.0, &suite.evaluate(adapted, batch, device)) } else { own_rows };
        let moved_rows = rows(cost, 1.0, &suite.evaluate(&transplant(self.base, adapted, other)?, batch, device));
        let found_on = own_rows.iter().map(|row| ModelUpdateRow::from_metric(row, EvalBase::FoundOn));
        Ok(found_on.chain(moved_rows.iter().map(|row| ModelUpdateRow::from_metric(row, EvalBase::Other))).collect())
    }
}

/// The identifying and cost columns of a cell's rows.
struct Cost {
    method: Method,
    params: String,
    seed: u64,
    trainable_params: u64,
    steps: u64,
    adapt_seconds: f64,
    prompt_tokens: u64,
}

impl Cost {
    fn base(seed: u64) -> Self {
        Self {
            method: Method::None,
            params: String::new(),
            seed,
            trainable_params: 0,
            steps: 0,
            adapt_seconds: 0.0,
            prompt_tokens: 0,
        }
    }

    fn of(method: &MethodConfig, params: String, seed: u64, adapted: &Adapted) -> Self {
        Self {
            method: method.method(),
            params,
            seed,
            trainable_params: adapted.trainable_params as u64,
            steps: adapted.steps as u64,
            adapt_seconds: adapted.seconds,
            prompt_tokens: adapted.prompt_tokens as u64,
        }
    }

    /// `row` (a base row) with this cell's identity and cost.
    fn relabel(&self, row: &MetricRow) -> MetricRow {
        MetricRow {
            method: self.method,
            params: self.params.clone(),
            trainable_params: self.trainable_params,
            steps: self.steps,
            adapt_seconds: self.adapt_seconds,
            prompt_tokens: self.prompt_tokens,
            ..row.clone()
        }
    }
}

/// One row per suite entry for a model at interpolation weight `alpha`.
fn rows(cost: &Cost, alpha: f64, results: &[SuiteResult<'_>]) -> Vec<MetricRow> {
    results
        .iter()
        .map(|result| {
            let e = &result.evaluation;
            MetricRow {
                method: cost.method,
                params: cost.params.clone(),
                seed: cost.seed,
                alpha,
                eval_source: result.entry.name.clone(),
                role: result.entry.role,
                loss_bits: e.loss_bits,
                loss_ci95: e.loss_ci95,
                excess_bits: e.excess_bits,
                accuracy: e.accuracy,
                ece: e.ece,
                trainable_params: cost.trainable_params,
                adapt_seconds: cost.adapt_seconds,
                excess_ci95: e.excess_ci95,
                bayes_bits: e.bayes_bits,
                eval_len: result.entry.len as u64,
                eval_sequences: e.sequences as u64,
                steps: cost.steps,
                prompt_tokens: cost.prompt_tokens,
            }
        })
        .collect()
}
