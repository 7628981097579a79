//! The statistics every result uses, in one place: the mean, the normal 95% interval of a mean over many
//! sequences, Student-t quantiles for intervals across a few seeds, and Wilson's interval for proportions.

/// Two-sided 95% quantiles t_{0.975, df} of Student's t for df = 1..=30 (standard tables).
const T_975: [f64; 30] = [
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131, 2.120,
    2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
];

/// The normal quantile z_{0.975} of a two-sided 95% interval.
const Z_975: f64 = 1.96;

/// t_{0.975, df}, the quantile with P(|T| ≤ t) = 0.95 for Student's t with `df` degrees of freedom: a table
/// for df = 1..=30 (12.706, 4.303, 3.182, …, 2.042), then the normal quantile 1.96 beyond (at df = 31 the
/// exact value is 2.040, so the interval is then at most 4% too narrow). df = 0 gives +∞: one value carries
/// no information about spread.
pub fn student_t_975(df: usize) -> f64 {
    match df {
        0 => f64::INFINITY,
        1..=30 => T_975[df - 1],
        _ => Z_975,
    }
}

/// The arithmetic mean x̄ = Σ x / n; NaN for no values.
pub fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

/// The sample variance about `centre`, s² = Σ (x − centre)² / (n − 1); 0 for fewer than two values (one
/// value says nothing about spread, and the intervals built on it then have width 0).
pub fn sample_variance(values: &[f64], centre: f64) -> f64 {
    if values.len() < 2 {
        return 0.0;
    }
    values.iter().map(|x| (x - centre).powi(2)).sum::<f64>() / (values.len() - 1) as f64
}

/// The half-width z_{0.975} · √(s² / n) of the normal 95% interval of a mean of `n` values with sample
/// variance `variance`: the large-sample interval used over evaluation sequences.
pub fn normal_ci95(variance: f64, n: usize) -> f64 {
    Z_975 * (variance / n as f64).sqrt()
}

/// The mean x̄ and the half-width 1.96 · s / √n of its normal 95% interval ([`sample_variance`] about x̄;
/// width 0 for a single value, NaN mean for none).
pub fn mean_ci95(values: &[f64]) -> (f64, f64) {
    let centre = mean(values);
    (centre, normal_ci95(sample_variance(values, centre), values.len()))
}

/// The 95% Wilson score interval (Wilson 1927) of a proportion p̂ = k/R from k = `successes` of R = `draws`,
/// with z = 1.96:
///
/// centre p̃ = (p̂ + z²/2R) / (1 + z²/R), half-width h = z/(1 + z²/R) · √(p̂(1 − p̂)/R + z²/4R²),
///
/// returned as (p̃ − h, p̃ + h), always inside [0, 1]. Unlike the normal interval p̂ ± z√(p̂(1 − p̂)/R) it does
/// not collapse to a point at k = 0 or k = R, which reliability studies hit often. `successes` above `draws`
/// count as `draws`; no draws give (0, 1), the whole range.
pub fn wilson_interval(successes: usize, draws: usize) -> (f64, f64) {
    if draws == 0 {
        return (0.0, 1.0);
    }
    let r = draws as f64;
    let p = successes.min(draws) as f64 / r;
    let z2 = Z_975 * Z_975;
    let denominator = 1.0 + z2 / r;
    let centre = (p + z2 / (2.0 * r)) / denominator;
    let half = Z_975 / denominator * (p * (1.0 - p) / r + z2 / (4.0 * r * r)).sqrt();
    // The bounds are in [0, 1] in exact arithmetic; clamp the rounding at k = 0 and k = R.
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// The half-width h of the 95% Wilson interval of [`wilson_interval`] (the `ci95` column of
/// `reliability.csv`): h = z/(1 + z²/R) · √(p̂(1 − p̂)/R + z²/4R²) with z = 1.96, p̂ = k/R; ½ for no draws.
pub fn proportion_ci95(successes: usize, draws: usize) -> f64 {
    let (low, high) = wilson_interval(successes, draws);
    0.5 * (high - low)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-4
    }

    #[test]
    fn t_quantiles_match_the_table_and_fall_back_to_the_normal() {
        assert_eq!(student_t_975(1), 12.706);
        assert_eq!(student_t_975(2), 4.303);
        assert_eq!(student_t_975(4), 2.776);
        assert_eq!(student_t_975(30), 2.042);
        assert_eq!(student_t_975(31), 1.96);
        assert_eq!(student_t_975(0), f64::INFINITY);
    }

    #[test]
    fn one_to_four_has_the_textbook_mean_and_normal_interval() {
        // x̄ = 2.5, s² = (2.25 + 0.25 + 0.25 + 2.25)/3 = 5/3, h = 1.96 · √(5/12) = 1.96 · 0.645497 = 1.265174
        let (centre, half) = mean_ci95(&[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(centre, 2.5);
        assert!((half - 1.96 * (5.0f64 / 12.0).sqrt()).abs() < 1e-15 && close(half, 1.265174), "{half}");
    }

    #[test]
    fn fewer_than_two_values_have_no_spread() {
        assert_eq!(mean_ci95(&[0.7]), (0.7, 0.0));
        assert_eq!(sample_variance(&[], 0.0), 0.0);
        assert!(mean_ci95(&[]).0.is_nan(), "the mean of nothing is undefined");
    }

    #[test]
    fn eight_of_ten_gives_the_textbook_wilson_interval() {
        // p̂ = 0.8, R = 10, z² = 3.8416: 1 + z²/R = 1.38416; centre = (0.8 + 0.19208)/1.38416 = 0.716738;
        // h = 1.96/1.38416 · √(0.016 + 0.009604) = 1.416021 · 0.160012 = 0.226581; so [0.4902, 0.9433]
        let (low, high) = wilson_interval(8, 10);
        assert!(close(low, 0.4902) && close(high, 0.9433), "{low} {high}");
        assert!(close(proportion_ci95(8, 10), 0.226581));
    }

    #[test]
    fn all_or_nothing_keeps_an_interval_of_positive_width() {
        // k = 0: centre = h = (z²/2R)/(1 + z²/R) = 0.19208/1.38416 = 0.138771, so [0, 0.277542]
        let (low, high) = wilson_interval(0, 10);
        assert_eq!(low, 0.0);
        assert!(close(high, 0.277542), "{high}");
        let (low, high) = wilson_interval(10, 10);
        assert!(close(low, 1.0 - 0.277542) && high == 1.0, "{low} {high}");
        assert_eq!(wilson_interval(0, 0), (0.0, 1.0));
        assert_eq!(wilson_interval(12, 10), wilson_interval(10, 10));
    }
}
