//! Causal multi-head attention on plain row-major `f32` slices, forward and backward, one sequence per
//! parallel task (sequences are independent, so the result does not depend on the thread count).
//!
//! Once per sequence the kernel splits the heads into small contiguous tiles (one pass over the rows), then
//! works in register-sized blocks: scores for [`ROWS`] queries × 8 keys at a time from Kᵀ (vectorised over keys),
//! the weighted sums `P V` (and `dS K` backward) for several heads side by side, 64 columns of every row at once,
//! and, in the backward pass, dK and dV as column sums over the kept `dS` and `P`, so that every output row is
//! accumulated in registers once. Every sum runs in the same order as a plain one-row, one-head loop would run
//! it: blocking only puts independent sums side by side, which is what the latency-bound chains needed.
//! `HEAD_DIM` is a compile-time constant for the head widths in [`SUPPORTED_HEAD_DIMS`]; other widths take
//! burn's decomposition.

use std::mem::MaybeUninit;

use adaptbench_infer::{exp, max, sum};
use rayon::prelude::*;

use super::buffer::{assume_init, uninit, written};

/// Head widths with a compiled kernel.
pub const SUPPORTED_HEAD_DIMS: [usize; 6] = [4, 8, 16, 32, 64, 128];

/// Keys per score block: one AVX2 register of `f32`.
const BLOCK: usize = 8;

/// Shapes of a causal self-attention call: `q`, `k`, `v` and the output are `[batch, seq, heads·head_dim]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttentionShape {
    pub batch: usize,
    pub seq: usize,
    pub heads: usize,
    pub head_dim: usize,
}

impl AttentionShape {
    fn d_model(&self) -> usize {
        self.heads * self.head_dim
    }

    /// Elements of one sequence's `[seq, d_model]` slab.
    fn slab(&self) -> usize {
        self.seq * self.d_model()
    }

    /// Elements of one sequence's attention weights: per head, the causal rows packed one after the other.
    fn weights(&self) -> usize {
        self.heads * self.triangle()
    }

    /// Elements of one head's packed causal rows, row `i` holding keys `0..=i`: `seq(seq + 1)/2`.
    fn triangle(&self) -> usize {
        self.seq * (self.seq + 1) / 2
    }

    /// Score blocks covering `seq` keys.
    fn blocks(&self) -> usize {
        self.seq.div_ceil(BLOCK)
    }

    /// `seq` rounded up to whole groups of [`ROWS`] queries.
    fn padded_seq(&self) -> usize {
        self.seq.div_ceil(ROWS) * ROWS
    }
}

/// One parallel task's scratch, reused from one sequence to the next (rayon's `for_each_init`), so that a
/// sequence allocates and zero-fills nothing: the per-head splits and the score rows.
#[derive(Default)]
struct Scratch {
    /// Kᵀ (forward) or Vᵀ (backward) in key blocks.
    keys: Vec<f32>,
    /// Q split by head: scaled by 1/√d_h forward, as is backward.
    queries: Vec<f32>,
    /// dO split by head (backward).
    upstream: Vec<f32>,
    /// The current query rows' scores (forward) or every head's dS (backward).
    scores: Vec<f32>,
}

/// `buffer` at length `len`, its contents unspecified (what the previous sequence left, zeros where it grew).
fn resized(buffer: &mut Vec<f32>, len: usize) -> &mut [f32] {
    buffer.resize(len, 0.0);
    buffer
}

/// Offset of causal row `i` in a head's packed weights: `i(i + 1)/2`.
#[inline(always)]
fn row_start(i: usize) -> usize {
    i * (i + 1) / 2
}

/// Query rows whose scores are computed together: independent sums in flight while each one still runs over
/// the head's columns in ascending order.
const ROWS: usize = 4;

