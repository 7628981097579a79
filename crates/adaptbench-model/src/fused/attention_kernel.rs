//! Causal multi-head attention on plain row-major `f32` slices, forward and backward, one sequence per
//! parallel task (sequences are independent, so the result does not depend on the thread count).
//!
//! Per head the kernel gathers its columns into small contiguous tiles and works in register-sized blocks:
//! scores for 8 keys at a time from Kᵀ (vectorised over keys), weighted sums in a `[f32; HEAD_DIM]`
//! accumulator, and, in the backward pass, dK and dV as column sums over the kept `dS` and `P` so that every
//! output row is accumulated in registers once. `HEAD_DIM` is a compile-time constant for the head widths in
//! [`SUPPORTED_HEAD_DIMS`]; other widths take burn's decomposition.

use std::mem::MaybeUninit;

use adaptbench_infer::{exp, sum};
use rayon::prelude::*;

use super::buffer::{assume_init, uninit, write_all};

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
}

/// Offset of causal row `i` in a head's packed weights: `i(i + 1)/2`.
#[inline(always)]
fn row_start(i: usize) -> usize {
    i * (i + 1) / 2
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
        .for_each(|((out, weights), ((q, k), v))| forward_sequence(q, k, v, shape, out, weights));
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
    ) {
        match shape.head_dim {
            4 => forward_heads::<4>(q, k, v, shape, out, weights),
            8 => forward_heads::<8>(q, k, v, shape, out, weights),
            16 => forward_heads::<16>(q, k, v, shape, out, weights),
            32 => forward_heads::<32>(q, k, v, shape, out, weights),
            64 => forward_heads::<64>(q, k, v, shape, out, weights),
            128 => forward_heads::<128>(q, k, v, shape, out, weights),
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
) {
    let (seq, d, blocks) = (shape.seq, shape.d_model(), shape.blocks());
    let scale = 1.0 / (HD as f32).sqrt();
    let mut kt = vec![[0.0f32; BLOCK]; HD * blocks]; // Kᵀ in key blocks: kt[c·blocks + b][l] = K[8b + l][c]
    let mut vh = vec![[0.0f32; HD]; seq];
    let mut scores = vec![0.0f32; blocks * BLOCK];
    for (h, mut weights) in weights.chunks_exact_mut(shape.triangle()).enumerate() {
        let column = h * HD;
        gather_transposed::<HD>(k, d, column, blocks, &mut kt);
        gather::<HD>(v, d, column, &mut vh);
        for i in 0..seq {
            let (p_row, rest) = std::mem::take(&mut weights).split_at_mut(i + 1);
            weights = rest;
            let qi: [f32; HD] = std::array::from_fn(|c| q[i * d + column + c] * scale);
            for (b, block) in scores[..(i + 1).div_ceil(BLOCK) * BLOCK].chunks_exact_mut(BLOCK).enumerate() {
                let mut acc = [0.0f32; BLOCK];
                for (c, &qc) in qi.iter().enumerate() {
                    let keys = &kt[c * blocks + b];
                    for l in 0..BLOCK {
                        acc[l] += qc * keys[l];
                    }
                }
                block.copy_from_slice(&acc);
            }
            let p = &mut scores[..=i];
            let max = p.iter().fold(f32::NEG_INFINITY, |m, &s| if s > m { s } else { m });
            for s in p.iter_mut() {
                *s = exp(*s - max);
            }
            let inverse_total = 1.0 / sum(p);
            let mut o = [0.0f32; HD];
            for (s, value) in p.iter_mut().zip(&vh) {
                *s *= inverse_total;
                for c in 0..HD {
                    o[c] += *s * value[c];
                }
            }
            write_all(&mut out[i * d + column..][..HD], &o);
            write_all(p_row, p);
        }
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
        .for_each(|(((dq, (dk, dv)), ((q, k), v)), (weights, d_out))| {
            backward_sequence(Inputs { q, k, v, weights, d_out }, shape, Outputs { dq, dk, dv })
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
    fn backward_sequence(inputs: Inputs, shape: AttentionShape, outputs: Outputs) {
        match shape.head_dim {
            4 => backward_heads::<4>(inputs, shape, outputs),
            8 => backward_heads::<8>(inputs, shape, outputs),
            16 => backward_heads::<16>(inputs, shape, outputs),
            32 => backward_heads::<32>(inputs, shape, outputs),
            64 => backward_heads::<64>(inputs, shape, outputs),
            128 => backward_heads::<128>(inputs, shape, outputs),
            other => unreachable!("head_dim {other} was checked against SUPPORTED_HEAD_DIMS"),
        }
    }
}

#[inline(always)]
fn backward_heads<const HD: usize>(inputs: Inputs, shape: AttentionShape, outputs: Outputs) {
    let Inputs { q, k, v, weights, d_out } = inputs;
    let Outputs { dq, dk, dv } = outputs;
    let (seq, d, blocks) = (shape.seq, shape.d_model(), shape.blocks());
    let scale = 1.0 / (HD as f32).sqrt();
    let stride = blocks * BLOCK;
    let mut vt = vec![[0.0f32; BLOCK]; HD * blocks];
    let (mut qh, mut kh, mut gh) = (vec![[0.0f32; HD]; seq], vec![[0.0f32; HD]; seq], vec![[0.0f32; HD]; seq]);
    let mut d_scores = vec![0.0f32; seq * stride]; // dS, [query][key], 0 above the diagonal
    for (h, weights) in weights.chunks_exact(shape.triangle()).enumerate() {
        let column = h * HD;
        gather_transposed::<HD>(v, d, column, blocks, &mut vt);
        gather::<HD>(q, d, column, &mut qh);
        gather::<HD>(k, d, column, &mut kh);
        gather::<HD>(d_out, d, column, &mut gh);
        for (i, ds) in d_scores.chunks_exact_mut(stride).enumerate() {
            let covered = (i + 1).div_ceil(BLOCK) * BLOCK;
            for (b, block) in ds[..covered].chunks_exact_mut(BLOCK).enumerate() {
                let mut acc = [0.0f32; BLOCK];
                for (c, &g) in gh[i].iter().enumerate() {
                    let values = &vt[c * blocks + b];
                    for l in 0..BLOCK {
                        acc[l] += g * values[l];
                    }
                }
                block.copy_from_slice(&acc);
            }
            let (ds, above) = ds.split_at_mut(i + 1);
            above.fill(0.0);
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
            let mut a = [0.0f32; HD];
            for ((s, w), key) in ds.iter_mut().zip(p).zip(&kh) {
                *s = w * (*s - row_dot) * scale;
                for c in 0..HD {
                    a[c] += *s * key[c];
                }
            }
            write_all(&mut dq[i * d + column..][..HD], &a);
        }
        for j in 0..seq {
            let (mut a_k, mut a_v) = ([0.0f32; HD], [0.0f32; HD]);
            for i in j..seq {
                let (s, w) = (d_scores[i * stride + j], weights[row_start(i) + j]);
                for c in 0..HD {
                    a_k[c] += s * qh[i][c];
                    a_v[c] += w * gh[i][c];
                }
            }
            write_all(&mut dk[j * d + column..][..HD], &a_k);
            write_all(&mut dv[j * d + column..][..HD], &a_v);
        }
    }
}

/// Columns `column..column + HD` of the row-major `[seq, d]` matrix `m`, one `[f32; HD]` per row.
#[inline(always)]
fn gather<const HD: usize>(m: &[f32], d: usize, column: usize, rows: &mut [[f32; HD]]) {
    for (j, row) in rows.iter_mut().enumerate() {
        row.copy_from_slice(&m[j * d + column..][..HD]);
    }
}

/// The same columns transposed into key blocks, `t[c·blocks + b][l] = m[8b + l][column + c]`, zero past the
/// last row.
#[inline(always)]
fn gather_transposed<const HD: usize>(m: &[f32], d: usize, column: usize, blocks: usize, t: &mut [[f32; BLOCK]]) {
    let seq = m.len() / d;
    for (j, row) in m.chunks_exact(d).enumerate() {
        let (b, l) = (j / BLOCK, j % BLOCK);
        for (c, &x) in row[column..][..HD].iter().enumerate() {
            t[c * blocks + b][l] = x;
        }
    }
    for j in seq..blocks * BLOCK {
        for c in 0..HD {
            t[c * blocks + j / BLOCK][j % BLOCK] = 0.0;
        }
    }
}
