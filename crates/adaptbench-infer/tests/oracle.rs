//! The engine against the naive `f64` oracle, thread-count independence, input errors and work accounting.

use adaptbench_infer::{
    all_prompts, next_bit_log_probs, score_all_prompts, score_prompts, search_work, FrozenTransformer, InferError,
    ModelShape, SearchWork, BOS,
};

/// Deterministic bits from a 64-bit LCG (Knuth's MMIX constants), top bit of the state.
fn bits(seed: u64, n: usize) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..n)
        .map(|_| {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            (state >> 63) as u8
        })
        .collect()
}

fn sequences(seed: u64, n: usize, t: usize) -> Vec<Vec<u8>> {
    (0..n).map(|s| bits(seed * 1000 + s as u64, t)).collect()
}

/// `−Σ_{j=1..T} log2 P(x_j | BOS, p, x_<j)` from the oracle: the output at position `L + j − 1` predicts `x_j`.
fn oracle_bits(model: &FrozenTransformer, prompt: &[u8], seq: &[u8]) -> f64 {
    let mut tokens = vec![BOS];
    tokens.extend(prompt.iter().map(|&b| b as u32));
    tokens.extend(seq[..seq.len() - 1].iter().map(|&b| b as u32));
    let lp = model.log_probs(&tokens);
    let l = prompt.len();
    -seq.iter().enumerate().map(|(j, &x)| lp[l + j][x as usize] as f64).sum::<f64>() / std::f64::consts::LN_2
}

fn assert_matches_oracle(model: &FrozenTransformer, prompts: &[Vec<u8>], seqs: &[Vec<u8>]) {
    let scores = score_prompts(model, prompts, seqs).unwrap();
    assert_eq!(scores.len(), prompts.len());
    for (prompt, row) in prompts.iter().zip(&scores) {
        assert_eq!(row.len(), seqs.len());
        for (seq, &got) in seqs.iter().zip(row) {
            let want = oracle_bits(model, prompt, seq);
            assert!(
                (got - want).abs() <= 1e-4 * want.abs().max(1.0),
                "prompt {prompt:?}, sequence {seq:?}: engine {got} vs oracle {want}"
            );
        }
    }
}

fn small(n_layers: usize) -> FrozenTransformer {
    let shape = ModelShape { d_model: 16, n_layers, n_heads: 2, mlp: 64, context: 24 };
    FrozenTransformer::pseudo_random(shape, 7 + n_layers as u64)
}

fn mixed_prompts(lengths: &[usize]) -> Vec<Vec<u8>> {
    lengths.iter().enumerate().map(|(i, &l)| bits(100 + i as u64, l)).collect()
}

#[test]
fn small_model_matches_the_oracle() {
    // 19 sequences: one full chunk of 16 and a ragged chunk of 3.
    let prompts = mixed_prompts(&[0, 1, 3, 3, 7, 2, 0, 10]);
    assert_matches_oracle(&small(2), &prompts, &sequences(1, 19, 9));
}

#[test]
fn one_and_three_layer_models_match_the_oracle() {
    let prompts = mixed_prompts(&[0, 2, 5, 5, 9]);
    assert_matches_oracle(&small(1), &prompts, &sequences(2, 5, 12));
    assert_matches_oracle(&small(3), &prompts, &sequences(3, 9, 6));
}

#[test]
fn a_model_without_blocks_matches_the_oracle() {
    assert_matches_oracle(&small(0), &mixed_prompts(&[0, 4]), &sequences(4, 3, 5));
}

#[test]
fn sequences_sharing_prefixes_match_the_oracle() {
    // Duplicates and long shared prefixes: their task rows are computed once and shared.
    let base = bits(77, 12);
    let mut seqs = vec![base.clone(), base.clone()];
    for cut in [0, 1, 5, 11] {
        let mut s = base.clone();
        s[cut] ^= 1;
        seqs.push(s);
    }
    seqs.extend(sequences(12, 6, 12));
    seqs.push(base);
    assert_matches_oracle(&small(2), &mixed_prompts(&[0, 2, 5]), &seqs);
}

#[test]
fn shared_prefixes_are_counted_once() {
    // d = 4, 1 layer, mlp 8 (token_flops(k) = 272 + 16k, see below), T = 3: after the empty prompt, rows x_1
    // (2 keys: BOS and itself) and x_2 (3 keys). [0, 0, 1] and [0, 0, 0] share both rows, [1, 0, 0] shares
    // none: 2 + 2 distinct rows instead of 6, so the task rows cost 2·(304 − 96) + 2·(320 − 96) = 864; BOS 288;
    // layer-0 tables 2 rows·2 positions... = 2·2·96 = 384.
    let shape = ModelShape { d_model: 4, n_layers: 1, n_heads: 1, mlp: 8, context: 8 };
    let model = FrozenTransformer::pseudo_random(shape, 1);
    let seqs = vec![vec![0, 0, 1], vec![1, 0, 0], vec![0, 0, 0]];
    let work = search_work(&model, &[vec![]], &seqs).unwrap();
    assert_eq!(work.executed_flops, 864 + 288 + 384);
    // Naive: 3 sequences × positions 0, 1, 2 = 3·(288 + 304 + 320).
    assert_eq!(work.naive_flops, 3 * 912);
}