/// `out[r·stride + 8b + l] = Σ_c x[r][c] · t[c·blocks + b][l]` for the first `rows` of the [`ROWS`] rows `x`
/// (the others, padding past the last query, are computed but not stored) and the key blocks `b < covered_blocks`
/// of the transposed head `t`: scores `Q Kᵀ` forward and `dO Vᵀ` backward. Each sum runs over `c` in ascending
/// order, as it would one row and one block at a time.
#[inline(always)]
fn block_dots<const HD: usize>(x: &[[f32; HD]; ROWS], rows: usize, t: &[[f32; BLOCK]], blocks: usize, covered_blocks: usize, out: &mut [f32], stride: usize) {
    for b in 0..covered_blocks {
        let mut acc = [[0.0f32; BLOCK]; ROWS];
        for c in 0..HD {
            let keys = &t[c * blocks + b];
            for r in 0..ROWS {
                for l in 0..BLOCK {
                    acc[r][l] += x[r][c] * keys[l];
                }
            }
        }
        for (r, acc) in acc.iter().enumerate().take(rows) {
            out[r * stride + b * BLOCK..][..BLOCK].copy_from_slice(acc);
        }
    }
}

/// `O = softmax(Q Kᵀ/√d_h + M) V` per head, `M` 0 on and below the diagonal and −∞ above. Returns `O` and
/// the weights `P` on and below the diagonal, which the backward pass reuses: per sequence and head, row `i`'s
/// `i + 1` weights at [`row_start`]`(i)` (the zeros above the diagonal are neither stored nor read).
pub fn attention_forward(q: &[f32], k: &[f32], v: &[f32], shape: AttentionShape) -> (Vec<f32>, Vec<f32>) {
    assert!(SUPPORTED_HEAD_DIMS.contains(&shape.head_dim), "no compiled kernel for head_dim {}", shape.head_dim);
    let mut out = uninit(shape.batch * shape.slab());
    let mut weights = uninit(shape.batch * shape.weights());
    out.par_chunks_mut(shape.slab())
        .zip(weights.par_chunks_mut(shape.weights()))
        .zip(q.par_chunks(shape.slab()).zip(k.par_chunks(shape.slab())).zip(v.par_chunks(shape.slab())))
        .for_each_init(Scratch::default, |scratch, ((out, weights), ((q, k), v))| forward_sequence(q, k, v, shape, out, weights, scratch));
    // SAFETY: every sequence's slab of `out` gets every row's `HD` columns of every head, and its weights every
    // head's rows `0..seq` of lengths `1..=seq`, which tile the packed triangles exactly.
    unsafe { (assume_init(out), assume_init(weights)) }
}

multiversion! {
    fn forward_sequence(
        q: &[f32],
        k: &[f32],
        v: &[f32],
        shape: AttentionShape,
        out: &mut [MaybeUninit<f32>],
        weights: &mut [MaybeUninit<f32>],
        scratch: &mut Scratch,
    ) {
        match shape.head_dim {
            4 => forward_heads::<4>(q, k, v, shape, out, weights, scratch),
            8 => forward_heads::<8>(q, k, v, shape, out, weights, scratch),
            16 => forward_heads::<16>(q, k, v, shape, out, weights, scratch),
            32 => forward_heads::<32>(q, k, v, shape, out, weights, scratch),
            64 => forward_heads::<64>(q, k, v, shape, out, weights, scratch),
            128 => forward_heads::<128>(q, k, v, shape, out, weights, scratch),
            other => unreachable!("head_dim {other} was checked against SUPPORTED_HEAD_DIMS"),
        }
    }
}

