//! The invariants of DESIGN.md §5 that every weight method and the interpolation must keep.

mod common;

use common::{inputs, outputs, short_budget, small, task_data, weights};

use adaptbench_adapt::{
    interpolate, parameter_paths, trainable_params, EmbedConfig, FinetuneConfig, FullConfig, HeadConfig, InterpolationError,
    LoraConfig, LoraTarget, LpFtConfig, MethodConfig, TaskData,
};
use adaptbench_model::{Network, ModelConfig};
use adaptbench_sources::SourceSpec;
use burn::module::Module;
use burn::tensor::activation::log_softmax;
use burn::tensor::Device;

/// LoRA (the default targets) attached to `base` and trained for 12 steps at a high learning rate, unmerged.
fn trained_lora(base: &Network, device: &Device) -> Network {
    let config = LoraConfig { lr: 2e-2, ..Default::default() };
    let attached = config.attach(base, 2, device).unwrap();
    adaptbench_adapt::finetune(attached, &task_data(), &short_budget(), config.lr, 12, 3, device).model.valid()
}


fn changed_paths(before: &Network, after: &Network) -> Vec<String> {
    weights(before).into_iter().zip(weights(after)).filter(|(b, a)| b.1 != a.1).map(|(b, _)| b.0).collect()
}

#[test]
fn lora_with_b_zero_gives_exactly_the_base_outputs() {
    let device = Device::flex();
    let base = small().init_seeded(&device, 1);
    let config = LoraConfig { targets: vec![LoraTarget::Q, LoraTarget::K, LoraTarget::V, LoraTarget::O, LoraTarget::MlpIn, LoraTarget::MlpOut], ..Default::default() };
    let attached = config.attach(&base, 2, &device).unwrap();
    assert_eq!(outputs(&attached.valid(), &device), outputs(&base, &device));
}

#[test]
fn merged_lora_equals_unmerged_within_1e_5() {
    let device = Device::flex();
    let base = small().init_seeded(&device, 1);
    let unmerged = trained_lora(&base, &device);
    let merged = adaptbench_adapt::lora_merge(unmerged.clone());
    let (a, b) = (outputs(&unmerged, &device), outputs(&merged, &device));
    assert_ne!(a, outputs(&base, &device), "training moved the adapters off B = 0");
    let worst = a.iter().zip(&b).map(|(x, y)| (x - y).abs()).fold(0.0f32, f32::max);
    assert!(worst <= 1e-5, "max |merged − unmerged| = {worst}");
    // Merging gives back the base's structure: same paths, same shapes.
    assert_eq!(parameter_paths(&merged), parameter_paths(&base));
}

#[test]
fn the_engine_evaluates_an_unmerged_lora_model_as_burn_does() {
    let device = Device::flex();
    let base = small().init_seeded(&device, 1);
    let unmerged = trained_lora(&base, &device);
    let (frozen, prompt) = adaptbench_model::engine_form(&unmerged).expect("no prompt");
    // The sequences whose `[BOS, x_1..x_7]` are `inputs`; the last bit of each is never an input, so any value does.
    let sequences = vec![vec![1, 1, 0, 1, 0, 1, 1, 0], vec![0, 0, 1, 1, 1, 0, 1, 1]];
    let engine = frozen.next_bit_log_probs(&prompt, &sequences).unwrap();
    let burn = log_softmax(unmerged.forward(inputs(&device)), 2).into_data().try_to_vec::<f32>().unwrap(); // [2, 8, 2]
    for (engine, burn) in engine.iter().flatten().flatten().zip(&burn) {
        assert!((engine - burn).abs() <= 1e-5, "engine {engine} vs burn {burn}");
    }
    assert_eq!(engine.iter().map(Vec::len).sum::<usize>() * 2, burn.len());
    assert_ne!(outputs(&unmerged, &device), outputs(&base, &device), "training moved the adapters off B = 0");
}

