//! The arithmetic of the element-wise and row-wise fused ops (GELU, LayerNorm, cross-entropy) on plain
//! row-major `f32` slices, forward and backward, with no burn types; attention has its own file. Each
//! kernel works on independent rows in fixed chunks, and every reduction across rows sums its chunks' partial
//! sums in chunk order, so the result does not depend on how many threads ran the chunks.

use std::mem::MaybeUninit;

use adaptbench_infer::{combine_lanes, gelu, normal_cdf, sum};
use rayon::prelude::*;

use super::buffer::{assume_init, uninit};

/// Rows per parallel task: enough work per task to amortise rayon's overhead at d_model 64.
const ROWS_PER_TASK: usize = 64;

/// The exact GELU, `y = x·Φ(x)` with `Φ` the standard normal CDF ([`normal_cdf`]), element-wise.
pub fn gelu_forward(x: &[f32]) -> Vec<f32> {
    let mut y = uninit(x.len());
    y.par_chunks_mut(ROWS_PER_TASK * 256).zip(x.par_chunks(ROWS_PER_TASK * 256)).for_each(|(y, x)| gelu_chunk(x, y));
    // SAFETY: `y`'s chunks pair one for one with `x`'s, of equal lengths, and `gelu_chunk` writes all of each.
    unsafe { assume_init(y) }
}

multiversion! {
    fn gelu_chunk(x: &[f32], y: &mut [MaybeUninit<f32>]) {
        for (y, &x) in y.iter_mut().zip(x) {
            y.write(gelu(x));
        }
    }
}

/// The exact GELU and its derivative in one pass, for training: `y = x·Φ(x)` and
/// `g = GELU′(x) = Φ(x) + x·φ(x)` with `φ(x) = e^{−x²/2}/√(2π)` (the Gaussian [`normal_cdf`] computes anyway),
/// so that the backward pass is one product, `dx = dy·g`, instead of a second `Φ` per element.
pub fn gelu_forward_with_derivative(x: &[f32]) -> (Vec<f32>, Vec<f32>) {
    let (mut y, mut g) = (uninit(x.len()), uninit(x.len()));
    y.par_chunks_mut(ROWS_PER_TASK * 256)
        .zip(g.par_chunks_mut(ROWS_PER_TASK * 256))
        .zip(x.par_chunks(ROWS_PER_TASK * 256))
        .for_each(|((y, g), x)| gelu_with_derivative_chunk(x, y, g));
    // SAFETY: the chunks of `y` and `g` pair one for one with `x`'s, of equal lengths, and the chunk kernel
    // writes all of both.
    unsafe { (assume_init(y), assume_init(g)) }
}

multiversion! {
    fn gelu_with_derivative_chunk(x: &[f32], y: &mut [MaybeUninit<f32>], g: &mut [MaybeUninit<f32>]) {
        const FRAC_1_SQRT_2PI: f32 = 0.398_942_3;
        for ((y, g), &x) in y.iter_mut().zip(g.iter_mut()).zip(x) {
            let (cdf, gaussian) = normal_cdf(x);
            y.write(x * cdf);
            g.write(cdf + x * (gaussian * FRAC_1_SQRT_2PI));
        }
    }
}

/// The GELU's input gradient from the derivative the forward pass kept, `dx = dy·g`, written over `dy`.
pub fn gelu_backward(derivative: &[f32], dy: &mut [f32]) {
    assert_eq!(derivative.len(), dy.len(), "GELU derivative and upstream gradient");
    dy.par_chunks_mut(ROWS_PER_TASK * 256).zip(derivative.par_chunks(ROWS_PER_TASK * 256)).for_each(|(dy, g)| gelu_scale_chunk(g, dy));
}

multiversion! {
    fn gelu_scale_chunk(derivative: &[f32], dy: &mut [f32]) {
        for (dy, &g) in dy.iter_mut().zip(derivative) {
            *dy *= g;
        }
    }
}

