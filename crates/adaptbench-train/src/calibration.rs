//! Next-bit accuracy and expected calibration error of binary predictions.

/// Equal-width bins of P(x = 1) used by [`expected_calibration_error`].
pub const ECE_BINS: usize = 10;

/// Running sums for accuracy and calibration over (P(x = 1), x) pairs.
#[derive(Debug, Clone)]
pub struct Calibration {
    /// Per bin: count, Σ p, Σ x.
    bins: [(f64, f64, f64); ECE_BINS],
    correct: f64,
    count: f64,
}

impl Default for Calibration {
    fn default() -> Self {
        Self { bins: [(0.0, 0.0, 0.0); ECE_BINS], correct: 0.0, count: 0.0 }
    }
}

impl Calibration {
    /// Adds one prediction `p1 = P(x = 1)` of the bit `x`.
    pub fn add(&mut self, p1: f64, x: u8) {
        let bin = ((p1 * ECE_BINS as f64) as usize).min(ECE_BINS - 1);
        let (n, sum_p, sum_x) = &mut self.bins[bin];
        *n += 1.0;
        *sum_p += p1;
        *sum_x += x as f64;
        // A prediction of exactly ½ is a coin toss between the two bits: half right in expectation.
        self.correct += match p1.partial_cmp(&0.5) {
            Some(std::cmp::Ordering::Greater) => (x == 1) as u8 as f64,
            Some(std::cmp::Ordering::Less) => (x == 0) as u8 as f64,
            _ => 0.5,
        };
        self.count += 1.0;
    }

    /// Share of bits the prediction's arg-max gets right, `(1/n) Σ 1[argmax p = x]` (ties count ½).
    pub fn accuracy(&self) -> f64 {
        self.correct / self.count
    }

    /// Expected calibration error over [`ECE_BINS`] equal-width bins of P(x = 1) (Naeini et al. 2015; the
    /// binary form of Guo et al. 2017): `ECE = Σ_b (n_b / n) · |mean_{i∈b} p_i − mean_{i∈b} x_i|`.
    pub fn expected_calibration_error(&self) -> f64 {
        self.bins
            .iter()
            .filter(|(n, _, _)| *n > 0.0)
            .map(|(_, sum_p, sum_x)| (sum_p - sum_x).abs() / self.count) // (n_b/n)·|Σp/n_b − Σx/n_b|
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(pairs: &[(f64, u8)]) -> Calibration {
        let mut calibration = Calibration::default();
        for &(p, x) in pairs {
            calibration.add(p, x);
        }
        calibration
    }

    #[test]
    fn predictions_matching_the_frequencies_have_zero_calibration_error() {
        // P(1) = 0.7 on ten bits of which seven are ones: the bin's mean p equals its mean x.
        let pairs: Vec<(f64, u8)> = (0..10).map(|i| (0.7, (i < 7) as u8)).collect();
        let calibration = of(&pairs);
        assert!(calibration.expected_calibration_error().abs() < 1e-15);
        assert!((calibration.accuracy() - 0.7).abs() < 1e-15);
    }

    #[test]
    fn calibration_error_weights_each_bin_by_its_share() {
        // Bin [0.9, 1): p = 0.9 on two ones, gap 0.1; bin [0.2, 0.3): p = 0.2 on a one and a zero, gap 0.3.
        // ECE = (2/4)·0.1 + (2/4)·0.3 = 0.2. Accuracy: both 0.9s right, one of the 0.2s right: 3/4.
        let calibration = of(&[(0.9, 1), (0.9, 1), (0.2, 1), (0.2, 0)]);
        assert!((calibration.expected_calibration_error() - 0.2).abs() < 1e-12);
        assert_eq!(calibration.accuracy(), 0.75);
    }

    #[test]
    fn a_fair_coin_prediction_is_half_right() {
        assert_eq!(of(&[(0.5, 1), (0.5, 0)]).accuracy(), 0.5);
        // p = 1 falls in the last bin, not past it.
        assert_eq!(of(&[(1.0, 1)]).expected_calibration_error(), 0.0);
    }
}