#[inline(always)]
fn forward_heads<const HD: usize>(
    q: &[f32],
    k: &[f32],
    v: &[f32],
    shape: AttentionShape,
    out: &mut [MaybeUninit<f32>],
    weights: &mut [MaybeUninit<f32>],
    scratch: &mut Scratch,
) {
    let (seq, blocks, padded) = (shape.seq, shape.blocks(), shape.padded_seq());
    let scale = 1.0 / (HD as f32).sqrt();
    let kt_heads = split_heads_transposed::<HD>(k, shape, &mut scratch.keys);
    let q_heads = split_heads::<HD>(q, shape, scale, &mut scratch.queries);
    let stride = blocks * BLOCK;
    // Every score a row reads is written first (`block_dots` covers the row's blocks).
    let scores = resized(&mut scratch.scores, ROWS * stride);
    for (h, mut weights) in weights.chunks_exact_mut(shape.triangle()).enumerate() {
        // Kᵀ in key blocks, kt[c·blocks + b][l] = K[8b + l][c], of this head.
        let kt = &kt_heads[h * HD * blocks..][..HD * blocks];
        let qh = &q_heads[h * padded..][..padded];
        for first in (0..seq).step_by(ROWS) {
            let rows = ROWS.min(seq - first);
            let queries = qh[first..].first_chunk::<ROWS>().expect("queries are padded to whole groups of ROWS");
            block_dots(queries, rows, kt, blocks, (first + rows).div_ceil(BLOCK), scores, stride);
            for (r, scores) in scores.chunks_exact_mut(stride).take(rows).enumerate() {
                let i = first + r;
                let (p_row, rest) = std::mem::take(&mut weights).split_at_mut(i + 1);
                weights = rest;
                // The exponentials run over whole blocks (no scalar tail); the keys past `i` are not used.
                let covered = (i + 1).div_ceil(BLOCK) * BLOCK;
                let row_max = max(&scores[..=i]);
                for s in &mut scores[..covered] {
                    *s = exp(*s - row_max);
                }
                // Normalised straight into the kept weights.
                let e = &scores[..=i];
                let inverse_total = 1.0 / sum(e);
                for (p, s) in p_row.iter_mut().zip(e) {
                    p.write(s * inverse_total);
                }
            }
        }
    }
    // SAFETY: the loop above wrote every head's rows `0..seq` of lengths `1..=seq`, which tile `weights`.
    let weights = unsafe { written(weights) };
    let triangle = shape.triangle();
    combine_rows::<HD>(|h, i| &weights[h * triangle + row_start(i)..][..=i], v, shape, out);
}

/// `out[i][head h] = Σ_{j ≤ i} c_h(i)[j] · rows[j][head h]` for every row `i` and head `h`, where
/// `coefficients(h, i)` is `c_h(i)`, `i + 1` long: `O = P V` forward and `dQ = dS K` backward. Each element sums
/// over `j` in ascending order; heads are taken 64 columns at a time (several heads side by side), so that eight
/// register-wide sums are in flight rather than one head's `HD/8`.
#[inline(always)]
fn combine_rows<'a, const HD: usize>(
    coefficients: impl Fn(usize, usize) -> &'a [f32],
    rows: &[f32],
    shape: AttentionShape,
    out: &mut [MaybeUninit<f32>],
) {
    let group = (GROUP_WIDTH / HD).max(1);
    if HD <= GROUP_WIDTH && shape.heads.is_multiple_of(group) {
        for first_head in (0..shape.heads).step_by(group) {
            combine_group::<HD, GROUP_WIDTH>(&coefficients, rows, shape, first_head, out);
        }
    } else {
        for head in 0..shape.heads {
            combine_group::<HD, HD>(&coefficients, rows, shape, head, out);
        }
    }
}

/// Columns of [`combine_rows`]' accumulators: eight AVX2 registers.
const GROUP_WIDTH: usize = 64;

/// [`combine_rows`] for the `W / HD` heads from `first_head` on.
#[inline(always)]
fn combine_group<'a, const HD: usize, const W: usize>(
    coefficients: &impl Fn(usize, usize) -> &'a [f32],
    rows: &[f32],
    shape: AttentionShape,
    first_head: usize,
    out: &mut [MaybeUninit<f32>],
) {
    let (d, column) = (shape.d_model(), first_head * HD);
    // One coefficient row per head of the group: at most 64 / 4 (the narrowest head) are used.
    let mut group_rows: [&[f32]; GROUP_WIDTH] = [&[]; GROUP_WIDTH];
    for i in 0..shape.seq {
        for (g, row) in group_rows[..W / HD].iter_mut().enumerate() {
            *row = coefficients(first_head + g, i);
        }
        let mut acc = [0.0f32; W];
        for (j, values) in rows.chunks_exact(d).take(i + 1).enumerate() {
            let values = &values[column..][..W];
            for (g, row) in group_rows[..W / HD].iter().enumerate() {
                let c = row[j];
                for x in 0..HD {
                    acc[g * HD + x] += c * values[g * HD + x];
                }
            }
        }
        out[i * d + column..][..W].write_copy_of_slice(&acc);
    }
}

