//! The evaluation suite (DESIGN.md §7): the task itself (ID) and named OOD sources — the pretraining
//! meta-distribution (forgetting), shifted tasks, other lengths — each a fixed set of fresh sequences drawn
//! from evaluation seeds disjoint from the task data, scored against that source's exact Bayes loss.

use adaptbench_model::Network;
use adaptbench_sources::{derive_seed, rng, Source, SourceSpec};
use adaptbench_train::{Evaluation, HeldOut};
use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use crate::error::AdaptError;

/// The `[eval]` table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EvalConfig {
    /// Adaptation seeds: each draws its own D_N, adapter init, batch order and evaluation sequences; results
    /// are aggregated across them with a Student-t CI. Default: [0, 1, 2].
    pub seeds: Vec<u64>,
    /// Evaluation sequences per source and seed. Default: 512.
    pub sequences: usize,
    /// Sequences per forward pass where burn evaluates (soft prompts, wgpu; the CPU engine takes fixed chunks of
    /// 16). Default: 512.
    pub batch_size: usize,
    /// Interpolation weights α of the WiSE-FT sweep, each in [0, 1]. Default: 0, 0.1, …, 1.
    pub alphas: Vec<f64>,
    /// Add the pretraining meta-distribution (at the task length) to the OOD suite as `pretraining`: the
    /// forgetting measurement. Default: true.
    pub include_pretraining: bool,
    /// Further OOD sources, `[[eval.ood]]` tables.
    pub ood: Vec<OodSource>,
}

impl Default for EvalConfig {
    fn default() -> Self {
        Self {
            seeds: vec![0, 1, 2],
            sequences: 512,
            batch_size: 512,
            alphas: (0..=10).map(|i| i as f64 / 10.0).collect(),
            include_pretraining: true,
            ood: Vec::new(),
        }
    }
}

/// One `[[eval.ood]]` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OodSource {
    /// Its `eval_source` name in `metrics.csv`.
    pub name: String,
    pub source: SourceSpec,
    /// Tokens per sequence. Default: the task length T.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub len: Option<usize>,
}

impl EvalConfig {
    /// Checks every field; `max_len` is the longest sequence the model can read.
    pub fn validate(&self, table: &str, max_len: usize) -> Result<(), AdaptError> {
        let key = |field: &str| format!("{table}.{field}");
        if self.seeds.is_empty() {
            return Err(AdaptError::invalid(key("seeds"), "[]", "one or more seeds"));
        }
        if let Some(seed) = self.seeds.iter().enumerate().find(|(i, s)| self.seeds[..*i].contains(s)).map(|(_, s)| s) {
            return Err(AdaptError::invalid(key("seeds"), format!("{:?}", self.seeds), format!("distinct seeds ({seed} repeats)")));
        }
        for (field, value) in [("sequences", self.sequences), ("batch_size", self.batch_size)] {
            if !(2..=1 << 20).contains(&value) {
                return Err(AdaptError::invalid(key(field), value, "allowed range 2..=1048576"));
            }
        }
        if self.alphas.is_empty() || self.alphas.iter().any(|a| !(0.0..=1.0).contains(a)) {
            return Err(AdaptError::invalid(key("alphas"), format!("{:?}", self.alphas), "one or more values in [0, 1]"));
        }
        for (i, entry) in self.ood.iter().enumerate() {
            let entry_key = format!("{table}.ood[{i}]");
            let reserved = ["task", "pretraining"];
            let valid_name = !entry.name.is_empty() && entry.name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
            if !valid_name || reserved.contains(&entry.name.as_str()) {
                return Err(AdaptError::invalid(
                    format!("{entry_key}.name"),
                    format!("{:?}", entry.name),
                    "letters, digits, '-', '_', '.'; not \"task\" or \"pretraining\" (reserved)",
                ));
            }
            if self.ood[..i].iter().any(|other| other.name == entry.name) {
                return Err(AdaptError::invalid(format!("{entry_key}.name"), format!("{:?}", entry.name), "a name not used by another entry"));
            }
            entry.source.validate(&format!("{entry_key}.source"))?;
            if let Some(len) = entry.len {
                if len == 0 || len > max_len {
                    return Err(AdaptError::invalid(format!("{entry_key}.len"), len, format!("allowed range 1..={max_len}")));
                }
            }
        }
        Ok(())
    }
}

/// Whether an evaluation source is the task (ID) or a shift away from it (OOD): the results schema's role.
pub use adaptbench_report::Role;

/// One source of the suite with its fixed evaluation set.
pub struct SuiteEntry {
    pub name: String,
    pub role: Role,
    pub len: usize,
    pub held_out: HeldOut,
}

/// An entry's scores for one model.
pub struct SuiteResult<'a> {
    pub entry: &'a SuiteEntry,
    pub evaluation: Evaluation,
}

/// The fixed evaluation sets of one seed.
pub struct Suite {
    pub entries: Vec<SuiteEntry>,
}

impl Suite {
    /// Draws `sequences` sequences for the task (`task`, at `task_len`, named `task`) and for every OOD source
    /// (name, source, length), each from `derive_seed(seed, "eval/<name>")`.
    pub fn draw(task: &dyn Source, task_len: usize, ood: &[(String, Box<dyn Source>, usize)], sequences: usize, seed: u64) -> Self {
        let mut entries = vec![draw_entry("task", Role::Id, task, task_len, sequences, seed)];
        entries.extend(Self::draw_ood(ood, sequences, seed).entries);
        Self { entries }
    }

    /// The OOD entries of [`Suite::draw`] alone (no task entry), each from `derive_seed(seed, "eval/<name>")`.
    pub fn draw_ood(ood: &[(String, Box<dyn Source>, usize)], sequences: usize, seed: u64) -> Self {
        let entries = ood.iter().map(|(name, source, len)| draw_entry(name, Role::Ood, source.as_ref(), *len, sequences, seed));
        Self { entries: entries.collect() }
    }

    /// Scores `model` (inference weights) on every entry.
    pub fn evaluate(&self, model: &Network, batch_size: usize, device: &Device) -> Vec<SuiteResult<'_>> {
        self.entries
            .iter()
            .map(|entry| SuiteResult { entry, evaluation: entry.held_out.evaluate(model, batch_size, device) })
            .collect()
    }
}

fn draw_entry(name: &str, role: Role, source: &dyn Source, len: usize, sequences: usize, seed: u64) -> SuiteEntry {
    let held_out = HeldOut::draw(source, &mut rng(derive_seed(seed, &format!("eval/{name}"))), sequences, len);
    SuiteEntry { name: name.to_string(), role, len, held_out }
}
