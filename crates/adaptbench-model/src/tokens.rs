//! The token alphabet and the shift that turns a binary sequence into model inputs.

/// The beginning-of-sequence token; 0 and 1 are the binary symbols.
pub const BOS: u32 = 2;
/// Token vocabulary {0, 1, BOS}.
pub const VOCAB_SIZE: usize = 3;

/// Model inputs for a batch of equal-length binary sequences: `[BOS, x_1, …, x_{n-1}]` per row, so that
/// the logits at position `t` predict `x_{t+1}` (teacher forcing).
///
/// Returns the row-major input ids, `sequences.len() × n` long.
///
/// # Panics
/// If a sequence is empty: it has no token to predict (configs require lengths ≥ 1).
pub fn model_inputs(sequences: &[Vec<u8>]) -> Vec<i64> {
    let mut ids = Vec::with_capacity(sequences.iter().map(Vec::len).sum());
    for sequence in sequences {
        assert!(!sequence.is_empty(), "an empty sequence has no token to predict");
        ids.push(BOS as i64);
        ids.extend(sequence[..sequence.len() - 1].iter().map(|&x| x as i64));
    }
    ids
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_are_the_sequence_shifted_right_behind_bos() {
        let ids = model_inputs(&[vec![1, 0, 1], vec![0, 0, 1]]);
        assert_eq!(ids, vec![2, 1, 0, 2, 0, 0]);
    }
}