#[test]
fn odd_widths_use_the_portable_kernels_and_match_the_oracle() {
    // Head width 4 and MLP width 20: neither the AVX2 attention (widths 8, 16) nor the 8-lane GELU applies.
    let shape = ModelShape { d_model: 12, n_layers: 2, n_heads: 3, mlp: 20, context: 20 };
    let model = FrozenTransformer::pseudo_random(shape, 3);
    assert_matches_oracle(&model, &mixed_prompts(&[0, 3, 8]), &sequences(10, 5, 9));
}

#[test]
fn quickstart_shape_matches_the_oracle() {
    let model = FrozenTransformer::pseudo_random(ModelShape::QUICKSTART, 11);
    let prompts = mixed_prompts(&[0, 1, 4, 10, 10, 7, 32]);
    assert_matches_oracle(&model, &prompts, &sequences(5, 10, 32));
}

#[test]
fn a_single_task_token_is_predicted_by_the_last_prompt_position() {
    assert_matches_oracle(&small(2), &mixed_prompts(&[0, 1, 6]), &sequences(6, 4, 1));
}

#[test]
fn every_prompt_matches_the_oracle_in_canonical_order() {
    let model = small(2);
    let seqs = sequences(7, 3, 8);
    let scores = score_all_prompts(&model, 3, &seqs).unwrap();
    let prompts = all_prompts(3);
    assert_eq!(scores.len(), prompts.len());
    for (prompt, row) in prompts.iter().zip(&scores) {
        for (seq, got) in seqs.iter().zip(row) {
            let want = oracle_bits(&model, prompt, seq);
            assert!((got - want).abs() <= 1e-4 * want.abs(), "{prompt:?}: {got} vs {want}");
        }
    }
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let model = small(2);
    let seqs = sequences(8, 21, 10);
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| score_all_prompts(&model, 6, &seqs).unwrap())
    };
    let one = run(1);
    assert_eq!(one, run(2));
    assert_eq!(one, run(3));
}

#[test]
fn per_token_log_probs_match_the_oracle_and_sum_to_the_scores() {
    // 37 sequences, some sharing prefixes: two full chunks and a ragged one; with and without a prompt.
    let model = small(2);
    let mut seqs = sequences(11, 33, 9);
    seqs.extend([seqs[0].clone(), seqs[3].clone()]);
    seqs.push([&seqs[5][..4], &[1 - seqs[5][4]][..], &seqs[5][5..]].concat());
    seqs.push(vec![seqs[7][0]; 9]);
    for prompt in [vec![], vec![1, 0, 1]] {
        let lps = next_bit_log_probs(&model, &prompt, &seqs).unwrap();
        let scores = score_prompts(&model, std::slice::from_ref(&prompt), &seqs).unwrap();
        for ((seq, lp), &score) in seqs.iter().zip(&lps).zip(&scores[0]) {
            let mut tokens = vec![BOS];
            tokens.extend(prompt.iter().chain(&seq[..seq.len() - 1]).map(|&b| b as u32));
            let oracle = model.log_probs(&tokens);
            assert_eq!(lp.len(), seq.len());
            for (j, (got, want)) in lp.iter().zip(&oracle[prompt.len()..]).enumerate() {
                for bit in 0..2 {
                    assert!((got[bit] - want[bit]).abs() <= 1e-5, "position {j}, bit {bit}: {} vs {}", got[bit], want[bit]);
                }
            }
            // The same rows, summed in the same order: the per-token path is the scoring path.
            let nats: f64 = seq.iter().zip(lp).map(|(&x, pair)| pair[x as usize] as f64).sum();
            assert!((-nats / std::f64::consts::LN_2 - score).abs() <= 1e-12 * score.abs());
        }
    }
}

#[test]
fn per_token_log_probs_do_not_depend_on_the_thread_count() {
    let model = small(2);
    let seqs = sequences(5, 70, 12);
    let run = |threads| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| next_bit_log_probs(&model, &[0, 1], &seqs).unwrap())
    };
    let one = run(1);
    for threads in [2, 3] {
        assert_eq!(run(threads), one, "{threads} threads");
    }
}

