//! Exhaustive prompt scoring (DESIGN.md §6): every prompt × every task sequence, exactly, in parallel over
//! contiguous runs of a depth-first walk of the prompts, plus the work accounting behind the speed figures.

use std::ops::Range;

use rayon::prelude::*;

use crate::engine::{Prepared, RowMap, TaskInputs, Workspace};
use crate::error::InferError;
use crate::model::FrozenTransformer;

/// Sequences per batch: `SEQ_CHUNK · (T − 1)` task rows go through the model together (large enough for gemm
/// to run near peak, small enough for the activations to stay in L2).
pub(crate) const SEQ_CHUNK: usize = 16;
/// At most this many prompts per parallel work item; work items never depend on the thread count, so the
/// results do not either.
const MAX_ITEM: usize = 32;
/// Aim for at least this many work items (load balance on a few cores).
const MIN_ITEMS: usize = 64;

/// Every prompt of length `0..=l_max` in canonical order: by length, then as a binary number with `p_1` the
/// most significant bit, the empty prompt first; `2^(l_max+1) − 1` prompts.
///
/// `all_prompts(2)` = `[], [0], [1], [0,0], [0,1], [1,0], [1,1]`.
///
/// # Panics
/// If `l_max ≥ 48` (the list would not fit in memory anyway).
pub fn all_prompts(l_max: usize) -> Vec<Vec<u8>> {
    assert!(l_max < 48, "2^{} prompts is too many", l_max + 1);
    (0..=l_max)
        .flat_map(|len| (0..1u64 << len).map(move |v| (0..len).map(|j| ((v >> (len - 1 - j)) & 1) as u8).collect()))
        .collect()
}

/// Scores every prompt on every sequence: `result[i][s] = −Σ_{j=1..T} log2 P(x_j | BOS, prompts[i], x_<j)`
/// for `x = sequences[s]`, the summed loss in bits over the `T` task tokens (prompt tokens are not scored).
///
/// The model input is `[BOS, p_1..p_L, x_1..x_{T−1}]` at positions `0..L+T−1`. Exact up to `f32` rounding
/// (accumulated in `f64` per sequence). Runs on the current rayon pool, parallel over runs of prompts; the
/// result is bit-identical whatever the number of threads.
///
/// # Shapes
/// - `prompts`: `[n_prompts][L_i]` bits; `sequences`: `[N][T]` bits, one `T ≥ 1`; result `[n_prompts][N]`.
///
/// # Errors
/// An invalid model ([`FrozenTransformer::validate`]); no sequences, an empty sequence or ragged lengths; a token
/// that is not 0/1; a prompt with `L + T` beyond the context.
pub fn score_prompts(
    model: &FrozenTransformer,
    prompts: &[Vec<u8>],
    sequences: &[Vec<u8>],
) -> Result<Vec<Vec<f64>>, InferError> {
    model.validate()?;
    let plan = Plan::new(model.context, prompts, sequences)?;
    let prep = Prepared::new(model);
    let t_len = plan.t_len;
    let nq = t_len - 1;
    // Layer-0 task inputs for each prompt length present.
    let max_len = prompts.iter().map(Vec::len).max().unwrap_or(0);
    let mut inputs: Vec<Option<TaskInputs>> = (0..=max_len).map(|_| None).collect();
    for p in prompts {
        if inputs[p.len()].is_none() {
            inputs[p.len()] = Some(TaskInputs::new(&prep, p.len(), nq));
        }
    }
    let sorted_seqs: Vec<&[u8]> = plan.seq_order.iter().map(|&s| sequences[s].as_slice()).collect();
    let max_rows = SEQ_CHUNK.min(sequences.len()) * nq;
    let per_item: Vec<Vec<Vec<f64>>> = plan
        .items
        .par_iter()
        .map_init(
            || Workspace::new(&prep, max_rows),
            |ws, range| {
                // Every item starts from BOS, so what it computes does not depend on which thread ran what.
                ws.reset();
                plan.order[range.clone()]
                    .iter()
                    .map(|&i| {
                        let prompt = &prompts[i];
                        ws.set_prompt(&prep, prompt);
                        let table = inputs[prompt.len()].as_ref().expect("inputs for every prompt length");
                        let mut nats = vec![0.0; sorted_seqs.len()];
                        for (seqs, out) in sorted_seqs.chunks(SEQ_CHUNK).zip(nats.chunks_mut(SEQ_CHUNK)) {
                            ws.score_chunk(&prep, table, seqs, out);
                        }
                        nats
                    })
                    .collect()
            },
        )
        .collect();
    Ok(plan.bits_in_input_order(per_item.into_iter().flatten()))
}