/// What the LayerNorm forward pass keeps for its backward pass.
#[derive(Debug, Clone)]
pub struct LayerNormSaved {
    /// `x̂ = (x − μ)·r`, `[rows, d]`.
    pub normalized: Vec<f32>,
    /// `r = 1/√(σ² + ε)` per row, `[rows]`.
    pub inverse_std: Vec<f32>,
}

/// LayerNorm over the last axis: `y = x̂·γ + β`, `x̂ = (x − μ)/√(σ² + ε)`, μ and σ² the row's mean and
/// population variance (two passes, as burn's reference). Returns `y` and what the backward pass needs.
pub fn layer_norm_forward(x: &[f32], gamma: &[f32], beta: &[f32], epsilon: f32) -> (Vec<f32>, LayerNormSaved) {
    let d = gamma.len();
    let rows = x.len() / d;
    let (mut y, mut normalized, mut inverse_std) = (uninit(x.len()), uninit(x.len()), uninit(rows));
    let chunk = ROWS_PER_TASK * d;
    y.par_chunks_mut(chunk)
        .zip(normalized.par_chunks_mut(chunk))
        .zip(inverse_std.par_chunks_mut(ROWS_PER_TASK))
        .zip(x.par_chunks(chunk))
        .for_each(|(((y, normalized), inverse_std), x)| layer_norm_chunk(x, gamma, beta, epsilon, y, normalized, inverse_std));
    // SAFETY: the chunks of the three outputs pair one for one with `x`'s chunks of whole rows, and the chunk
    // kernel writes every row's `y`, `x̂` and `r`.
    unsafe { (assume_init(y), LayerNormSaved { normalized: assume_init(normalized), inverse_std: assume_init(inverse_std) }) }
}

multiversion! {
    fn layer_norm_chunk(
        x: &[f32],
        gamma: &[f32],
        beta: &[f32],
        epsilon: f32,
        y: &mut [MaybeUninit<f32>],
        normalized: &mut [MaybeUninit<f32>],
        inverse_std: &mut [MaybeUninit<f32>],
    ) {
        let d = gamma.len();
        let mut rows = x.chunks_exact(d).zip(y.chunks_exact_mut(d)).zip(normalized.chunks_exact_mut(d)).zip(inverse_std);
        // ROW_GROUP rows at a time, then one at a time.
        while let Some(group) = next_rows::<ROW_GROUP, _>(&mut rows) {
            layer_norm_rows(group, gamma, beta, epsilon);
        }
        for row in rows {
            layer_norm_rows([row], gamma, beta, epsilon);
        }
    }
}

/// Rows the LayerNorm kernels take side by side: each row's sums are chains of dependent additions, so one row
/// at a time left the adders waiting on their latency; every row still sums in its own order.
const ROW_GROUP: usize = 4;

/// The next `R` items of `rows`, or `None` (consuming nothing) when fewer than `R` are left.
#[inline(always)]
fn next_rows<const R: usize, I: ExactSizeIterator>(rows: &mut I) -> Option<[I::Item; R]> {
    (rows.len() >= R).then(|| std::array::from_fn(|_| rows.next().expect("counted above")))
}

/// One LayerNorm row's input and outputs: `x`, `y`, `x̂` and `r`.
type NormRow<'a> = (((&'a [f32], &'a mut [MaybeUninit<f32>]), &'a mut [MaybeUninit<f32>]), &'a mut MaybeUninit<f32>);

