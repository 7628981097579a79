//! LoReFT's invariants: identity at W = R, b = 0; a frozen base; orthonormal R; the hand count of its
//! parameters; α = 0 is the base bit for bit and α scales the edit; edits stay at their positions.

mod common;

use common::{outputs, short_budget, small, task_data, weights};

use adaptbench_adapt::{interpolate, transplant, FinetuneConfig, MethodConfig, ReftConfig, TaskData};
use adaptbench_model::{InterventionPositions, Network, ModelConfig};
use adaptbench_sources::SourceSpec;
use burn::module::{Module, Param};
use burn::tensor::{Device, Tensor};

fn trained(config: ReftConfig, base: &Network, device: &Device) -> Network {
    MethodConfig::Reft(ReftConfig { lr: 3e-2, ..config }).adapt(base, &task_data(), &short_budget(), 6, 0, device).unwrap().model
}

/// The base's parameters of `model` (its intervention left out).
fn base_part(model: &Network) -> Vec<(String, Vec<f32>)> {
    weights(model).into_iter().filter(|(path, _)| !path.starts_with("intervention.")).collect()
}

#[test]
fn an_attached_reft_starts_as_the_base_bit_for_bit_on_both_paths() {
    let base_device = Device::flex();
    let base = small().init_seeded(&base_device, 1);
    let attached = ReftConfig::default().attach(&base, 2, &base_device);
    assert_eq!(outputs(&attached, &base_device), outputs(&base, &base_device), "inference path");
    // The training path (autodiff, the differentiable attention) too.
    let train_device = base_device.clone().autodiff();
    let (attached, base) = (attached.fork(&train_device), base.fork(&train_device));
    assert_eq!(outputs(&attached, &train_device), outputs(&base, &train_device), "training path");
}

#[test]
fn a_trained_reft_reset_to_w_equal_r_and_b_zero_is_the_base_bit_for_bit() {
    let device = Device::flex();
    let base = small().init_seeded(&device, 1);
    let mut model = trained(ReftConfig::default(), &base, &device);
    assert_ne!(outputs(&model, &device), outputs(&base, &device), "training moved the edit off zero");
    let intervention = model.intervention.as_mut().unwrap();
    for site in &mut intervention.sites {
        let r = site.projection(); // [r, d]
        let [rank, _] = r.dims();
        site.learned_source.weight = Param::from_tensor(r.transpose());
        site.learned_source.bias = Some(Param::from_tensor(Tensor::zeros([rank], &device)));
    }
    assert_eq!(outputs(&model, &device), outputs(&base, &device));
}

#[test]
fn reft_trains_its_intervention_only_and_the_base_stays_bit_identical() {
    let device = Device::flex();
    let base = small().init_seeded(&device, 1);
    let attached = ReftConfig::default().attach(&base, 6, &device);
    let model = trained(ReftConfig::default(), &base, &device);
    assert_eq!(base_part(&model), weights(&base), "every base parameter is bit-identical after training");
    let moved: Vec<String> = weights(&attached)
        .into_iter()
        .zip(weights(&model))
        .filter(|(before, after)| before.1 != after.1)
        .map(|(before, _)| before.0)
        .collect();
    assert!(!moved.is_empty() && moved.iter().all(|path| path.starts_with("intervention.sites.")), "{moved:?}");
}

#[test]
fn the_projection_keeps_orthonormal_rows_after_training() {
    let device = Device::flex();
    let base = small().init_seeded(&device, 1);
    let model = trained(ReftConfig::default(), &base, &device);
    for site in &model.intervention.unwrap().sites {
        let r = site.projection();
        let [rank, _] = r.dims();
        let gram = r.clone().matmul(r.transpose()).into_data().try_to_vec::<f32>().unwrap();
        for i in 0..rank {
            for j in 0..rank {
                let identity = if i == j { 1.0 } else { 0.0 };
                assert!((gram[i * rank + j] - identity).abs() < 1e-5, "(R Rᵀ)[{i}][{j}] = {}", gram[i * rank + j]);
            }
        }
    }
}

