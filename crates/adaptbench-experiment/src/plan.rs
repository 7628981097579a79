//! The cells of one grid point and how each is computed. A cell is one (seed, method candidate), or the base
//! (`none`) on one seed: draw the task data D_N, the evaluation suite and the held-out selection data from the
//! seed (once per point and seed, shared by its cells), adapt, sweep the WiSE-FT α grid, and score every α on
//! the evaluation suite (`metrics.csv` rows) and on the held-out data (`selection.csv` rows); with
//! `[model_update]`, also score the adapted model moved onto the other base.

use adaptbench_adapt::{interpolate, transplant, MethodConfig, Suite, TaskData};
use adaptbench_model::Network;
use adaptbench_report::{EvalBase, Method, MetricRow, ModelUpdateRow, SelectionRow};
use adaptbench_sources::{derive_seed, Source};
use burn::tensor::Device;

use crate::base::Base;
use crate::cells::Cell;
use crate::config::ExperimentConfig;
use crate::cost::Cost;
use crate::error::Result;
use crate::fingerprint::fingerprint;
use crate::selection::SelectionData;

/// Bump when a cell's numbers change meaning, so cells of older versions are recomputed.
const CELL_FORMAT: &str = "adaptbench-cell-v6";

/// What every cell of one grid point shares: its config, candidates, bases, sources and the fingerprint of
/// its settings.
pub(crate) struct PointPlan<'a> {
    pub config: &'a ExperimentConfig,
    pub candidates: &'a [MethodConfig],
    base: &'a Network,
    /// The `[model_update]` base every adaptation is also moved onto.
    other_base: Option<&'a Network>,
    task: Box<dyn Source>,
    /// (name, source, sequence length) of every OOD entry.
    ood: Vec<(String, Box<dyn Source>, usize)>,
    /// Everything but the method, its hyper-parameters and the seed that a cell's numbers depend on.
    settings: String,
}

/// One cell to run or read back.
#[derive(Debug, Clone)]
pub(crate) struct CellSpec {
    pub seed: u64,
    /// Index into the point's candidates; `None` for the base.
    pub candidate: Option<usize>,
    /// File name under `cells/`: `<method>-<fingerprint>`.
    pub name: String,
    pub fingerprint: String,
    /// For progress display, e.g. `seed 0: lora`.
    pub label: String,
}

/// The draws of one (point, seed), shared by its cells.
pub(crate) struct Prepared {
    data: TaskData,
    suite: Suite,
    selection: SelectionData,
    /// The base's evaluation and selection rows: every method's α = 0, and the `none` cell.
    base_rows: Vec<MetricRow>,
    base_selection: SelectionRow,
}

