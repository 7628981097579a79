//! Exhaustive prompt search on the quickstart-shaped model (d_model 64, 2 layers, 4 heads, MLP 256, context 64):
//! every prompt up to L_max = 10 (2047 prompts) × N = 64 sequences × T = 32 bits, on 1 and 2 rayon threads.
//!
//! One full search takes seconds, too long for criterion's 10 samples in a short bench, so each thread count
//! first times one whole search (printed: prompt-evaluations/s, tokens/s, naive and executed GFLOP/s), then
//! criterion samples a representative slice (the 128 length-10 prompts starting with 101) of the same work.
//!
//! The same search then runs on a quickstart-shaped LSTM (d_model 64, 2 layers: `configs/robustness-lstm.toml`),
//! whose engine shares each prompt prefix's state, so the two engines' prompt-evaluations/s stand side by side.

use std::time::{Duration, Instant};

use adaptbench_infer::{all_prompts, score_prompts, search_work, FrozenLstm, FrozenTransformer, ModelShape};
use criterion::{criterion_group, criterion_main, Criterion, SamplingMode};

const L_MAX: usize = 10;
const N: usize = 64;
const T: usize = 32;

/// Deterministic pseudo-random bits (64-bit LCG, top bit).
fn sequences() -> Vec<Vec<u8>> {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    (0..N)
        .map(|_| {
            (0..T)
                .map(|_| {
                    state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                    (state >> 63) as u8
                })
                .collect()
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let model = FrozenTransformer::pseudo_random(ModelShape::QUICKSTART, 2024);
    let seqs = sequences();
    let prompts = all_prompts(L_MAX);
    let work = search_work(&model, &prompts, &seqs).expect("valid search");
    // Task tokens scored: every prompt × every sequence × T; positions a plain forward would run: × (L + T).
    let tokens = (prompts.len() * N * T) as f64;
    let positions = prompts.iter().map(|p| N * (p.len() + T)).sum::<usize>() as f64;
    let slice: Vec<Vec<u8>> =
        prompts.iter().filter(|p| p.len() == L_MAX && p.starts_with(&[1, 0, 1])).cloned().collect();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    eprintln!("load average before the runs: {}", load.trim());
    let mut group = c.benchmark_group("prompt_search");
    // Flat sampling: one iteration per sample (an iteration takes about a second), 10 samples.
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(10));
    for threads in [2, 1] {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("rayon pool");
        let start = Instant::now();
        let scores = pool.install(|| score_prompts(&model, &prompts, &seqs)).expect("search");
        let seconds = start.elapsed().as_secs_f64();
        assert_eq!(scores.len(), prompts.len());
        eprintln!(
            "{threads} thread(s): full search L_max = {L_MAX} ({} prompts) × N = {N} × T = {T} in {seconds:.2} s: \
             {:.0} prompt-evals/s, {:.3e} scored tokens/s ({:.3e} naive positions/s), naive {:.1} GFLOP/s, \
             executed {:.1} GFLOP/s \
             (naive {:.3e} FLOP, executed {:.3e} FLOP)",
            prompts.len(),
            (prompts.len() * N) as f64 / seconds,
            tokens / seconds,
            positions / seconds,
            work.naive_flops as f64 / seconds / 1e9,
            work.executed_flops as f64 / seconds / 1e9,
            work.naive_flops as f64,
            work.executed_flops as f64,
        );
        group.bench_function(format!("{} length-10 prompts x N={N} x T={T}, {threads} thread(s)", slice.len()), |b| {
            b.iter(|| pool.install(|| score_prompts(&model, &slice, &seqs)).expect("search"))
        });
    }
    let lstm = FrozenLstm::pseudo_random(64, 2, 64, 2024);
    // A plain forward runs every position of every (prompt, sequence) pair: 2·P FLOPs each.
    let naive_flops = positions * 2.0 * lstm.matmul_params() as f64;
    for threads in [2, 1] {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("rayon pool");
        let start = Instant::now();
        let scores = pool.install(|| lstm.score_prompts(&prompts, &seqs)).expect("search");
        let seconds = start.elapsed().as_secs_f64();
        assert_eq!(scores.len(), prompts.len());
        eprintln!(
            "LSTM, {threads} thread(s): full search L_max = {L_MAX} ({} prompts) × N = {N} × T = {T} in {seconds:.2} s: \
             {:.0} prompt-evals/s, {:.3e} scored tokens/s, naive {:.1} GFLOP/s (naive {naive_flops:.3e} FLOP)",
            prompts.len(),
            (prompts.len() * N) as f64 / seconds,
            tokens / seconds,
            naive_flops / seconds / 1e9,
        );
        group.bench_function(format!("LSTM: {} length-10 prompts x N={N} x T={T}, {threads} thread(s)", slice.len()), |b| {
            b.iter(|| pool.install(|| lstm.score_prompts(&slice, &seqs)).expect("search"))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
