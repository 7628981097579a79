//! Causal attention of one head for the task rows of one sequence: query row `i` attends to the `P` cached
//! prompt keys and to the sequence's own task keys `0..=i`. An AVX2 + FMA kernel for head widths 8 and 16
//! (the quickstart's 16), and a portable one for the rest.

use crate::math;

/// One (sequence, head) attention problem, as views into the engine's buffers. Row strides are in `f32`s.
///
/// # Shapes
/// - `kt`: `[hd, kpad]`, keys transposed: columns `0..p` the prompt's, `p..p+nq` the task rows'; columns up to
///   `kpad` (a multiple of 8) hold finite values.
/// - `v_prompt`: `p` rows of `hd` at stride `vp_stride`; `v_task`: `nq` rows of `hd` at stride `vt_stride`.
/// - `q`: rows `first..nq` of `hd` at stride `q_stride` (already scaled by `1/√hd`); `out`: rows `first..nq` at
///   `out_stride` (earlier rows are shared with another sequence and computed there).
/// - `scores`: scratch `[4, kpad]`.
pub(crate) struct HeadJob<'a> {
    pub kt: &'a [f32],
    pub kpad: usize,
    pub v_prompt: &'a [f32],
    pub vp_stride: usize,
    pub v_task: &'a [f32],
    pub vt_stride: usize,
    pub q: &'a [f32],
    pub q_stride: usize,
    pub out: &'a mut [f32],
    pub out_stride: usize,
    pub p: usize,
    /// First query row to compute.
    pub first: usize,
    pub nq: usize,
    pub hd: usize,
    pub scores: &'a mut [f32],
}

impl HeadJob<'_> {
    fn check(&self) {
        let (hd, p, nq) = (self.hd, self.p, self.nq);
        assert!(nq > 0 && p + nq <= self.kpad && self.kpad.is_multiple_of(8));
        assert!(self.kt.len() >= hd * self.kpad && self.scores.len() >= 4 * self.kpad);
        assert!(p == 0 || self.v_prompt.len() >= (p - 1) * self.vp_stride + hd);
        assert!(self.v_task.len() >= (nq - 1) * self.vt_stride + hd);
        let queries = nq.saturating_sub(self.first);
        assert!(queries == 0 || self.q.len() >= (queries - 1) * self.q_stride + hd);
        assert!(queries == 0 || self.out.len() >= (queries - 1) * self.out_stride + hd);
    }
}

/// Runs `job`, with the AVX2 kernel when `avx2` (the caller checked the CPU) and the head width allows it.
#[inline(always)]
pub(crate) fn attend_head(job: &mut HeadJob, avx2: bool) {
    job.check();
    #[cfg(target_arch = "x86_64")]
    if avx2 {
        // SAFETY: `avx2` is only set when the CPU has AVX2 and FMA; `check` bounds every pointer the kernel forms.
        match job.hd {
            16 => return unsafe { x86::attend_head::<2>(job) },
            8 => return unsafe { x86::attend_head::<1>(job) },
            _ => {}
        }
    }
    let _ = avx2;
    attend_head_portable(job);
}

/// The plain version: one query at a time, scores over 8-key blocks of the transposed keys.
#[inline(always)]
fn attend_head_portable(job: &mut HeadJob) {
    let (hd, p, kpad) = (job.hd, job.p, job.kpad);
    for i in job.first..job.nq {
        let q = &job.q[(i - job.first) * job.q_stride..][..hd];
        let n = p + i + 1;
        let n_pad = n.div_ceil(8) * 8;
        let sc = &mut job.scores[..n_pad];
        sc.fill(0.0);
        for (c, qc) in q.iter().enumerate() {
            for (s, k) in sc.iter_mut().zip(&job.kt[c * kpad..][..n_pad]) {
                *s += qc * k;
            }
        }
        let sc = &mut sc[..n];
        let inv = 1.0 / softmax_in_place(sc);
        let out = &mut job.out[(i - job.first) * job.out_stride..][..hd];
        out.fill(0.0);
        for (key, w) in sc.iter().enumerate() {
            let v = if key < p {
                &job.v_prompt[key * job.vp_stride..][..hd]
            } else {
                &job.v_task[(key - p) * job.vt_stride..][..hd]
            };
            for (o, v) in out.iter_mut().zip(v) {
                *o += w * v;
            }
        }
        out.iter_mut().for_each(|o| *o *= inv);
    }
}

