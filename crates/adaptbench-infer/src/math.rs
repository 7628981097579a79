//! Branch-free `f32` element-wise kernels (LayerNorm, exact GELU through a rational `erf`, `exp`), written so
//! that LLVM vectorises them when inlined into the AVX2 build of the engine, plus the gemm wrapper and
//! the final LayerNorm + head + log-softmax both engines share.

use crate::model::{Dense, Norm};

/// `erf(x)` in `f32`: Eigen's (and XLA's) `f32` rational approximation `x·α(x²)/β(x²)` (degrees 9/12, approximation
/// error ≈ 3.5e-8), and `±1` for `|x| ≥ erfinv(1 − 2⁻²⁴) ≈ 3.8325` where `erf` rounds to ±1 in `f32`.
///
/// Both polynomials are evaluated in `f64` (still vectorised, 4 lanes) and divided in `f32`: evaluated wholly in
/// `f32`, rounding errors reach 3.4e-7 near |x| ≈ 3.8 (5 ulp of 1). Absolute error ≤ 1.5e-7 over all of `f32`
/// (tested against an `f64` series).
#[inline(always)]
pub fn erf(x: f32) -> f32 {
    // Clamped so that x² stays finite; the select below replaces the clamped range by ±1 anyway.
    let xc = x.clamp(-ERF_SATURATE, ERF_SATURATE) as f64;
    let x2 = xc * xc;
    // Fused multiply-adds: one rounding per Horner step (vfmadd in the AVX2 build).
    let mut p = ERF_ALPHA[0];
    for a in &ERF_ALPHA[1..] {
        p = p.mul_add(x2, *a);
    }
    let mut q = ERF_BETA[0];
    for b in &ERF_BETA[1..] {
        q = q.mul_add(x2, *b);
    }
    // Numerator and denominator are exact to f32 rounding; one f32 division (8 lanes, much cheaper than two
    // 4-lane f64 divisions) adds half an ulp.
    let r = (xc * p) as f32 / q as f32;
    if x.abs() >= ERF_SATURATE {
        1.0f32.copysign(x)
    } else {
        r
    }
}

/// `erfinv(1 − 2⁻²⁴)`: from here on `erf` rounds to ±1 in `f32`.
const ERF_SATURATE: f32 = 3.832_506_7;
/// Numerator coefficients of `erf(x) ≈ x·α(x²)/β(x²)` (Eigen `generic_fast_erf_float`), highest degree first.
const ERF_ALPHA: [f64; 5] = [
    0.000_229_050_658_613_506_46,
    0.003_408_291_010_710_950_6,
    0.050_955_695_062_380_86,
    0.185_208_322_399_761_45,
    1.128_379_143_519_084,
];
/// Denominator coefficients, highest degree first.
const ERF_BETA: [f64; 7] = [
    -1.179_160_295_436_169_7e-7,
    0.000_023_547_966_471_313_185,
    0.001_017_962_527_891_488_5,
    0.014_070_470_171_167_667,
    0.110_985_051_782_853_62,
    0.497_469_251_100_675_38,
    1.0,
];

/// The exact GELU, `x · ½ · (1 + erf(x / √2))` (burn's `gelu`, not the tanh approximation).
#[inline(always)]
pub fn gelu(x: f32) -> f32 {
    x * 0.5 * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2))
}

