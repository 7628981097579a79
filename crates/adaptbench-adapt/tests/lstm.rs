//! The LSTM predictor keeps every promise the Transformer keeps: its forward-only engine agrees with burn's
//! forward to 1e-5 with and without prompts; LoRA on its gate projections starts as the base and trains only its
//! adapters; every method adapts it with a hand-counted number of parameters; α = 0 is the base bit for bit;
//! a ReFT edit starts as the identity; the model update moves what was found to another LSTM.

mod common;

use common::{adapt, short_budget, task_data, weights};

use adaptbench_adapt::{
    interpolate, lora_merge, transplant, EmbedConfig, FullConfig, HardPromptConfig, HeadConfig, LoraConfig, LoraTarget,
    LpFtConfig, MethodConfig, ReftConfig, SoftPromptConfig,
};
use adaptbench_model::{engine_form, freeze, Arch, ModelConfig, Network, Prompt, BOS};
use adaptbench_train::mean_loss_bits;
use burn::module::Module;
use burn::tensor::{Device, Int, Tensor, TensorData};

/// d_model 16, 2 LSTM layers, 20 positions.
fn small_lstm() -> ModelConfig {
    ModelConfig { arch: Arch::Lstm, d_model: 16, n_layers: 2, context: 20, ..Default::default() }
}

/// Task sequences of 12 bits (all of D_N's training split).
fn sequences() -> Vec<Vec<u8>> {
    task_data().train
}

/// burn's `ln P(x_{j+1} = b)` at each task position of `model` (prompt, if any, inside the model).
fn burn_log_probs(model: &Network, sequences: &[Vec<u8>], device: &Device) -> Vec<Vec<[f32; 2]>> {
    let t = sequences[0].len();
    let ids: Vec<i64> =
        sequences.iter().flat_map(|seq| std::iter::once(BOS as i64).chain(seq[..t - 1].iter().map(|&b| b as i64))).collect();
    let tokens = Tensor::<2, Int>::from_data(TensorData::new(ids, [sequences.len(), t]), device);
    let flat = model.log_probs(tokens).into_data().try_to_vec::<f32>().unwrap();
    flat.chunks(2 * t).map(|row| row.chunks(2).map(|pair| [pair[0], pair[1]]).collect()).collect()
}


#[test]
fn the_engine_agrees_with_burn_to_1e_5_with_and_without_prompts() {
    let device = Device::flex();
    let base = small_lstm().init_seeded(&device, 4);
    let sequences = sequences();
    let frozen = freeze(&base);
    let prompts = vec![vec![], vec![0u8], vec![1, 1, 0, 1], vec![1, 1, 0, 0, 0, 1]];
    let scores = frozen.score_prompts(&prompts, &sequences).unwrap();
    for (bits, scored) in prompts.iter().zip(&scores) {
        let mut prompted = base.clone();
        prompted.prompt = (!bits.is_empty()).then(|| Prompt::hard(bits, &device));
        let reference = burn_log_probs(&prompted, &sequences, &device);
        let engine = frozen.next_bit_log_probs(bits, &sequences).unwrap();
        for (s, (want, got)) in reference.iter().zip(&engine).enumerate() {
            for (j, (w, g)) in want.iter().zip(got).enumerate() {
                for b in 0..2 {
                    assert!((w[b] - g[b]).abs() <= 1e-5, "prompt {bits:?}, sequence {s}, position {j}: burn {w:?}, engine {g:?}");
                }
            }
            // The search's summed loss is the same numbers, in bits.
            let bits_burn: f64 = want.iter().zip(&sequences[s]).map(|(lp, &x)| -lp[x as usize] as f64).sum::<f64>() / std::f64::consts::LN_2;
            assert!((scored[s] - bits_burn).abs() <= 1e-4, "prompt {bits:?}, sequence {s}: {} vs {bits_burn}", scored[s]);
        }
    }
}

#[test]
fn lora_on_the_gate_projections_starts_as_the_base_and_trains_only_its_adapters() {
    let device = Device::flex();
    let base = small_lstm().init_seeded(&device, 1);
    let sequences = sequences();
    let config = LoraConfig { targets: vec![LoraTarget::Ih, LoraTarget::Hh], lr: 2e-2, ..Default::default() };
    let attached = config.attach(&base, 2, &device).unwrap();
    assert_eq!(burn_log_probs(&attached.valid(), &sequences, &device), burn_log_probs(&base, &sequences, &device), "B = 0");
    let adapted = adapt(&MethodConfig::Lora(config), &base, &device);
    // 4 adapters (ih, hh in 2 layers) of r·(d_in + d_out) = 4·(16 + 64) = 320.
    assert_eq!(adapted.trainable_params, 1_280);
    let moved = weights(&adapted.model).into_iter().zip(weights(&base)).filter(|(a, b)| a.1 != b.1).map(|(a, _)| a.0).collect::<Vec<_>>();
    assert_eq!(moved, ["lstm.0.ih.weight", "lstm.0.hh.weight", "lstm.1.ih.weight", "lstm.1.hh.weight"]);
    // Merged into W, the adapters are the unmerged model to f32 rounding.
    let unmerged = adaptbench_adapt::finetune(config_attach(&base, &device), &task_data(), &short_budget(), 2e-2, 12, 3, &device).model.valid();
    let (a, b) = (burn_log_probs(&unmerged, &sequences, &device), burn_log_probs(&lora_merge(unmerged.clone()), &sequences, &device));
    let worst = a.iter().flatten().zip(b.iter().flatten()).map(|(x, y)| (x[0] - y[0]).abs().max((x[1] - y[1]).abs())).fold(0.0, f32::max);
    assert!(worst <= 1e-5, "max |merged − unmerged| = {worst}");
}

