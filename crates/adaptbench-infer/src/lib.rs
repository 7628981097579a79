//! Exact, fast forward-only inference of a frozen decoder-only Transformer or LSTM (DESIGN.md §6, "Speed"): score every
//! binary prompt on every task sequence for exhaustive prompt search, and every token of the evaluation sets on
//! the CPU backend. No burn dependency: the trained
//! weights are copied into [`FrozenTransformer`] (burn's row-major layouts), and the engine runs on the CPU with
//! gemm and rayon.
//!
//! - [`score_prompts`] / [`score_all_prompts`]: summed loss in bits of each task sequence given each prompt,
//!   `−Σ_{j=1..T} log2 P(x_j | BOS, p, x_<j)`; [`all_prompts`] lists prompts in canonical order.
//! - [`next_bit_log_probs`]: `ln P(x_j = b | BOS, p, x_<j)` at every task position, for evaluation.
//! - [`FrozenTransformer::log_probs`]: the naive `f64` oracle the engine is tested against.
//! - [`search_work`] ([`SearchWork`]): the FLOP accounting behind GFLOP/s figures.
//! - [`FrozenLstm`]: the same scoring for an LSTM, whose state after a prompt prefix is shared by every longer
//!   prompt and every task sequence; [`FrozenModel`] holds either model.
//!
//! Speed comes from exact rewrites only (results match the oracle to `f32` rounding): the BOS + prompt keys and
//! values are computed once per prompt and shared by all sequences (and extended token by token along a
//! depth-first walk of the prompts); the task rows of 16 sequences at a time go through the model as one gemm
//! batch; layer 0's QKV of a task row depends only on (bit, position) and is tabulated; sorted sequences
//! that share a prefix share its rows; attention, softmax and GELU have AVX2 + FMA kernels (chosen at run time,
//! with portable fallbacks).

mod attention;
mod engine;
mod error;
mod frozen;
mod log_probs;
mod lstm;
mod math;
mod model;
mod reference;
mod search;

pub use error::InferError;
pub use frozen::FrozenModel;
pub use log_probs::next_bit_log_probs;
pub use lstm::{FrozenLstm, FrozenLstmLayer};
pub use math::{add_bias, combine_lanes, exp, gelu, max, normal_cdf, sum};
pub use model::{Dense, FrozenBlock, FrozenTransformer, ModelShape, Norm, BOS, VOCAB};
pub use search::{all_prompts, score_all_prompts, score_prompts, search_work, SearchWork};