impl<'a> PointPlan<'a> {
    pub fn new(config: &'a ExperimentConfig, candidates: &'a [MethodConfig], base: &'a Base, other_base: Option<&'a Base>) -> Result<Self> {
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
            // λ is applied when choosing, not here: changing it reuses every cell.
            config.selection.sequences.to_string(),
        ];
        // Only when present, so that the cells of a run without `[model_update]` keep their fingerprints.
        settings.extend(other_base.map(|other| format!("model_update:{}", other.cache_key)));
        Ok(Self {
            config,
            candidates,
            base: &base.model,
            other_base: other_base.map(|other| &other.model),
            task: config.task.source.build()?,
            ood,
            settings: fingerprint(&settings),
        })
    }

    /// A candidate's `params` column.
    pub fn params(&self, method: &MethodConfig) -> String {
        method.params(self.config.layout.prompt_max_len)
    }

    /// Every adaptation seed's random draws derive from the config's seed and this label.
    pub fn seed_base(&self, seed: u64) -> u64 {
        derive_seed(self.config.seed, &format!("adapt/seed-{seed}"))
    }

    /// The point's cells: for every seed, the base first, then every candidate.
    pub fn cells(&self) -> Vec<CellSpec> {
        let mut cells = Vec::new();
        for &seed in &self.config.eval.seeds {
            let spec = |candidate: Option<usize>, name: &str, params: &str| {
                let fingerprint = fingerprint(&[&self.settings, name, params, &seed.to_string()]);
                let label = if params.is_empty() { format!("seed {seed}: {name}") } else { format!("seed {seed}: {name} ({params})") };
                CellSpec { seed, candidate, name: format!("{name}-{fingerprint}"), fingerprint, label }
            };
            cells.push(spec(None, Method::None.as_str(), ""));
            for (i, method) in self.candidates.iter().enumerate() {
                cells.push(spec(Some(i), method.name(), &self.params(method)));
            }
        }
        cells
    }

    /// Draws the task data, the evaluation suite and the selection data of `seed`, and scores the base on them.
    pub fn prepare(&self, seed: u64, device: &Device) -> Prepared {
        let seed_base = self.seed_base(seed);
        let (config, eval) = (self.config, &self.config.eval);
        let data = TaskData::draw(
            self.task.as_ref(),
            derive_seed(seed_base, "task/data"),
            config.task.sequences,
            config.layout.task_len,
            config.finetune.validation_fraction,
        );
        let suite = Suite::draw(self.task.as_ref(), config.layout.task_len, &self.ood, eval.sequences, seed_base);
        let selection = SelectionData::new(self.task.as_ref(), &data, &self.ood, &config.selection, seed_base);
        let cost = Cost::base(seed);
        let base_rows = cost.rows(0.0, &suite.evaluate(self.base, eval.batch_size, device));
        let base_selection = selection.row(&cost, 0.0, self.base, eval.batch_size, device);
        Prepared { data, suite, selection, base_rows, base_selection }
    }

    /// Computes the cell `spec` from the draws of its seed.
    pub fn compute(&self, spec: &CellSpec, prepared: &Prepared, device: &Device) -> Result<Cell> {
        let Some(candidate) = spec.candidate else {
            let cost = Cost::base(spec.seed);
            let model_update = self.model_update(&cost, prepared.base_rows.clone(), self.base, &prepared.suite, device)?;
            let selection = vec![prepared.base_selection.clone()];
            return Ok(Cell { rows: prepared.base_rows.clone(), model_update, selection });
        };
        let method = &self.candidates[candidate];
        let (eval, prompt_max_len) = (&self.config.eval, self.config.layout.prompt_max_len);
        let adapted = method.adapt(
            self.base,
            &prepared.data,
            &self.config.finetune,
            derive_seed(self.seed_base(spec.seed), method.name()),
            prompt_max_len,
            device,
        )?;
        let cost = Cost::of(method, self.params(method), spec.seed, &adapted);
        let (mut rows, mut selection) = (Vec::new(), Vec::new());
        for &alpha in &eval.alphas {
            let model = if alpha == 0.0 {
                // θ(0) is the base bit for bit (a tested invariant): its scores are the base's.
                rows.extend(prepared.base_rows.iter().map(|row| cost.relabel(row)));
                selection.push(cost.relabel_selection(&prepared.base_selection));
                continue;
            } else if method.is_prompt() {
                // A prompt has no weight path to the base: only α = 1, the prompted base, is defined.
                if alpha != 1.0 {
                    continue;
                }
                adapted.model.clone()
            } else {
                interpolate(self.base, &adapted.model, alpha)?
            };
            rows.extend(cost.rows(alpha, &prepared.suite.evaluate(&model, eval.batch_size, device)));
            selection.push(prepared.selection.row(&cost, alpha, &model, eval.batch_size, device));
        }
        let own_rows = rows.iter().filter(|row| row.alpha == 1.0).cloned().collect();
        let model_update = self.model_update(&cost, own_rows, &adapted.model, &prepared.suite, device)?;
        Ok(Cell { rows, model_update, selection })
    }

    /// The `model_update.csv` rows of `adapted`, a model found on the base: its suite rows on that base
    /// (`own_rows`, or evaluated here when the α grid left them out), then those of its transplant onto the
    /// other base, on the same suite. Empty without `[model_update]`.
    fn model_update(
        &self,
        cost: &Cost,
        own_rows: Vec<MetricRow>,
        adapted: &Network,
        suite: &Suite,
        device: &Device,
    ) -> Result<Vec<ModelUpdateRow>> {
        let Some(other) = self.other_base else { return Ok(Vec::new()) };
        let batch = self.config.eval.batch_size;
        let own_rows = if own_rows.is_empty() { cost.rows(1.0, &suite.evaluate(adapted, batch, device)) } else { own_rows };
        let moved_rows = cost.rows(1.0, &suite.evaluate(&transplant(self.base, adapted, other)?, batch, device));
        let found_on = own_rows.iter().map(|row| ModelUpdateRow::from_metric(row, EvalBase::FoundOn));
        Ok(found_on.chain(moved_rows.iter().map(|row| ModelUpdateRow::from_metric(row, EvalBase::Other))).collect())
    }
}