fn config_attach(base: &Network, device: &Device) -> Network {
    LoraConfig { targets: vec![LoraTarget::Ih, LoraTarget::Hh], lr: 2e-2, ..Default::default() }.attach(base, 2, device).unwrap()
}

#[test]
fn transformer_targets_are_refused_on_an_lstm() {
    let device = Device::flex();
    let base = small_lstm().init_seeded(&device, 1);
    let error = LoraConfig::default().attach(&base, 2, &device).unwrap_err().to_string();
    assert!(error.contains("methods.lora.targets") && error.contains("blocks.0.attention.q.weight"), "{error}");
}

#[test]
fn every_method_adapts_an_lstm_with_the_hand_counted_parameters_and_alpha_zero_is_the_base() {
    let device = Device::flex();
    let base = small_lstm().init_seeded(&device, 5);
    let sequences = sequences();
    let before = mean_loss_bits(&base, &sequences, 16, &device);
    // d = 16, 2 layers: embeddings 3·16 = 48; per layer 2·16·64 + 64 = 2 112; final norm 32; head 16·2 + 2 = 34.
    let all = 48 + 2 * 2_112 + 32 + 34;
    let lora = LoraConfig { targets: vec![LoraTarget::Ih], ..Default::default() };
    let cases: Vec<(MethodConfig, usize)> = vec![
        (MethodConfig::Full(FullConfig::default()), all),
        (MethodConfig::Head(HeadConfig::default()), 34),
        (MethodConfig::Embed(EmbedConfig::default()), 48),
        (MethodConfig::LpFt(LpFtConfig::default()), all),
        (MethodConfig::Lora(lora), 2 * 4 * (16 + 64)),
        (MethodConfig::HardPrompt(HardPromptConfig::default()), 0),
        (MethodConfig::SoftPrompt(SoftPromptConfig { length: 2, ..Default::default() }), 2 * 16),
        // Every layer, rank 4: 2 × (R 4·16 + W 16·4 + b 4).
        (MethodConfig::Reft(ReftConfig::default()), 2 * (4 * 16 + 16 * 4 + 4)),
    ];
    for (method, params) in cases {
        let adapted = adapt(&method, &base, &device);
        let name = method.method();
        assert_eq!(adapted.trainable_params, params, "{name:?}");
        let after = mean_loss_bits(&adapted.model, &sequences, 16, &device);
        assert!(after < before, "{name:?}: training loss {before} → {after}");
        if adapted.model.prompt.is_some() {
            continue; // WiSE-FT interpolates weights; a prompt is evaluated as found.
        }
        let at_zero = interpolate(&base, &adapted.model, 0.0).unwrap();
        assert_eq!(burn_log_probs(&at_zero, &sequences, &device), burn_log_probs(&base, &sequences, &device), "{name:?}: α = 0");
        assert_eq!(weights(&interpolate(&base, &adapted.model, 1.0).unwrap()), weights(&adapted.model), "{name:?}: α = 1");
    }
}

#[test]
fn a_reft_edit_of_an_lstm_starts_as_the_identity_and_the_model_update_moves_it() {
    let device = Device::flex();
    let (base, other) = (small_lstm().init_seeded(&device, 6), small_lstm().init_seeded(&device, 7));
    let sequences = sequences();
    let attached = ReftConfig::default().attach(&base, 2, &device);
    assert_eq!(burn_log_probs(&attached, &sequences, &device), burn_log_probs(&base, &sequences, &device));
    assert!(engine_form(&attached).is_none(), "burn evaluates interventions");
    for method in [MethodConfig::Reft(ReftConfig::default()), MethodConfig::Full(FullConfig::default())] {
        let adapted = adapt(&method, &base, &device);
        let moved = transplant(&base, &adapted.model, &other).unwrap();
        // The update on `other` is the update found on `base`: moved − other = adapted − base, to f32 rounding,
        // for every base parameter (an intervention's own parameters travel as they are).
        let by_path = |model: &Network| weights(model).into_iter().collect::<std::collections::HashMap<_, _>>();
        let (moved_w, adapted_w) = (by_path(&moved), by_path(&adapted.model));
        for ((path, b), (_, o)) in weights(&base).iter().zip(weights(&other).iter()) {
            for (((m, o), a), b) in moved_w[path].iter().zip(o).zip(&adapted_w[path]).zip(b) {
                assert!(((m - o) - (a - b)).abs() <= 1e-5 * (1.0 + a.abs() + b.abs() + o.abs()), "{path}");
            }
        }
        assert_eq!(moved.intervention.is_some(), adapted.model.intervention.is_some());
    }
}