/// Replaces scores by `exp(score − max)` and returns their sum (the caller divides once at the end).
#[inline(always)]
pub(crate) fn softmax_in_place(scores: &mut [f32]) -> f32 {
    let max = math::max(scores);
    for s in scores.iter_mut() {
        *s = math::exp(*s - max);
    }
    math::sum(scores)
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    use super::HeadJob;

    /// Queries per tile: 4 queries × 2 key blocks (scores) or × `HV` value vectors (context) of accumulators
    /// stay in the 16 ymm registers, and each loaded key or value vector feeds 4 FMAs.
    const QT: usize = 4;

    /// Softmax of the first `n` of `8·blocks` scores at `row`, in place: `exp(s − max)` for `k < n`, 0 for the
    /// rest; returns the sum of the weights.
    ///
    /// # Safety
    /// AVX2 + FMA; `row` valid for `8·blocks` floats, `1 ≤ n ≤ 8·blocks`.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn softmax_masked(row: *mut f32, n: usize, blocks: usize) -> f32 {
        let neg_inf = _mm256_set1_ps(f32::NEG_INFINITY);
        let mut m = neg_inf;
        for b in 0..n.div_ceil(8) {
            m = _mm256_max_ps(m, _mm256_blendv_ps(neg_inf, _mm256_loadu_ps(row.add(8 * b)), first_lanes(n - 8 * b)));
        }
        // Horizontal max, broadcast to all lanes.
        m = _mm256_max_ps(m, _mm256_permute2f128_ps(m, m, 1));
        m = _mm256_max_ps(m, _mm256_shuffle_ps(m, m, 0b01_00_11_10));
        m = _mm256_max_ps(m, _mm256_shuffle_ps(m, m, 0b10_11_00_01));
        let mut sum = _mm256_setzero_ps();
        for b in 0..blocks {
            let keep = if 8 * b < n { first_lanes(n - 8 * b) } else { _mm256_setzero_ps() };
            let e = _mm256_and_ps(exp(_mm256_sub_ps(_mm256_loadu_ps(row.add(8 * b)), m)), keep);
            _mm256_storeu_ps(row.add(8 * b), e);
            sum = _mm256_add_ps(sum, e);
        }
        let half = _mm_add_ps(_mm256_castps256_ps128(sum), _mm256_extractf128_ps(sum, 1));
        let half = _mm_add_ps(half, _mm_movehl_ps(half, half));
        _mm_cvtss_f32(_mm_add_ss(half, _mm_shuffle_ps(half, half, 1)))
    }

    /// All-ones in the lanes `< count` (`count ≥ 8`: all lanes).
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn first_lanes(count: usize) -> __m256 {
        let lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32(count.min(8) as i32), lane))
    }

    /// [`crate::math::exp`] on 8 lanes (same constants and operations).
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn exp(x: __m256) -> __m256 {
        const ROUND: f32 = 12_582_912.0;
        let x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.33)), _mm256_set1_ps(88.37));
        let shifted = _mm256_add_ps(_mm256_mul_ps(x, _mm256_set1_ps(std::f32::consts::LOG2_E)), _mm256_set1_ps(ROUND));
        let n = _mm256_sub_ps(shifted, _mm256_set1_ps(ROUND));
        let r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693_359_4), x);
        let r = _mm256_fmadd_ps(n, _mm256_set1_ps(2.121_944_4e-4), r);
        let mut p = _mm256_set1_ps(1.987_569_1e-4);
        for c in [1.398_199_9e-3, 8.333_452e-3, 4.166_579_6e-2, 1.666_666_5e-1, 0.5] {
            p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(c));
        }
        let e_r = _mm256_add_ps(_mm256_fmadd_ps(_mm256_mul_ps(p, r), r, r), _mm256_set1_ps(1.0));
        let n_int = _mm256_sub_epi32(_mm256_castps_si256(shifted), _mm256_set1_epi32(ROUND.to_bits() as i32));
        let scale = _mm256_slli_epi32(_mm256_add_epi32(n_int, _mm256_set1_epi32(127)), 23);
        _mm256_mul_ps(e_r, _mm256_castsi256_ps(scale))
    }

    /// AVX2 + FMA attention for `hd = 8·HV`.
    ///
    /// # Safety
    /// The CPU must support AVX2 and FMA, and `job.check()` must hold (it bounds every access below).
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn attend_head<const HV: usize>(job: &mut HeadJob) {
        let (p, first, nq, kpad, hd) = (job.p, job.first, job.nq, job.kpad, job.hd);
        debug_assert_eq!(hd, 8 * HV);
        let kt = job.kt.as_ptr();
        let sp = job.scores.as_mut_ptr();
        let mut i0 = first;
        while i0 < nq {
            // The tile's queries; past the last row, lanes repeat it and are not stored.
            let rows: [usize; QT] = std::array::from_fn(|t| (i0 + t).min(nq - 1));
            let n: [usize; QT] = rows.map(|i| p + i + 1); // valid keys per query (causal)
            let n_max = n[QT - 1];
            let blocks = n_max.div_ceil(8);
            let qp: [*const f32; QT] = rows.map(|i| job.q.as_ptr().add((i - first) * job.q_stride));
            // Scores s[t][k] = q_t · k_k, 2 key blocks at a time.
            let mut b = 0;
            while b < blocks {
                let two = b + 1 < blocks;
                let mut acc = [[_mm256_setzero_ps(); 2]; QT];
                for c in 0..hd {
                    let row = kt.add(c * kpad + b * 8);
                    let k0 = _mm256_loadu_ps(row);
                    let k1 = if two { _mm256_loadu_ps(row.add(8)) } else { _mm256_setzero_ps() };
                    for t in 0..QT {
                        let qc = _mm256_broadcast_ss(&*qp[t].add(c));
                        acc[t][0] = _mm256_fmadd_ps(qc, k0, acc[t][0]);
                        acc[t][1] = _mm256_fmadd_ps(qc, k1, acc[t][1]);
                    }
                }
                for (t, acc) in acc.iter().enumerate() {
                    _mm256_storeu_ps(sp.add(t * kpad + b * 8), acc[0]);
                    if two {
                        _mm256_storeu_ps(sp.add(t * kpad + b * 8 + 8), acc[1]);
                    }
                }
                b += 2;
            }
            // Softmax over each query's valid keys; weights of its masked keys inside the tile are 0.
            let mut inv = [0.0f32; QT];
            for t in 0..QT {
                inv[t] = 1.0 / softmax_masked(sp.add(t * kpad), n[t], blocks);
            }
            // Context: out[t] = Σ_k w[t][k] · v_k.
            let mut acc = [[_mm256_setzero_ps(); HV]; QT];
            let mut accumulate = |k: usize, v_row: *const f32| {
                let mut v = [_mm256_setzero_ps(); HV];
                for (j, v) in v.iter_mut().enumerate() {
                    *v = _mm256_loadu_ps(v_row.add(8 * j));
                }
                for (t, acc) in acc.iter_mut().enumerate() {
                    let w = _mm256_broadcast_ss(&*sp.add(t * kpad + k));
                    for j in 0..HV {
                        acc[j] = _mm256_fmadd_ps(w, v[j], acc[j]);
                    }
                }
            };
            for k in 0..p.min(n_max) {
                accumulate(k, job.v_prompt.as_ptr().add(k * job.vp_stride));
            }
            for k in p..n_max {
                accumulate(k, job.v_task.as_ptr().add((k - p) * job.vt_stride));
            }
            for (t, acc) in acc.iter().enumerate() {
                if i0 + t < nq {
                    let out = job.out.as_mut_ptr().add((i0 + t - first) * job.out_stride);
                    let scale = _mm256_set1_ps(inv[t]);
                    for (j, a) in acc.iter().enumerate() {
                        _mm256_storeu_ps(out.add(8 * j), _mm256_mul_ps(*a, scale));
                    }
                }
            }
            i0 += QT;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs one (sequence, head) problem with `p` prompt keys and `nq` task rows through the chosen kernel.
    fn run(hd: usize, p: usize, first: usize, nq: usize, avx2: bool) -> Vec<f32> {
        let kpad = (p + nq).div_ceil(8) * 8;
        // Deterministic values in [−1.5, 1.5) from a Weyl sequence.
        let value = |i: usize| ((i as f64 * 0.618_033_988_75).fract() * 3.0 - 1.5) as f32;
        let kt: Vec<f32> = (0..hd * kpad).map(value).collect();
        let v_prompt: Vec<f32> = (0..p * 24).map(|i| value(i + 7_000)).collect();
        let v_task: Vec<f32> = (0..nq * 40).map(|i| value(i + 13_000)).collect();
        let q: Vec<f32> = (0..nq * 40).map(|i| value(i + 29_000)).collect();
        let mut out = vec![0.0; nq * 20];
        let mut scores = vec![0.0; 4 * kpad];
        let mut job = HeadJob {
            kt: &kt,
            kpad,
            v_prompt: &v_prompt,
            vp_stride: 24,
            v_task: &v_task,
            vt_stride: 40,
            q: &q,
            q_stride: 40,
            out: &mut out,
            out_stride: 20,
            p,
            first,
            nq,
            hd,
            scores: &mut scores,
        };
        attend_head(&mut job, avx2);
        out
    }

    #[test]
    fn the_avx2_kernel_equals_the_portable_one() {
        let avx2 = crate::engine::has_avx2_fma();
        for hd in [8, 16] {
            // Task rows not a multiple of the 4-query tile, prompt lengths across 8-key blocks.
            for (p, first, nq) in [(1, 0, 1), (1, 0, 31), (3, 2, 6), (11, 5, 31), (9, 0, 13), (17, 7, 46), (4, 9, 9)] {
                let portable = run(hd, p, first, nq, false);
                let vector = run(hd, p, first, nq, avx2);
                for (i, (a, b)) in portable.iter().zip(&vector).enumerate() {
                    assert!(
                        (a - b).abs() <= 1e-5 * (1.0 + a.abs()),
                        "hd {hd}, p {p}, first {first}, [{i}]: {a} vs {b}"
                    );
                }
            }
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_avx2_exp_equals_the_scalar_exp_bit_for_bit() {
        use std::arch::x86_64::{_mm256_loadu_ps, _mm256_storeu_ps};
        assert!(crate::engine::has_avx2_fma(), "this test needs a CPU with AVX2 and FMA");
        // The softmax range and beyond both clamps, in steps that are not multiples of ln 2.
        let x: Vec<f32> = (0..200_000).map(|i| -100.0 + i as f32 * 9.5e-4).collect();
        for chunk in x.chunks_exact(8) {
            let mut vector = [0.0f32; 8];
            // SAFETY: AVX2 and FMA checked above; both pointers cover 8 floats.
            unsafe { _mm256_storeu_ps(vector.as_mut_ptr(), x86::exp(_mm256_loadu_ps(chunk.as_ptr()))) };
            let scalar: Vec<f32> = chunk.iter().map(|&v| math::exp(v)).collect();
            assert_eq!(vector.map(f32::to_bits).to_vec(), scalar.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), "{chunk:?}");
        }
    }

    #[test]
    fn equal_scores_average_the_values() {
        // One prompt key and one task row, which attends to both keys; q = 0 makes their scores equal, so the
        // context is the mean of the two values.
        let hd = 8;
        let kt = vec![0.5; hd * 8];
        let v_prompt: Vec<f32> = (0..hd).map(|c| c as f32).collect();
        let v_task: Vec<f32> = (0..hd).map(|c| 10.0 + c as f32).collect();
        let q = vec![0.0; hd];
        let mut out = vec![0.0; hd];
        let mut scores = vec![0.0; 32];
        let mut job = HeadJob {
            kt: &kt,
            kpad: 8,
            v_prompt: &v_prompt,
            vp_stride: hd,
            v_task: &v_task,
            vt_stride: hd,
            q: &q,
            q_stride: hd,
            out: &mut out,
            out_stride: hd,
            p: 1,
            first: 0,
            nq: 1,
            hd,
            scores: &mut scores,
        };
        attend_head(&mut job, false);
        // (c + (10 + c)) / 2 = 5 + c.
        assert_eq!(out, (0..hd).map(|c| 5.0 + c as f32).collect::<Vec<_>>());
    }
}