/// `rows[r, :] = GELU(rows[r, :] + bias)` for every row, with an explicit AVX2 + FMA kernel when `avx2` (the
/// caller checked the CPU): LLVM vectorises the mixed `f32`/`f64` [`gelu`] only 4 lanes wide. Both paths do the
/// same IEEE operations in the same order, so they agree bit for bit.
///
/// # Shapes
/// - `rows`: `[m, n]`, `bias`: `[n]`.
#[inline(always)]
pub fn bias_gelu(rows: &mut [f32], bias: &[f32], avx2: bool) {
    #[cfg(target_arch = "x86_64")]
    if avx2 && bias.len().is_multiple_of(8) {
        // SAFETY: `avx2` is only set when the CPU has AVX2 and FMA; the kernel stays inside the slices.
        unsafe { x86::bias_gelu(rows, bias) };
        return;
    }
    let _ = avx2;
    for row in rows.chunks_exact_mut(bias.len()) {
        for (v, b) in row.iter_mut().zip(bias) {
            *v = gelu(*v + b);
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    use super::{ERF_ALPHA, ERF_BETA, ERF_SATURATE};

    /// [`super::bias_gelu`] 8 lanes at a time: the polynomials in two 4-lane `f64` halves, one 8-lane division.
    /// (Unrolling to 2 or 4 vectors per step measured no faster.)
    ///
    /// # Safety
    /// The CPU must support AVX2 and FMA; `bias.len()` must be a multiple of 8.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn bias_gelu(rows: &mut [f32], bias: &[f32]) {
        let half = _mm256_set1_ps(0.5);
        let one = _mm256_set1_ps(1.0);
        let inv_sqrt2 = _mm256_set1_ps(std::f32::consts::FRAC_1_SQRT_2);
        let (lo, hi) = (_mm256_set1_ps(-ERF_SATURATE), _mm256_set1_ps(ERF_SATURATE));
        let sign_bit = _mm256_set1_ps(-0.0);
        for row in rows.chunks_exact_mut(bias.len()) {
            for (r, b) in row.chunks_exact_mut(8).zip(bias.chunks_exact(8)) {
                let v = _mm256_add_ps(_mm256_loadu_ps(r.as_ptr()), _mm256_loadu_ps(b.as_ptr()));
                let x = _mm256_mul_ps(v, inv_sqrt2);
                let xc = _mm256_min_ps(_mm256_max_ps(x, lo), hi);
                let (num_lo, den_lo) = rational(_mm256_cvtps_pd(_mm256_castps256_ps128(xc)));
                let (num_hi, den_hi) = rational(_mm256_cvtps_pd(_mm256_extractf128_ps(xc, 1)));
                let num = _mm256_set_m128(_mm256_cvtpd_ps(num_hi), _mm256_cvtpd_ps(num_lo));
                let den = _mm256_set_m128(_mm256_cvtpd_ps(den_hi), _mm256_cvtpd_ps(den_lo));
                let ratio = _mm256_div_ps(num, den);
                // |x| ≥ saturation: ±1 with the sign of x.
                let abs = _mm256_andnot_ps(sign_bit, x);
                let saturated = _mm256_cmp_ps(abs, hi, _CMP_GE_OQ);
                let unit = _mm256_or_ps(_mm256_and_ps(x, sign_bit), one);
                let erf = _mm256_blendv_ps(ratio, unit, saturated);
                // v · ½ · (1 + erf), in the scalar path's order.
                let g = _mm256_mul_ps(_mm256_mul_ps(v, half), _mm256_add_ps(one, erf));
                _mm256_storeu_ps(r.as_mut_ptr(), g);
            }
        }
    }

    /// `(x·α(x²), β(x²))` in `f64`, Horner with fused multiply-adds.
    #[inline(always)]
    unsafe fn rational(x: __m256d) -> (__m256d, __m256d) {
        let x2 = _mm256_mul_pd(x, x);
        let mut p = _mm256_set1_pd(ERF_ALPHA[0]);
        for a in &ERF_ALPHA[1..] {
            p = _mm256_fmadd_pd(p, x2, _mm256_set1_pd(*a));
        }
        let mut q = _mm256_set1_pd(ERF_BETA[0]);
        for b in &ERF_BETA[1..] {
            q = _mm256_fmadd_pd(q, x2, _mm256_set1_pd(*b));
        }
        (_mm256_mul_pd(x, p), q)
    }
}

/// `eˣ` in `f32` to about 1 ulp for `x ∈ [−87.3, 88.3]` (Cephes `expf`: `2ⁿ · e^r`, `|r| ≤ ln2/2`, a degree-6
/// polynomial); the input is clamped to that range, so `exp(−∞)` gives `≈1.2e-38`, harmless as a softmax weight.
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    // 1.5·2²³: adding it rounds to an integer held in the low mantissa bits, branch-free and vectorisable.
    const ROUND: f32 = 12_582_912.0;
    let x = x.clamp(-87.33, 88.37);
    let shifted = x * std::f32::consts::LOG2_E + ROUND;
    let n = shifted - ROUND;
    // Cody–Waite: ln 2 split so that n·LN2_HI is exact.
    let r = x - n * 0.693_359_4 - n * -2.121_944_4e-4;
    let mut p = 1.987_569_1e-4;
    p = p * r + 1.398_199_9e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 1.666_666_5e-1;
    p = p * r + 0.5; // Cephes: 5.0000001201e-1, which is 0.5 in f32
    let e_r = p * r * r + r + 1.0;
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
    fn erf_is_within_1_5e_7_of_the_f64_series_everywhere() {
        let worst = grid().map(|x| (erf(x) as f64 - reference::erf(x as f64)).abs()).fold(0.0, f64::max);
        assert!(worst <= 1.5e-7, "max |erf error| = {worst:e}");
    }

    #[test]
    fn erf_is_odd_and_saturates() {
        assert_eq!(erf(0.0), 0.0);
        assert_eq!(erf(-0.3), -erf(0.3));
        assert!((erf(10.0) - 1.0).abs() <= 1e-7);
    }

    #[test]
    fn gelu_matches_the_exact_definition() {
        let worst = grid()
            .filter(|x| x.abs() < 1e6)
            .map(|x| {
                let exact = 0.5 * x as f64 * (1.0 + reference::erf(x as f64 / std::f64::consts::SQRT_2));
                (gelu(x) as f64 - exact).abs() / (1.0 + exact.abs())
            })
            .fold(0.0, f64::max);
        assert!(worst <= 4e-7, "max relative GELU error = {worst:e}");
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
