//! The engine behind [`crate::score_prompts`]: the BOS + prompt prefix is shared by every task sequence, so its
//! keys and values are computed once per prompt (and extended token by token along a depth-first walk of the
//! prompts), and the task rows of a chunk of sequences go through the model as one batch of gemm calls.
//!
//! Exact rewrites only (results equal the plain forward up to `f32` rounding):
//! - the prompt's K/V cache is shared by all sequences and reused by the next prompt of the walk;
//! - layer 0's LayerNorm + QKV of a task row depends only on (token, position), so it is computed once per
//!   prompt length for both bits and gathered ([`TaskInputs`]);
//! - sequences (sorted) that share a prefix `x_1..x_j` share its task rows, computed once ([`RowMap`]);
//! - attention scores are scaled by folding `1/√head_dim` into the query columns of the fused QKV weight.
//!
//! The batch code and the prompt-token step are compiled twice: as is, and inside a
//! `#[target_feature(enable = "avx2,fma")]` wrapper chosen at run time, so that their element-wise loops
//! vectorise 8-wide with hardware fused multiply-adds; attention has explicit AVX2 kernels. A machine always
//! takes the same path, so results do not depend on scheduling.

use crate::attention::{attend_head, softmax_in_place, HeadJob};
use crate::math::{self, add_bias, matmul};
use crate::model::{FrozenTransformer, BOS};

/// The model rearranged for the engine: fused QKV weights per block.
pub(crate) struct Prepared<'m> {
    pub model: &'m FrozenTransformer,
    pub d: usize,
    pub heads: usize,
    pub hd: usize,
    pub mlp: usize,
    pub eps: f32,
    /// Per block: `[d, 3d]` row-major `[q·s | k | v]` with `s = 1/√head_dim`.
    pub qkv_weight: Vec<Vec<f32>>,
    /// Per block: `[3d]`, `[bq·s | bk | bv]`.
    pub qkv_bias: Vec<Vec<f32>>,
}

impl<'m> Prepared<'m> {
    pub fn new(model: &'m FrozenTransformer) -> Self {
        let (d, hd) = (model.d_model, model.head_dim());
        let scale = 1.0 / (hd as f32).sqrt();
        let mut qkv_weight = Vec::with_capacity(model.n_layers());
        let mut qkv_bias = Vec::with_capacity(model.n_layers());
        for block in &model.blocks {
            let mut w = vec![0.0; d * 3 * d];
            for i in 0..d {
                let row = &mut w[i * 3 * d..(i + 1) * 3 * d];
                for o in 0..d {
                    row[o] = block.q.weight[i * d + o] * scale;
                    row[d + o] = block.k.weight[i * d + o];
                    row[2 * d + o] = block.v.weight[i * d + o];
                }
            }
            let mut b: Vec<f32> = block.q.bias.iter().map(|b| b * scale).collect();
            b.extend_from_slice(&block.k.bias);
            b.extend_from_slice(&block.v.bias);
            qkv_weight.push(w);
            qkv_bias.push(b);
        }
        Prepared {
            model,
            d,
            heads: model.n_heads,
            hd,
            mlp: model.mlp_width(),
            eps: model.layer_norm_eps,
            qkv_weight,
            qkv_bias,
        }
    }

    fn layers(&self) -> usize {
        self.model.blocks.len()
    }
}

/// Layer-0 inputs of the task rows for one prompt length `L`: the row of token `b ∈ {0, 1}` at position
/// `L + 1 + i` (i = 0..T−1) is the same in every sequence and for every prompt of that length.
///
/// # Shapes
/// - `x`: `[2, T−1, d]` (embedding + position), `qkv`: `[2, T−1, 3d]` (layer 0's `LN_a` + fused QKV; empty
///   for a model without blocks).
pub(crate) struct TaskInputs {
    pub x: Vec<f32>,
    pub qkv: Vec<f32>,
}