/// [`score_prompts`] over [`all_prompts`]`(l_max)`: `result[i]` belongs to the `i`-th prompt in canonical order.
///
/// # Errors
/// As [`score_prompts`] (`l_max + T` must fit in the context).
pub fn score_all_prompts(
    model: &FrozenTransformer,
    l_max: usize,
    sequences: &[Vec<u8>],
) -> Result<Vec<Vec<f64>>, InferError> {
    score_prompts(model, &all_prompts(l_max), sequences)
}

/// Work of one [`score_prompts`] call, for speed figures.
///
/// FLOP convention: a multiply-add is 2 FLOPs; only matmul weights and attention are counted (biases,
/// LayerNorm, GELU and softmax are `O(d)` per token and left out). With `P` = non-embedding matmul weights
/// ([`FrozenTransformer::matmul_params`]: per block `4d² + 2·d·mlp`, plus the head's `2d`), one token at
/// position `t` (attending to `t + 1` keys) costs `2P + n_layers · 4·(t+1)·d`
/// ([`FrozenTransformer::token_flops`]).
///
/// - `naive_flops`: what a plain batched forward does: for every prompt of length `L`, each of the `N`
///   sequences runs all `L + T` positions through the model. "Achieved GFLOP/s" = `naive_flops / seconds`.
/// - `executed_flops`: what this engine runs: the prompt tokens once per run of prompts (shared prefixes once),
///   the layer-0 QKV tables, and per prompt the distinct task rows (at most `N·(T−1)`: sequences that share a
///   prefix share its rows) without their layer-0 QKV.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchWork {
    /// Number of prompts scored.
    pub prompts: usize,
    /// FLOPs of the plain forward of every (prompt, sequence) pair.
    pub naive_flops: u64,
    /// FLOPs the engine executes.
    pub executed_flops: u64,
}

/// The [`SearchWork`] of `score_prompts(model, prompts, sequences)`, computed from the same plan, without
/// running the model.
///
/// # Errors
/// As [`score_prompts`].
pub fn search_work(
    model: &FrozenTransformer,
    prompts: &[Vec<u8>],
    sequences: &[Vec<u8>],
) -> Result<SearchWork, InferError> {
    model.validate()?;
    let plan = Plan::new(model.context, prompts, sequences)?;
    let (n, t_len, d) = (sequences.len() as u64, plan.t_len, model.d_model as u64);
    let nq = t_len - 1;
    let layers = model.n_layers() as u64;
    let layer0_qkv = if layers > 0 { 2 * 3 * d * d } else { 0 };
    // Distinct task rows at each depth i, over the chunks the engine runs (sequences sharing a prefix share
    // its rows, see `RowMap`).
    let sorted: Vec<&[u8]> = plan.seq_order.iter().map(|&s| sequences[s].as_slice()).collect();
    let mut rows_at = vec![0u64; nq];
    let mut map = RowMap::default();
    for chunk in sorted.chunks(SEQ_CHUNK) {
        if nq > 0 {
            map.build(chunk, nq);
            for &shared in &map.shared {
                rows_at[shared..].iter_mut().for_each(|r| *r += 1);
            }
        }
    }
    let mut naive = 0u64;
    let mut executed = 0u64;
    let mut lengths = std::collections::BTreeSet::new();
    for p in prompts {
        let l = p.len();
        naive += n * (0..l + t_len).map(|t| model.token_flops(t + 1)).sum::<u64>();
        // Task row i (token x_{i+1} at position l + 1 + i) attends to l + 2 + i keys; no layer-0 QKV.
        executed +=
            rows_at.iter().enumerate().map(|(i, r)| r * (model.token_flops(l + 2 + i) - layer0_qkv)).sum::<u64>();
        lengths.insert(l);
    }
    // Prompt tokens, as the walk runs them: a run starts from BOS, later prompts reuse the common prefix.
    for range in &plan.items {
        let mut path: &[u8] = &[];
        for (k, &i) in plan.order[range.clone()].iter().enumerate() {
            let prompt = prompts[i].as_slice();
            let common = if k == 0 { 0 } else { path.iter().zip(prompt).take_while(|(a, b)| a == b).count() };
            if k == 0 {
                executed += model.token_flops(1); // BOS
            }
            executed += (common..prompt.len()).map(|j| model.token_flops(j + 2)).sum::<u64>();
            path = prompt;
        }
    }
    executed += lengths.len() as u64 * 2 * nq as u64 * layer0_qkv;
    Ok(SearchWork { prompts: prompts.len(), naive_flops: naive, executed_flops: executed })
}

