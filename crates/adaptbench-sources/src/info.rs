//! Information-theoretic quantities in bits: log-loss, binary entropy, Bernoulli KL, and a stable
//! log-sum-exp. Every loss adaptbench reports goes through [`log_loss_bits`].

/// Smallest probability [`log_loss_bits`] charges for, so that a confident wrong prediction costs at most
/// −log2(1e-15) ≈ 49.8 bits instead of infinity. 1e-15 is about ten times f64's resolution near 1
/// (2^−52 ≈ 2.2e-16), so a probability computed as `1 − p` is meaningless below it anyway.
pub const PROB_FLOOR: f64 = 1e-15;

/// Log-loss of one token in bits: −log2 P(x), where P(1) = `p1` and P(0) = 1 − `p1`, with P(x) clamped
/// below at [`PROB_FLOOR`]. Any non-zero `x` counts as a 1.
pub fn log_loss_bits(p1: f64, x: u8) -> f64 {
    let p = if x != 0 { p1 } else { 1.0 - p1 };
    -p.max(PROB_FLOOR).log2()
}

/// Binary entropy in bits: H(p) = −p log2 p − (1−p) log2(1−p), with 0 · log 0 = 0 so H(0) = H(1) = 0.
pub fn binary_entropy_bits(p: f64) -> f64 {
    // p · log2(p / 1) = p log2 p, so the entropy is minus the divergence terms against 1.
    -(plogp_ratio(p, 1.0) + plogp_ratio(1.0 - p, 1.0))
}

/// Kullback–Leibler divergence between coins in bits:
/// KL(p ‖ q) = p log2(p/q) + (1−p) log2((1−p)/(1−q)), with 0 · log(0/q) = 0. It is +∞ when q puts zero
/// mass where p does not.
pub fn bernoulli_kl_bits(p: f64, q: f64) -> f64 {
    plogp_ratio(p, q) + plogp_ratio(1.0 - p, 1.0 - q)
}

/// `a · log2(a / b)` with the convention 0 · log(0 / b) = 0.
fn plogp_ratio(a: f64, b: f64) -> f64 {
    if a == 0.0 {
        0.0
    } else {
        a * (a / b).log2()
    }
}

/// Natural-log sum of exponentials, ln Σ_i exp(x_i), computed as m + ln Σ_i exp(x_i − m) with m = max_i x_i
/// so that no term overflows and the largest term does not underflow. The empty sum is −∞.
pub fn log_sum_exp(xs: &[f64]) -> f64 {
    let m = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !m.is_finite() {
        // All −∞ (or empty) gives −∞; any +∞ gives +∞. Subtracting m would produce NaN in both cases.
        return m;
    }
    m + xs.iter().map(|&x| (x - m).exp()).sum::<f64>().ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_loss_of_a_fair_coin_is_one_bit() {
        assert_eq!(log_loss_bits(0.5, 0), 1.0);
        assert_eq!(log_loss_bits(0.5, 1), 1.0);
        // −log2(1/4) = 2 for a 1 under p1 = 1/4; −log2(3/4) ≈ 0.415 for a 0.
        assert!((log_loss_bits(0.25, 1) - 2.0).abs() < 1e-15);
        assert!((log_loss_bits(0.25, 0) - (4.0f64 / 3.0).log2()).abs() < 1e-15);
    }

    #[test]
    fn log_loss_of_a_certain_wrong_prediction_is_clamped() {
        let cap = -PROB_FLOOR.log2();
        assert_eq!(log_loss_bits(0.0, 1), cap);
        assert_eq!(log_loss_bits(1.0, 0), cap);
        assert!(cap.is_finite() && cap < 50.0);
    }

    #[test]
    fn binary_entropy_is_one_bit_at_a_half_and_zero_at_the_ends() {
        assert_eq!(binary_entropy_bits(0.5), 1.0);
        assert_eq!(binary_entropy_bits(0.0), 0.0);
        assert_eq!(binary_entropy_bits(1.0), 0.0);
        // H(1/4) = 1/4 · 2 + 3/4 · log2(4/3) = 2 − 3/4 · log2 3 ≈ 0.811278.
        let expected = 2.0 - 0.75 * 3.0f64.log2();
        assert!((binary_entropy_bits(0.25) - expected).abs() < 1e-15);
    }

    #[test]
    fn bernoulli_kl_is_zero_on_the_diagonal_and_matches_the_closed_form() {
        assert_eq!(bernoulli_kl_bits(0.3, 0.3), 0.0);
        // KL(1/2 ‖ 1/4) = 1/2 log2 2 + 1/2 log2(2/3) = 1 − 1/2 log2 3 ≈ 0.207519.
        let expected = 1.0 - 0.5 * 3.0f64.log2();
        assert!((bernoulli_kl_bits(0.5, 0.25) - expected).abs() < 1e-15);
        assert_eq!(bernoulli_kl_bits(1.0, 0.5), 1.0);
        assert_eq!(bernoulli_kl_bits(0.5, 1.0), f64::INFINITY);
    }

    #[test]
    fn log_sum_exp_is_stable_for_large_and_infinite_arguments() {
        // ln(e^1000 + e^1000) = 1000 + ln 2, which overflows if computed naively.
        assert!((log_sum_exp(&[1000.0, 1000.0]) - (1000.0 + 2.0f64.ln())).abs() < 1e-12);
        assert!((log_sum_exp(&[0.0, 0.0]) - 2.0f64.ln()).abs() < 1e-15);
        assert_eq!(log_sum_exp(&[]), f64::NEG_INFINITY);
        assert_eq!(
            log_sum_exp(&[f64::NEG_INFINITY, f64::NEG_INFINITY]),
            f64::NEG_INFINITY
        );
        assert_eq!(log_sum_exp(&[f64::INFINITY, 0.0]), f64::INFINITY);
        assert_eq!(log_sum_exp(&[f64::NEG_INFINITY, 3.0]), 3.0);
    }
}