/// Attention gradients from `dO`: `dP = dO Vᵀ`; `dS = P ⊙ (dP − rowsum(P ⊙ dP))/√d_h`; `dQ = dS K`;
/// `dK = dSᵀ Q`; `dV = Pᵀ dO`. Returns `(dQ, dK, dV)` in the inputs' layout.
pub fn attention_backward(q: &[f32], k: &[f32], v: &[f32], weights: &[f32], d_out: &[f32], shape: AttentionShape) -> [Vec<f32>; 3] {
    let size = shape.batch * shape.slab();
    let (mut dq, mut dk, mut dv) = (uninit(size), uninit(size), uninit(size));
    dq.par_chunks_mut(shape.slab())
        .zip(dk.par_chunks_mut(shape.slab()).zip(dv.par_chunks_mut(shape.slab())))
        .zip(q.par_chunks(shape.slab()).zip(k.par_chunks(shape.slab())).zip(v.par_chunks(shape.slab())))
        .zip(weights.par_chunks(shape.weights()).zip(d_out.par_chunks(shape.slab())))
        .for_each_init(Scratch::default, |scratch, (((dq, (dk, dv)), ((q, k), v)), (weights, d_out))| {
            backward_sequence(Inputs { q, k, v, weights, d_out }, shape, Outputs { dq, dk, dv }, scratch)
        });
    // SAFETY: the backward pass writes every row's `HD` columns of every head of each of the three slabs.
    unsafe { [assume_init(dq), assume_init(dk), assume_init(dv)] }
}

/// One sequence's forward tensors and upstream gradient, for the backward pass.
struct Inputs<'a> {
    q: &'a [f32],
    k: &'a [f32],
    v: &'a [f32],
    weights: &'a [f32],
    d_out: &'a [f32],
}

/// One sequence's input gradients.
struct Outputs<'a> {
    dq: &'a mut [MaybeUninit<f32>],
    dk: &'a mut [MaybeUninit<f32>],
    dv: &'a mut [MaybeUninit<f32>],
}

multiversion! {
    fn backward_sequence(inputs: Inputs, shape: AttentionShape, outputs: Outputs, scratch: &mut Scratch) {
        match shape.head_dim {
            4 => backward_heads::<4>(inputs, shape, outputs, scratch),
            8 => backward_heads::<8>(inputs, shape, outputs, scratch),
            16 => backward_heads::<16>(inputs, shape, outputs, scratch),
            32 => backward_heads::<32>(inputs, shape, outputs, scratch),
            64 => backward_heads::<64>(inputs, shape, outputs, scratch),
            128 => backward_heads::<128>(inputs, shape, outputs, scratch),
            other => unreachable!("head_dim {other} was checked against SUPPORTED_HEAD_DIMS"),
        }
    }
}

