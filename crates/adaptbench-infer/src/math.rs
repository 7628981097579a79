//! Branch-free `f32` element-wise kernels (LayerNorm, the exact GELU through the normal CDF, `exp`), written so
//! that LLVM vectorises them when inlined into the AVX2 build of the engine, plus the gemm wrapper and
//! the final LayerNorm + head + log-softmax both engines share.

use crate::model::{Dense, Norm};

/// The standard normal CDF and the Gaussian it is built on, `(Φ(x), e^{−x²/2})`, in `f32`:
///
/// `Φ(−|x|) = ½·erfc(|x|/√2) = e^{−x²/2} · t · Q(s)`, `t = 1/(1 + p·|x|)`, `s = 1 − t`, and
/// `Φ(x) = 1 − Φ(−x)` for `x > 0`.
///
/// The form of Abramowitz & Stegun 7.1.26 (`p = 0.26` here), with `Q` a degree-8 polynomial whose constant is
/// `½` (so `Φ(0) = ½` exactly), fitted to `½·erfcx(|x|/√2)/t` on `|x| ≤ 14` by Lawson's minimax iteration on
/// the relative error (2.5e-8 before rounding the coefficients to `f32`; `tools/fit_normal_cdf.py`). Measured against an `f64` reference:
/// `|ΔΦ| ≤ 1.2e-7` everywhere, and the GELU `x·Φ(x)` within 7.1e-8·(1 + |GELU|) (`½(1 + erf(x/√2))` with an
/// erf good to 1.5e-7 gives 3.3e-7). Unlike `½(1 + erf)`, the lower tail keeps its relative accuracy, ≤ 4.4e-6
/// down to `x = −13` (rounding `x²/2` to `f32` sets it): `Φ(−10) ≈ 7.6e-24` rather than `0`. Below `x ≈ −13.2`,
/// where the truth leaves `f32`'s normal range, `exp`'s clamp leaves `Φ < 2e-39`. Everything is `f32` (fused
/// multiply-adds, one division), so it vectorises at full width; the Gaussian is returned because GELU′ needs it.
#[inline(always)]
pub fn normal_cdf(x: f32) -> (f32, f32) {
    let gaussian = exp(-0.5 * x * x);
    // The fit's domain; beyond it Φ(−|x|) < 1e-44 is below f32's normal range anyway (and ∞ · 0 is avoided).
    let px = CDF_P * x.abs().min(CDF_X_MAX);
    let t = 1.0 / (1.0 + px);
    // s = 1 − t, formed without the cancellation: Q in powers of s is led by its constant ½ near x = 0.
    let s = px * t;
    let mut q = CDF_Q[0];
    for c in &CDF_Q[1..] {
        q = q.mul_add(s, *c);
    }
    let lower_tail = gaussian * t * q;
    let cdf = if x > 0.0 { 1.0 - lower_tail } else { lower_tail };
    (cdf, gaussian)
}

/// The largest `|x|` [`normal_cdf`]'s `Q` was fitted on.
const CDF_X_MAX: f32 = 14.0;
/// `p` of [`normal_cdf`]'s `t = 1/(1 + p·|x|)`: the value that minimised the fit's error for degree 8.
const CDF_P: f32 = 0.26;
/// `Q` of [`normal_cdf`] in powers of `s = 1 − t`, highest degree first (`Q = ½` at `x = 0`).
const CDF_Q: [f32; 9] = [
    0.030_606_482,
    -0.091_573_79,
    0.036_367_95,
    0.142_698_63,
    -0.034_892_48,
    -0.574_474_6,
    1.129_419_7,
    -1.034_392_5,
    0.5,
];

/// The exact GELU, `x·Φ(x)` with [`normal_cdf`]'s `Φ` (not the tanh approximation).
#[inline(always)]
pub fn gelu(x: f32) -> f32 {
    x * normal_cdf(x).0
}