impl TaskInputs {
    pub fn new(prep: &Prepared, prompt_len: usize, nq: usize) -> Self {
        let (d, model) = (prep.d, prep.model);
        let rows = 2 * nq;
        let mut x = vec![0.0; rows * d];
        for tok in 0..2 {
            for i in 0..nq {
                let pos = prompt_len + 1 + i;
                let row = &mut x[(tok * nq + i) * d..][..d];
                for (c, v) in row.iter_mut().enumerate() {
                    *v = model.token_embedding[tok * d + c] + model.positions[pos * d + c];
                }
            }
        }
        let qkv = match model.blocks.first() {
            Some(block) => {
                let mut h = vec![0.0; rows * d];
                for (xr, hr) in x.chunks_exact(d).zip(h.chunks_exact_mut(d)) {
                    let norm = &block.attention_norm;
                    math::layer_norm(xr, &norm.gamma, &norm.beta, prep.eps, hr);
                }
                let mut qkv = vec![0.0; rows * 3 * d];
                matmul(rows, 3 * d, d, &h, &prep.qkv_weight[0], &mut qkv, false);
                add_bias(&mut qkv, &prep.qkv_bias[0]);
                qkv
            }
            None => Vec::new(),
        };
        TaskInputs { x, qkv }
    }
}

/// Scratch of one rayon task: the prompt's K/V cache and the batch activations. Allocated once per task, so
/// the hot loop does not allocate.
pub(crate) struct Workspace {
    /// The CPU has AVX2 and FMA: use the vector kernels.
    avx2: bool,
    /// Prompt tokens whose positions `1..=path.len()` are in the cache (BOS at 0 once `started`).
    path: Vec<u8>,
    started: bool,
    /// `[layers, context, d]` keys and values of BOS + the current prompt.
    k_cache: Vec<f32>,
    v_cache: Vec<f32>,
    /// `[context]`: `[ln P(0), ln P(1)]` predicted at each cached position.
    prompt_lp: Vec<[f32; 2]>,
    /// Batch activations: residual `x` and normed `h` `[rows, d]`, `qkv` `[rows, 3d]`, attention output
    /// `ctx` `[rows, d]`, MLP hidden `u` `[rows, mlp]`.
    x: Vec<f32>,
    h: Vec<f32>,
    qkv: Vec<f32>,
    ctx: Vec<f32>,
    u: Vec<f32>,
    /// Attention scratch: keys transposed `[heads, hd, kpad]`, task values `[heads, nq, hd]`, scores `[4, kpad]`.
    kt: Vec<f32>,
    vt: Vec<f32>,
    scores: Vec<f32>,
    /// The chunk's distinct task rows and their next-bit log-probabilities `[rows]`.
    rows: RowMap,
    row_lp: Vec<[f32; 2]>,
}

/// Keys are processed 8 at a time (one AVX2 register); scratch rows are padded to this.
const LANES: usize = 8;

/// Whether the AVX2 + FMA kernels can run on this CPU.
pub(crate) fn has_avx2_fma() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

fn round_up(n: usize, to: usize) -> usize {
    n.div_ceil(to) * to
}

impl Workspace {
    /// Scratch for batches of up to `max_rows` task rows.
    pub fn new(prep: &Prepared, max_rows: usize) -> Self {
        let (d, model) = (prep.d, prep.model);
        let rows = max_rows.max(1);
        let cache = prep.layers() * model.context * d;
        let kpad = round_up(model.context, LANES);
        Workspace {
            avx2: has_avx2_fma(),
            path: Vec::with_capacity(model.context),
            started: false,
            k_cache: vec![0.0; cache],
            v_cache: vec![0.0; cache],
            prompt_lp: vec![[0.0; 2]; model.context],
            x: vec![0.0; rows * d],
            h: vec![0.0; rows * d],
            qkv: vec![0.0; rows * 3 * d],
            ctx: vec![0.0; rows * d],
            u: vec![0.0; rows * prep.mlp],
            kt: vec![0.0; prep.d * kpad],
            vt: vec![0.0; model.context * d],
            scores: vec![0.0; 4 * kpad],
            rows: RowMap::default(),
            row_lp: vec![[0.0; 2]; rows],
        }
    }

