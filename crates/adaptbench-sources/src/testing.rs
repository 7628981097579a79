//! Test helpers shared by the per-source tests: brute-force enumeration of {0,1}^T, joint probabilities
//! from predictive probabilities, and binomial confidence bounds.

use crate::{log_loss_bits, Source};

/// All 2^len binary sequences of length `len`, bit t of the index giving token t.
pub(crate) fn all_sequences(len: usize) -> impl Iterator<Item = Vec<u8>> {
    (0..1u64 << len).map(move |i| (0..len).map(|t| ((i >> t) & 1) as u8).collect())
}

/// P(seq) = Π_t P(x_t | x_<t) from the source's Bayes predictions (the chain rule).
pub(crate) fn joint_probability(source: &dyn Source, seq: &[u8]) -> f64 {
    source
        .bayes_predictions(seq)
        .iter()
        .zip(seq)
        .map(|(&p, &x)| if x != 0 { p } else { 1.0 - p })
        .product()
}

/// Total Bayes log-loss of `seq` in bits: −log2 P(seq).
pub(crate) fn sequence_log_loss_bits(source: &dyn Source, seq: &[u8]) -> f64 {
    source
        .bayes_predictions(seq)
        .iter()
        .zip(seq)
        .map(|(&p, &x)| log_loss_bits(p, x))
        .sum()
}

/// Asserts that `hits` successes in `n` Bernoulli(p) trials lie within 5 standard deviations √(n p (1−p))
/// of the mean n p (a false alarm rate below 1e-6).
pub(crate) fn assert_binomial(hits: usize, n: usize, p: f64, what: &str) {
    let mean = n as f64 * p;
    let sd = (n as f64 * p * (1.0 - p)).sqrt();
    assert!(
        (hits as f64 - mean).abs() <= 5.0 * sd,
        "{what}: {hits} of {n}, expected {mean:.1} ± 5 · {sd:.1}"
    );
}

/// Asserts that every source's joint probabilities over {0,1}^len sum to 1: the predictive probabilities
/// define a proper distribution over sequences.
pub(crate) fn assert_joint_sums_to_one(source: &dyn Source, len: usize) {
    let total: f64 = all_sequences(len)
        .map(|seq| joint_probability(source, &seq))
        .sum();
    assert!(
        (total - 1.0).abs() < 1e-12,
        "{}: total {total}",
        source.name()
    );
}

/// Asserts that reordering `seq` (sorted, reversed, and 20 random shuffles) leaves its total Bayes log-loss
/// unchanged to 1e-9 bits: the source is exchangeable on this sequence.
pub(crate) fn assert_permutation_invariant(source: &dyn Source, seq: &[u8]) {
    use rand::seq::SliceRandom;

    let expected = sequence_log_loss_bits(source, seq);
    let mut reordered = vec![seq.iter().rev().copied().collect::<Vec<u8>>()];
    let mut sorted = seq.to_vec();
    sorted.sort_unstable();
    reordered.push(sorted);
    let mut r = crate::rng(0);
    for _ in 0..20 {
        let mut shuffled = seq.to_vec();
        shuffled.shuffle(&mut r);
        reordered.push(shuffled);
    }
    for perm in reordered {
        let loss = sequence_log_loss_bits(source, &perm);
        assert!(
            (loss - expected).abs() < 1e-9,
            "{}: {perm:?} costs {loss}, not {expected}",
            source.name()
        );
    }
}