#[test]
fn alpha_zero_reproduces_the_base_and_alpha_one_the_adapted_model_bit_for_bit() {
    let device = Device::flex();
    let base = small().init_seeded(&device, 1);
    let adapted = MethodConfig::Full(FullConfig::default()).adapt(&base, &task_data(), &short_budget(), 4, 0, &device).unwrap().model;
    assert_eq!(weights(&interpolate(&base, &adapted, 0.0).unwrap()), weights(&base));
    assert_eq!(weights(&interpolate(&base, &adapted, 1.0).unwrap()), weights(&adapted));
    assert_eq!(outputs(&interpolate(&base, &adapted, 0.0).unwrap(), &device), outputs(&base, &device));
    assert_eq!(outputs(&interpolate(&base, &adapted, 1.0).unwrap(), &device), outputs(&adapted, &device));
    // In between, every weight is the convex combination (checked on one tensor, to f32 rounding).
    let half = weights(&interpolate(&base, &adapted, 0.5).unwrap());
    let (b, a) = (&weights(&base)[0].1, &weights(&adapted)[0].1);
    for ((h, b), a) in half[0].1.iter().zip(b).zip(a) {
        assert!((h - 0.5 * (b + a)).abs() <= 1e-6 * (1.0 + b.abs() + a.abs()));
    }
}

#[test]
fn a_mismatched_interpolation_pair_is_an_error() {
    let device = Device::flex();
    let base = small().init_seeded(&device, 1);
    let wider = ModelConfig { d_model: 32, ..small() }.init_seeded(&device, 1);
    let deeper = ModelConfig { n_layers: 3, ..small() }.init_seeded(&device, 1);
    assert!(matches!(interpolate(&base, &wider, 0.5), Err(InterpolationError::ShapeMismatch { .. })));
    assert!(matches!(interpolate(&base, &deeper, 0.5), Err(InterpolationError::MissingParameter { present: "adapted", .. })));
    assert!(matches!(interpolate(&deeper, &base, 0.5), Err(InterpolationError::MissingParameter { present: "base", .. })));
    assert!(matches!(interpolate(&base, &base, 1.5), Err(InterpolationError::Alpha(_))));
}

#[test]
fn frozen_parameters_are_bit_identical_after_training() {
    let device = Device::flex();
    let base = small().init_seeded(&device, 1);
    let data = task_data();
    let budget = short_budget();
    let cases: [(MethodConfig, &[&str]); 3] = [
        (MethodConfig::Head(HeadConfig::default()), &["head.weight", "head.bias"]),
        (MethodConfig::Embed(EmbedConfig::default()), &["token_embedding.weight"]),
        // LoRA on q and v: after merging, only those weights may differ from the base.
        (
            MethodConfig::Lora(LoraConfig { lr: 2e-2, ..Default::default() }),
            &["blocks.0.attention.q.weight", "blocks.0.attention.v.weight", "blocks.1.attention.q.weight", "blocks.1.attention.v.weight"],
        ),
    ];
    for (method, trainable) in cases {
        let adapted = method.adapt(&base, &data, &budget, 6, 0, &device).unwrap();
        let changed = changed_paths(&base, &adapted.model);
        assert_eq!(changed, trainable.to_vec(), "{}: exactly the trainable parameters change", method.name());
    }
    let full = MethodConfig::Full(FullConfig::default()).adapt(&base, &data, &budget, 6, 0, &device).unwrap();
    assert_eq!(changed_paths(&base, &full.model).len(), parameter_paths(&base).len(), "full changes everything");
}