#[test]
fn trainable_parameters_equal_a_hand_count_for_the_quickstart_model() {
    // d_model 64, r = 4: per site R̃ 4·64 + W 64·4 + b 4 = 516; every block (2) → 1,032; block 1 alone → 516.
    let device = Device::flex();
    let base = ModelConfig::default().init_seeded(&device, 0);
    let source = SourceSpec::Bern { p: 0.9 }.build().unwrap();
    let data = TaskData::draw(source.as_ref(), 0, 2, 8, 0.0);
    let budget = FinetuneConfig { steps: 1, batch_size: 2, warmup_steps: 0, ..Default::default() };
    for (config, expected) in [(ReftConfig::default(), 1_032), (ReftConfig { layers: vec![1], ..Default::default() }, 516)] {
        let adapted = MethodConfig::Reft(config).adapt(&base, &data, &budget, 0, 0, &device).unwrap();
        assert_eq!(adapted.trainable_params, expected);
        assert_eq!(adapted.prompt_tokens, 0);
    }
}

#[test]
fn alpha_zero_is_the_base_bit_for_bit_alpha_one_the_adapted_model_and_alpha_scales_the_edit() {
    let device = Device::flex();
    let base = small().init_seeded(&device, 1);
    let adapted = trained(ReftConfig::default(), &base, &device);
    let at = |alpha: f64| interpolate(&base, &adapted, alpha).unwrap();
    assert!(at(0.0).intervention.is_none());
    assert_eq!(weights(&at(0.0)), weights(&base));
    assert_eq!(outputs(&at(0.0), &device), outputs(&base, &device));
    assert_eq!(weights(&at(1.0)), weights(&adapted));
    assert_eq!(outputs(&at(1.0), &device), outputs(&adapted, &device));
    // In between, the edit after a block is α times the full one: h + α·Rᵀ(W h + b − R h).
    let h = Tensor::<3>::random([2, 5, 16], burn::tensor::Distribution::Normal(0.0, 1.0), &device);
    let values = |tensor: Tensor<3>| tensor.into_data().try_to_vec::<f32>().unwrap();
    let full_edit = values(adapted.intervention.as_ref().unwrap().apply(0, h.clone()) - h.clone());
    let half = at(0.5);
    let half_edit = values(half.intervention.as_ref().unwrap().apply(0, h.clone()) - h);
    assert!(full_edit.iter().any(|&e| e.abs() > 1e-3), "a trained edit is not zero");
    for (half, full) in half_edit.iter().zip(&full_edit) {
        assert!((half - 0.5 * full).abs() <= 1e-6 * (1.0 + full.abs()), "{half} vs ½·{full}");
    }
}

#[test]
fn an_edit_of_the_last_k_positions_leaves_every_earlier_prediction_bit_identical() {
    let device = Device::flex();
    let base = small().init_seeded(&device, 1);
    let model = trained(ReftConfig { positions: InterventionPositions::Last(2), ..Default::default() }, &base, &device);
    let (edited, reference) = (outputs(&model, &device), outputs(&base, &device));
    // [2 sequences, 8 positions, 2 logits]: positions 0..6 are untouched, 6 and 7 edited.
    for sequence in 0..2 {
        let row = |values: &[f32], positions: std::ops::Range<usize>| values[sequence * 16 + 2 * positions.start..sequence * 16 + 2 * positions.end].to_vec();
        assert_eq!(row(&edited, 0..6), row(&reference, 0..6), "sequence {sequence}");
        assert_ne!(row(&edited, 6..8), row(&reference, 6..8), "sequence {sequence}");
    }
}

#[test]
fn a_reft_edit_moves_to_another_base_as_it_is() {
    let device = Device::flex();
    let (base, other) = (small().init_seeded(&device, 1), small().init_seeded(&device, 2));
    let adapted = trained(ReftConfig::default(), &base, &device);
    let moved = transplant(&base, &adapted, &other).unwrap();
    assert_eq!(base_part(&moved), weights(&other), "the other base's weights, unchanged");
    let edit = |model: &Network| weights(model).into_iter().filter(|(path, _)| path.starts_with("intervention.")).collect::<Vec<_>>();
    assert_eq!(edit(&moved), edit(&adapted));
    assert!(adaptbench_model::engine_form(&moved).is_none(), "the engine runs no intervention: burn evaluates it");
}