    /// Forgets the cached prompt (the next [`Workspace::set_prompt`] recomputes it from BOS).
    pub fn reset(&mut self) {
        self.started = false;
        self.path.clear();
    }

    /// Makes the cache hold BOS + `prompt`, reusing the common prefix with the prompt cached now (one token's
    /// forward per new token). Returns the number of token forwards run.
    pub fn set_prompt(&mut self, prep: &Prepared, prompt: &[u8]) -> usize {
        let mut forwards = 0;
        if !self.started {
            self.forward_prompt_token(prep, 0, BOS as usize);
            self.started = true;
            self.path.clear();
            forwards += 1;
        }
        let common = self.path.iter().zip(prompt).take_while(|(a, b)| a == b).count();
        self.path.truncate(common);
        for &tok in &prompt[common..] {
            self.forward_prompt_token(prep, self.path.len() + 1, tok as usize);
            self.path.push(tok);
            forwards += 1;
        }
        forwards
    }

    /// One token at position `pos` through the model, attending to the cached positions `0..pos`; appends its
    /// keys and values to the cache and records its next-bit log-probabilities.
    fn forward_prompt_token(&mut self, prep: &Prepared, pos: usize, tok: usize) {
        #[cfg(target_arch = "x86_64")]
        if self.avx2 {
            // SAFETY: the CPU supports AVX2 and FMA (`has_avx2_fma`).
            unsafe { self.forward_prompt_token_avx2(prep, pos, tok) };
            return;
        }
        self.forward_prompt_token_portable(prep, pos, tok);
    }

