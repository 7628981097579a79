//! `SearchConfig`: the `[search]` table of `adaptbench search` (DESIGN.md §6), validated at load.

use serde::{Deserialize, Serialize};

use crate::error::PromptError;
use crate::halving::HalvingPlan;
use crate::local_search::LocalSearchPlan;
use crate::reliability::ReliabilityPlan;

/// Which predictor a landscape is measured for: the exact Bayes predictor of the pretraining source or the
/// pretrained base (`bayes`, `neural`), named as in result files.
pub use adaptbench_report::Predictor as PredictorKind;

/// The `[search]` table. The task and N come from `[task]` (`source`, `sequences`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SearchConfig {
    /// Predictors to analyse. Default: both, `["bayes", "neural"]`.
    pub predictors: Vec<PredictorKind>,
    /// Longest prompt of the exhaustive search: 2^(l_max+1) − 1 prompts. Default: 5.
    pub l_max: usize,
    /// Task tokens T per sequence, scored after the prompt. Default: 50.
    pub task_len: usize,
    /// Fresh task sequences for the reference loss of predictors without a closed form (the neural one).
    /// Default: 2048.
    pub reference_sequences: usize,
    /// Prompts within this many bits per task token of the optimal reference loss count as optimal in the
    /// reliability measure. Default: 1e-4.
    pub tolerance_bits: f64,
    /// Typical and random prompts drawn per length for the efficiency curves. Default: 200.
    pub baseline_prompts: usize,
    pub reliability: ReliabilityConfig,
    /// The optimum and reliability again at other task lengths T (off by default).
    pub task_length: TaskLengthConfig,
    pub local: LocalConfig,
    /// Successive halving, an approximation reported beside the exact search.
    pub halving: HalvingConfig,
}

impl Default for SearchConfig {
    fn default() -> Self {
        Self {
            predictors: vec![PredictorKind::Bayes, PredictorKind::Neural],
            l_max: 5,
            task_len: 50,
            reference_sequences: 2048,
            tolerance_bits: 1e-4,
            baseline_prompts: 200,
            reliability: ReliabilityConfig::default(),
            task_length: TaskLengthConfig::default(),
            local: LocalConfig::default(),
            halving: HalvingConfig::default(),
        }
    }
}

/// The `[search.reliability]` table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReliabilityConfig {
    /// Sizes N of D_N. Default: 1, 2, 4, …, 256.
    pub ns: Vec<usize>,
    /// Longest prompts searched, one curve each; each ≤ `search.l_max`. Default: [1, 3, 5].
    pub l_max: Vec<usize>,
    /// Independent draws of D_N per point. Default: 100.
    pub draws: usize,
}

impl Default for ReliabilityConfig {
    fn default() -> Self {
        Self { ns: (0..=8).map(|k| 1 << k).collect(), l_max: vec![1, 3, 5], draws: 100 }
    }
}

/// The `[search.task_length]` table: at each T of `task_lens`, reference losses of every prompt up to the
/// longest `reliability.l_max` over fresh sequences of T tokens, the optimal prompt there, and reliability at
/// each N of `ns` and each `reliability.l_max` on draws of T tokens (arXiv 2502.10760 reports that reliability
/// can fall as T grows, and that the optimal prompt's length depends on T).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TaskLengthConfig {
    /// Task lengths T, ascending. Default: [] (the analysis is off).
    pub task_lens: Vec<usize>,
    /// Sizes N of D_N at each T. Default: [] (those of `reliability.ns`).
    pub ns: Vec<usize>,
}

/// The `[search.local]` table: the local search beyond L_max, started from the exhaustive optimum on D_N.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LocalConfig {
    /// Prompts kept between rounds. Default: 4.
    pub beam: usize,
    /// Longest prompt it may build (BOS + prompt + T must fit the model's context). Default: 10.
    pub max_len: usize,
    /// Rounds at most. Default: 20.
    pub rounds: usize,
}

