//! Seeds: one config seed fans out into independent, reproducible seeds for data, model initialisation,
//! evaluation and each adaptation method, so that changing one stage never shifts another's random numbers.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// FNV-1a offset basis and prime, 64-bit (Fowler, Noll, Vo; IETF draft-eastlake-fnv).
const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// SplitMix64's increment, 2^64 / φ (Steele, Lea & Flood 2014, "Fast splittable pseudorandom number
/// generators").
const GOLDEN_GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;

/// Derives the seed of one stage from the config seed and a stage label:
/// `derive_seed(base, label) = splitmix64(base XOR splitmix64(fnv1a64(label)))`.
///
/// FNV-1a turns the label into 64 bits; the inner SplitMix64 finaliser spreads labels that differ in one
/// character over all bits before they meet `base`; the outer one decorrelates nearby bases (seeds 0, 1, 2
/// give unrelated streams). The mapping is fixed forever: results written with a seed stay reproducible.
/// Labels are free-form; use paths such as `"data"`, `"init"`, `"eval/ood/beta"`, `"method/lora"`.
pub fn derive_seed(base: u64, label: &str) -> u64 {
    splitmix64(base ^ splitmix64(fnv1a64(label.as_bytes())))
}

/// The random number generator every stage uses: ChaCha8 seeded with `seed` (`SeedableRng::seed_from_u64`),
/// portable across platforms and fast enough for data generation.
pub fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// 64-bit FNV-1a: h = offset; for each byte, h = (h XOR byte) · prime (mod 2^64).
fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(FNV_OFFSET, |h, &byte| {
        (h ^ u64::from(byte)).wrapping_mul(FNV_PRIME)
    })
}

/// One SplitMix64 step from state `x`: z = x + γ, then the variant-13 finaliser
/// z ← (z ⊕ z≫30)·0xbf58476d1ce4e5b9, z ← (z ⊕ z≫27)·0x94d049bb133111eb, z ⊕ z≫31.
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(GOLDEN_GAMMA);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn fnv1a_matches_the_reference_vectors() {
        // Reference values from the FNV test suite: "" hashes to the offset basis, "a" to 0xaf63dc4c8601ec8c.
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn splitmix64_matches_the_reference_first_output() {
        // The first output of SplitMix64 seeded with 0 (Vigna's splitmix64.c) is 0xe220a8397b1dcdaf.
        assert_eq!(splitmix64(0), 0xe220_a839_7b1d_cdaf);
    }

    #[test]
    fn derived_seeds_are_deterministic_and_pinned() {
        assert_eq!(derive_seed(7, "data"), derive_seed(7, "data"));
        // Pinned so that a change to the mixing function, which would silently change every result,
        // fails here first. Values computed independently (Python, the formula in the doc comment).
        assert_eq!(derive_seed(0, "data"), 0x445b_1a3a_62eb_f3e2);
        assert_eq!(derive_seed(1234, "init"), 0x4ca3_64e3_8451_7fd6);
    }

    #[test]
    fn derived_seeds_differ_across_labels_and_bases() {
        let labels = [
            "data",
            "init",
            "eval",
            "method/lora",
            "method/full",
            "dat",
            "datb",
        ];
        let mut seeds: Vec<u64> = (0..4)
            .flat_map(|base| labels.iter().map(move |label| derive_seed(base, label)))
            .collect();
        let n = seeds.len();
        seeds.sort_unstable();
        seeds.dedup();
        assert_eq!(seeds.len(), n);
    }

    #[test]
    fn rng_with_the_same_seed_repeats_its_stream() {
        let a: Vec<u64> = rng(42).random_iter().take(8).collect();
        let b: Vec<u64> = rng(42).random_iter().take(8).collect();
        let c: Vec<u64> = rng(43).random_iter().take(8).collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}