    /// [`Workspace::forward_prompt_token_portable`] compiled with AVX2 + FMA (its softmax's `exp` and the GELU
    /// use fused multiply-adds, a libm call per operation without them).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn forward_prompt_token_avx2(&mut self, prep: &Prepared, pos: usize, tok: usize) {
        self.forward_prompt_token_portable(prep, pos, tok);
    }

    #[inline(always)]
    fn forward_prompt_token_portable(&mut self, prep: &Prepared, pos: usize, tok: usize) {
        let avx2 = self.avx2;
        let (d, hd, model) = (prep.d, prep.hd, prep.model);
        let context = model.context;
        let x = &mut self.x[..d];
        for (c, v) in x.iter_mut().enumerate() {
            *v = model.token_embedding[tok * d + c] + model.positions[pos * d + c];
        }
        for (layer, block) in model.blocks.iter().enumerate() {
            let h = &mut self.h[..d];
            math::layer_norm(x, &block.attention_norm.gamma, &block.attention_norm.beta, prep.eps, h);
            let qkv = &mut self.qkv[..3 * d];
            matmul(1, 3 * d, d, h, &prep.qkv_weight[layer], qkv, false);
            add_bias(qkv, &prep.qkv_bias[layer]);
            let base = layer * context * d;
            self.k_cache[base + pos * d..][..d].copy_from_slice(&qkv[d..2 * d]);
            self.v_cache[base + pos * d..][..d].copy_from_slice(&qkv[2 * d..]);
            let ctx = &mut self.ctx[..d];
            for head in 0..prep.heads {
                let q = &qkv[head * hd..][..hd];
                let scores = &mut self.scores[..=pos];
                for (key, s) in scores.iter_mut().enumerate() {
                    let k = &self.k_cache[base + key * d + head * hd..][..hd];
                    *s = q.iter().zip(k).map(|(a, b)| a * b).sum();
                }
                let total = softmax_in_place(scores);
                let out = &mut ctx[head * hd..][..hd];
                out.fill(0.0);
                for (key, p) in scores.iter().enumerate() {
                    let v = &self.v_cache[base + key * d + head * hd..][..hd];
                    for (o, v) in out.iter_mut().zip(v) {
                        *o += p * v;
                    }
                }
                let inv = 1.0 / total;
                out.iter_mut().for_each(|o| *o *= inv);
            }
            matmul(1, d, d, ctx, &block.o.weight, x, true);
            add_bias(x, &block.o.bias);
            math::layer_norm(x, &block.mlp_norm.gamma, &block.mlp_norm.beta, prep.eps, h);
            let u = &mut self.u[..prep.mlp];
            matmul(1, prep.mlp, d, h, &block.mlp_in.weight, u, false);
            math::bias_gelu(u, &block.mlp_in.bias, avx2);
            matmul(1, d, prep.mlp, u, &block.mlp_out.weight, x, true);
            add_bias(x, &block.mlp_out.bias);
        }
        self.prompt_lp[pos] = head_log_probs(prep, x, &mut self.h[..d]);
    }

    /// Adds to `scores[s]` the summed negative log-likelihood in nats of `seqs[s]` given BOS + the cached
    /// prompt, for a chunk of sequences of one length `T`.
    ///
    /// # Shapes
    /// - `seqs`: `[ns][T]` bits; `scores`: `[ns]`; rows of the batch: `ns · (T − 1)`, row `s·(T−1) + i` is
    ///   token `x_{i+1}` at position `L + 1 + i`, predicting `x_{i+2}`.
    pub fn score_chunk(&mut self, prep: &Prepared, inputs: &TaskInputs, seqs: &[&[u8]], scores: &mut [f64]) {
        self.forward_chunk(prep, inputs, seqs);
        let first = self.prompt_lp[self.path.len()];
        let nq = seqs[0].len() - 1;
        for (s, (score, seq)) in scores.iter_mut().zip(seqs).enumerate() {
            *score -= first[seq[0] as usize] as f64;
            if nq > 0 {
                let total: f64 = (0..nq).map(|i| self.row_lp[self.rows.row(s, i)][seq[i + 1] as usize] as f64).sum();
                *score -= total;
            }
        }
    }

    /// The next-bit log-probabilities `[ln P(0), ln P(1)]` at every position of `seqs[s]` given BOS + the cached
    /// prompt, into `out[s]` (`T` entries: position `j` predicts `x_{j+1}`).
    pub fn chunk_log_probs(&mut self, prep: &Prepared, inputs: &TaskInputs, seqs: &[&[u8]], out: &mut [Vec<[f32; 2]>]) {
        self.forward_chunk(prep, inputs, seqs);
        let first = self.prompt_lp[self.path.len()];
        let nq = seqs[0].len() - 1;
        for (s, lps) in out.iter_mut().enumerate() {
            lps.clear();
            lps.push(first);
            lps.extend((0..nq).map(|i| self.row_lp[self.rows.row(s, i)]));
        }
    }

    /// Runs the distinct task rows of a chunk through the model, leaving their next-bit log-probabilities in
    /// `row_lp` (indexed through `rows`); `x_1` is predicted by the cached prompt's last position.
    fn forward_chunk(&mut self, prep: &Prepared, inputs: &TaskInputs, seqs: &[&[u8]]) {
        #[cfg(target_arch = "x86_64")]
        if self.avx2 {
            // SAFETY: the CPU supports AVX2 and FMA (`has_avx2_fma`).
            unsafe { self.forward_chunk_avx2(prep, inputs, seqs) };
            return;
        }
        self.forward_chunk_portable(prep, inputs, seqs);
    }

    /// [`Workspace::forward_chunk_portable`] compiled with AVX2 + FMA, so that the element-wise kernels inlined
    /// into it are vectorised 8-wide (the default x86-64 target only has SSE2).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn forward_chunk_avx2(&mut self, prep: &Prepared, inputs: &TaskInputs, seqs: &[&[u8]]) {
        self.forward_chunk_portable(prep, inputs, seqs);
    }

    #[inline(always)]
    fn forward_chunk_portable(&mut self, prep: &Prepared, inputs: &TaskInputs, seqs: &[&[u8]]) {
        let avx2 = self.avx2;
        let (d, mlp, model) = (prep.d, prep.mlp, prep.model);
        let l = self.path.len();
        let nq = seqs[0].len() - 1;
        if nq == 0 {
            return;
        }
        self.rows.build(seqs, nq);
        let m = self.rows.count;
        // Layer-0 inputs of the distinct rows, gathered from the per-(token, position) table.
        for (s, seq) in seqs.iter().enumerate() {
            for i in self.rows.shared[s]..nq {
                let (row, src) = (self.rows.row(s, i), seq[i] as usize * nq + i);
                self.x[row * d..][..d].copy_from_slice(&inputs.x[src * d..][..d]);
                if !model.blocks.is_empty() {
                    self.qkv[row * 3 * d..][..3 * d].copy_from_slice(&inputs.qkv[src * 3 * d..][..3 * d]);
                }
            }
        }
        let (x, h, qkv, ctx, u) = (
            &mut self.x[..m * d],
            &mut self.h[..m * d],
            &mut self.qkv[..m * 3 * d],
            &mut self.ctx[..m * d],
            &mut self.u[..m * mlp],
        );
        for (layer, block) in model.blocks.iter().enumerate() {
            if layer > 0 {
                let norm = &block.attention_norm;
                for (xr, hr) in x.chunks_exact(d).zip(h.chunks_exact_mut(d)) {
                    math::layer_norm(xr, &norm.gamma, &norm.beta, prep.eps, hr);
                }
                matmul(m, 3 * d, d, h, &prep.qkv_weight[layer], qkv, false);
                add_bias(qkv, &prep.qkv_bias[layer]);
            }
            let cache = layer * model.context * d..layer * model.context * d + (l + 1) * d;
            let attention = Attention {
                prep,
                k_cache: &self.k_cache[cache.clone()],
                v_cache: &self.v_cache[cache],
                rows: &self.rows,
                nq,
                avx2,
            };
            attention.run(qkv, ctx, &mut self.kt, &mut self.vt, &mut self.scores);
            matmul(m, d, d, ctx, &block.o.weight, x, true);
            add_bias(x, &block.o.bias);
            let norm = &block.mlp_norm;
            for (xr, hr) in x.chunks_exact(d).zip(h.chunks_exact_mut(d)) {
                math::layer_norm(xr, &norm.gamma, &norm.beta, prep.eps, hr);
            }
            matmul(m, mlp, d, h, &block.mlp_in.weight, u, false);
            math::bias_gelu(u, &block.mlp_in.bias, avx2);
            matmul(m, d, mlp, u, &block.mlp_out.weight, x, true);
            add_bias(x, &block.mlp_out.bias);
        }
        let hr = &mut h[..d];
        for (lp, xr) in self.row_lp.iter_mut().zip(x.chunks_exact(d)) {
            *lp = head_log_probs(prep, xr, hr);
        }
    }
}