impl LocalConfig {
    /// The local search's plan.
    pub fn plan(&self) -> LocalSearchPlan {
        LocalSearchPlan { beam: self.beam, max_len: self.max_len, rounds: self.rounds }
    }
}

impl Default for LocalConfig {
    fn default() -> Self {
        Self { beam: 4, max_len: 10, rounds: 20 }
    }
}

/// The `[search.halving]` table: successive halving over the prompts of length ≤ `search.l_max`, which scores
/// `Σ_r |C_r| · (n_r − n_{r−1})` (prompt, sequence) pairs instead of the exhaustive (2^(L_max+1) − 1) · N.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HalvingConfig {
    /// Each round keeps the best ⌈|C|/eta⌉ prompts and scores them on eta times as many sequences. Default: 2.
    pub eta: usize,
    /// Sequences every prompt is scored on in the first round (capped at N). Default: 4.
    pub min_sequences: usize,
}

impl Default for HalvingConfig {
    fn default() -> Self {
        Self { eta: 2, min_sequences: 4 }
    }
}

impl HalvingConfig {
    /// Checks every field; `table` prefixes keys in errors (e.g. `search.halving`).
    pub fn validate(&self, table: &str) -> Result<(), PromptError> {
        for (field, value, least) in [("eta", self.eta, 2), ("min_sequences", self.min_sequences, 1)] {
            if value < least || value > 1_000_000 {
                return Err(PromptError::invalid(
                    format!("{table}.{field}"),
                    value,
                    format!("allowed range {least}..=1000000"),
                ));
            }
        }
        Ok(())
    }

    /// Successive halving's plan.
    pub fn plan(&self) -> HalvingPlan {
        HalvingPlan { eta: self.eta, min_sequences: self.min_sequences }
    }
}

/// The largest exhaustive search allowed: 2^17 − 1 ≈ 131k prompts.
pub const MAX_EXHAUSTIVE_LEN: usize = 16;

impl SearchConfig {
    /// Checks every field; `table` prefixes keys in errors (e.g. `search`).
    pub fn validate(&self, table: &str) -> Result<(), PromptError> {
        let key = |field: &str| format!("{table}.{field}");
        if self.predictors.is_empty() {
            return Err(PromptError::invalid(key("predictors"), "[]", "name at least one of \"bayes\", \"neural\""));
        }
        if self.l_max > MAX_EXHAUSTIVE_LEN {
            return Err(PromptError::invalid(
                key("l_max"),
                self.l_max,
                format!("allowed range 0..={MAX_EXHAUSTIVE_LEN}"),
            ));
        }
        for (field, value) in [
            ("task_len", self.task_len),
            ("baseline_prompts", self.baseline_prompts),
            ("reliability.draws", self.reliability.draws),
            ("local.beam", self.local.beam),
            ("local.rounds", self.local.rounds),
        ] {
            if value == 0 || value > 1_000_000 {
                return Err(PromptError::invalid(key(field), value, "allowed range 1..=1000000"));
            }
        }
        if self.predictors.contains(&PredictorKind::Neural) && self.reference_sequences == 0 {
            return Err(PromptError::invalid(
                key("reference_sequences"),
                0,
                "must be ≥ 1: the neural predictor's reference loss is a sample mean",
            ));
        }
        if !(self.tolerance_bits >= 0.0 && self.tolerance_bits.is_finite()) {
            return Err(PromptError::invalid(key("tolerance_bits"), self.tolerance_bits, "allowed range [0, ∞)"));
        }
        if self.reliability.ns.is_empty() || self.reliability.ns.contains(&0) {
            return Err(PromptError::invalid(
                key("reliability.ns"),
                format!("{:?}", self.reliability.ns),
                "a non-empty list of sizes ≥ 1",
            ));
        }
        if let Some(&too_long) = self.reliability.l_max.iter().find(|&&l| l > self.l_max) {
            return Err(PromptError::invalid(
                key("reliability.l_max"),
                too_long,
                format!("each must be ≤ {table}.l_max = {}", self.l_max),
            ));
        }
        let lens = &self.task_length.task_lens;
        if lens.contains(&0) || lens.iter().any(|&t| t > 1_000_000) || lens.windows(2).any(|pair| pair[0] >= pair[1]) {
            return Err(PromptError::invalid(
                key("task_length.task_lens"),
                format!("{lens:?}"),
                "distinct lengths in ascending order, each in 1..=1000000",
            ));
        }
        if self.task_length.ns.contains(&0) {
            return Err(PromptError::invalid(
                key("task_length.ns"),
                format!("{:?}", self.task_length.ns),
                "sizes ≥ 1 ([] for those of reliability.ns)",
            ));
        }
        if self.local.max_len > 4096 {
            return Err(PromptError::invalid(key("local.max_len"), self.local.max_len, "allowed range 0..=4096"));
        }
        self.halving.validate(&key("halving"))
    }

