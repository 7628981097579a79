//! The frozen LSTM predictor and its forward-only engine. An RNN's state after `BOS, p_1..p_k` is shared by
//! every longer prompt and by every task sequence, so the engine walks the prompts depth first, extending a stack
//! of states one token at a time (each prefix is run once per work item), then runs the N task sequences from
//! the prompt's state as one batch: per step one `[N, d]·[d, 4d]` gemm per projection.
//!
//! The recurrence is PyTorch's `nn.LSTM` with the gate blocks in the order i, f, o, g (adaptbench-model's
//! `LstmLayer`): `[i, f, o, g] = x·W_ih + b + h·W_hh`, `c ← σ(f)⊙c + σ(i)⊙tanh(g)`, `h ← σ(o)⊙tanh(c)`, from
//! `h = c = 0` before BOS; the top layer's `h` goes through the final LayerNorm and the head.

use rayon::prelude::*;

use crate::error::InferError;
use crate::math::{exp, head_log_probs, matmul};
use crate::model::{check_dense, check_len, check_norm, Dense, Norm, Normal, BOS, VOCAB};
use crate::search::Plan;

/// Task sequences per batch of rows: large enough for gemm, small enough for the states to stay in L1/L2.
const SEQ_CHUNK: usize = 64;

/// One LSTM layer, `[i, f, o, g] = x·W_ih + b + h·W_hh`.
///
/// # Shapes
/// - `ih`: `[d_model, 4·d_model]` with the bias `b`; `hh`: `[d_model, 4·d_model]`, bias all zero.
#[derive(Debug, Clone, PartialEq)]
pub struct FrozenLstmLayer {
    /// Input projection and bias.
    pub ih: Dense,
    /// Recurrent projection (its bias is ignored by the model and must be zero).
    pub hh: Dense,
}

/// A trained LSTM over {0, 1, BOS}, frozen: token embedding, `layers`, final LayerNorm, `head` (d_model → 2).
///
/// # Shapes
/// - `token_embedding`: `[3, d_model]`, `head`: `[d_model, 2]`.
#[derive(Debug, Clone, PartialEq)]
pub struct FrozenLstm {
    /// Width of the embeddings and of every hidden state.
    pub d_model: usize,
    /// Longest input in positions (BOS + prompt + task tokens), as the burn model enforces it.
    pub context: usize,
    /// The final LayerNorm's epsilon.
    pub layer_norm_eps: f32,
    /// `[3, d_model]`: rows for tokens 0, 1 and BOS.
    pub token_embedding: Vec<f32>,
    /// The stacked layers, in order.
    pub layers: Vec<FrozenLstmLayer>,
    /// LayerNorm after the last layer.
    pub final_norm: Norm,
    /// `d_model → 2`: logits of the next bit being 0 and 1.
    pub head: Dense,
}

/// The states of `rows` sequences: per layer `h` and `c`, each `[rows, d]`.
#[derive(Clone)]
struct States {
    h: Vec<Vec<f32>>,
    c: Vec<Vec<f32>>,
}

impl States {
    fn zeros(layers: usize, rows: usize, d: usize) -> Self {
        Self { h: vec![vec![0.0; rows * d]; layers], c: vec![vec![0.0; rows * d]; layers] }
    }

    /// `rows` copies of the one-row state `one`.
    fn broadcast(one: &States, rows: usize) -> Self {
        let repeat = |v: &Vec<f32>| v.iter().copied().cycle().take(rows * v.len()).collect();
        Self { h: one.h.iter().map(repeat).collect(), c: one.c.iter().map(repeat).collect() }
    }
}

/// σ(x) = 1 / (1 + e^{−x}), with the crate's branch-free `exp`, so that a loop over a row vectorises.
#[inline(always)]
fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + exp(-x))
}

/// tanh(x) = 2·σ(2x) − 1 (absolute error within a few f32 ulps of 1).
#[inline(always)]
fn tanh(x: f32) -> f32 {
    2.0 / (1.0 + exp(-2.0 * x)) - 1.0
}

impl FrozenLstm {
    /// Number of layers.
    pub fn n_layers(&self) -> usize {
        self.layers.len()
    }

