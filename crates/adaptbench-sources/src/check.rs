//! Parameter checks shared by the source constructors and [`SourceSpec::validate`](crate::SourceSpec::validate),
//! so that both state the same allowed ranges in the same words.

use crate::SourceError;

/// The largest Markov order: 2^8 = 256 contexts already need ~256 · 20 tokens before every context has
/// been seen often enough to matter, far beyond the sequence lengths used here.
pub const MAX_MARKOV_ORDER: usize = 8;

/// Joins a table key and a field name: `sub("pretrain.source", "p") = "pretrain.source.p"`; an empty table
/// key gives the bare field name.
pub(crate) fn sub(key: &str, field: &str) -> String {
    if key.is_empty() {
        field.to_owned()
    } else {
        format!("{key}.{field}")
    }
}

/// A coin bias strictly inside (0, 1): at 0 or 1 a single contrary token has probability 0 and an
/// infinite log-loss.
pub(crate) fn probability(key: String, value: f64) -> Result<(), SourceError> {
    // Written as a negated conjunction so that NaN is rejected too.
    if !(value > 0.0 && value < 1.0) {
        return Err(SourceError::OutOfRange {
            key,
            value,
            range: "(0, 1)",
        });
    }
    Ok(())
}

/// A Beta pseudo-count: positive and finite.
pub(crate) fn pseudo_count(key: String, value: f64) -> Result<(), SourceError> {
    if !(value > 0.0 && value.is_finite()) {
        return Err(SourceError::OutOfRange {
            key,
            value,
            range: "(0, inf)",
        });
    }
    Ok(())
}

/// A change-point rate in [0, 1).
pub(crate) fn rate(key: String, value: f64) -> Result<(), SourceError> {
    // `contains` is false for NaN, so NaN is rejected too.
    if !(0.0..1.0).contains(&value) {
        return Err(SourceError::OutOfRange {
            key,
            value,
            range: "[0, 1)",
        });
    }
    Ok(())
}

/// A Markov order in 0..=[`MAX_MARKOV_ORDER`].
pub(crate) fn order(key: String, value: usize) -> Result<(), SourceError> {
    if value > MAX_MARKOV_ORDER {
        return Err(SourceError::OrderOutOfRange {
            key,
            value,
            max: MAX_MARKOV_ORDER,
        });
    }
    Ok(())
}

/// A finite mixture of coins: non-empty, biases in (0, 1), as many weights as biases, weights in (0, 1]
/// summing to 1 within 1e-9.
pub(crate) fn mixture(key: &str, thetas: &[f64], weights: &[f64]) -> Result<(), SourceError> {
    let thetas_key = sub(key, "thetas");
    let weights_key = sub(key, "weights");
    if thetas.is_empty() {
        return Err(SourceError::Empty { key: thetas_key });
    }
    if thetas.len() != weights.len() {
        return Err(SourceError::LengthMismatch {
            thetas_key,
            thetas_len: thetas.len(),
            weights_key,
            weights_len: weights.len(),
        });
    }
    for (i, &theta) in thetas.iter().enumerate() {
        probability(format!("{thetas_key}[{i}]"), theta)?;
    }
    for (i, &weight) in weights.iter().enumerate() {
        if !(weight > 0.0 && weight <= 1.0) {
            return Err(SourceError::OutOfRange {
                key: format!("{weights_key}[{i}]"),
                value: weight,
                range: "(0, 1]",
            });
        }
    }
    let sum: f64 = weights.iter().sum();
    if (sum - 1.0).abs() > 1e-9 {
        return Err(SourceError::WeightsDoNotSumToOne {
            key: weights_key,
            sum,
        });
    }
    Ok(())
}