#[test]
fn trainable_parameter_counts_equal_a_hand_count_for_the_quickstart_model() {
    // The quickstart model: d_model 64, 2 layers, MLP 256, context 64, learned positions (104,514 in all).
    let config = ModelConfig::default();
    assert_eq!((config.d_model, config.n_layers, config.mlp_ratio, config.context), (64, 2, 4, 64));
    let device = Device::flex();
    let base = config.init_seeded(&device, 0);
    let budget = FinetuneConfig { steps: 1, batch_size: 2, warmup_steps: 0, ..Default::default() };
    let source = SourceSpec::Bern { p: 0.9 }.build().unwrap();
    let data = TaskData::draw(source.as_ref(), 0, 2, 8, 0.0);
    let all = [LoraTarget::Q, LoraTarget::K, LoraTarget::V, LoraTarget::O, LoraTarget::MlpIn, LoraTarget::MlpOut];
    let cases = [
        (MethodConfig::Full(FullConfig::default()), 104_514),
        // head: 64 × 2 weights + 2 biases.
        (MethodConfig::Head(HeadConfig::default()), 130),
        // embed: 3 tokens (0, 1, BOS) × 64.
        (MethodConfig::Embed(EmbedConfig::default()), 192),
        // LP-FT ends with every weight trainable.
        (MethodConfig::LpFt(LpFtConfig { probe_steps: 1, ..Default::default() }), 104_514),
        // LoRA r = 4 on q, v: 2 layers × 2 targets × (64·4 + 4·64) = 2,048.
        (MethodConfig::Lora(LoraConfig::default()), 2_048),
        // All six targets: per layer 4 × 512 (q, k, v, o) + (64·4 + 4·256) (mlp_in) + (256·4 + 4·64) (mlp_out)
        // = 2,048 + 1,280 + 1,280 = 4,608; two layers 9,216.
        (MethodConfig::Lora(LoraConfig { targets: all.to_vec(), ..Default::default() }), 9_216),
    ];
    for (method, expected) in cases {
        let adapted = method.adapt(&base, &data, &budget, 0, 0, &device).unwrap();
        assert_eq!(adapted.trainable_params, expected, "{} {}", method.name(), method.params(0));
    }
    assert_eq!(trainable_params(&base.clone().fork(&device.clone().autodiff()).train()), 104_514);
}

#[test]
fn fine_tuning_lowers_the_task_loss_and_the_same_seed_gives_the_same_weights() {
    use adaptbench_train::mean_loss_bits;
    let device = Device::flex();
    let base = small().init_seeded(&device, 1);
    let data = task_data();
    let budget = FinetuneConfig { steps: 40, ..short_budget() };
    let method = MethodConfig::Full(FullConfig { lr: 1e-2 });
    let first = method.adapt(&base, &data, &budget, 7, 0, &device).unwrap();
    let before = mean_loss_bits(&base, &data.train, 16, &device);
    let after = mean_loss_bits(&first.model, &data.train, 16, &device);
    assert!(after < before - 0.05, "task loss {before} → {after}");
    let again = method.adapt(&base, &data, &budget, 7, 0, &device).unwrap();
    assert_eq!(weights(&first.model), weights(&again.model));
}

#[test]
fn early_stopping_keeps_the_best_validation_weights_and_may_stop_early() {
    let device = Device::flex();
    let base = small().init_seeded(&device, 1);
    let source = SourceSpec::Bern { p: 0.9 }.build().unwrap();
    let data = TaskData::draw(source.as_ref(), 5, 16, 12, 0.25);
    let budget = FinetuneConfig { steps: 400, eval_every: 5, patience: 2, validation_fraction: 0.25, ..short_budget() };
    let model = base.clone().fork(&device.clone().autodiff()).train();
    let outcome = adaptbench_adapt::finetune(model, &data, &budget, 5e-2, 400, 1, &device);
    let kept = adaptbench_train::mean_loss_bits(&outcome.model.valid(), &data.validation, 4, &device);
    assert_eq!(Some(kept), outcome.validation_bits, "the returned weights are the ones measured best");
    assert!(outcome.steps <= 400 && outcome.steps.is_multiple_of(5) || outcome.steps == 400);
}