#[test]
fn all_prompts_are_distinct_and_in_canonical_order() {
    for (l, count) in [(0, 1), (1, 3), (3, 15), (10, 2047)] {
        let prompts = all_prompts(l);
        assert_eq!(prompts.len(), count, "l = {l}");
        let distinct: std::collections::HashSet<_> = prompts.iter().collect();
        assert_eq!(distinct.len(), count);
    }
    let expected: Vec<Vec<u8>> = vec![vec![], vec![0], vec![1], vec![0, 0], vec![0, 1], vec![1, 0], vec![1, 1]];
    assert_eq!(all_prompts(2), expected);
}

#[test]
fn input_errors_are_typed_and_named() {
    let model = small(2); // context 24
    let seqs = sequences(9, 2, 10);
    // 15 + 10 = 25 positions > 24.
    let err = score_prompts(&model, &[vec![0; 15]], &seqs).unwrap_err();
    assert_eq!(err, InferError::PromptTooLong { index: 0, prompt_len: 15, task_len: 10, needed: 25, context: 24 });
    assert!(err.to_string().contains("context is 24"), "{err}");
    // 14 + 10 = 24 fits exactly.
    assert!(score_prompts(&model, &[vec![1; 14]], &seqs).is_ok());

    let ragged = vec![vec![0; 5], vec![1; 5], vec![0; 4]];
    let err = score_prompts(&model, &[vec![]], &ragged).unwrap_err();
    assert_eq!(err, InferError::RaggedSequences { index: 2, expected: 5, found: 4 });
    assert!(err.to_string().contains("same length"), "{err}");

    let err = score_prompts(&model, &[vec![]], &[vec![0, 1, 2]]).unwrap_err();
    assert_eq!(err, InferError::NotABit { what: "sequence", index: 0, position: 2, value: 2 });
    assert!(err.to_string().contains("not a bit"), "{err}");
    let err = score_prompts(&model, &[vec![], vec![1, 2]], &seqs).unwrap_err();
    assert_eq!(err, InferError::NotABit { what: "prompt", index: 1, position: 1, value: 2 });

    assert_eq!(score_prompts(&model, &[vec![]], &[]).unwrap_err(), InferError::NoSequences);
    assert_eq!(score_prompts(&model, &[vec![]], &[vec![]]).unwrap_err(), InferError::EmptySequence);
    assert!(score_all_prompts(&model, 15, &seqs).unwrap_err().to_string().contains("needs 25 positions"));
}

#[test]
fn invalid_models_are_rejected_naming_the_field() {
    let mut model = small(2);
    model.blocks[1].mlp_out.bias.pop();
    let err = score_prompts(&model, &[vec![]], &[vec![0]]).unwrap_err();
    assert_eq!(err, InferError::Shape { field: "blocks[1].mlp_out.bias".into(), expected: 16, found: 15 });
    let mut model = small(1);
    model.n_heads = 3;
    assert!(matches!(model.validate(), Err(InferError::Dimensions { .. })));
    let mut model = small(1);
    model.positions.truncate(16);
    assert!(model.validate().unwrap_err().to_string().contains("`positions`"));
}

#[test]
fn search_work_counts_by_hand() {
    // d = 4, 1 layer, mlp 8: P = 4·4² + 2·4·8 + 2·4 = 136, so a token attending to k keys costs
    // 2·136 + 4·k·4 = 272 + 16k: 288, 304, 320 for k = 1, 2, 3.
    let shape = ModelShape { d_model: 4, n_layers: 1, n_heads: 1, mlp: 8, context: 8 };
    let model = FrozenTransformer::pseudo_random(shape, 1);
    assert_eq!(model.matmul_params(), 136);
    assert_eq!(model.token_flops(3), 320);
    let prompts = vec![vec![], vec![1]];
    let seqs = vec![vec![0, 1], vec![1, 1]]; // N = 2, T = 2
                                             // Naive: [] runs positions 0, 1 (288 + 304), [1] positions 0, 1, 2 (288 + 304 + 320); × N = 2:
                                             // 2·592 + 2·912 = 3008.
                                             // Executed: one task row per sequence (x_1), without layer-0 QKV (2·3·4² = 96): (304 − 96)·2 for [] and
                                             // (320 − 96)·2 for [1] = 416 + 448; prompt tokens: two work items of one prompt each, BOS (288) in both and
                                             // token 1 at position 1 (304) = 880; layer-0 tables: 2 lengths × 2 rows × 96 = 384. Total 2128.
    let work = search_work(&model, &prompts, &seqs).unwrap();
    assert_eq!(work, SearchWork { prompts: 2, naive_flops: 3008, executed_flops: 2128 });
}