    /// Checks the dimensions and the length of every vector; the error names the first bad field.
    pub fn validate(&self) -> Result<(), InferError> {
        let d = self.d_model;
        if d == 0 || self.context == 0 || self.layers.is_empty() {
            return Err(InferError::Dimensions {
                what: format!("d_model ({d}), context ({}) and the number of layers ({}) must be positive", self.context, self.layers.len()),
            });
        }
        if !(self.layer_norm_eps >= 0.0 && self.layer_norm_eps.is_finite()) {
            return Err(InferError::Dimensions { what: format!("layer_norm_eps ({}) must be finite and non-negative", self.layer_norm_eps) });
        }
        check_len("token_embedding", &self.token_embedding, VOCAB * d)?;
        for (i, layer) in self.layers.iter().enumerate() {
            check_dense(&format!("layers[{i}].ih"), &layer.ih, d, 4 * d)?;
            check_dense(&format!("layers[{i}].hh"), &layer.hh, d, 4 * d)?;
            if layer.hh.bias.iter().any(|&b| b != 0.0) {
                return Err(InferError::Dimensions { what: format!("layers[{i}].hh.bias must be zero (b lives in ih)") });
            }
        }
        check_norm("final_norm", &self.final_norm, d)?;
        check_dense("head", &self.head, d, 2)
    }

    /// Non-embedding matmul weights `P`: per layer `8·d²` (W_ih, W_hh), plus the head's `2·d`; one token's
    /// forward costs `2·P` FLOPs.
    pub fn matmul_params(&self) -> u64 {
        let d = self.d_model as u64;
        self.n_layers() as u64 * 8 * d * d + 2 * d
    }

    /// An LSTM of width `d`, `layers` deep, with deterministic pseudo-random weights for tests and benchmarks:
    /// weights `N(0, 1/d)`, biases `N(0, 0.1²)`, token embeddings `N(0, 1)`, LayerNorm `γ = 1 + N(0, 0.1²)`,
    /// `β = N(0, 0.1²)`.
    pub fn pseudo_random(d: usize, layers: usize, context: usize, seed: u64) -> FrozenLstm {
        let mut rng = Normal::new(seed);
        let mut vector = |n: usize, mean: f32, std: f32| (0..n).map(|_| mean + std * rng.sample()).collect::<Vec<_>>();
        let std = 1.0 / (d as f32).sqrt();
        let mut layer_list = Vec::with_capacity(layers);
        for _ in 0..layers {
            let ih = Dense { weight: vector(d * 4 * d, 0.0, std), bias: vector(4 * d, 0.0, 0.1), d_in: d, d_out: 4 * d };
            let hh = Dense { weight: vector(d * 4 * d, 0.0, std), bias: vec![0.0; 4 * d], d_in: d, d_out: 4 * d };
            layer_list.push(FrozenLstmLayer { ih, hh });
        }
        FrozenLstm {
            d_model: d,
            context,
            layer_norm_eps: 1e-5,
            token_embedding: vector(VOCAB * d, 0.0, 1.0),
            layers: layer_list,
            final_norm: Norm { gamma: vector(d, 1.0, 0.1), beta: vector(d, 0.0, 0.1) },
            head: Dense { weight: vector(2 * d, 0.0, std), bias: vector(2, 0.0, 0.1), d_in: d, d_out: 2 },
        }
    }