/// The LayerNorm forward pass of `R` rows side by side.
#[inline(always)]
fn layer_norm_rows<const R: usize>(rows: [NormRow; R], gamma: &[f32], beta: &[f32], epsilon: f32) {
    let d = gamma.len();
    let x: [&[f32]; R] = std::array::from_fn(|r| rows[r].0 .0 .0);
    let (chunks, rest): ([&[[f32; 8]]; R], [&[f32]; R]) = (std::array::from_fn(|r| x[r].as_chunks().0), std::array::from_fn(|r| x[r].as_chunks::<8>().1));
    // μ as `sum` computes it: eight lanes over the whole chunks of 8, their tree, then the rest in order.
    let lanes = chunk_lane_sums::<R>(d / 8, |r, k| chunks[r][k]);
    let mean: [f32; R] = std::array::from_fn(|r| rest[r].iter().fold(combine_lanes(&lanes[r]), |total, v| total + v) / d as f32);
    // Lane l sums the squares of elements l, l + 8, l + 16, … in ascending order: whole chunks, then the rest.
    let mut squares = chunk_lane_sums::<R>(d / 8, |r, k| chunks[r][k].map(|v| (v - mean[r]) * (v - mean[r])));
    for r in 0..R {
        for (lane, v) in squares[r].iter_mut().zip(rest[r]) {
            let centred = v - mean[r];
            *lane += centred * centred;
        }
    }
    for (r, (((x, y), xhat), inverse_std)) in rows.into_iter().enumerate() {
        let (mean, inverse) = (mean[r], 1.0 / (sum(&squares[r]) / d as f32 + epsilon).sqrt());
        inverse_std.write(inverse);
        for ((((v, c), y), g), b) in x.iter().zip(xhat.iter_mut()).zip(y.iter_mut()).zip(gamma).zip(beta) {
            let centred = c.write((v - mean) * inverse);
            y.write(*centred * g + b);
        }
    }
}

/// `lanes[r][l] = Σ_k f(r, k)[l]` over `k < chunks` in ascending order, for `R` rows side by side: `f(r, k)`
/// gives row `r`'s eight terms of its chunk `k` of 8.
#[inline(always)]
fn chunk_lane_sums<const R: usize>(chunks: usize, f: impl Fn(usize, usize) -> [f32; 8]) -> [[f32; 8]; R] {
    let mut lanes = [[0.0f32; 8]; R];
    for k in 0..chunks {
        for (r, lanes) in lanes.iter_mut().enumerate() {
            for (lane, term) in lanes.iter_mut().zip(f(r, k)) {
                *lane += term;
            }
        }
    }
    lanes
}

/// LayerNorm gradients from `dy`: with `ĝ = dy·γ`, `dx = r·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂))`,
/// `dγ = Σ_rows dy·x̂`, `dβ = Σ_rows dy`. Returns `(dx, dγ, dβ)`.
pub fn layer_norm_backward(saved: &LayerNormSaved, gamma: &[f32], dy: &[f32]) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let d = gamma.len();
    let chunk = ROWS_PER_TASK * d;
    let mut dx = uninit(dy.len());
    let partials: Vec<(Vec<f32>, Vec<f32>)> = dx
        .par_chunks_mut(chunk)
        .zip(dy.par_chunks(chunk).zip(saved.normalized.par_chunks(chunk)))
        .zip(saved.inverse_std.par_chunks(ROWS_PER_TASK))
        .map(|((dx, (dy, xhat)), r)| {
            let mut dgamma = vec![0.0; d];
            let mut dbeta = vec![0.0; d];
            layer_norm_backward_chunk(dy, xhat, r, gamma, dx, &mut dgamma, &mut dbeta);
            (dgamma, dbeta)
        })
        .collect();
    let (dgamma, dbeta) = sum_in_order(partials, d);
    // SAFETY: `dx`'s chunks pair one for one with `dy`'s chunks of whole rows, and the chunk kernel writes
    // every row.
    (unsafe { assume_init(dx) }, dgamma, dbeta)
}