#[inline(always)]
fn backward_heads<const HD: usize>(inputs: Inputs, shape: AttentionShape, outputs: Outputs, scratch: &mut Scratch) {
    let Inputs { q, k, v, weights, d_out } = inputs;
    let Outputs { dq, dk, dv } = outputs;
    let (seq, d, blocks, padded) = (shape.seq, shape.d_model(), shape.blocks(), shape.padded_seq());
    let scale = 1.0 / (HD as f32).sqrt();
    let stride = blocks * BLOCK;
    let vt_heads = split_heads_transposed::<HD>(v, shape, &mut scratch.keys);
    let q_heads = split_heads::<HD>(q, shape, 1.0, &mut scratch.queries);
    let g_heads = split_heads::<HD>(d_out, shape, 1.0, &mut scratch.upstream);
    // dS of every head, [head][query][key]. Only the keys on and below the diagonal are ever read, and all of
    // those are written first (`block_dots` covers every query's blocks); what lies above is left unspecified.
    let d_scores_heads = resized(&mut scratch.scores, shape.heads * seq * stride);
    for (h, (weights, d_scores)) in weights.chunks_exact(shape.triangle()).zip(d_scores_heads.chunks_exact_mut(seq * stride)).enumerate() {
        let column = h * HD;
        let vt = &vt_heads[h * HD * blocks..][..HD * blocks];
        let [qh, gh] = [q_heads, g_heads].map(|m| &m[h * padded..][..padded]);
        for first in (0..seq).step_by(ROWS) {
            let rows = ROWS.min(seq - first);
            let upstream = gh[first..].first_chunk::<ROWS>().expect("upstream rows are padded to whole groups of ROWS");
            block_dots(upstream, rows, vt, blocks, (first + rows).div_ceil(BLOCK), &mut d_scores[first * stride..], stride);
        }
        let (qh, gh) = (&qh[..seq], &gh[..seq]);
        for (i, ds) in d_scores.chunks_exact_mut(stride).enumerate() {
            let ds = &mut ds[..=i];
            let p = &weights[row_start(i)..][..=i];
            // Lane l sums keys j ≡ l (mod 8) in ascending order: whole blocks as vectors, then the rest.
            let mut lanes = [0.0f32; BLOCK];
            let whole = ds.len() / BLOCK * BLOCK;
            for (s, w) in ds[..whole].chunks_exact(BLOCK).zip(p.chunks_exact(BLOCK)) {
                for l in 0..BLOCK {
                    lanes[l] += s[l] * w[l];
                }
            }
            for (lane, (s, w)) in lanes.iter_mut().zip(ds[whole..].iter().zip(&p[whole..])) {
                *lane += s * w;
            }
            let row_dot = sum(&lanes);
            for (s, w) in ds.iter_mut().zip(p) {
                *s = w * (*s - row_dot) * scale;
            }
        }
        let d_scores = &*d_scores;
        // dK and dV rows two keys at a time where the accumulators fit in registers: four independent sums in
        // flight instead of two, each still over the queries in ascending order.
        let in_pairs = HD <= 16;
        let columns = ColumnSums { d_scores, stride, weights, qh, gh };
        let mut j = 0;
        while j < seq {
            if in_pairs && j + 1 < seq {
                let [a_k0, a_v0, a_k1, a_v1] = columns.two_keys(j);
                dk[j * d + column..][..HD].write_copy_of_slice(&a_k0);
                dv[j * d + column..][..HD].write_copy_of_slice(&a_v0);
                dk[(j + 1) * d + column..][..HD].write_copy_of_slice(&a_k1);
                dv[(j + 1) * d + column..][..HD].write_copy_of_slice(&a_v1);
                j += 2;
            } else {
                let [a_k, a_v] = columns.one_key(j);
                dk[j * d + column..][..HD].write_copy_of_slice(&a_k);
                dv[j * d + column..][..HD].write_copy_of_slice(&a_v);
                j += 1;
            }
        }
    }
    combine_rows::<HD>(|h, i| &d_scores_heads[(h * seq + i) * stride..][..=i], k, shape, dq);
}

/// One head's `dK = dSᵀ Q` and `dV = Pᵀ dO`, row by row: key `j`'s rows are sums over the queries `i ≥ j`.
struct ColumnSums<'a, const HD: usize> {
    d_scores: &'a [f32],
    stride: usize,
    weights: &'a [f32],
    qh: &'a [[f32; HD]],
    gh: &'a [[f32; HD]],
}