/// Distinct task rows of a chunk of sequences sorted lexicographically: row `i` (token `x_{i+1}` at position
/// `L + 1 + i`) depends only on `x_1..x_{i+1}`, so sequence `s` reuses the rows `i < shared[s]` of sequence
/// `s − 1`, where `shared[s]` is the length of their common prefix among the first `T − 1` tokens. Exact.
/// The new rows of each sequence are consecutive: `start[s]..start[s] + nq − shared[s]`.
#[derive(Default)]
pub(crate) struct RowMap {
    /// Rows per sequence, `T − 1`.
    nq: usize,
    /// Per sequence: how many leading rows it shares with the previous sequence (0 for the first).
    pub shared: Vec<usize>,
    /// Per sequence: index of its first new row.
    start: Vec<usize>,
    /// `[ns, nq]`: index of row `i` of sequence `s` among the distinct rows.
    row_of: Vec<usize>,
    /// Number of distinct rows.
    pub count: usize,
}

impl RowMap {
    pub fn build(&mut self, seqs: &[&[u8]], nq: usize) {
        self.nq = nq;
        self.shared.clear();
        self.start.clear();
        self.row_of.clear();
        self.count = 0;
        for (s, seq) in seqs.iter().enumerate() {
            let shared = match s {
                0 => 0,
                _ => seqs[s - 1][..nq].iter().zip(&seq[..nq]).take_while(|(a, b)| a == b).count(),
            };
            self.shared.push(shared);
            self.start.push(self.count);
            for i in 0..nq {
                let row = if i < shared { self.row_of[(s - 1) * nq + i] } else { self.count + i - shared };
                self.row_of.push(row);
            }
            self.count += nq - shared;
        }
    }

