//! `hard_prompt`: the best binary prompt for the task, found by exhaustive search over every prompt of length
//! ≤ L_max on D_N with the frozen base (the KV-cached engine of `adaptbench-infer`) — or, when asked, by
//! successive halving, an approximation labelled in `params` — optionally refined by a local search beyond
//! L_max. The adapted model is the base conditioned on that prompt: no weight changes.

use std::time::Instant;

use adaptbench_model::{freeze, Prompt, Network};
use adaptbench_prompt::{
    first_index_of_length, local_search, successive_halving, Exhaustive, HalvingConfig, LocalConfig, NeuralPredictor,
};
use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use super::Adapted;
use crate::error::AdaptError;
use crate::task_data::TaskData;

/// The `[methods.hard_prompt]` table.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HardPromptConfig {
    /// Longest prompt of the exhaustive search. Default: `layout.prompt_max_len`.
    pub l_max: Option<usize>,
    /// A local search (bit flips, insertions, deletions) from the exhaustive optimum, up to
    /// `local.max_len` ≤ `layout.prompt_max_len` tokens. Default: none.
    pub local: Option<LocalConfig>,
    /// Search by successive halving (`eta`, `min_sequences`) instead of exhaustively: far fewer (prompt,
    /// sequence) pairs scored, but the exhaustive optimum on D_N can be cut. Default: none (exact).
    pub halving: Option<HalvingConfig>,
}

impl HardPromptConfig {
    pub(crate) fn params(&self, max_prompt_len: usize) -> String {
        let mut params = format!("l_max={}", self.l_max.unwrap_or(max_prompt_len));
        if let Some(halving) = &self.halving {
            params += &format!(";search=halving;eta={};min_sequences={}", halving.eta, halving.min_sequences);
        }
        if let Some(local) = &self.local {
            params += &format!(";beam={};max_len={};rounds={}", local.beam, local.max_len, local.rounds);
        }
        params
    }

    pub(crate) fn validate(&self, table: &str, max_prompt_len: usize) -> Result<(), AdaptError> {
        let within = |key: String, value: usize| {
            if value > max_prompt_len {
                Err(AdaptError::invalid(
                    key,
                    value,
                    format!("allowed range 0..=layout.prompt_max_len = {max_prompt_len}"),
                ))
            } else {
                Ok(())
            }
        };
        within(format!("{table}.l_max"), self.l_max.unwrap_or(0))?;
        if let Some(local) = &self.local {
            within(format!("{table}.local.max_len"), local.max_len)?;
            for (field, value) in [("beam", local.beam), ("rounds", local.rounds)] {
                if value == 0 {
                    return Err(AdaptError::invalid(
                        format!("{table}.local.{field}"),
                        value,
                        "allowed range 1..=1000000",
                    ));
                }
            }
        }
        match &self.halving {
            Some(halving) => Ok(halving.validate(&format!("{table}.halving"))?),
            None => Ok(()),
        }
    }

    /// Searches on the training part of D_N (all of it without a validation split): the validation split is
    /// the held-out data its α is chosen on, so the prompt must not have been picked on it.
    pub(crate) fn adapt(
        &self,
        base: &Network,
        data: &TaskData,
        max_prompt_len: usize,
        device: &Device,
    ) -> Result<Adapted, AdaptError> {
        let started = Instant::now();
        let sequences = &data.train;
        let predictor = NeuralPredictor::new(freeze(base));
        let l_max = self.l_max.unwrap_or(max_prompt_len);
        let mut best = match &self.halving {
            Some(halving) => successive_halving(&predictor, l_max, sequences, &halving.plan())?.prompt,
            None => {
                let exhaustive = Exhaustive::run(&predictor, l_max, sequences)?;
                exhaustive.prompts[exhaustive.best()].clone()
            }
        };
        // Either search considers every prompt of length ≤ l_max.
        let mut evaluated = first_index_of_length(l_max + 1);
        if let Some(local) = &self.local {
            let outcome = local_search(&predictor, std::slice::from_ref(&best), sequences, &local.plan())?;
            best = outcome.prompt;
            evaluated += outcome.evaluated - 1;
        }
        let mut model = base.clone();
        model.prompt = (!best.is_empty()).then(|| Prompt::hard(&best, device));
        Ok(Adapted {
            model,
            trainable_params: 0,
            steps: evaluated,
            seconds: started.elapsed().as_secs_f64(),
            prompt_tokens: best.len(),
        })
    }
}