/// `rows[r, :] = GELU(rows[r, :] + bias)` for every row; compiled with AVX2 + FMA when `avx2` (the caller
/// checked the CPU), so that it runs 8 lanes wide wherever it is called from. Both copies do the same IEEE
/// operations (`mul_add` is a fused multiply-add either way), so they agree bit for bit.
///
/// # Shapes
/// - `rows`: `[m, n]`, `bias`: `[n]`.
#[inline(always)]
pub fn bias_gelu(rows: &mut [f32], bias: &[f32], avx2: bool) {
    #[cfg(target_arch = "x86_64")]
    if avx2 {
        // SAFETY: `avx2` is only set when the CPU has AVX2 and FMA.
        unsafe { bias_gelu_avx2(rows, bias) };
        return;
    }
    let _ = avx2;
    bias_gelu_portable(rows, bias);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn bias_gelu_avx2(rows: &mut [f32], bias: &[f32]) {
    bias_gelu_portable(rows, bias);
}

#[inline(always)]
fn bias_gelu_portable(rows: &mut [f32], bias: &[f32]) {
    for row in rows.chunks_exact_mut(bias.len()) {
        for (v, b) in row.iter_mut().zip(bias) {
            *v = gelu(*v + b);
        }
    }
}

/// `eˣ` in `f32` to about 1 ulp for `x ∈ [−87.3, 88.3]` (Cephes `expf`: `2ⁿ · e^r`, `|r| ≤ ln2/2`, a degree-6
/// polynomial, here with fused multiply-adds); the input is clamped to that range, so `exp(−∞)` gives
/// `≈1.2e-38`, harmless as a softmax weight.
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    // 1.5·2²³: adding it rounds to an integer held in the low mantissa bits, branch-free and vectorisable.
    const ROUND: f32 = 12_582_912.0;
    let x = x.clamp(-87.33, 88.37);
    let shifted = x * std::f32::consts::LOG2_E + ROUND;
    let n = shifted - ROUND;
    // Cody–Waite: ln 2 split so that n·LN2_HI is exact; fused multiply-adds, one rounding a step.
    let r = n.mul_add(2.121_944_4e-4, n.mul_add(-0.693_359_4, x));
    let mut p: f32 = 1.987_569_1e-4;
    p = p.mul_add(r, 1.398_199_9e-3);
    p = p.mul_add(r, 8.333_452e-3);
    p = p.mul_add(r, 4.166_579_6e-2);
    p = p.mul_add(r, 1.666_666_5e-1);
    p = p.mul_add(r, 0.5); // Cephes: 5.0000001201e-1, which is 0.5 in f32
    let e_r = (p * r).mul_add(r, r) + 1.0;
    // n = bits(shifted) − bits(ROUND), as an integer; 2ⁿ from the exponent field.
    let n_int = shifted.to_bits() as i32 - ROUND.to_bits() as i32;
    e_r * f32::from_bits(((n_int + 127) << 23) as u32)
}

/// Sum of a slice with 8 independent lanes (so that it vectorises without reassociation by the compiler).
#[inline(always)]
pub fn sum(x: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 8];
    let chunks = x.chunks_exact(8);
    let tail = chunks.remainder();
    for chunk in chunks {
        for (lane, v) in lanes.iter_mut().zip(chunk) {
            *lane += v;
        }
    }
    let mut total = combine_lanes(&lanes);
    for v in tail {
        total += v;
    }
    total
}

/// The tree in which [`sum`] combines its eight lanes: `((l₀ + l₄) + (l₁ + l₅)) + ((l₂ + l₆) + (l₃ + l₇))`.
#[inline(always)]
pub fn combine_lanes(l: &[f32; 8]) -> f32 {
    ((l[0] + l[4]) + (l[1] + l[5])) + ((l[2] + l[6]) + (l[3] + l[7]))
}

/// `rows[r, :] += bias` for every row `r` of the row-major `rows`, `[m, bias.len()]`.
#[inline(always)]
pub fn add_bias(rows: &mut [f32], bias: &[f32]) {
    for row in rows.chunks_exact_mut(bias.len()) {
        for (v, b) in row.iter_mut().zip(bias) {
            *v += b;
        }
    }
}

/// Maximum of a non-empty slice with 8 independent lanes (vectorisable).
#[inline(always)]
pub fn max(x: &[f32]) -> f32 {
    let mut lanes = [f32::NEG_INFINITY; 8];
    let chunks = x.chunks_exact(8);
    let tail = chunks.remainder();
    for chunk in chunks {
        for (lane, v) in lanes.iter_mut().zip(chunk) {
            *lane = if *v > *lane { *v } else { *lane };
        }
    }
    let mut m = lanes.iter().fold(f32::NEG_INFINITY, |a, &b| if b > a { b } else { a });
    for &v in tail {
        m = if v > m { v } else { m };
    }
    m
}

