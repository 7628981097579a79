//! Evaluation through the engine: the next-bit log-probabilities of every token of many sequences under one
//! prompt (usually none), parallel over fixed chunks of the sorted sequences.

use rayon::prelude::*;

use crate::engine::{Prepared, TaskInputs, Workspace};
use crate::error::InferError;
use crate::model::FrozenTransformer;
use crate::search::{Plan, SEQ_CHUNK};

/// `result[s][j] = [ln P(x_{j+1} = 0 | ·), ln P(x_{j+1} = 1 | ·)]` given `BOS, prompt, x_1..x_j`, for every
/// sequence `x = sequences[s]` and `j = 0..T−1`: what a plain forward over `[BOS, prompt, x_1..x_{T−1}]` gives
/// at the task positions, up to `f32` rounding.
///
/// The work items are chunks of [`SEQ_CHUNK`] sequences in sorted order, each computed from BOS on its own,
/// so the result is bit-identical whatever the number of threads.
///
/// # Shapes
/// - `prompt`: `[L]` bits; `sequences`: `[N][T]` bits, one `T ≥ 1`, `L + T ≤ context`; result `[N][T]`.
///
/// # Errors
/// As [`crate::score_prompts`].
pub fn next_bit_log_probs(
    model: &FrozenTransformer,
    prompt: &[u8],
    sequences: &[Vec<u8>],
) -> Result<Vec<Vec<[f32; 2]>>, InferError> {
    model.validate()?;
    let plan = Plan::new(model.context, std::slice::from_ref(&prompt.to_vec()), sequences)?;
    let prep = Prepared::new(model);
    let nq = plan.t_len - 1;
    let inputs = TaskInputs::new(&prep, prompt.len(), nq);
    let sorted: Vec<&[u8]> = plan.seq_order.iter().map(|&s| sequences[s].as_slice()).collect();
    let max_rows = SEQ_CHUNK.min(sequences.len()) * nq;
    let per_chunk: Vec<Vec<Vec<[f32; 2]>>> = sorted
        .par_chunks(SEQ_CHUNK)
        .map_init(
            || Workspace::new(&prep, max_rows),
            |ws, seqs| {
                ws.set_prompt(&prep, prompt);
                let mut out = vec![Vec::new(); seqs.len()];
                ws.chunk_log_probs(&prep, &inputs, seqs, &mut out);
                out
            },
        )
        .collect();
    Ok(plan.in_sequence_order(per_chunk.into_iter().flatten()))
}