/// The validated request and its schedule: prompts in depth-first (lexicographic) order, cut into work items
/// whose size depends only on the number of prompts.
pub(crate) struct Plan {
    pub t_len: usize,
    /// Prompt indices in lexicographic order of their bits (a prefix comes before its extensions).
    pub order: Vec<usize>,
    /// Ranges of `order`, one per parallel work item.
    pub items: Vec<Range<usize>>,
    /// Sequence indices in lexicographic order (neighbouring sequences share prefixes).
    pub seq_order: Vec<usize>,
}

impl Plan {
    /// Validates the inputs against a model of `context` positions and orders prompts and sequences for prefix
    /// sharing.
    pub fn new(context: usize, prompts: &[Vec<u8>], sequences: &[Vec<u8>]) -> Result<Plan, InferError> {
        let first = sequences.first().ok_or(InferError::NoSequences)?;
        let t_len = first.len();
        if t_len == 0 {
            return Err(InferError::EmptySequence);
        }
        for (index, seq) in sequences.iter().enumerate() {
            if seq.len() != t_len {
                return Err(InferError::RaggedSequences { index, expected: t_len, found: seq.len() });
            }
            check_bits("sequence", index, seq)?;
        }
        for (index, prompt) in prompts.iter().enumerate() {
            check_bits("prompt", index, prompt)?;
            let needed = prompt.len() + t_len;
            if needed > context {
                return Err(InferError::PromptTooLong {
                    index,
                    prompt_len: prompt.len(),
                    task_len: t_len,
                    needed,
                    context,
                });
            }
        }
        let mut order: Vec<usize> = (0..prompts.len()).collect();
        order.sort_by(|&a, &b| prompts[a].cmp(&prompts[b]));
        let item = prompts.len().div_ceil(MIN_ITEMS).clamp(1, MAX_ITEM);
        let items = (0..prompts.len()).step_by(item).map(|start| start..(start + item).min(prompts.len())).collect();
        let mut seq_order: Vec<usize> = (0..sequences.len()).collect();
        seq_order.sort_by(|&a, &b| sequences[a].cmp(&sequences[b]));
        Ok(Plan { t_len, order, items, seq_order })
    }
}

impl Plan {
    /// Summed nats per sorted sequence, one vector per prompt in `order`, back to the caller's orders: a row per
    /// prompt as given, a column per sequence as given, in bits.
    pub fn bits_in_input_order(&self, per_prompt: impl Iterator<Item = Vec<f64>>) -> Vec<Vec<f64>> {
        let mut result = vec![Vec::new(); self.order.len()];
        for (&i, nats) in self.order.iter().zip(per_prompt) {
            let mut bits = vec![0.0; self.seq_order.len()];
            for (&s, v) in self.seq_order.iter().zip(&nats) {
                bits[s] = v / std::f64::consts::LN_2;
            }
            result[i] = bits;
        }
        result
    }

    /// One value per sorted sequence, back to the order the sequences were given in.
    pub fn in_sequence_order<T: Clone + Default>(&self, sorted: impl Iterator<Item = T>) -> Vec<T> {
        let mut result = vec![T::default(); self.seq_order.len()];
        for (&s, value) in self.seq_order.iter().zip(sorted) {
            result[s] = value;
        }
        result
    }
}

fn check_bits(what: &'static str, index: usize, tokens: &[u8]) -> Result<(), InferError> {
    match tokens.iter().position(|&b| b > 1) {
        Some(position) => Err(InferError::NotABit { what, index, position, value: tokens[position] }),
        None => Ok(()),
    }
}
