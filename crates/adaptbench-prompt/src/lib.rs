//! Prompt-space analysis (DESIGN.md §6, reproducing arXiv 2502.10760 "Why is prompting hard?"), for any
//! predictor: the exact Bayes predictor of the pretraining source ([`BayesPredictor`]) and a frozen neural
//! model ([`NeuralPredictor`]) answer the same [`Predictor`] interface.
//!
//! - [`Exhaustive`]: every prompt of length ≤ L_max (2^(L_max+1) − 1 of them) scored on D_N.
//! - [`Landscape`]: each prompt's reference loss (exact by count sums for the Bayes predictor on exchangeable
//!   sources, else a large fresh sample — [`Reference`]), its KL to the task, rank and empirical loss.
//! - [`reliability`]: how often the empirical best prompt on D_N is reference-optimal, versus N and L_max.
//! - [`efficiency`]: loss versus prompt length for optimal, typical and random prompts.
//! - [`successive_halving`]: an approximation of [`Exhaustive`] beside it — every prompt on a few sequences,
//!   the best ⌈|C|/η⌉ on η times as many, until N — whose pick may differ from the exhaustive best.
//! - [`local_search`]: beam search by bit flips, insertions and deletions beyond L_max.

mod bayes;
mod config;
mod efficiency;
mod error;
mod exhaustive;
mod halving;
mod landscape;
mod local_search;
mod neural;
mod predictor;
mod prompt;
mod reference;
mod reliability;

pub use bayes::BayesPredictor;
pub use config::{HalvingConfig, LocalConfig, PredictorKind, ReliabilityConfig, SearchConfig, TaskLengthConfig, MAX_EXHAUSTIVE_LEN};
pub use efficiency::{efficiency, EfficiencyPoint, PromptKind};
pub use error::PromptError;
pub use exhaustive::Exhaustive;
pub use halving::{successive_halving, successive_halving_on, HalvingOutcome, HalvingPlan, HalvingRound};
pub use landscape::{canonical_index, Landscape, LandscapeEntry};
pub use local_search::{local_search, single_edits, LocalSearchOutcome, LocalSearchPlan};
pub use neural::NeuralPredictor;
pub use predictor::{mean_bits_per_token, Predictor, ScoreMatrix};
pub use prompt::{all_prompts, first_index_of_length, ones, prompt_string};
pub use reference::{Reference, ReferenceLoss};
pub use reliability::{reliability, ReliabilityPlan, ReliabilityPoint};