impl<const HD: usize> ColumnSums<'_, HD> {
    /// `(dK_j, dV_j)`.
    #[inline(always)]
    fn one_key(&self, j: usize) -> [[f32; HD]; 2] {
        let (mut a_k, mut a_v) = ([0.0f32; HD], [0.0f32; HD]);
        for i in j..self.qh.len() {
            let (s, w) = (self.d_scores[i * self.stride + j], self.weights[row_start(i) + j]);
            for c in 0..HD {
                a_k[c] += s * self.qh[i][c];
                a_v[c] += w * self.gh[i][c];
            }
        }
        [a_k, a_v]
    }

    /// `(dK_j, dV_j, dK_{j+1}, dV_{j+1})`, each summed in the same order as [`Self::one_key`].
    #[inline(always)]
    fn two_keys(&self, j: usize) -> [[f32; HD]; 4] {
        let (mut a_k0, mut a_v0, mut a_k1, mut a_v1) = ([0.0f32; HD], [0.0f32; HD], [0.0f32; HD], [0.0f32; HD]);
        let (s, w) = (self.d_scores[j * self.stride + j], self.weights[row_start(j) + j]);
        for c in 0..HD {
            a_k0[c] += s * self.qh[j][c];
            a_v0[c] += w * self.gh[j][c];
        }
        for i in j + 1..self.qh.len() {
            let scores = &self.d_scores[i * self.stride + j..][..2];
            let weights = &self.weights[row_start(i) + j..][..2];
            let (q, g) = (&self.qh[i], &self.gh[i]);
            for c in 0..HD {
                a_k0[c] += scores[0] * q[c];
                a_v0[c] += weights[0] * g[c];
                a_k1[c] += scores[1] * q[c];
                a_v1[c] += weights[1] * g[c];
            }
        }
        [a_k0, a_v0, a_k1, a_v1]
    }
}

/// One sequence's `[seq, heads·HD]` matrix split by head and multiplied by `scale`,
/// `rows[h·padded + j] = scale · m[j][h·HD..(h + 1)·HD]` with `padded` = [`AttentionShape::padded_seq`] and the
/// padding rows zero, read row by row (one pass over contiguous memory rather than a strided pass per head).
#[inline(always)]
fn split_heads<'a, const HD: usize>(m: &[f32], shape: AttentionShape, scale: f32, buffer: &'a mut Vec<f32>) -> &'a [[f32; HD]] {
    let padded = shape.padded_seq();
    let rows = resized(buffer, shape.heads * padded * HD).as_chunks_mut::<HD>().0;
    for (j, row) in m.chunks_exact(shape.d_model()).enumerate() {
        for (h, part) in row.chunks_exact(HD).enumerate() {
            for (to, x) in rows[h * padded + j].iter_mut().zip(part) {
                *to = x * scale;
            }
        }
    }
    for head in rows.chunks_exact_mut(padded) {
        head[shape.seq..].fill([0.0; HD]);
    }
    rows
}

/// The same split, each head transposed into key blocks, `t[(h·HD + c)·blocks + b][l] = m[8b + l][h·HD + c]`,
/// zero past the last row.
#[inline(always)]
fn split_heads_transposed<'a, const HD: usize>(m: &[f32], shape: AttentionShape, buffer: &'a mut Vec<f32>) -> &'a [[f32; BLOCK]] {
    let blocks = shape.blocks();
    let t = resized(buffer, shape.heads * HD * blocks * BLOCK).as_chunks_mut::<BLOCK>().0;
    for (j, row) in m.chunks_exact(shape.d_model()).enumerate() {
        let (b, l) = (j / BLOCK, j % BLOCK);
        for (h, part) in row.chunks_exact(HD).enumerate() {
            for (c, &x) in part.iter().enumerate() {
                t[(h * HD + c) * blocks + b][l] = x;
            }
        }
    }
    if !shape.seq.is_multiple_of(BLOCK) {
        for column in t.chunks_exact_mut(blocks) {
            column[blocks - 1][shape.seq % BLOCK..].fill(0.0);
        }
    }
    t
}