multiversion! {
    fn layer_norm_backward_chunk(
        dy: &[f32],
        normalized: &[f32],
        inverse_std: &[f32],
        gamma: &[f32],
        dx: &mut [MaybeUninit<f32>],
        dgamma: &mut [f32],
        dbeta: &mut [f32],
    ) {
        let d = gamma.len();
        let mut scaled = vec![0.0f32; d];
        for (((dy, xhat), r), dx) in dy.chunks_exact(d).zip(normalized.chunks_exact(d)).zip(inverse_std).zip(dx.chunks_exact_mut(d)) {
            for (s, (g, dyv)) in scaled.iter_mut().zip(gamma.iter().zip(dy)) {
                *s = g * dyv;
            }
            // Lane l sums the elements l, l + 8, l + 16, … in ascending order, as eight vector lanes: whole chunks
            // of 8, then the rest (as the forward pass's variance). (Rows side by side, as in the forward pass,
            // measured no faster here.)
            let mut projection = [0.0f32; 8];
            let (blocks, x_blocks) = (scaled.chunks_exact(8), xhat.chunks_exact(8));
            let (rest, x_rest) = (blocks.remainder(), x_blocks.remainder());
            for (s, x) in blocks.zip(x_blocks) {
                for (lane, (s, x)) in projection.iter_mut().zip(s.iter().zip(x)) {
                    *lane += s * x;
                }
            }
            for (lane, (s, x)) in projection.iter_mut().zip(rest.iter().zip(x_rest)) {
                *lane += s * x;
            }
            let mean_scaled = sum(&scaled) / d as f32;
            let mean_projection = sum(&projection) / d as f32;
            for (((dx, s), x), (dg, (db, dyv))) in dx.iter_mut().zip(&scaled).zip(xhat).zip(dgamma.iter_mut().zip(dbeta.iter_mut().zip(dy))) {
                dx.write(r * (s - mean_scaled - x * mean_projection));
                *dg += dyv * x;
                *db += dyv;
            }
        }
    }
}

/// Sums per-chunk `(a, b)` partial vectors in chunk order.
fn sum_in_order(partials: Vec<(Vec<f32>, Vec<f32>)>, d: usize) -> (Vec<f32>, Vec<f32>) {
    let mut a = vec![0.0; d];
    let mut b = vec![0.0; d];
    for (pa, pb) in partials {
        a.iter_mut().zip(&pa).for_each(|(t, v)| *t += v);
        b.iter_mut().zip(&pb).for_each(|(t, v)| *t += v);
    }
    (a, b)
}

/// Mean next-bit cross-entropy over `rows` two-logit rows, `L = −(1/n) Σ log softmax(l)[t]`, accumulated in
/// `f64`; `log softmax(l)[t] = −log(1 + e^{l_{1−t} − l_t})` in its overflow-free form.
pub fn cross_entropy_forward(logits: &[f32], targets: &[i64]) -> f32 {
    let total: f64 = logits
        .chunks_exact(2)
        .zip(targets)
        .map(|(l, &t)| {
            let margin = (l[1 - t as usize] - l[t as usize]) as f64;
            margin.max(0.0) + (-margin.abs()).exp().ln_1p()
        })
        .sum();
    (total / targets.len() as f64) as f32
}

/// The cross-entropy's logit gradient, `dl = g/n · (softmax(l) − onehot(t))`.
pub fn cross_entropy_backward(logits: &[f32], targets: &[i64], grad: f32) -> Vec<f32> {
    let scale = grad / targets.len() as f32;
    let mut d_logits = vec![0.0; logits.len()];
    for ((d, l), &t) in d_logits.chunks_exact_mut(2).zip(logits.chunks_exact(2)).zip(targets) {
        // P(1) = σ(l₁ − l₀), computed on the side that cannot overflow.
        let z = l[1] - l[0];
        let p1 = if z >= 0.0 { 1.0 / (1.0 + (-z).exp()) } else { let e = z.exp(); e / (1.0 + e) };
        let g1 = (p1 - t as f32) * scale;
        d[0] = -g1;
        d[1] = g1;
    }
    d_logits
}