    /// Scores every prompt on every sequence: `result[i][s] = −Σ_{j=1..T} log2 P(x_j | BOS, prompts[i], x_<j)`,
    /// as [`crate::score_prompts`] does for the Transformer, bit-identical whatever the number of threads.
    ///
    /// # Shapes
    /// - `prompts`: `[n_prompts][L_i]` bits; `sequences`: `[N][T]` bits, one `T ≥ 1`; result `[n_prompts][N]`.
    ///
    /// # Errors
    /// As [`crate::score_prompts`].
    pub fn score_prompts(&self, prompts: &[Vec<u8>], sequences: &[Vec<u8>]) -> Result<Vec<Vec<f64>>, InferError> {
        self.validate()?;
        let plan = Plan::new(self.context, prompts, sequences)?;
        let table = self.input_table();
        let sorted: Vec<&[u8]> = plan.seq_order.iter().map(|&s| sequences[s].as_slice()).collect();
        let per_item: Vec<Vec<Vec<f64>>> = plan
            .items
            .par_iter()
            .map(|range| {
                // Every item starts from BOS, so what it computes does not depend on which thread ran what.
                let mut path: Vec<u8> = Vec::new();
                let mut stack = vec![self.after_bos(&table)];
                plan.order[range.clone()]
                    .iter()
                    .map(|&i| {
                        let prompt = &prompts[i];
                        let shared = path.iter().zip(prompt).take_while(|(a, b)| a == b).count();
                        path.truncate(shared);
                        stack.truncate(shared + 1);
                        for &bit in &prompt[shared..] {
                            let mut next = stack.last().expect("BOS state").clone();
                            self.step(&table, &[bit as u32], &mut next);
                            stack.push(next);
                            path.push(bit);
                        }
                        let start = stack.last().expect("prompt state");
                        let mut nats = vec![0.0f64; sorted.len()];
                        for (seqs, out) in sorted.chunks(SEQ_CHUNK).zip(nats.chunks_mut(SEQ_CHUNK)) {
                            self.run(&table, start, seqs, |s, j, log_probs| {
                                out[s] -= log_probs[seqs[s][j] as usize] as f64;
                            });
                        }
                        nats
                    })
                    .collect()
            })
            .collect();
        Ok(plan.bits_in_input_order(per_item.into_iter().flatten()))
    }

    /// `result[s][j] = [ln P(x_{j+1} = 0 | ·), ln P(x_{j+1} = 1 | ·)]` given `BOS, prompt, x_1..x_j`, as
    /// [`crate::next_bit_log_probs`] does for the Transformer.
    ///
    /// # Errors
    /// As [`crate::score_prompts`].
    pub fn next_bit_log_probs(&self, prompt: &[u8], sequences: &[Vec<u8>]) -> Result<Vec<Vec<[f32; 2]>>, InferError> {
        self.validate()?;
        let plan = Plan::new(self.context, std::slice::from_ref(&prompt.to_vec()), sequences)?;
        let table = self.input_table();
        let mut start = self.after_bos(&table);
        for &bit in prompt {
            self.step(&table, &[bit as u32], &mut start);
        }
        let t_len = plan.t_len;
        let sorted: Vec<&[u8]> = plan.seq_order.iter().map(|&s| sequences[s].as_slice()).collect();
        let per_chunk: Vec<Vec<Vec<[f32; 2]>>> = sorted
            .par_chunks(SEQ_CHUNK)
            .map(|seqs| {
                let mut out = vec![vec![[0.0f32; 2]; t_len]; seqs.len()];
                self.run(&table, &start, seqs, |s, j, log_probs| out[s][j] = log_probs);
                out
            })
            .collect();
        Ok(plan.in_sequence_order(per_chunk.into_iter().flatten()))
    }

    /// Layer 0's gate pre-activations from the input, `embedding[token]·W_ih + b`, for each of the 3 tokens
    /// (`[3, 4d]`): an exact rewrite, as a token's input projection depends on nothing else.
    fn input_table(&self) -> Vec<f32> {
        let d = self.d_model;
        let ih = &self.layers[0].ih;
        let mut table: Vec<f32> = (0..VOCAB).flat_map(|_| ih.bias.iter().copied()).collect();
        matmul(VOCAB, 4 * d, d, &self.token_embedding, &ih.weight, &mut table, true);
        table
    }

    /// The one-row state after BOS.
    fn after_bos(&self, table: &[f32]) -> States {
        let mut state = States::zeros(self.n_layers(), 1, self.d_model);
        self.step(table, &[BOS], &mut state);
        state
    }