    /// The reliability curves to measure (all of `reliability.l_max`, or `[l_max]` if that list is empty).
    pub fn reliability_plan(&self) -> ReliabilityPlan {
        let l_maxes = if self.reliability.l_max.is_empty() { vec![self.l_max] } else { self.reliability.l_max.clone() };
        ReliabilityPlan {
            ns: self.reliability.ns.clone(),
            l_maxes,
            draws: self.reliability.draws,
            tolerance_bits: self.tolerance_bits,
            halving: self.halving.plan(),
        }
    }

    /// The reliability plan at each task length of `task_length` (its own `ns`, if any).
    pub fn task_length_plan(&self) -> ReliabilityPlan {
        let mut plan = self.reliability_plan();
        if !self.task_length.ns.is_empty() {
            plan.ns = self.task_length.ns.clone();
        }
        plan
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_lengths_must_ascend_and_name_their_key() {
        for lens in ["[10, 5]", "[0, 5]", "[5, 5]"] {
            let config: SearchConfig = toml::from_str(&format!("[task_length]\ntask_lens = {lens}")).unwrap();
            let message = config.validate("search").unwrap_err().to_string();
            assert!(message.contains("search.task_length.task_lens") && message.contains("ascending"), "{message}");
        }
        let config: SearchConfig = toml::from_str("[task_length]\ntask_lens = [5, 20]\nns = [4]").unwrap();
        assert!(config.validate("search").is_ok());
        assert_eq!(config.task_length_plan().ns, vec![4]);
        assert_eq!(SearchConfig::default().task_length_plan().ns, SearchConfig::default().reliability.ns);
    }

    #[test]
    fn a_reliability_curve_longer_than_the_search_is_rejected_with_its_key() {
        let config: SearchConfig = toml::from_str("l_max = 3\n[reliability]\nl_max = [2, 4]").unwrap();
        let message = config.validate("search").unwrap_err().to_string();
        assert!(message.contains("search.reliability.l_max = 4"), "{message}");
    }

    #[test]
    fn invalid_halving_values_are_rejected_with_their_key() {
        for (table, expected) in [
            ("[halving]\neta = 1", "search.halving.eta = 1 is invalid: allowed range 2..=1000000"),
            ("[halving]\nmin_sequences = 0", "search.halving.min_sequences = 0 is invalid: allowed range 1..=1000000"),
        ] {
            let config: SearchConfig = toml::from_str(table).unwrap();
            let message = config.validate("search").unwrap_err().to_string();
            assert_eq!(message, expected);
        }
        let config: SearchConfig = toml::from_str("[halving]\neta = 3").unwrap();
        assert!(config.validate("search").is_ok());
        assert_eq!(config.halving.plan(), HalvingPlan { eta: 3, min_sequences: 4 });
        assert!(toml::from_str::<SearchConfig>("[halving]\nmin = 3")
            .unwrap_err()
            .to_string()
            .contains("unknown field `min`"));
    }

    #[test]
    fn unknown_keys_are_rejected() {
        assert!(toml::from_str::<SearchConfig>("lmax = 3").unwrap_err().to_string().contains("unknown field `lmax`"));
    }
}