    #[inline(always)]
    pub fn row(&self, s: usize, i: usize) -> usize {
        self.row_of[s * self.nq + i]
    }
}

/// Causal attention of the distinct task rows of one chunk, for one layer: row `i` of sequence `s` attends to
/// the `P = L + 1` cached prompt positions and to the sequence's own rows `0..=i`.
///
/// # Shapes
/// - `k_cache`, `v_cache`: `[P, d]`; in `run`: `qkv` `[rows, 3d]` (`q` pre-scaled), `ctx` `[rows, d]`; scratch
///   `kt` `[heads, hd, kpad]`, `vt` `[heads, nq, hd]`, `scores` `[4, kpad]`.
struct Attention<'a> {
    prep: &'a Prepared<'a>,
    k_cache: &'a [f32],
    v_cache: &'a [f32],
    rows: &'a RowMap,
    nq: usize,
    avx2: bool,
}

impl Attention<'_> {
    #[inline(always)]
    fn run(&self, qkv: &[f32], ctx: &mut [f32], kt: &mut [f32], vt: &mut [f32], scores: &mut [f32]) {
        let (d, hd, nq) = (self.prep.d, self.prep.hd, self.nq);
        let p = self.k_cache.len() / d;
        let kpad = round_up(p + nq, LANES);
        // Keys transposed ([hd, kpad] per head) so that 8 keys' scores are one vector op per query component:
        // the prompt's columns once for the whole chunk, the task columns per sequence.
        for head in 0..self.prep.heads {
            let kt = &mut kt[head * hd * kpad..][..hd * kpad];
            for key in 0..p {
                for (c, k) in self.k_cache[key * d + head * hd..][..hd].iter().enumerate() {
                    kt[c * kpad + key] = *k;
                }
            }
        }
        for s in 0..self.rows.shared.len() {
            let first = self.rows.shared[s];
            let start = self.rows.start[s];
            if first == nq {
                continue; // the same task rows as the previous sequence: nothing new to attend
            }
            for head in 0..self.prep.heads {
                let col = head * hd;
                let kt = &mut kt[head * hd * kpad..][..hd * kpad];
                let vt = &mut vt[head * nq * hd..][..nq * hd];
                // Task keys and values of this sequence's rows. Rows `< first` are the previous sequence's, whose
                // keys and values are already in place (sequences are visited in order; the first shares none).
                for i in first..nq {
                    let row = &qkv[self.rows.row(s, i) * 3 * d..][..3 * d];
                    for (c, k) in row[d + col..][..hd].iter().enumerate() {
                        kt[c * kpad + p + i] = *k;
                    }
                    vt[i * hd..][..hd].copy_from_slice(&row[2 * d + col..][..hd]);
                }
                let mut job = HeadJob {
                    kt,
                    kpad,
                    v_prompt: &self.v_cache[col..],
                    vp_stride: d,
                    v_task: vt,
                    vt_stride: hd,
                    q: &qkv[start * 3 * d + col..],
                    q_stride: 3 * d,
                    out: &mut ctx[start * d + col..],
                    out_stride: d,
                    p,
                    first,
                    nq,
                    hd,
                    scores,
                };
                attend_head(&mut job, self.avx2);
            }
        }
    }
}

/// [`math::head_log_probs`] with the frozen Transformer's final norm and head.
#[inline(always)]
fn head_log_probs(prep: &Prepared, x: &[f32], h: &mut [f32]) -> [f32; 2] {
    math::head_log_probs(&prep.model.final_norm, &prep.model.head, prep.eps, x, h)
}