    /// Advances each row of `state` by its token in `tokens` (one per row), through every layer; compiled with
    /// AVX2 + FMA where the CPU has them, so that the gates' `exp` runs 8 lanes wide with hardware fused
    /// multiply-adds (the same operations either way, so the same bits).
    fn step(&self, table: &[f32], tokens: &[u32], state: &mut States) {
        #[cfg(target_arch = "x86_64")]
        if crate::engine::has_avx2_fma() {
            // SAFETY: the CPU supports AVX2 and FMA.
            unsafe { self.step_avx2(table, tokens, state) };
            return;
        }
        self.step_portable(table, tokens, state);
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn step_avx2(&self, table: &[f32], tokens: &[u32], state: &mut States) {
        self.step_portable(table, tokens, state);
    }

    #[inline(always)]
    fn step_portable(&self, table: &[f32], tokens: &[u32], state: &mut States) {
        let (d, rows) = (self.d_model, tokens.len());
        let mut gates = vec![0.0f32; rows * 4 * d];
        for (l, layer) in self.layers.iter().enumerate() {
            if l == 0 {
                for (row, &token) in gates.chunks_exact_mut(4 * d).zip(tokens) {
                    row.copy_from_slice(&table[token as usize * 4 * d..(token as usize + 1) * 4 * d]);
                }
            } else {
                for row in gates.chunks_exact_mut(4 * d) {
                    row.copy_from_slice(&layer.ih.bias);
                }
                matmul(rows, 4 * d, d, &state.h[l - 1], &layer.ih.weight, &mut gates, true);
            }
            matmul(rows, 4 * d, d, &state.h[l], &layer.hh.weight, &mut gates, true);
            let (h, c) = (state.h[l].chunks_exact_mut(d), state.c[l].chunks_exact_mut(d));
            // One pass per operation over contiguous slices, so that each loop vectorises.
            for ((g, h), c) in gates.chunks_exact_mut(4 * d).zip(h).zip(c) {
                let (sigmoids, candidate) = g.split_at_mut(3 * d);
                sigmoids.iter_mut().for_each(|v| *v = sigmoid(*v));
                candidate.iter_mut().for_each(|v| *v = tanh(*v));
                let (input, rest) = sigmoids.split_at(d);
                let (forget, output) = rest.split_at(d);
                for (((c, &f), &i), &g) in c.iter_mut().zip(forget).zip(input).zip(candidate.iter()) {
                    *c = f * *c + i * g;
                }
                for ((h, &o), &c) in h.iter_mut().zip(output).zip(c.iter()) {
                    *h = o * tanh(c);
                }
            }
        }
    }

    /// `[ln P(0), ln P(1)]` of the next bit from each row's top-layer state.
    fn log_probs(&self, state: &States, rows: usize, mut emit: impl FnMut(usize, [f32; 2])) {
        let d = self.d_model;
        let top = state.h.last().expect("at least one layer");
        let mut normed = vec![0.0f32; d];
        for (r, h) in top.chunks_exact(d).take(rows).enumerate() {
            emit(r, head_log_probs(&self.final_norm, &self.head, self.layer_norm_eps, h, &mut normed));
        }
    }

    /// Runs `seqs` (T bits each) from `start`, the one-row state after `BOS, prompt`, calling
    /// `emit(s, j, [ln P(0), ln P(1)])` for the prediction of `seqs[s][j]`, `j = 0..T`.
    fn run(&self, table: &[f32], start: &States, seqs: &[&[u8]], mut emit: impl FnMut(usize, usize, [f32; 2])) {
        let t_len = seqs[0].len();
        // Position 0's prediction is the prompt's own, shared by every sequence.
        let mut first = [0.0f32; 2];
        self.log_probs(start, 1, |_, lp| first = lp);
        for s in 0..seqs.len() {
            emit(s, 0, first);
        }
        let mut state = States::broadcast(start, seqs.len());
        let mut tokens = vec![0u32; seqs.len()];
        for j in 1..t_len {
            for (token, seq) in tokens.iter_mut().zip(seqs) {
                *token = seq[j - 1] as u32;
            }
            self.step(table, &tokens, &mut state);
            self.log_probs(&state, seqs.len(), |s, lp| emit(s, j, lp));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::all_prompts;

    /// The recurrence in f64, one token at a time, no sharing: `[ln P(0), ln P(1)]` after each input.
    fn oracle(model: &FrozenLstm, tokens: &[u32]) -> Vec<[f64; 2]> {
        let d = model.d_model;
        let sigma = |v: f64| 1.0 / (1.0 + (-v).exp());
        let (mut h, mut c) = (vec![vec![0.0f64; d]; model.n_layers()], vec![vec![0.0f64; d]; model.n_layers()]);
        let mut out = Vec::new();
        for &token in tokens {
            let mut x: Vec<f64> = model.token_embedding[token as usize * d..(token as usize + 1) * d].iter().map(|&v| v as f64).collect();
            for (l, layer) in model.layers.iter().enumerate() {
                let pre: Vec<f64> = (0..4 * d)
                    .map(|o| {
                        layer.ih.bias[o] as f64
                            + (0..d).map(|k| x[k] * layer.ih.weight[k * 4 * d + o] as f64 + h[l][k] * layer.hh.weight[k * 4 * d + o] as f64).sum::<f64>()
                    })
                    .collect();
                for j in 0..d {
                    c[l][j] = sigma(pre[d + j]) * c[l][j] + sigma(pre[j]) * pre[3 * d + j].tanh();
                    h[l][j] = sigma(pre[2 * d + j]) * c[l][j].tanh();
                }
                x = h[l].clone();
            }
            let mean = x.iter().sum::<f64>() / d as f64;
            let var = x.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / d as f64;
            let normed: Vec<f64> = (0..d)
                .map(|j| (x[j] - mean) / (var + model.layer_norm_eps as f64).sqrt() * model.final_norm.gamma[j] as f64 + model.final_norm.beta[j] as f64)
                .collect();
            let logit = |b: usize| model.head.bias[b] as f64 + (0..d).map(|k| normed[k] * model.head.weight[2 * k + b] as f64).sum::<f64>();
            let (l0, l1) = (logit(0), logit(1));
            let top = l0.max(l1);
            let log_sum = top + ((l0 - top).exp() + (l1 - top).exp()).ln();
            out.push([l0 - log_sum, l1 - log_sum]);
        }
        out
    }

    fn sequences(n: usize, t: usize) -> Vec<Vec<u8>> {
        (0..n).map(|s| (0..t).map(|j| ((s * 7 + j * j * 3 + s * j) % 5 < 2) as u8).collect()).collect()
    }

    #[test]
    fn scores_match_the_f64_oracle_for_every_prompt_up_to_3() {
        let model = FrozenLstm::pseudo_random(12, 2, 16, 1);
        let (prompts, seqs) = (all_prompts(3), sequences(70, 9));
        let scores = model.score_prompts(&prompts, &seqs).unwrap();
        for (prompt, row) in prompts.iter().zip(&scores) {
            for (seq, &got) in seqs.iter().zip(row) {
                let mut tokens = vec![BOS];
                tokens.extend(prompt.iter().chain(&seq[..seq.len() - 1]).map(|&b| b as u32));
                let log_probs = oracle(&model, &tokens);
                let want: f64 = log_probs[prompt.len()..].iter().zip(seq).map(|(lp, &x)| -lp[x as usize]).sum::<f64>() / std::f64::consts::LN_2;
                assert!((got - want).abs() <= 1e-4 * want.max(1.0), "prompt {prompt:?}: {got} vs {want}");
            }
        }
    }

    #[test]
    fn results_do_not_depend_on_the_number_of_threads() {
        let model = FrozenLstm::pseudo_random(8, 2, 16, 2);
        let (prompts, seqs) = (all_prompts(5), sequences(130, 10));
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| (model.score_prompts(&prompts, &seqs).unwrap(), model.next_bit_log_probs(&[1, 0], &seqs).unwrap()))
        };
        assert_eq!(run(1), run(3));
    }

    #[test]
    fn malformed_models_and_requests_are_errors_that_name_the_problem() {
        let mut model = FrozenLstm::pseudo_random(4, 1, 8, 3);
        assert!(matches!(model.score_prompts(&[vec![0; 5]], &sequences(2, 4)), Err(InferError::PromptTooLong { needed: 9, .. })));
        model.layers[0].hh.bias[0] = 1.0;
        assert!(model.validate().unwrap_err().to_string().contains("layers[0].hh.bias must be zero"));
        model.layers[0].hh.bias[0] = 0.0;
        model.layers[0].ih.weight.pop();
        assert!(matches!(model.validate(), Err(InferError::Shape { ref field, .. }) if field == "layers[0].ih.weight"));
    }
}
