//! Throughput on the CPU backend: one training step (batch 64 × 64 tokens, AdamW, clipping), burn's forward
//! pass (batch 256 × 64 tokens) and evaluation as the pipeline runs it (the same 256 × 64 tokens through the
//! forward-only engine, to per-sequence losses), in tokens per second, for the quickstart model (d_model 64, 2 layers)
//! and a larger one (d_model 128, 4 layers), both with 4 heads. The shapes match the PyTorch peer
//! (`shared/peers/bench_torch.py`, sections a and c) so the two compare as a ratio.
//!
//!     cargo bench --bench transformer                       # all cores
//!     RAYON_NUM_THREADS=1 cargo bench --bench transformer   # one thread

use adaptbench_model::{Network, ModelConfig};
use adaptbench_sources::{rng, SourceSpec};
use adaptbench_train::{mean_loss_bits, sample_sequences, Batch, PretrainConfig, Trainer};
use burn::tensor::Device;
use criterion::{criterion_group, Criterion, Throughput};

#[path = "../src/allocator.rs"]
mod allocator;

const SEQ_LEN: usize = 64;

/// The benchmarked shapes, `(name, d_model, layers)`: the quickstart model and the peer's larger one.
const SHAPES: [(&str, usize, usize); 2] = [("d64_l2", 64, 2), ("d128_l4", 128, 4)];

fn model(d_model: usize, n_layers: usize) -> ModelConfig {
    ModelConfig { d_model, n_layers, n_heads: 4, context: SEQ_LEN, ..Default::default() }
}

fn sequences(count: usize) -> Vec<Vec<u8>> {
    let source = SourceSpec::Mix { thetas: vec![0.2, 0.7], weights: vec![0.5, 0.5] }.build().unwrap();
    sample_sequences(source.as_ref(), &mut rng(1), count, SEQ_LEN)
}

fn training_step(c: &mut Criterion) {
    let batch_size = 64;
    let device = Device::flex().autodiff();
    let data = sequences(batch_size);
    for (name, d_model, n_layers) in SHAPES {
        let mut trainer = Trainer::new(model(d_model, n_layers).init_seeded(&device, 0), &PretrainConfig::default().optimizer());
        let mut group = c.benchmark_group(format!("train_step_{name}"));
        group.throughput(Throughput::Elements((batch_size * SEQ_LEN) as u64));
        group.bench_function("batch64_len64", |b| b.iter(|| trainer.step(Batch::new(&data, &device), 1e-3)));
        group.finish();
    }
}

/// Batch 256 × 64 through each shape's freshly initialised model: `run(model, sequences, device)` is one
/// iteration of the group `{prefix}_{shape}/batch256_len64`.
fn inference_groups(c: &mut Criterion, prefix: &str, run: impl Fn(&Network, &[Vec<u8>], &Device)) {
    let batch_size = 256;
    let device = Device::flex();
    let data = sequences(batch_size);
    for (name, d_model, n_layers) in SHAPES {
        let model = model(d_model, n_layers).init_seeded(&device, 0);
        let mut group = c.benchmark_group(format!("{prefix}_{name}"));
        group.throughput(Throughput::Elements((batch_size * SEQ_LEN) as u64));
        group.bench_function("batch256_len64", |b| b.iter(|| run(&model, &data, &device)));
        group.finish();
    }
}

/// burn's forward pass to logits (what soft prompts and the wgpu backend evaluate with).
fn forward_only(c: &mut Criterion) {
    inference_groups(c, "forward", |model, data, device| {
        let batch = Batch::new(data, device);
        std::hint::black_box(model.forward(batch.inputs).into_data());
    });
}

/// Evaluation as the pipeline runs it on the CPU: the forward-only engine, to per-sequence losses.
fn evaluation(c: &mut Criterion) {
    inference_groups(c, "evaluate", |model, data, device| {
        std::hint::black_box(mean_loss_bits(model, data, data.len(), device));
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = training_step, forward_only, evaluation
}
// criterion_main!, with the allocator set up as the binary sets it up.
fn main() {
    allocator::keep_freed_memory();
    benches();
    Criterion::default().configure_from_args().final_summary();
}
