//! Binary prompts: their canonical enumeration (from the inference crate, which walks the same order) and
//! their spelling in CSVs and reports.

pub use adaptbench_infer::all_prompts;

/// The prompt as a string of `0`/`1` characters; the empty prompt is the empty string.
pub fn prompt_string(prompt: &[u8]) -> String {
    prompt.iter().map(|&bit| if bit == 0 { '0' } else { '1' }).collect()
}

/// Number of ones in the prompt.
pub fn ones(prompt: &[u8]) -> usize {
    prompt.iter().filter(|&&bit| bit != 0).count()
}

/// Index of the first prompt of length `len` in the canonical order of [`all_prompts`]: `2^len − 1`, since
/// every shorter length ℓ contributes its 2^ℓ prompts first.
pub fn first_index_of_length(len: usize) -> usize {
    (1usize << len) - 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_order_starts_each_length_at_two_to_the_length_minus_one() {
        let prompts = all_prompts(4);
        for len in 0..=4 {
            let first = first_index_of_length(len);
            assert_eq!(prompts[first].len(), len);
            assert!(first == 0 || prompts[first - 1].len() == len - 1);
        }
    }

    #[test]
    fn prompts_are_spelled_as_bits() {
        assert_eq!(prompt_string(&[]), "");
        assert_eq!(prompt_string(&[1, 0, 1]), "101");
        assert_eq!(ones(&[1, 0, 1]), 2);
    }
}