/// LayerNorm of one row: `(x − mean) / sqrt(var + eps) · γ + β`, var the population variance (÷ d), two-pass.
///
/// # Shapes
/// - `x`, `out`, `gamma`, `beta`: `[d]`.
#[inline(always)]
pub fn layer_norm(x: &[f32], gamma: &[f32], beta: &[f32], eps: f32, out: &mut [f32]) {
    let d = x.len();
    let mean = sum(x) / d as f32;
    for (o, v) in out.iter_mut().zip(x) {
        *o = v - mean;
    }
    let mut lanes = [0.0f32; 8];
    let chunks = out.chunks_exact(8);
    let tail = chunks.remainder();
    for chunk in chunks {
        for (lane, v) in lanes.iter_mut().zip(chunk) {
            *lane += v * v;
        }
    }
    let mut squares = ((lanes[0] + lanes[4]) + (lanes[1] + lanes[5])) + ((lanes[2] + lanes[6]) + (lanes[3] + lanes[7]));
    for v in tail {
        squares += v * v;
    }
    let inv = 1.0 / (squares / d as f32 + eps).sqrt();
    for ((o, g), b) in out.iter_mut().zip(gamma).zip(beta) {
        *o = *o * inv * g + b;
    }
}

/// Final LayerNorm, the 2-logit head and a log-softmax, `[ln P(0), ln P(1)]` for one row `x` of the last
/// layer's output: `ℓ = LN(x)·W + b`, `ln P(i) = ℓ_i − (max ℓ + ln(1 + e^{−|ℓ_0 − ℓ_1|}))`. `scratch` (`[d]`)
/// holds LN(x).
#[inline(always)]
pub(crate) fn head_log_probs(norm: &Norm, head: &Dense, eps: f32, x: &[f32], scratch: &mut [f32]) -> [f32; 2] {
    layer_norm(x, &norm.gamma, &norm.beta, eps, scratch);
    let w = &head.weight;
    let (mut l0, mut l1) = (head.bias[0], head.bias[1]);
    for (i, hi) in scratch.iter().enumerate() {
        l0 += hi * w[2 * i];
        l1 += hi * w[2 * i + 1];
    }
    // log-sum-exp of two logits, stable: max + ln(1 + e^{−|l0 − l1|}).
    let lse = l0.max(l1) + (-(l0 - l1).abs()).exp().ln_1p();
    [l0 - lse, l1 - lse]
}

