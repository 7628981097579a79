//! The naive oracle: a textbook full-sequence forward in `f64`, no cache, no gemm, no approximations
//! (`erf` by its everywhere-convergent series, `erfc` by its continued fraction), written independently of the
//! engine so that tests can check the engine against it.

use crate::model::{Dense, FrozenTransformer, Norm, VOCAB};

impl FrozenTransformer {
    /// Natural-log probabilities of bits 0 and 1 as the next token, at every position of `tokens` (ids in
    /// {0, 1, 2 = BOS}), computed naively in `f64` and rounded to `f32`. The test oracle.
    ///
    /// # Shapes
    /// - `tokens`: `[seq]` with `seq ≤ context`; output `[seq]` of `[ln P(0), ln P(1)]`.
    ///
    /// # Panics
    /// If `tokens` is longer than the context or holds an id ≥ 3 (a test helper, not a user-facing entry point).
    pub fn log_probs(&self, tokens: &[u32]) -> Vec<[f32; 2]> {
        let (d, seq) = (self.d_model, tokens.len());
        assert!(seq <= self.context, "{seq} tokens exceed the context of {}", self.context);
        // [seq][d]
        let mut x: Vec<Vec<f64>> = tokens
            .iter()
            .enumerate()
            .map(|(t, &id)| {
                assert!((id as usize) < VOCAB, "token id {id} is not in the vocabulary");
                let id = id as usize;
                (0..d).map(|c| self.token_embedding[id * d + c] as f64 + self.positions[t * d + c] as f64).collect()
            })
            .collect();
        let (heads, hd) = (self.n_heads, self.head_dim());
        let scale = 1.0 / (hd as f64).sqrt();
        for block in &self.blocks {
            let h: Vec<Vec<f64>> = x.iter().map(|row| layer_norm(row, &block.attention_norm, self.eps())).collect();
            let q: Vec<Vec<f64>> = h.iter().map(|row| dense(row, &block.q)).collect();
            let k: Vec<Vec<f64>> = h.iter().map(|row| dense(row, &block.k)).collect();
            let v: Vec<Vec<f64>> = h.iter().map(|row| dense(row, &block.v)).collect();
            for t in 0..seq {
                let mut context = vec![0.0; d];
                for head in 0..heads {
                    let cols = head * hd..(head + 1) * hd;
                    // Causal: position t sees keys 0..=t.
                    let scores: Vec<f64> =
                        (0..=t).map(|s| cols.clone().map(|c| q[t][c] * k[s][c]).sum::<f64>() * scale).collect();
                    let max = scores.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                    let weights: Vec<f64> = scores.iter().map(|s| (s - max).exp()).collect();
                    let total: f64 = weights.iter().sum();
                    for (s, w) in weights.iter().enumerate() {
                        for c in cols.clone() {
                            context[c] += w / total * v[s][c];
                        }
                    }
                }
                let attended = dense(&context, &block.o);
                x[t].iter_mut().zip(&attended).for_each(|(a, b)| *a += b);
            }
            for row in x.iter_mut() {
                let hidden: Vec<f64> = dense(&layer_norm(row, &block.mlp_norm, self.eps()), &block.mlp_in)
                    .into_iter()
                    .map(|u| u * normal_cdf(u))
                    .collect();
                row.iter_mut().zip(dense(&hidden, &block.mlp_out)).for_each(|(a, b)| *a += b);
            }
        }
        x.iter()
            .map(|row| {
                let logits = dense(&layer_norm(row, &self.final_norm, self.eps()), &self.head);
                let max = logits[0].max(logits[1]);
                let lse = max + ((logits[0] - max).exp() + (logits[1] - max).exp()).ln();
                [(logits[0] - lse) as f32, (logits[1] - lse) as f32]
            })
            .collect()
    }

    fn eps(&self) -> f64 {
        self.layer_norm_eps as f64
    }
}

fn dense(x: &[f64], dense: &Dense) -> Vec<f64> {
    (0..dense.d_out)
        .map(|o| {
            dense.bias[o] as f64
                + x.iter().enumerate().map(|(i, xi)| xi * dense.weight[i * dense.d_out + o] as f64).sum::<f64>()
        })
        .collect()
}

fn layer_norm(x: &[f64], norm: &Norm, eps: f64) -> Vec<f64> {
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    let var = x.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
    let inv = 1.0 / (var + eps).sqrt();
    x.iter().enumerate().map(|(c, v)| (v - mean) * inv * norm.gamma[c] as f64 + norm.beta[c] as f64).collect()
}

/// The standard normal CDF `Φ(x) = ½·erfc(−x/√2)`, to ~1e-12 relative on both tails.
pub(crate) fn normal_cdf(x: f64) -> f64 {
    0.5 * erfc(-x / std::f64::consts::SQRT_2)
}

/// `erfc(z) = 1 − erf(z)` to ~1e-12 relative: `2 − erfc(−z)` for `z < 0`, `1 − erf(z)` below `z = 2` (where
/// `erfc ≥ 4.7e-3`, so the subtraction loses at most three digits), and beyond it the continued fraction
/// `erfc(z) = e^{−z²}/√π · 1/(z + ½/(z + 1/(z + (3/2)/(z + …))))`, 120 levels evaluated from the bottom up.
pub(crate) fn erfc(z: f64) -> f64 {
    if z < 0.0 {
        return 2.0 - erfc(-z);
    }
    if z < 2.0 {
        return 1.0 - erf(z);
    }
    let mut denominator = z;
    for n in (1..=120).rev() {
        denominator = z + n as f64 / 2.0 / denominator;
    }
    (-z * z).exp() / std::f64::consts::PI.sqrt() / denominator
}

/// `erf(x)` to ~1e-15 relative: `erf(x) = 2/√π · e^{−x²} · Σ_n 2ⁿ x^{2n+1} / (1·3·…·(2n+1))` (all terms
/// positive, so no cancellation), and `±1` beyond |x| = 6 where `erfc(6) ≈ 2e-17`.
pub(crate) fn erf(x: f64) -> f64 {
    if x.abs() > 6.0 {
        return x.signum();
    }
    let x2 = x * x;
    let (mut term, mut sum, mut n) = (x, x, 0.0);
    while term.abs() > 1e-17 * sum.abs() {
        n += 1.0;
        term *= 2.0 * x2 / (2.0 * n + 1.0);
        sum += term;
    }
    2.0 / std::f64::consts::PI.sqrt() * (-x2).exp() * sum
}