/// `out[m, n] = a[m, k] · b[k, n]` (or `+=` when `accumulate`), all row-major and contiguous, single-threaded
/// (the caller parallelises over prompts).
#[inline]
pub fn matmul(m: usize, n: usize, k: usize, a: &[f32], b: &[f32], out: &mut [f32], accumulate: bool) {
    assert!(a.len() >= m * k && b.len() >= k * n && out.len() >= m * n, "matmul operand too small");
    if m == 0 || n == 0 {
        return;
    }
    // SAFETY: the three slices cover the strided extents checked above, `out` does not alias `a` or `b` (it is
    // borrowed mutably), and gemm only reads `out` when `accumulate` is set.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            out.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            a.as_ptr(),
            1,
            k as isize,
            b.as_ptr(),
            1,
            n as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reference;

    /// A dense grid over [−10, 10] plus the clamp region and extremes.
    fn grid() -> impl Iterator<Item = f32> {
        (-200_000..=200_000).map(|i| i as f32 * 5e-5).chain([-1e30, -50.0, -4.0, 4.0, 50.0, 1e30, f32::MIN, f32::MAX])
    }

    #[test]
    fn normal_cdf_is_within_1_3e_7_of_the_f64_reference_everywhere() {
        let worst = grid().map(|x| (normal_cdf(x).0 as f64 - reference::normal_cdf(x as f64)).abs()).fold(0.0, f64::max);
        assert!(worst <= 1.3e-7, "max |Φ error| = {worst:e}");
    }

    #[test]
    fn normal_cdf_keeps_its_relative_accuracy_in_the_lower_tail() {
        // Down to x = −13, Φ(x) ≈ 6e-39, where f32 leaves its normal range. The bound is set by rounding x²/2,
        // the exponent, to f32: half an ulp of 84.5 is 3.8e-6 of e^{−x²/2}.
        let worst = (0..=1_300_000)
            .map(|i| -(i as f32) * 1e-5)
            .map(|x| {
                let exact = reference::normal_cdf(x as f64);
                (normal_cdf(x).0 as f64 - exact).abs() / exact
            })
            .fold(0.0, f64::max);
        assert!(worst <= 5e-6, "max relative Φ error on [−13, 0] = {worst:e}");
    }

    #[test]
    fn normal_cdf_is_symmetric_and_saturates() {
        assert_eq!(normal_cdf(0.0).0, 0.5);
        for x in [0.1f32, 0.7, 1.9, 3.3, 6.0] {
            let (upper, lower) = (normal_cdf(x).0 as f64, normal_cdf(-x).0 as f64);
            assert!((upper + lower - 1.0).abs() <= 6e-8, "Φ({x}) + Φ(−{x}) = {}", upper + lower);
        }
        assert_eq!(normal_cdf(6.0).0, 1.0);
        assert_eq!(normal_cdf(f32::INFINITY).0, 1.0);
        // exp's clamp: a subnormal rather than 0, never negative.
        assert!((0.0..1e-39).contains(&normal_cdf(f32::NEG_INFINITY).0));
        // The Gaussian it returns is e^{−x²/2}.
        assert_eq!(normal_cdf(0.0).1, 1.0);
        assert!((normal_cdf(2.0).1 - (-2.0f32).exp()).abs() <= 2e-7);
    }

    #[test]
    fn gelu_matches_the_exact_definition() {
        let worst = grid()
            .filter(|x| x.abs() < 1e6)
            .map(|x| {
                let exact = x as f64 * reference::normal_cdf(x as f64);
                (gelu(x) as f64 - exact).abs() / (1.0 + exact.abs())
            })
            .fold(0.0, f64::max);
        assert!(worst <= 1e-7, "max relative GELU error = {worst:e}");
        // GELU(0) = 0 and GELU(x) → x for large x.
        assert_eq!(gelu(0.0), 0.0);
        assert_eq!(gelu(20.0), 20.0);
    }

    #[test]
    fn the_vector_gelu_equals_the_scalar_gelu_bit_for_bit() {
        let bias: Vec<f32> = (0..16).map(|i| i as f32 * 0.01 - 0.08).collect();
        let values: Vec<f32> = grid().filter(|x| x.abs() < 1e6).take(16 * 4000).collect();
        let mut scalar = values.clone();
        bias_gelu(&mut scalar, &bias, false);
        let avx2 = crate::engine::has_avx2_fma();
        let mut vector = values.clone();
        bias_gelu(&mut vector, &bias, avx2);
        assert_eq!(scalar, vector);
    }

    #[test]
    fn exp_is_within_2_ulp_on_the_softmax_range() {
        for i in 0..=870_000 {
            let x = -(i as f32) * 1e-4;
            let exact = (x as f64).exp();
            let ulp = f32::EPSILON as f64 * exact;
            let err = (exp(x) as f64 - exact).abs();
            assert!(err <= 2.0 * ulp, "exp({x}) = {} vs {exact}", exp(x));
        }
        assert_eq!(exp(0.0), 1.0);
        assert!(exp(f32::NEG_INFINITY) < 2e-38);
    }

    #[test]
    fn layer_norm_of_a_constant_vector_is_beta() {
        // x − mean = 0 exactly, so the output is β whatever γ is.
        let x = [3.25f32; 13];
        let gamma: Vec<f32> = (0..13).map(|i| 1.0 + i as f32).collect();
        let beta: Vec<f32> = (0..13).map(|i| i as f32 * 0.5 - 2.0).collect();
        let mut out = [0.0; 13];
        layer_norm(&x, &gamma, &beta, 1e-5, &mut out);
        assert_eq!(out.to_vec(), beta);
    }

    #[test]
    fn layer_norm_standardises() {
        // x = [1, 2, 3, 4]: mean 2.5, population variance 1.25, so (x − 2.5)/√1.25 (eps = 0).
        let mut out = [0.0; 4];
        layer_norm(&[1.0, 2.0, 3.0, 4.0], &[1.0; 4], &[0.0; 4], 0.0, &mut out);
        let s = 1.25f32.sqrt();
        for (o, e) in out.iter().zip([-1.5 / s, -0.5 / s, 0.5 / s, 1.5 / s]) {
            assert!((o - e).abs() < 1e-6, "{o} vs {e}");
        }
    }

    #[test]
    fn matmul_matches_the_definition() {
        // [[1, 2], [3, 4], [5, 6]] · [[1, 0, 2], [0, 1, 3]] = [[1, 2, 8], [3, 4, 18], [5, 6, 28]].
        let a = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let b = [1.0, 0.0, 2.0, 0.0, 1.0, 3.0];
        let mut out = [1.0f32; 9];
        matmul(3, 3, 2, &a, &b, &mut out, true);
        assert_eq!(out, [2.0, 3.0, 9.0, 4.0, 5.0, 19.0, 6.0, 7.0, 29.0]);
        matmul(3, 3, 2, &a, &b, &mut out, false);
        assert_eq!(out, [1.0, 2.0, 8.0, 3.0, 4.0, 18.0, 5.0, 6.0, 28.0]);
    }
}
